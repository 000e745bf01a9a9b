"""Storing spans the way ingest does, for the activity tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from oxytrack.activity.days import split_at_midnight
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.activity.windows import intern_windows
from oxytrack.org.models import Device


@dataclass(frozen=True)
class RawSpan:
    start: datetime
    duration_ms: int
    app: str = "EXCEL.EXE"
    title: str = "Budget 2026 - Excel"
    active: bool = True
    keys: int = 0
    clicks: int = 0


def store_spans(device: Device, raw: Iterable[RawSpan]) -> list[Span]:
    """Cut at local midnight in the device's zone, intern windows, bulk-insert; no rollups."""
    raw = list(raw)
    tz = ZoneInfo(device.time_zone)
    ids = intern_windows((r.app, r.title) for r in raw)
    spans: list[Span] = []
    for r in raw:
        for piece in split_at_midnight(r.start, r.duration_ms, tz, r.keys, r.clicks):
            spans.append(
                Span(
                    employee_id=device.employee_id,
                    device=device,
                    start=piece.start,
                    duration_ms=piece.duration_ms,
                    day=piece.day,
                    window_id=ids[(r.app, r.title)],
                    active=r.active,
                    keys=piece.keys,
                    clicks=piece.clicks,
                )
            )
    return Span.objects.bulk_create(spans)


def rollup_snapshot() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Every DailyUsage and DailyTotal row, without ids, to compare two states."""
    usage = set(
        DailyUsage.objects.values_list(
            "employee_id",
            "day",
            "window_id",
            "active_ms",
            "idle_ms",
            "keys",
            "clicks",
            "first_start",
            "last_end",
        )
    )
    totals = set(
        DailyTotal.objects.values_list(
            "employee_id",
            "day",
            "active_ms",
            "idle_ms",
            "keys",
            "clicks",
            "first_start",
            "last_end",
        )
    )
    return usage, totals


def expected_rollups() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """What `rollup_snapshot` must return, summed here from the stored spans.

    Written independently of `rollups.sum_spans` so a test does not check the
    code against itself.
    """
    usage: dict[tuple[Any, ...], list[Any]] = {}
    totals: dict[tuple[Any, ...], list[Any]] = {}
    fields = ("employee_id", "day", "window_id", "start", "duration_ms", "active", "keys", "clicks")
    for employee, day, window, start, ms, active, keys, clicks in Span.objects.values_list(*fields):
        end = start + timedelta(milliseconds=ms)
        for table, key in ((usage, (employee, day, window)), (totals, (employee, day))):
            row = table.setdefault(key, [0, 0, 0, 0, start, end])
            row[0 if active else 1] += ms
            row[2] += keys
            row[3] += clicks
            row[4] = min(row[4], start)
            row[5] = max(row[5], end)
    return (
        {(*key, *row) for key, row in usage.items()},
        {(*key, *row) for key, row in totals.items()},
    )


def assert_rollups_match_spans() -> None:
    """DailyUsage and DailyTotal hold exactly the sums of the stored spans, no more rows."""
    usage, totals = rollup_snapshot()
    expected_usage, expected_totals = expected_rollups()
    assert usage == expected_usage
    assert totals == expected_totals
