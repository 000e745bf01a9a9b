"""Daily rollups: added to in the same transaction as the spans they sum."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max, Min, Q, Sum

from oxytrack.activity.models import DailyTotal, DailyUsage, Span


@dataclass
class Sums:
    active_ms: int = 0
    idle_ms: int = 0
    keys: int = 0
    clicks: int = 0
    first_start: datetime | None = None
    last_end: datetime | None = None

    def add(self, span: Span) -> None:
        if span.active:
            self.active_ms += span.duration_ms
        else:
            self.idle_ms += span.duration_ms
        self.keys += span.keys
        self.clicks += span.clicks
        end = span.start + timedelta(milliseconds=span.duration_ms)
        if self.first_start is None or span.start < self.first_start:
            self.first_start = span.start
        if self.last_end is None or end > self.last_end:
            self.last_end = end


def sum_spans(
    spans: Iterable[Span],
) -> tuple[dict[tuple[int, date, int], Sums], dict[tuple[int, date], Sums]]:
    """Per (employee, day, window) and per (employee, day) sums of `spans`."""
    usage: dict[tuple[int, date, int], Sums] = {}
    totals: dict[tuple[int, date], Sums] = {}
    for span in spans:
        usage.setdefault((span.employee_id, span.day, span.window_id), Sums()).add(span)
        totals.setdefault((span.employee_id, span.day), Sums()).add(span)
    return usage, totals


def add_to_rollups(spans: Sequence[Span]) -> None:
    """Add `spans` (just stored) to DailyUsage and DailyTotal.

    One INSERT … ON CONFLICT DO UPDATE per chunk, adding to the stored
    counters in SQL: two uploads for the same employee and day cannot lose
    each other's increments, on SQLite or PostgreSQL.
    """
    usage, totals = sum_spans(spans)
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


_CHUNK = 100  # rows per statement: 9 parameters each, under SQLite's limit


def _upsert(table: str, key_columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    ops = connection.ops
    q = ops.quote_name
    least, greatest = ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    columns = [*key_columns, "active_ms", "idle_ms", "keys", "clicks", "first_start", "last_end"]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    t = q(table)
    update = ", ".join(
        [
            f"{q(c)} = {t}.{q(c)} + excluded.{q(c)}"
            for c in ("active_ms", "idle_ms", "keys", "clicks")
        ]
        + [
            f"{q('first_start')} = {least}({t}.{q('first_start')}, excluded.{q('first_start')})",
            f"{q('last_end')} = {greatest}({t}.{q('last_end')}, excluded.{q('last_end')})",
        ]
    )
    with connection.cursor() as cursor:
        for begin in range(0, len(rows), _CHUNK):
            chunk = rows[begin : begin + _CHUNK]
            params: list[Any] = []
            for row in chunk:
                *keys, sums = row
                for column, value in zip(key_columns, keys, strict=True):
                    params.append(ops.adapt_datefield_value(value) if column == "day" else value)
                params += [
                    sums.active_ms,
                    sums.idle_ms,
                    sums.keys,
                    sums.clicks,
                    ops.adapt_datetimefield_value(sums.first_start),
                    ops.adapt_datetimefield_value(sums.last_end),
                ]
            sql = (
                f"INSERT INTO {t} ({', '.join(q(c) for c in columns)}) "  # noqa: S608 (names only)
                f"VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT ({', '.join(q(c) for c in key_columns)}) DO UPDATE SET {update}"
            )
            cursor.execute(sql, params)


def rebuild_rollups(employee_ids: Iterable[int] | None = None) -> None:
    """Recompute rollups from the stored spans (after a purge or for repair)."""
    spans = Span.objects.all()
    usage_q, total_q = DailyUsage.objects.all(), DailyTotal.objects.all()
    if employee_ids is not None:
        ids = list(employee_ids)
        spans = spans.filter(employee_id__in=ids)
        usage_q, total_q = usage_q.filter(employee_id__in=ids), total_q.filter(employee_id__in=ids)
    usage_q.delete()
    total_q.delete()
    add_to_rollups(list(spans.iterator(chunk_size=5000)))


def totals_from_spans(employee_id: int, day: date) -> dict[str, Any]:
    """What the DailyTotal row for (employee, day) must hold, summed from spans in SQL."""
    return Span.objects.filter(employee_id=employee_id, day=day).aggregate(
        active_ms=Sum("duration_ms", filter=Q(active=True), default=0),
        idle_ms=Sum("duration_ms", filter=Q(active=False), default=0),
        keys=Sum("keys", default=0),
        clicks=Sum("clicks", default=0),
        first_start=Min("start"),
        last_start=Max("start"),
    )
