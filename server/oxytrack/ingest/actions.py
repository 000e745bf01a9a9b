"""Storing a batch: spans, their rollups and the batch id, in one transaction.

The hot path of the server (every agent uploads every few minutes), so it
works per batch, never per span: one pass in Python before any lock checks
the limits, cuts spans at local midnight, prepares the rows and sums the
rollups; then, with the write lock held, a handful of statements (the
overlap check, windows interned in bulk, one `executemany` for the spans,
one rollup upsert per chunk).
"""

from __future__ import annotations

import heapq
import logging
import time
import zoneinfo
from collections import ChainMap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from oxytrack.activity.days import next_local_midnight, split_at_midnight
from oxytrack.activity.models import Span
from oxytrack.activity.rollups import Sums, add_sums_to_rollups, db_adapters
from oxytrack.activity.windows import intern_windows
from oxytrack.ingest.errors import ApiError, Code, StorageBusy, is_lock_error
from oxytrack.ingest.models import Batch
from oxytrack.ingest.schemas import CONTROL_CHARACTERS, BatchIn, SpanIn
from oxytrack.ingest.writelock import batch_write_lock
from oxytrack.org.models import Device

logger = logging.getLogger(__name__)

_MS = timedelta(milliseconds=1)
# How much two spans may overlap because their start and duration were
# rounded to the millisecond separately (at most 0.5 ms each, see prepare).
_ROUNDING_SLACK = timedelta(milliseconds=1)
# Waits between attempts when the database is locked (on top of SQLite's own
# busy timeout): brief, because the agent retries later anyway.
_BUSY_BACKOFF_S = (0.05, 0.2)

# An interval [start, end) of a span, with its position in the batch (-1:
# a stored span). Plain tuples: a thousand per batch, sorted and compared.
_Interval = tuple[datetime, datetime, int]

# Column order of the span rows; `window_id` (index 5) is filled in once the
# window ids are known, under the lock.
_SPAN_COLUMNS = (
    "employee_id",
    "device_id",
    "start",
    "duration_ms",
    "day",
    "window_id",
    "active",
    "keys",
    "clicks",
)
_WINDOW = 5


@dataclass(frozen=True)
class Stored:
    accepted: int
    duplicate: bool


@dataclass
class Prepared:
    """A checked batch, ready to write: nothing here needs the database."""

    intervals: list[_Interval]  # sorted by (start, end)
    pairs: list[tuple[str, str]]  # distinct cleaned (app, title)
    rows: list[list[Any]]  # span rows, parameters already adapted, window id to fill in
    row_pairs: list[int]  # the pair index of each row
    usage: dict[tuple[date, int], Sums] = field(default_factory=dict)  # (day, pair index)
    totals: dict[date, Sums] = field(default_factory=dict)


def clean_title(title: str) -> str:
    """Control characters removed, then cut at OXYTRACK_MAX_TITLE_CHARS; nothing else changes."""
    if CONTROL_CHARACTERS.search(title):
        title = CONTROL_CHARACTERS.sub("", title)
    return title[: settings.OXYTRACK_MAX_TITLE_CHARS]


def clean_app(app: str) -> str:
    """An application name without control characters."""
    if CONTROL_CHARACTERS.search(app):
        app = CONTROL_CHARACTERS.sub("", app)
    return app


def time_zone_for(batch: BatchIn, device: Device) -> zoneinfo.ZoneInfo:
    """The zone to cut this batch's days in: the batch's, else the device's last known."""
    name = batch.time_zone or device.time_zone or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if batch.time_zone:
            raise ApiError(
                422, Code.INVALID_TIME_ZONE, f"time_zone: unknown IANA time zone {name!r}"
            ) from None
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _refuse_span(index: int, span: SpanIn, now: datetime) -> None:
    """Raise the refusal for the first limit `span` breaks, if any (DESIGN.md limits)."""
    if span.start > now + timedelta(seconds=settings.OXYTRACK_MAX_FUTURE_S):
        raise ApiError(
            422,
            Code.SPAN_IN_FUTURE,
            f"spans.{index}: starts at {span.start.isoformat()}, more than "
            f"{settings.OXYTRACK_MAX_FUTURE_S} s in the future (check the PC's clock)",
        )
    if span.duration_s > settings.OXYTRACK_MAX_SPAN_S:
        raise ApiError(
            422,
            Code.SPAN_TOO_LONG,
            f"spans.{index}: lasts {span.duration_s} s, more than {settings.OXYTRACK_MAX_SPAN_S} s",
        )
    if span.start < now - timedelta(days=settings.OXYTRACK_RETENTION_DAYS):
        raise ApiError(
            422,
            Code.SPAN_TOO_OLD,
            f"spans.{index}: starts at {span.start.isoformat()}, older than the "
            f"retention period ({settings.OXYTRACK_RETENTION_DAYS} days)",
        )


def to_millisecond(moment: datetime) -> datetime:
    """`moment` rounded to the nearest millisecond: starts live on the durations' grid."""
    extra = moment.microsecond % 1000
    if not extra:
        return moment
    moment = moment.replace(microsecond=moment.microsecond - extra)
    return moment + _MS if extra >= 500 else moment


def _clip_rounding_overlaps(
    intervals: list[_Interval], floor: datetime | None
) -> dict[int, tuple[datetime, datetime]]:
    """New (start, end) for spans that overlap the previous one by rounding only.

    Starts and durations are rounded to the millisecond separately, so two
    spans an agent sent back to back (next start = previous start +
    duration, in microseconds) can come out overlapping by a millisecond.
    Such a span starts where the previous one ends instead (its end stays),
    so stored spans still never overlap. `floor` is the end of the device's
    last stored span before the batch. `intervals` come sorted.
    """
    moved: dict[int, tuple[datetime, datetime]] = {}
    reach = floor
    for start, end, index in intervals:
        if reach is not None and start < reach <= start + _ROUNDING_SLACK:
            start, end = reach, max(end, reach)
            moved[index] = (start, end)
        if reach is None or end > reach:
            reach = end
    return moved


def prepare(
    batch: BatchIn,
    device: Device,
    tz: zoneinfo.ZoneInfo,
    now: datetime,
    floor: datetime | None = None,
) -> Prepared:
    """Check every span and turn the batch into rows and rollup sums.

    Raises ApiError for the first span that breaks a limit, or for spans of
    the batch that overlap each other (beyond rounding: see
    `_clip_rounding_overlaps`; `floor` is the end of the stored span before).
    """
    spans = batch.spans
    if len(spans) > settings.OXYTRACK_MAX_BATCH_SPANS:
        raise ApiError(
            413,
            Code.TOO_MANY_SPANS,
            f"Trop de spans ({len(spans)} > {settings.OXYTRACK_MAX_BATCH_SPANS}). / "
            f"Too many spans ({len(spans)}, at most {settings.OXYTRACK_MAX_BATCH_SPANS}).",
        )
    latest = now + timedelta(seconds=settings.OXYTRACK_MAX_FUTURE_S)
    oldest = now - timedelta(days=settings.OXYTRACK_RETENTION_DAYS)
    longest = settings.OXYTRACK_MAX_SPAN_S

    # Pass 1: limits, windows, times on the millisecond grid.
    pair_index: dict[tuple[str, str], int] = {}  # as sent → index of the cleaned pair
    cleaned: dict[tuple[str, str], int] = {}  # cleaned → index
    pairs: list[tuple[str, str]] = []
    span_pairs: list[int] = []
    starts: list[datetime] = []
    durations: list[int] = []
    intervals: list[_Interval] = []
    for index, span in enumerate(spans):
        start = span.start
        if start > latest or start < oldest or span.duration_s > longest:
            _refuse_span(index, span, now)
        key = (span.app, span.title)
        pair = pair_index.get(key)
        if pair is None:
            clean = (clean_app(span.app), clean_title(span.title))
            pair = cleaned.get(clean)
            if pair is None:
                pair = cleaned[clean] = len(pairs)
                pairs.append(clean)
            pair_index[key] = pair
        span_pairs.append(pair)
        start = to_millisecond(start.astimezone(UTC))
        ms = round(span.duration_s * 1000)
        starts.append(start)
        durations.append(ms)
        intervals.append((start, start + ms * _MS, index))
    intervals.sort()
    moved = _clip_rounding_overlaps(intervals, floor)
    if moved:
        for index, (start, end) in moved.items():
            starts[index], durations[index] = start, (end - start) // _MS
        intervals = sorted(
            (starts[i], starts[i] + durations[i] * _MS, i) for i in range(len(spans))
        )
    _check_no_overlap(intervals)

    # Pass 2: pieces within local days, rows and rollup sums.
    adapt_datetime, adapt_date = db_adapters()
    sqlite = connection.vendor == "sqlite"
    employee_id, device_id = device.employee_id, device.pk
    rows: list[list[Any]] = []
    row_pairs: list[int] = []
    usage: dict[tuple[date, int], Sums] = {}
    totals: dict[date, Sums] = {}

    def store(
        start: datetime,
        ms: int,
        piece_day: date,
        piece_param: Any,
        pair: int,
        active: bool,
        keys: int,
        clicks: int,
    ) -> None:
        end = start + ms * _MS
        rows.append(
            [
                employee_id,
                device_id,
                start.isoformat(" ")[:-6] if sqlite else adapt_datetime(start),
                ms,
                piece_param,
                None,  # window id, known once under the lock
                active,
                keys,
                clicks,
            ]
        )
        row_pairs.append(pair)
        per_window = usage.get((piece_day, pair))
        if per_window is None:
            per_window = usage[(piece_day, pair)] = Sums(first_start=start, last_end=end)
        per_window.add_piece(active, ms, keys, clicks, start, end)
        per_day = totals.get(piece_day)
        if per_day is None:
            per_day = totals[piece_day] = Sums(first_start=start, last_end=end)
        per_day.add_piece(active, ms, keys, clicks, start, end)

    # The local day being filled and the UTC instant it ends: most spans of
    # a batch fall in the same day, so this spares a conversion each.
    day: date | None = None
    day_start = day_end = now
    day_param: Any = None
    for index, span in enumerate(spans):
        start, ms, pair = starts[index], durations[index], span_pairs[index]
        end = start + ms * _MS
        if not (day_start <= start < day_end):
            day = start.astimezone(tz).date()
            # A lower bound of the day known to be right (computing its first
            # instant from the calendar would be wrong on days without a midnight).
            day_start = start
            day_end = next_local_midnight(start, tz).astimezone(UTC)
            day_param = adapt_date(day)
        if end <= day_end:  # the common case: within one local day
            store(start, ms, day, day_param, pair, span.active, span.keys, span.clicks)  # type: ignore[arg-type]
            continue
        for piece in split_at_midnight(start, ms, tz, span.keys, span.clicks):
            store(
                piece.start.astimezone(UTC),
                piece.duration_ms,
                piece.day,
                adapt_date(piece.day),
                pair,
                span.active,
                piece.keys,
                piece.clicks,
            )
    return Prepared(intervals, pairs, rows, row_pairs, usage, totals)


def _stored_end_before(device_id: int, first: datetime) -> datetime | None:
    """Where the device's last stored span starting before `first` ends (None: none)."""
    previous = (
        Span.objects.filter(
            device_id=device_id, start__lt=first, start__gte=first - timedelta(days=1, seconds=1)
        )
        .order_by("-start")
        .values_list("start", "duration_ms")
        .first()
    )
    return previous[0] + previous[1] * _MS if previous else None


def _check_no_overlap(intervals: Iterable[_Interval]) -> None:
    """Refuse the batch if two of its spans, or one of them and a stored one, overlap.

    `intervals` must come sorted by (start, end). [a, b) and [c, d) overlap
    when a < d and c < b (touching is fine); in that order a set has an
    overlap exactly when some interval starts before the largest end seen
    so far. Stored spans never overlap each other.
    """
    reach: _Interval | None = None
    for current in intervals:
        if reach is not None and current[0] < reach[1]:
            offender, other = (current, reach) if current[2] >= 0 else (reach, current)
            where = (
                f"spans.{other[2]} (start {other[0].isoformat()})"
                if other[2] >= 0
                else f"a span already stored (start {other[0].isoformat()})"
            )
            raise ApiError(
                422,
                Code.OVERLAP,
                f"spans.{offender[2]} (start {offender[0].isoformat()}) overlaps "
                f"{where}; the server refuses to count time twice",
            )
        if reach is None or current[1] > reach[1]:
            reach = current


def _stored_intervals(device_id: int, first: datetime, last_end: datetime) -> list[_Interval]:
    """The stored spans of the device that could overlap [first, last_end), sorted.

    Stored spans never overlap, so of those starting before `first` only the
    latest can reach past it (a span is at most 24 h: that bounds the
    look-back). Both queries use the (device, start) index.
    """
    spans = Span.objects.filter(device_id=device_id)
    previous = (
        spans.filter(start__lt=first, start__gte=first - timedelta(days=1, seconds=1))
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )
    rows = spans.filter(start__gte=previous or first, start__lt=last_end).values_list(
        "start", "duration_ms"
    )
    return sorted((start, start + duration * _MS, -1) for start, duration in rows)


class _WindowCache:
    """(app, title) → Window id, kept per process across batches.

    Most spans of a fleet land on windows seen before; remembering their ids
    spares the lookups that dominated the write transaction. Window rows
    never change, but the purge deletes unused ones: a stale id then fails
    the span insert on its foreign key, and the batch is retried once with
    an empty cache (do_store_batch).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: dict[tuple[str, str], int] = {}

    def resolve(self, pairs: list[tuple[str, str]]) -> Mapping[tuple[str, str], int]:
        """The id of every pair; call inside the transaction that will use them."""
        known = self.ids
        missing = {pair for pair in pairs if pair not in known}
        if not missing:
            return known
        found = intern_windows(missing)
        # Remembered only once committed: ids from a transaction that rolls
        # back (a refused batch, a test) may not exist.
        transaction.on_commit(lambda: self._remember(found))
        return ChainMap(found, known)

    def _remember(self, found: dict[tuple[str, str], int]) -> None:
        if len(self.ids) + len(found) > self.size:
            self.ids.clear()  # crude, but bounded and rare
        self.ids.update(found)

    def clear(self) -> None:
        self.ids.clear()


window_cache = _WindowCache(size=200_000)


def do_store_batch(
    device: Device, batch: BatchIn, *, ip: str | None, now: datetime | None = None
) -> Stored:
    """Store `batch` for `device`, all or nothing; a stored batch id is a duplicate.

    Raises ApiError for a refused batch (nothing written) and StorageBusy
    when the database stays locked through a few brief retries.
    """
    now = now or timezone.now()
    tz = time_zone_for(batch, device)
    known = Batch.objects.filter(batch_id=batch.batch_id).values_list("device_id", "span_count")
    replay = known.first()
    if replay is not None:
        return _duplicate(device, replay, ip=ip, now=now)

    # Everything that needs no lock happens before the write transaction
    # (reads see a consistent snapshot; the write lock re-checks overlaps).
    floor = None
    if batch.spans:
        first = to_millisecond(min(span.start for span in batch.spans).astimezone(UTC))
        floor = _stored_end_before(device.pk, first)
    prepared = prepare(batch, device, tz, now, floor)

    stale_windows_retried = False
    pauses = iter(_BUSY_BACKOFF_S)
    while True:
        try:
            with batch_write_lock():
                return _store(device, batch, tz, prepared, ip=ip, now=now)
        except IntegrityError:
            replay = known.first()
            if replay is not None:
                # The same batch id stored by a concurrent request since our check.
                return _duplicate(device, replay, ip=ip, now=now)
            if stale_windows_retried or connection.in_atomic_block:
                raise
            # A cached window id purged since: forget them and try once more.
            window_cache.clear()
            stale_windows_retried = True
        except OperationalError as exc:
            if not is_lock_error(exc) or connection.in_atomic_block:
                raise
            pause = next(pauses, None)
            logger.info("batch %s: database busy (%s)", batch.batch_id, exc)
            if pause is None:
                raise StorageBusy() from exc
            time.sleep(pause)


def _duplicate(device: Device, replay: tuple[int, int], *, ip: str | None, now: datetime) -> Stored:
    device_id, span_count = replay
    if device_id != device.pk:
        raise ApiError(
            422,
            Code.BATCH_ID_TAKEN,
            "batch_id: already used by another device's batch; choose a new random UUID",
        )
    touch_device(device, ip=ip, now=now)
    return Stored(accepted=span_count, duplicate=True)


def touch_device(
    device: Device,
    *,
    ip: str | None,
    now: datetime,
    time_zone: str | None = None,
    local_ips: list[str] | None = None,
) -> None:
    """Record that the device called: when, from where (and what it reported)."""
    changes: dict[str, Any] = {"last_seen_at": now, "last_ip": ip}
    if time_zone is not None:
        changes["time_zone"] = time_zone
    if local_ips is not None:
        changes["local_ips"] = local_ips
    Device.objects.filter(pk=device.pk).update(**changes)
    for name, value in changes.items():
        setattr(device, name, value)


def _insert_spans(rows: list[list[Any]]) -> None:
    """All pieces at once: no model instances on the hot path.

    SQLite: one `executemany` (a loop in C). PostgreSQL: one COPY, in the
    same transaction (its `executemany`, through Django's client-side
    binding, cost ten times as much).
    """
    quote = connection.ops.quote_name
    table = quote(Span._meta.db_table)
    columns = ", ".join(quote(c) for c in _SPAN_COLUMNS)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names only)
                f"VALUES ({', '.join(['%s'] * len(_SPAN_COLUMNS))})",
                rows,
            )
        return
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


@transaction.atomic
def _store(
    device: Device,
    batch: BatchIn,
    tz: zoneinfo.ZoneInfo,
    prepared: Prepared,
    *,
    ip: str | None,
    now: datetime,
) -> Stored:
    # The device row first: on PostgreSQL its row lock serialises two
    # uploads of one device, so their overlap checks cannot both pass (on
    # SQLite the IMMEDIATE transaction already serialises every writer).
    touch_device(
        device,
        ip=ip,
        now=now,
        time_zone=tz.key if batch.time_zone else None,
        local_ips=batch.local_ips,
    )
    # The batch id first among the inserts: on PostgreSQL a concurrent
    # upload of the same batch waits here on the unique index, then fails
    # and answers `duplicate`.
    Batch.objects.create(
        batch_id=batch.batch_id,
        employee_id=device.employee_id,
        device=device,
        received_at=now,
        span_count=len(batch.spans),
    )
    intervals = prepared.intervals
    if intervals:
        last_end = max(interval[1] for interval in intervals)
        stored = _stored_intervals(device.pk, intervals[0][0], last_end)
        if stored:
            _check_no_overlap(heapq.merge(intervals, stored))
    if prepared.rows:
        ids = window_cache.resolve(prepared.pairs)
        window_of: list[int] = [ids[pair] for pair in prepared.pairs]
        rows = prepared.rows
        # Filled in again on each attempt: a retry may see other ids.
        for row, pair in zip(rows, prepared.row_pairs, strict=True):
            row[_WINDOW] = window_of[pair]
        _insert_spans(rows)
        employee_id = device.employee_id
        add_sums_to_rollups(
            {(employee_id, d, window_of[p]): s for (d, p), s in prepared.usage.items()},
            {(employee_id, d): s for d, s in prepared.totals.items()},
        )
    return Stored(accepted=len(batch.spans), duplicate=False)
