"""Storing a batch: spans, their rollups and the batch id, in one transaction.

The hot path of the server (every agent uploads every few minutes), so it
works per batch, never per span. Everything that needs no lock is done
first (prepare.py: limits, midnight cuts, rows, sums, statements); then,
with the write lock held, a handful of statements: the device and batch
rows, one overlap query, windows interned in bulk, the spans and the three
rollup upserts (per day and window, per day, per hour) in a few multi-row statements.
"""

from __future__ import annotations

import heapq
import logging
import time
import zoneinfo
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from oxytrack.activity.bulk import insert_rows
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span
from oxytrack.activity.rollups import HOURLY_KEYS, SUM_COLUMNS, add_rollup_rows
from oxytrack.activity.windows import intern_windows
from oxytrack.ingest.errors import ApiError, Code, StorageBusy, is_lock_error
from oxytrack.ingest.models import Batch
from oxytrack.ingest.prepare import (
    SPAN_COLUMNS,
    SPAN_WINDOW,
    TOTAL_KEYS,
    USAGE_KEYS,
    USAGE_WINDOW,
    Interval,
    Prepared,
    check_no_overlap,
    datetime_of,
    ms_of,
    prepare,
)
from oxytrack.ingest.schemas import BatchIn
from oxytrack.ingest.writelock import batch_write_lock
from oxytrack.org.models import Device

logger = logging.getLogger(__name__)

# Waits between attempts when the database is locked (on top of SQLite's own
# busy timeout): brief, because the agent retries later anyway.
_BUSY_BACKOFF_S = (0.05, 0.2)
# A span lasts at most a day: how far back a stored span may start and
# still reach into a batch.
_LOOK_BACK_MS = 86_400_000 + 1000


@dataclass(frozen=True)
class Stored:
    accepted: int
    duplicate: bool


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


class _WindowCache:
    """(app, title) → Window id, kept per process across batches.

    Most spans of a fleet land on windows seen before; remembering their ids
    spares the lookups that dominated the write transaction. Window rows
    never change, but the purge deletes unused ones: a stale id then fails
    the DailyUsage upsert on its foreign key, and the batch is retried once
    with an empty cache (do_store_batch).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: dict[tuple[str, str], int] = {}

    def resolve(
        self, pairs: list[tuple[str, str]], digests: Mapping[tuple[str, str], str]
    ) -> Mapping[tuple[str, str], int]:
        """The id of every pair; call inside the transaction that will use them.

        `digests`: those of the pairs not known when the batch was prepared.
        """
        known = self.ids
        missing = [pair for pair in pairs if pair not in known]
        if not missing:
            return known
        found = intern_windows(missing, digests)
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


def _device_spans(
    device_id: int, since: int, until: int, *, last_only: bool = False
) -> list[Interval]:
    """The device's stored spans starting in [since, until) (epoch ms), sorted.

    Plain SQL on the (device, start) index: both calls of an upload, one
    of them under the write lock, are cheaper without the ORM's compiling.
    """
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    order = f" ORDER BY {quote('start')} DESC LIMIT 1" if last_only else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('start')}, {quote('duration_ms')} "  # noqa: S608 (names only)  # nosec B608  # our models' table and column names, quoted; the values bound as %s
            f"FROM {quote(Span._meta.db_table)} WHERE {quote('device_id')} = %s "
            f"AND {quote('start')} >= %s AND {quote('start')} < %s{order}",
            [device_id, adapt(datetime_of(since)), adapt(datetime_of(until))],
        )
        rows = cursor.fetchall()
    intervals = []
    for start, duration in rows:
        if start.tzinfo is None:  # SQLite: naive UTC
            start = start.replace(tzinfo=UTC)
        begin = ms_of(start)
        intervals.append((begin, begin + duration, -1))
    intervals.sort()
    return intervals


def _previous_span(device_id: int, first: int) -> Interval | None:
    """The device's last stored span starting before `first` (epoch ms), if within a day.

    Stored spans never overlap, so of those starting before a batch only
    this one can reach into it.
    """
    found = _device_spans(device_id, first - _LOOK_BACK_MS, first, last_only=True)
    return found[0] if found else None


def _stored_batch(batch_id: UUID) -> tuple[int, int] | None:
    """(device id, span count) of the stored batch with this id, if any."""
    quote = connection.ops.quote_name
    field = Batch._meta.get_field("batch_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('device_id')}, {quote('span_count')} "  # noqa: S608 (names only)  # nosec B608  # our models' table and column names, quoted; the values bound as %s
            f"FROM {quote(Batch._meta.db_table)} WHERE {quote(field.column)} = %s",
            [field.get_db_prep_value(batch_id, connection)],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def do_store_batch(
    device: Device, batch: BatchIn, *, ip: str | None, now: datetime | None = None
) -> Stored:
    """Store `batch` for `device`, all or nothing; a stored batch id is a duplicate.

    Raises ApiError for a refused batch (nothing written) and StorageBusy
    when the database stays locked through a few brief retries.
    """
    now = now or timezone.now()
    tz = time_zone_for(batch, device)
    replay = _stored_batch(batch.batch_id)
    if replay is not None:
        return _duplicate(device, replay, ip=ip, now=now)

    # Everything that needs no lock happens before the write transaction
    # (reads see a consistent snapshot; under the lock, one query finds
    # what was stored since).
    prepared = prepare(
        batch,
        device.employee_id,
        device.pk,
        tz,
        now,
        previous_span=lambda first: _previous_span(device.pk, first),
        known_pairs=window_cache.ids,
    )
    writes = _Writes.build(device, batch, tz, prepared, ip=ip, now=now)

    stale_windows_retried = False
    pauses = iter(_BUSY_BACKOFF_S)
    while True:
        try:
            with batch_write_lock():
                _store(writes)
            return Stored(accepted=len(batch.spans), duplicate=False)
        except IntegrityError:
            replay = _stored_batch(batch.batch_id)
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


def _device_changes(
    *,
    ip: str | None,
    now: datetime,
    time_zone: str | None = None,
    local_ips: list[str] | None = None,
) -> dict[str, Any]:
    changes: dict[str, Any] = {"last_seen_at": now, "last_ip": ip}
    if time_zone is not None:
        changes["time_zone"] = time_zone
    if local_ips is not None:
        changes["local_ips"] = local_ips
    return changes


def touch_device(
    device: Device,
    *,
    ip: str | None,
    now: datetime,
    time_zone: str | None = None,
    local_ips: list[str] | None = None,
) -> None:
    """Record that the device called: when, from where (and what it reported)."""
    changes = _device_changes(ip=ip, now=now, time_zone=time_zone, local_ips=local_ips)
    Device.objects.filter(pk=device.pk).update(**changes)
    for name, value in changes.items():
        setattr(device, name, value)


def _update_sql(model: type[Any], pk: int, changes: dict[str, Any]) -> tuple[str, list[Any]]:
    """UPDATE of one row by primary key, values adapted as the ORM would."""
    quote, meta = connection.ops.quote_name, model._meta
    fields = [meta.get_field(name) for name in changes]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(changes[f.name], connection) for f in fields]
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s",  # noqa: S608  # nosec B608  # our models' table and column names, quoted; the values bound as %s
        [*params, pk],
    )


def _insert_sql(model: type[Any], values: dict[str, Any]) -> tuple[str, list[Any]]:
    """INSERT of one row, values adapted as the ORM would."""
    quote, meta = connection.ops.quote_name, model._meta
    fields = [meta.get_field(name) for name in values]
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608  # nosec B608  # our models' table and column names, quoted; the values bound as %s
        f"VALUES ({', '.join(['%s'] * len(fields))})",
        params,
    )


@dataclass
class _Writes:
    """The statements of one batch's write transaction, built before the lock."""

    device: Device
    device_update: tuple[str, list[Any]]
    device_changes: dict[str, Any]
    batch_insert: tuple[str, list[Any]]
    prepared: Prepared
    # The stored spans that could overlap the batch start at or after this
    # (epoch ms) and before the batch's last end.
    look_from: int
    look_to: int

    @classmethod
    def build(
        cls,
        device: Device,
        batch: BatchIn,
        tz: zoneinfo.ZoneInfo,
        prepared: Prepared,
        *,
        ip: str | None,
        now: datetime,
    ) -> _Writes:
        changes = _device_changes(
            ip=ip,
            now=now,
            time_zone=tz.key if batch.time_zone else None,
            local_ips=batch.local_ips,
        )
        intervals = prepared.intervals
        first = intervals[0][0] if intervals else 0
        return cls(
            device=device,
            device_update=_update_sql(Device, device.pk, changes),
            device_changes=changes,
            batch_insert=_insert_sql(
                Batch,
                {
                    "batch_id": batch.batch_id,
                    "employee": device.employee_id,
                    "device": device.pk,
                    "received_at": now,
                    "span_count": len(batch.spans),
                },
            ),
            prepared=prepared,
            look_from=prepared.previous[0] if prepared.previous else first - _LOOK_BACK_MS,
            look_to=max((interval[1] for interval in intervals), default=0),
        )


def _insert_spans(params: list[Any]) -> None:
    """All span rows in a few statements: no model instances on the hot path.

    SQLite: multi-row INSERTs (bulk.py). PostgreSQL: one COPY in the same
    transaction (its multi-row INSERTs cost several times as much).
    """
    quote = connection.ops.quote_name
    head = f"{quote(Span._meta.db_table)} ({', '.join(map(quote, SPAN_COLUMNS))})"
    width = len(SPAN_COLUMNS)
    if connection.vendor == "sqlite":
        insert_rows(f"INSERT INTO {head}", width, params)
        return
    connection.ensure_connection()
    with (
        connection.wrap_database_errors,
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {head} FROM STDIN") as copy,
    ):
        for begin in range(0, len(params), width):
            copy.write_row(params[begin : begin + width])


@transaction.atomic
def _store(writes: _Writes) -> None:
    prepared = writes.prepared
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A lock held by another session (a long purge, a LOCK TABLE) must not
            # hold this upload forever: past it, a retry, then 503 with Retry-After.
            # SET LOCAL: this transaction only, never a migration's or a purge's.
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{settings.OXYTRACK_DB_LOCK_TIMEOUT_S * 1000}ms"],
            )
        # The device row first: on PostgreSQL its row lock serialises two
        # uploads of one device, so their overlap checks cannot both pass
        # (on SQLite the IMMEDIATE transaction already serialises writers).
        cursor.execute(*writes.device_update)
        # The batch id first among the inserts: on PostgreSQL a concurrent
        # upload of the same batch waits here on the unique index, then
        # fails and answers `duplicate`.
        cursor.execute(*writes.batch_insert)
    intervals = prepared.intervals
    if intervals:
        stored = _device_spans(writes.device.pk, writes.look_from, writes.look_to)
        # Usually just the span before the batch, which ends where it begins.
        if stored and (len(stored) > 1 or stored[0][1] > intervals[0][0]):
            check_no_overlap(heapq.merge(intervals, stored))
    if prepared.span_params:
        ids = window_cache.resolve(prepared.pairs, prepared.digests)
        window_of = [ids[pair] for pair in prepared.pairs]
        # Filled in again on each attempt: a retry may see other ids.
        width = len(SPAN_COLUMNS)
        prepared.span_params[SPAN_WINDOW::width] = [window_of[p] for p in prepared.span_pairs]
        usage_width = len(USAGE_KEYS) + len(SUM_COLUMNS)
        prepared.usage_params[USAGE_WINDOW::usage_width] = [
            window_of[p] for p in prepared.usage_pairs
        ]
        _insert_spans(prepared.span_params)
        add_rollup_rows(DailyUsage._meta.db_table, USAGE_KEYS, prepared.usage_params)
        add_rollup_rows(DailyTotal._meta.db_table, TOTAL_KEYS, prepared.total_params)
        add_rollup_rows(HourlyTotal._meta.db_table, HOURLY_KEYS, prepared.hourly_params)
    for name, value in writes.device_changes.items():
        setattr(writes.device, name, value)
