"""Turning a batch into rows and rollup sums, before any lock is taken.

The costly half of an upload that needs no database: the limits of every
span, times on the millisecond grid, cuts at local midnight, the span rows
and the per-day, per-window sums, all with their query parameters already
adapted. The write transaction (actions.py) then only fills in window ids
and runs a few statements, so the write lock, which serialises uploads on
SQLite, is held as briefly as possible.

Times are integer milliseconds since the Unix epoch (UTC) here: integer
comparisons and sums are exact and several times cheaper than datetimes.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection

from oxytrack.activity.days import next_local_midnight, split_at_midnight
from oxytrack.activity.hours import HourCutter, HourlySums, add_span_hours
from oxytrack.activity.models import window_digest
from oxytrack.activity.rollups import db_adapters, hourly_params
from oxytrack.ingest.errors import ApiError, Code
from oxytrack.ingest.schemas import CONTROL_CHARACTERS, BatchIn, SpanIn

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = EPOCH.replace(tzinfo=None)
_US = timedelta(microseconds=1)
# How much two spans may overlap because their start and duration were
# rounded to the millisecond separately (at most 0.5 ms each).
ROUNDING_SLACK_MS = 1

# An interval [start, end) of a span in epoch milliseconds, with its
# position in the batch (-1: a stored span). Plain tuples: sorted, compared.
Interval = tuple[int, int, int]

# Column order of the span rows; the window id (index 5) is filled in under
# the lock, once known.
SPAN_COLUMNS = (
    "employee_id",
    "device_id",
    "start",
    "duration_ms",
    "day",
    "window_id",
    "active",
    "keys",
    "clicks",
    "tracked",
)
SPAN_WINDOW = 5
# Rollup rows: DailyUsage (window id at index 2, filled in under the lock)
# and DailyTotal, each followed by the sums.
USAGE_KEYS = ("employee_id", "day", "window_id")
USAGE_WINDOW = 2
TOTAL_KEYS = ("employee_id", "day")
#: The window of every private pause: no app, no title.
UNTRACKED = ("", "")


@dataclass
class Prepared:
    """A checked batch, ready to write: nothing here needs the database."""

    intervals: list[Interval]  # sorted by (start, end)
    previous: Interval | None  # the device's stored span before the batch, if any
    pairs: list[tuple[str, str]]  # distinct cleaned (app, title)
    # Rows as flat lists of adapted parameters, a row after the other.
    span_params: list[Any]  # window ids to fill in
    span_pairs: list[int]  # the pair index of each span row
    usage_params: list[Any]  # DailyUsage increments, window ids to fill in
    usage_pairs: list[int]  # the pair index of each usage row
    total_params: list[Any]  # DailyTotal increments (with the pauses' time), complete
    digests: dict[tuple[str, str], str] = field(default_factory=dict)  # of pairs to intern
    hourly_params: list[Any] = field(default_factory=list)  # HourlyTotal increments, complete


def ms_of(moment: datetime) -> int:
    """An aware datetime as epoch milliseconds, rounded half up."""
    return ((moment - EPOCH) // _US + 500) // 1000


def datetime_of(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=ms)


@lru_cache(maxsize=1024)
def _sqlite_hour(hour: int) -> str:
    return (_EPOCH_NAIVE + timedelta(hours=hour)).isoformat(" ")[:-5]  # "YYYY-MM-DD HH:"


# "MM:SS" of each second of an hour, ".fff000" of each millisecond ("" for 0).
_MINUTES_SECONDS = [f"{s // 60:02d}:{s % 60:02d}" for s in range(3600)]
_FRACTIONS = ["", *(f".{ms:03d}000" for ms in range(1, 1000))]


def sqlite_text_of_ms(ms: int) -> str:
    """Epoch milliseconds as the text Django stores on SQLite ("YYYY-MM-DD HH:MM:SS[.ffffff]")."""
    # Thousands per batch: pieced together from precomputed parts, five
    # times faster than a datetime's isoformat, for the same text.
    hour, rest = divmod(ms, 3_600_000)
    second, fraction = divmod(rest, 1000)
    return _sqlite_hour(hour) + _MINUTES_SECONDS[second] + _FRACTIONS[fraction]


def datetime_adapter() -> Callable[[int], Any]:
    """What turns epoch milliseconds into a query parameter for a DateTimeField.

    On SQLite, what Django itself stores: the naive UTC text
    "YYYY-MM-DD HH:MM:SS[.ffffff]" (compared as text), built directly.
    """
    return sqlite_text_of_ms if connection.vendor == "sqlite" else datetime_of


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


def refuse_too_many(count: int) -> None:
    """413 when a batch has more spans than OXYTRACK_MAX_BATCH_SPANS."""
    limit = settings.OXYTRACK_MAX_BATCH_SPANS
    if count > limit:
        raise ApiError(
            413,
            Code.TOO_MANY_SPANS,
            f"Trop de spans ({count} > {limit}). / Too many spans ({count}, at most {limit}).",
        )


def _refuse_span(index: int, span: SpanIn, now: datetime) -> None:
    """Raise the refusal for the first limit `span` breaks, if any (DESIGN.md limits)."""
    start, duration = span["start"], span["duration_s"]
    if start > now + timedelta(seconds=settings.OXYTRACK_MAX_FUTURE_S):
        raise ApiError(
            422,
            Code.SPAN_IN_FUTURE,
            f"spans.{index}: starts at {start.isoformat()}, more than "
            f"{settings.OXYTRACK_MAX_FUTURE_S} s in the future (check the PC's clock)",
        )
    if duration > settings.OXYTRACK_MAX_SPAN_S:
        raise ApiError(
            422,
            Code.SPAN_TOO_LONG,
            f"spans.{index}: lasts {duration} s, more than {settings.OXYTRACK_MAX_SPAN_S} s",
        )
    if start < now - timedelta(days=settings.OXYTRACK_SPAN_RETENTION_DAYS):
        raise ApiError(
            422,
            Code.SPAN_TOO_OLD,
            f"spans.{index}: starts at {start.isoformat()}, older than the "
            f"retention period ({settings.OXYTRACK_SPAN_RETENTION_DAYS} days)",
        )


def _clip_rounding_overlaps(intervals: list[Interval], floor: int | None) -> dict[int, Interval]:
    """New intervals for spans that overlap the previous one by rounding only.

    Starts and durations are rounded to the millisecond separately, so two
    spans an agent sent back to back (next start = previous start +
    duration, in microseconds) can come out overlapping by a millisecond.
    Such a span starts where the previous one ends instead (its end stays),
    so stored spans still never overlap. `floor` is the end of the device's
    last stored span before the batch. `intervals` come sorted.
    """
    moved: dict[int, Interval] = {}
    reach = floor
    for start, end, index in intervals:
        if reach is not None and start < reach <= start + ROUNDING_SLACK_MS:
            start, end = reach, max(end, reach)
            moved[index] = (start, end, index)
        if reach is None or end > reach:
            reach = end
    return moved


def check_no_overlap(intervals: list[Interval] | Any) -> None:
    """Refuse the batch if two of its spans, or one of them and a stored one, overlap.

    `intervals` must come sorted by (start, end). [a, b) and [c, d) overlap
    when a < d and c < b (touching is fine); in that order a set has an
    overlap exactly when some interval starts before the largest end seen
    so far. Stored spans never overlap each other.
    """
    reach: Interval | None = None
    for current in intervals:
        if reach is not None and current[0] < reach[1]:
            offender, other = (current, reach) if current[2] >= 0 else (reach, current)
            where = (
                f"spans.{other[2]} (start {datetime_of(other[0]).isoformat()})"
                if other[2] >= 0
                else f"a span already stored (start {datetime_of(other[0]).isoformat()})"
            )
            raise ApiError(
                422,
                Code.OVERLAP,
                f"spans.{offender[2]} (start {datetime_of(offender[0]).isoformat()}) overlaps "
                f"{where}; the server refuses to count time twice",
            )
        if reach is None or current[1] > reach[1]:
            reach = current


def prepare(
    batch: BatchIn,
    employee_id: int,
    device_id: int,
    tz: zoneinfo.ZoneInfo,
    now: datetime,
    previous_span: Callable[[int], Interval | None] = lambda first: None,
    known_pairs: Container[tuple[str, str]] = (),
) -> Prepared:
    """Check every span and turn the batch into rows and rollup increments.

    Raises ApiError for the first span that breaks a limit, or for spans of
    the batch that overlap each other (beyond rounding: see
    `_clip_rounding_overlaps`). `previous_span(first)` gives the device's
    stored span before the batch's first start (epoch ms), if any. Pairs
    not in `known_pairs` get their digest computed here, so interning them
    under the lock costs only the statements.
    """
    spans = batch.spans
    refuse_too_many(len(spans))
    now_us = (now - EPOCH) // _US
    latest = now_us + settings.OXYTRACK_MAX_FUTURE_S * 1_000_000
    oldest = now_us - settings.OXYTRACK_SPAN_RETENTION_DAYS * 86_400_000_000
    longest = settings.OXYTRACK_MAX_SPAN_S

    # Pass 1: limits, windows, times on the millisecond grid.
    pair_index: dict[tuple[str, str], int] = {}  # as sent → index of the cleaned pair
    cleaned: dict[tuple[str, str], int] = {}  # cleaned → index
    pairs: list[tuple[str, str]] = []
    span_pairs: list[int] = []
    intervals: list[Interval] = []
    for index, span in enumerate(spans):
        us = (span["start"] - EPOCH) // _US
        if us > latest or us < oldest or span["duration_s"] > longest:
            _refuse_span(index, span, now)
        # A private pause keeps no app nor title, whatever was sent.
        key = (span["app"], span["title"]) if span.get("tracked", True) else UNTRACKED
        pair = pair_index.get(key)
        if pair is None:
            clean = (clean_app(key[0]), clean_title(key[1]))
            pair = cleaned.get(clean)
            if pair is None:
                pair = cleaned[clean] = len(pairs)
                pairs.append(clean)
            pair_index[key] = pair
        span_pairs.append(pair)
        start = (us + 500) // 1000
        intervals.append((start, start + round(span["duration_s"] * 1000), index))
    by_index = intervals[:]  # in batch order, before sorting
    intervals.sort()
    previous = previous_span(intervals[0][0]) if intervals else None
    moved = _clip_rounding_overlaps(intervals, previous[1] if previous else None)
    if moved:
        for index, interval in moved.items():
            by_index[index] = interval
        intervals = sorted(by_index)
    check_no_overlap(intervals)

    # Pass 2: pieces within local days, rows and per (day, window) sums
    # [active_ms, idle_ms, keys, clicks, first start, last end].
    adapt_date = db_adapters()[1]
    as_param = datetime_adapter()
    rows: list[Any] = []
    row_pairs: list[int] = []
    usage: dict[tuple[date, int], list[int]] = {}
    # Per day, the private pauses: [ms, first start, last end].
    untracked: dict[date, list[int]] = {}
    day_params: dict[date, Any] = {}
    # Per (employee, day, local hour): [active ms, idle ms], cut in the same zone as the days.
    hourly: HourlySums = {}
    hours = HourCutter(tz)

    def add(
        start: int,
        ms: int,
        day: date,
        pair: int,
        active: bool,
        keys: int,
        clicks: int,
        tracked: bool = True,
    ) -> None:
        end = start + ms
        if not tracked:
            # "Not tracked": never idle, no counts, and no DailyUsage row
            # (so never listed as a title); the day's total only.
            active, keys, clicks = False, 0, 0
            paused = untracked.get(day)
            if paused is None:
                untracked[day] = [ms, start, end]
            else:
                paused[0] += ms
                paused[1] = min(paused[1], start)
                paused[2] = max(paused[2], end)
        rows.extend(
            (
                employee_id,
                device_id,
                as_param(start),
                ms,
                day_params[day],
                None,
                active,
                keys,
                clicks,
                tracked,
            )
        )
        row_pairs.append(pair)
        if not tracked:
            return
        add_span_hours(hourly, hours, employee_id, day, start, ms, active)
        sums = usage.get((day, pair))
        if sums is None:
            usage[(day, pair)] = [
                ms if active else 0,
                0 if active else ms,
                keys,
                clicks,
                start,
                end,
            ]
            return
        sums[0 if active else 1] += ms
        sums[2] += keys
        sums[3] += clicks
        if start < sums[4]:
            sums[4] = start
        if end > sums[5]:
            sums[5] = end

    # The local day being filled and where it ends: most spans of a batch
    # fall in the same day, so this spares a conversion each.
    day = date.min
    day_start = day_end = 0
    for index, span in enumerate(spans):
        start, end, _ = by_index[index]
        if not (day_start <= start < day_end):
            moment = datetime_of(start)
            day = moment.astimezone(tz).date()
            # A lower bound of the day known to be right (its first instant
            # from the calendar would be wrong on days without a midnight).
            day_start = start
            day_end = ms_of(next_local_midnight(moment, tz))
            if day not in day_params:
                day_params[day] = adapt_date(day)
        tracked = span.get("tracked", True)
        if end <= day_end:  # the common case: within one local day
            add(
                start,
                end - start,
                day,
                span_pairs[index],
                span["active"],
                span["keys"],
                span["clicks"],
                tracked,
            )
            continue
        for piece in split_at_midnight(
            datetime_of(start), end - start, tz, span["keys"], span["clicks"]
        ):
            if piece.day not in day_params:
                day_params[piece.day] = adapt_date(piece.day)
            add(
                ms_of(piece.start),
                piece.duration_ms,
                piece.day,
                span_pairs[index],
                span["active"],
                piece.keys,
                piece.clicks,
                tracked,
            )

    usage_params, usage_pairs, total_params = _rollup_rows(
        employee_id, usage, day_params, untracked
    )
    digests = {pair: window_digest(*pair) for pair in pairs if pair not in known_pairs}
    return Prepared(
        intervals,
        previous,
        pairs,
        rows,
        row_pairs,
        usage_params,
        usage_pairs,
        total_params,
        digests,
        hourly_params(hourly),
    )


def _rollup_rows(
    employee_id: int,
    usage: dict[tuple[date, int], list[int]],
    day_params: dict[date, Any],
    untracked: dict[date, list[int]],
) -> tuple[list[Any], list[int], list[Any]]:
    """Usage rows (window ids to fill in) with their pairs, and the day totals.

    A day's total is the sum of its usage rows plus its private pauses
    (`untracked`: [ms, first start, last end] per day), in `untracked_ms`.
    """
    as_param = datetime_adapter()
    usage_rows: list[Any] = []
    usage_pairs: list[int] = []
    totals: dict[date, list[int]] = {}
    for (day, pair), sums in usage.items():
        active, idle, keys, clicks, first, last = sums
        usage_rows.extend((employee_id, day_params[day], None, active, idle, keys, clicks))
        usage_rows += (as_param(first), as_param(last))
        usage_pairs.append(pair)
        total = totals.get(day)
        if total is None:
            totals[day] = sums[:]
            continue
        total[0] += active
        total[1] += idle
        total[2] += keys
        total[3] += clicks
        total[4] = min(total[4], first)
        total[5] = max(total[5], last)
    for day, (_ms, first, last) in untracked.items():
        total = totals.get(day)
        if total is None:
            totals[day] = [0, 0, 0, 0, first, last]
        else:
            total[4] = min(total[4], first)
            total[5] = max(total[5], last)
    total_rows: list[Any] = []
    for day, (active, idle, keys, clicks, first, last) in totals.items():
        total_rows += (employee_id, day_params[day], active, idle, keys, clicks)
        total_rows += (as_param(first), as_param(last), untracked.get(day, (0,))[0])
    return usage_rows, usage_pairs, total_rows
