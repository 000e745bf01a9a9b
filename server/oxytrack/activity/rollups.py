"""Daily rollups: added to in the same transaction as the spans they sum."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum

from oxytrack.activity.bulk import insert_rows
from oxytrack.activity.hours import HourlySums, hourly_sums
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span
from oxytrack.org.models import Device


class SpanFacts(Protocol):
    """What a rollup needs of a span: a stored `Span`, or the ingest's lighter row."""

    @property
    def employee_id(self) -> int: ...
    @property
    def day(self) -> date: ...
    @property
    def window_id(self) -> int: ...
    @property
    def start(self) -> datetime: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def active(self) -> bool: ...
    @property
    def keys(self) -> int: ...
    @property
    def clicks(self) -> int: ...


@dataclass
class Sums:
    active_ms: int = 0
    idle_ms: int = 0
    keys: int = 0
    clicks: int = 0
    first_start: datetime | None = None
    last_end: datetime | None = None
    untracked_ms: int = 0

    def add(self, span: SpanFacts) -> None:
        """Count one span in."""
        end = span.start + timedelta(milliseconds=span.duration_ms)
        self.add_piece(span.active, span.duration_ms, span.keys, span.clicks, span.start, end)

    def add_piece(
        self, active: bool, ms: int, keys: int, clicks: int, start: datetime, end: datetime
    ) -> None:
        """Count in a stretch of time given by its parts (the ingest's hot path)."""
        if active:
            self.active_ms += ms
        else:
            self.idle_ms += ms
        self.keys += keys
        self.clicks += clicks
        if self.first_start is None or start < self.first_start:
            self.first_start = start
        if self.last_end is None or end > self.last_end:
            self.last_end = end


def sum_spans(
    spans: Iterable[SpanFacts],
) -> tuple[dict[tuple[int, date, int], Sums], dict[tuple[int, date], Sums]]:
    """Per (employee, day, window) and per (employee, day) sums of `spans`."""
    usage: dict[tuple[int, date, int], Sums] = {}
    totals: dict[tuple[int, date], Sums] = {}
    for span in spans:
        employee_id, day = span.employee_id, span.day
        start, ms = span.start, span.duration_ms
        end = start + timedelta(milliseconds=ms)
        if not getattr(span, "tracked", True):
            # A private pause: the day's "not tracked" time, in no window's row.
            per_day = totals.get((employee_id, day))
            if per_day is None:
                per_day = totals[(employee_id, day)] = Sums(first_start=start, last_end=end)
            per_day.untracked_ms += ms
            per_day.first_start = min(start, per_day.first_start or start)
            per_day.last_end = max(end, per_day.last_end or end)
            continue
        active, keys, clicks = span.active, span.keys, span.clicks
        usage_key = (employee_id, day, span.window_id)
        per_window = usage.get(usage_key)
        if per_window is None:
            per_window = usage[usage_key] = Sums(first_start=start, last_end=end)
        per_day = totals.get((employee_id, day))
        if per_day is None:
            per_day = totals[(employee_id, day)] = Sums(first_start=start, last_end=end)
        per_window.add_piece(active, ms, keys, clicks, start, end)
        per_day.add_piece(active, ms, keys, clicks, start, end)
    return usage, totals


def add_to_rollups(spans: Sequence[Span]) -> None:
    """Add `spans` (just stored) to DailyUsage, DailyTotal and HourlyTotal.

    One INSERT … ON CONFLICT DO UPDATE per chunk, adding to the stored
    counters in SQL: two uploads for the same employee and day cannot lose
    each other's increments, on SQLite or PostgreSQL. Hours are cut in the
    zone of each span's device (the one that gave its day).
    """
    usage, totals = sum_spans(spans)
    add_sums_to_rollups(usage, totals)
    add_hourly_sums(hourly_sums(spans, device_zones({s.device_id for s in spans})))


def device_zones(device_ids: Iterable[int]) -> Callable[[int], ZoneInfo]:
    """device id → the zone its spans' days are cut in (its last known, else the server's)."""
    names = dict(Device.objects.filter(pk__in=list(device_ids)).values_list("pk", "time_zone"))
    zones: dict[int, ZoneInfo] = {}

    def zone_of(device_id: int) -> ZoneInfo:
        zone = zones.get(device_id)
        if zone is None:
            try:
                zone = ZoneInfo(names.get(device_id) or settings.TIME_ZONE)
            except (ZoneInfoNotFoundError, ValueError):
                zone = ZoneInfo(settings.TIME_ZONE)
            zones[device_id] = zone
        return zone

    return zone_of


HOURLY_KEYS = ("employee_id", "day", "hour")


def hourly_params(sums: HourlySums) -> list[Any]:
    """HourlyTotal rows of `sums` as flat adapted parameters (see `add_rollup_rows`)."""
    adapt_date = db_adapters()[1]
    params: list[Any] = []
    for (employee_id, day, hour), (active, idle) in sums.items():
        params += (employee_id, adapt_date(day), hour, active, idle)
    return params


def add_hourly_sums(sums: HourlySums) -> None:
    """Add per (employee, day, hour) sums to HourlyTotal, in SQL (as the daily rollups)."""
    add_rollup_rows(HourlyTotal._meta.db_table, HOURLY_KEYS, hourly_params(sums))


def add_sums_to_rollups(
    usage: dict[tuple[int, date, int], Sums], totals: dict[tuple[int, date], Sums]
) -> None:
    """Add precomputed sums to DailyUsage and DailyTotal (see `add_to_rollups`).

    For a caller that summed its spans itself, before taking the write lock.
    """
    _upsert(
        DailyUsage._meta.db_table,
        ["employee_id", "day", "window_id"],
        [(*key, s) for key, s in usage.items()],
    )
    _upsert(
        DailyTotal._meta.db_table,
        ["employee_id", "day"],
        [(*key, s) for key, s in totals.items()],
    )


def db_adapters() -> tuple[Callable[[datetime], Any], Callable[[date], Any]]:
    """Functions that turn an aware datetime and a date into query parameters.

    The same values as `connection.ops.adapt_datetimefield_value` and
    `adapt_datefield_value`, several times faster on SQLite (naive UTC
    text), which matters for the thousands of values of one batch.
    """
    if connection.vendor == "sqlite":
        return _sqlite_datetime, date.isoformat
    return connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value


def _sqlite_datetime(value: datetime) -> str:
    # What Django stores with USE_TZ: the UTC wall time, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    text = value.isoformat(" ")
    if text.endswith("+00:00"):  # already UTC, as on the ingest path: the cheap way
        return text[:-6]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


SUM_COLUMNS = ("active_ms", "idle_ms", "keys", "clicks", "first_start", "last_end")
#: DailyTotal's sums: those of DailyUsage, then the private pauses' time.
TOTAL_SUM_COLUMNS = (*SUM_COLUMNS, "untracked_ms")
#: HourlyTotal's: time only.
HOURLY_SUM_COLUMNS = ("active_ms", "idle_ms")


def sum_columns(table: str) -> tuple[str, ...]:
    """The sum columns of a rollup table, in the order its rows' parameters come."""
    if table == DailyTotal._meta.db_table:
        return TOTAL_SUM_COLUMNS
    if table == HourlyTotal._meta.db_table:
        return HOURLY_SUM_COLUMNS
    return SUM_COLUMNS


@lru_cache(maxsize=16)
def _upsert_clauses(vendor: str, table: str, key_columns: tuple[str, ...]) -> tuple[str, str]:
    """The INSERT head and the ON CONFLICT tail that add rollup rows to stored counters."""
    q = connection.ops.quote_name
    least, greatest = ("MIN", "MAX") if vendor == "sqlite" else ("LEAST", "GREATEST")
    t = q(table)
    columns = sum_columns(table)
    bounds = (
        [
            f"{q('first_start')} = {least}({t}.{q('first_start')}, excluded.{q('first_start')})",
            f"{q('last_end')} = {greatest}({t}.{q('last_end')}, excluded.{q('last_end')})",
        ]
        if "first_start" in columns
        else []
    )
    update = ", ".join(
        [
            f"{q(c)} = {t}.{q(c)} + excluded.{q(c)}"
            for c in columns
            if c not in ("first_start", "last_end")
        ]
        + bounds
    )
    head = f"INSERT INTO {t} ({', '.join(q(c) for c in (*key_columns, *columns))})"
    tail = f"ON CONFLICT ({', '.join(q(c) for c in key_columns)}) DO UPDATE SET {update}"  # nosec B608  # our rollup tables' quoted names; the rows' values bound
    return head, tail


def add_rollup_rows(table: str, key_columns: tuple[str, ...], params: Sequence[Any]) -> None:
    """Upsert ready rollup rows into `table`, adding to the stored counters in SQL.

    `params`: the rows' adapted parameters, flat, the key columns then
    the table's `sum_columns` of each row in turn. Two uploads for the same employee and
    day cannot lose each other's increments, on SQLite or PostgreSQL.
    """
    if params:
        head, tail = _upsert_clauses(connection.vendor, table, key_columns)
        insert_rows(head, len(key_columns) + len(sum_columns(table)), params, tail)


def _upsert(table: str, key_columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    adapt_datetime, adapt_date = db_adapters()
    params: list[Any] = []
    for *keys, sums in rows:
        params += (
            adapt_date(value) if column == "day" else value
            for column, value in zip(key_columns, keys, strict=True)
        )
        params += (sums.active_ms, sums.idle_ms, sums.keys, sums.clicks)
        params += (adapt_datetime(sums.first_start), adapt_datetime(sums.last_end))
        if table == DailyTotal._meta.db_table:
            params.append(sums.untracked_ms)
    add_rollup_rows(table, tuple(key_columns), params)


@transaction.atomic
def rebuild_rollups(employee_ids: Iterable[int] | None = None) -> None:
    """Recompute rollups from the stored spans (for repair), all employees or those given.

    One employee at a time, spans streamed: memory holds one employee's
    sums, never the spans. Atomic: between deleting and adding back, spans
    would have no DailyUsage row, and the purge would take their windows for
    unused.
    """
    spans = Span.objects.all()
    usage_q, total_q = DailyUsage.objects.all(), DailyTotal.objects.all()
    hourly_q = HourlyTotal.objects.all()
    if employee_ids is not None:
        ids = list(employee_ids)
        spans = spans.filter(employee_id__in=ids)
        usage_q, total_q = usage_q.filter(employee_id__in=ids), total_q.filter(employee_id__in=ids)
        hourly_q = hourly_q.filter(employee_id__in=ids)
    usage_q.delete()
    total_q.delete()
    hourly_q.delete()
    employees = spans.order_by("employee_id").values_list("employee_id", flat=True).distinct()
    for employee_id in list(employees):
        one = spans.filter(employee_id=employee_id).order_by()
        add_sums_to_rollups(*sum_spans(one.iterator(chunk_size=5000)))
        add_hourly_sums(employee_hourly_sums(employee_id))


def employee_hourly_sums(employee_id: int, spans: QuerySet[Span] | None = None) -> HourlySums:
    """One employee's hourly sums recomputed from their stored spans (streamed), or those given.

    Hours are cut in each device's last known zone: right unless the device
    changed zones since (a laptop that travelled), where the hours of its
    older spans shift; the days, and so each day's sum, stay the span's own.
    """
    if spans is None:
        spans = Span.objects.filter(employee_id=employee_id).order_by()
    zone_of = device_zones(
        Device.objects.filter(employee_id=employee_id).values_list("pk", flat=True)
    )
    return hourly_sums(
        spans.only(
            "employee_id", "device_id", "day", "start", "duration_ms", "active", "tracked"
        ).iterator(chunk_size=5000),
        zone_of,
    )


def backfill_hourly(employee_id: int) -> tuple[int, int]:
    """Recompute one employee's HourlyTotal rows from their stored spans: (days, rows).

    Idempotent: the rows of each day that has spans are replaced, never
    added to; days whose spans are already purged keep what they have
    (nothing can rebuild them). The spans are summed before any lock; then,
    in one short transaction with the employee's device rows locked (the
    first thing an upload locks: ingest/actions.py) and the SQLite writers'
    lock held, the spans stored since are added and the rows written, so no
    upload is lost or counted twice.
    """
    from oxytrack.ingest.writelock import batch_write_lock  # ingest sits above activity

    spans = Span.objects.filter(employee_id=employee_id).order_by()
    last_id = spans.aggregate(last=Max("pk"))["last"]
    if last_id is None:
        return 0, 0
    sums = employee_hourly_sums(employee_id, spans.filter(pk__lte=last_id))
    with batch_write_lock(), transaction.atomic():
        list(Device.objects.select_for_update().filter(employee_id=employee_id).values("pk"))
        for key, (active, idle) in employee_hourly_sums(
            employee_id, spans.filter(pk__gt=last_id)
        ).items():
            hour = sums.setdefault(key, [0, 0])
            hour[0] += active
            hour[1] += idle
        days = sorted({day for _, day, _ in sums})
        HourlyTotal.objects.filter(employee_id=employee_id, day__in=days).delete()
        add_hourly_sums(sums)
    return len(days), len(sums)


def totals_from_spans(employee_id: int, day: date) -> dict[str, Any]:
    """What the DailyTotal row for (employee, day) must hold, summed from spans in SQL."""
    return Span.objects.filter(employee_id=employee_id, day=day).aggregate(
        active_ms=Sum("duration_ms", filter=Q(active=True, tracked=True), default=0),
        idle_ms=Sum("duration_ms", filter=Q(active=False, tracked=True), default=0),
        untracked_ms=Sum("duration_ms", filter=Q(tracked=False), default=0),
        keys=Sum("keys", default=0),
        clicks=Sum("clicks", default=0),
        first_start=Min("start"),
        last_start=Max("start"),
    )
