"""Local days: spans are cut at midnight in the device's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import DateField, Func


class MondayOf(Func):
    """The Monday of a date column's ISO week, computed by the database itself.

    Django's TruncWeek is a Python function on SQLite, called once per row: minutes
    over the rollups of a whole organisation. SQLite's own date() does it in C.
    The two databases the project supports only.
    """

    output_field = DateField()
    template = "CAST(date_trunc('week', %(expressions)s) AS date)"  # PostgreSQL

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # 'weekday 1' moves forward to the next Monday unless already one: from six
        # days before, that is the Monday on or before the date.
        extra["template"] = "date(%(expressions)s, '-6 days', 'weekday 1')"
        return self.as_sql(compiler, connection, **extra)


@dataclass(frozen=True)
class Piece:
    start: datetime
    duration_ms: int
    day: date
    keys: int
    clicks: int


def next_local_midnight(moment: datetime, tz: ZoneInfo) -> datetime:
    """The first local midnight strictly after `moment`, as an aware datetime in `tz`.

    Computed on the calendar, not by adding 24 h, so DST days of 23 or 25
    hours end where the wall clock says.
    """
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)


def split_at_midnight(
    start: datetime, duration_ms: int, tz: ZoneInfo, keys: int = 0, clicks: int = 0
) -> list[Piece]:
    """Cut a span at each local midnight it crosses.

    Keys and clicks are shared in proportion to duration, the remainder going
    to the last piece, so the pieces' counts add up to the span's exactly.
    Pieces start in UTC, at the millisecond (a start's sub-millisecond part is dropped).
    """
    # In UTC: between two datetimes of the same tzinfo Python subtracts and adds
    # wall-clock time, which is wrong by an hour across a DST change. Whole
    # milliseconds: durations are, so a piece can end exactly at midnight.
    start = start.astimezone(UTC)
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    pieces: list[tuple[datetime, int]] = []
    cursor, remaining = start, duration_ms
    while remaining > 0:
        midnight = next_local_midnight(cursor, tz)
        room_ms = (midnight - cursor) // timedelta(milliseconds=1)
        part = min(remaining, room_ms)
        pieces.append((cursor, part))
        cursor += timedelta(milliseconds=part)
        remaining -= part
    if not pieces:  # a zero-length span still belongs to one day
        pieces.append((start, 0))
    result: list[Piece] = []
    keys_left, clicks_left = keys, clicks
    for index, (piece_start, piece_ms) in enumerate(pieces):
        last = index == len(pieces) - 1
        share = piece_ms / duration_ms if duration_ms else 1.0
        piece_keys = keys_left if last else int(keys * share)
        piece_clicks = clicks_left if last else int(clicks * share)
        keys_left -= piece_keys
        clicks_left -= piece_clicks
        result.append(
            Piece(
                start=piece_start,
                duration_ms=piece_ms,
                day=piece_start.astimezone(tz).date(),
                keys=piece_keys,
                clicks=piece_clicks,
            )
        )
    return result
