"""Local hours: the hourly rollups cut time at each local wall-clock hour.

Hours are those of the wall clock in the zone that gave a span its `day`
(the device's): on the 25-hour day of a DST change the repeated hour adds
to the same hour, on the 23-hour day the skipped hour has nothing. Times
are epoch milliseconds (UTC), as in the ingest's preparation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

#: (employee id, local day, local hour) → [active ms, idle ms]
HourlySums = dict[tuple[int, date, int], list[int]]


class StoredSpan(Protocol):
    """What the hours need of a stored span: a `Span`, or a lighter row of the demo."""

    @property
    def employee_id(self) -> int: ...
    @property
    def device_id(self) -> int: ...
    @property
    def day(self) -> date: ...
    @property
    def start(self) -> datetime: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def active(self) -> bool: ...


def _offset_ms(ms: int, tz: ZoneInfo) -> int:
    offset = (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz).utcoffset()
    return offset // _MS if offset is not None else 0


class HourCutter:
    """Cuts [start, end) intervals (epoch ms) at the local hour boundaries of one zone.

    Remembers the hour it found last: the spans of a batch mostly fall in
    the same hour, and then cutting costs two comparisons.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        # The hour being filled: [begin, end) in epoch ms, and its local hour.
        self.begin = self.end = 0
        self.hour = 0

    def locate(self, ms: int) -> None:
        """Make the hour holding `ms` the current one."""
        tz = self.tz
        offset = _offset_ms(ms, tz)
        local = ms + offset
        end = (local // HOUR_MS + 1) * HOUR_MS - offset
        if _offset_ms(end - 1, tz) != offset:
            # The offset changes before the hour ends (DST, a zone's change):
            # the hour of the wall clock ends at that change. Rare: bisect.
            low, high = ms, end - 1  # offset at low is `offset`, at high not
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_ms(middle, tz) == offset:
                    low = middle
                else:
                    high = middle
            end = high
        # A lower bound known to be right, as the ingest does for days.
        self.begin, self.end, self.hour = ms, end, (local // HOUR_MS) % 24

    def pieces(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """(local hour, ms) of each piece of [start, end), in order; a piece per hour."""
        cursor = start
        while cursor < end:
            if not (self.begin <= cursor < self.end):
                self.locate(cursor)
            stop = min(end, self.end)
            yield self.hour, stop - cursor
            cursor = stop


def add_span_hours(
    sums: HourlySums,
    cutter: HourCutter,
    employee_id: int,
    day: date,
    start: int,
    ms: int,
    active: bool,
) -> None:
    """Add a tracked stretch of `day` (start in epoch ms) to `sums`, cut at local hours."""
    index = 0 if active else 1
    end = start + ms
    if cutter.begin <= start and end <= cutter.end:  # the common case: within one hour
        key = (employee_id, day, cutter.hour)
        hour = sums.get(key)
        if hour is None:
            hour = sums[key] = [0, 0]
        hour[index] += ms
        return
    for local_hour, part in cutter.pieces(start, end):
        key = (employee_id, day, local_hour)
        hour = sums.get(key)
        if hour is None:
            hour = sums[key] = [0, 0]
        hour[index] += part


def hourly_sums(spans: Iterable[StoredSpan], zone_of: Callable[[int], ZoneInfo]) -> HourlySums:
    """Per (employee, day, hour) active and idle ms of stored spans.

    `zone_of(device_id)`: the zone the span's day was cut in. The day is
    always the span's own, so each day's hours add up to its DailyTotal.
    Private pauses (tracked=False) are neither active nor idle: left out.
    """
    sums: HourlySums = {}
    cutters: dict[int, HourCutter] = {}
    for span in spans:
        if not getattr(span, "tracked", True):
            continue
        cutter = cutters.get(span.device_id)
        if cutter is None:
            cutter = cutters[span.device_id] = HourCutter(zone_of(span.device_id))
        start = (span.start - _EPOCH) // _MS
        add_span_hours(
            sums, cutter, span.employee_id, span.day, start, span.duration_ms, span.active
        )
    return sums
