"""Local hours (activity/hours.py): spans cut at each wall-clock hour of their zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from oxytrack.activity.days import split_at_midnight
from oxytrack.activity.hours import hourly_sums

PARIS = ZoneInfo("Europe/Paris")
MIN = 60_000


class _Span(NamedTuple):
    employee_id: int
    device_id: int
    start: datetime
    duration_ms: int
    day: date
    active: bool = True
    tracked: bool = True


def _hours(zone: str, start: datetime, minutes: float, active: bool = True) -> dict[int, float]:
    """{local hour: minutes} of one span starting at `start` (local wall clock of `zone`)."""
    tz = ZoneInfo(zone)
    span = _Span(1, 1, start, round(minutes * MIN), start.astimezone(tz).date(), active)
    sums = hourly_sums([span], lambda _: tz)
    return {hour: ms[0 if active else 1] / MIN for (_, _, hour), ms in sums.items()}


def test_a_span_is_cut_at_each_local_hour() -> None:
    assert _hours("Europe/Paris", datetime(2026, 3, 10, 9, 50, tzinfo=PARIS), 75) == {
        9: 10,
        10: 60,
        11: 5,
    }


def test_the_repeated_hour_of_the_25_hour_day_adds_up() -> None:
    # 25 October 2026, Paris: 03:00 CEST becomes 02:00 CET. From 00:30 for 3 h of
    # real time: 30 min at 0 h, 60 at 1 h, 60 + 30 at 2 h (CEST then CET).
    start = datetime(2026, 10, 25, 0, 30, tzinfo=PARIS)
    assert _hours("Europe/Paris", start, 180) == {0: 30, 1: 60, 2: 90}


def test_the_skipped_hour_of_the_23_hour_day_has_nothing() -> None:
    # 29 March 2026, Paris: 02:00 CET becomes 03:00 CEST. From 01:30 for 2 h.
    start = datetime(2026, 3, 29, 1, 30, tzinfo=PARIS)
    assert _hours("Europe/Paris", start, 120) == {1: 30, 3: 60, 4: 30}


def test_overseas_and_half_hour_zones_are_on_their_own_clock() -> None:
    martinique = ZoneInfo("America/Martinique")
    assert _hours("America/Martinique", datetime(2026, 3, 10, 8, 30, tzinfo=martinique), 60) == {
        8: 30,
        9: 30,
    }
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours start at xx:30 UTC
    assert _hours("Asia/Kolkata", datetime(2026, 3, 10, 9, 45, tzinfo=kolkata), 30) == {
        9: 15,
        10: 15,
    }


def test_a_half_hour_dst_change_ends_the_hour_where_the_clock_steps_back() -> None:
    # Lord Howe, 5 April 2026: 02:00 (UTC+11) becomes 01:30 (UTC+10:30).
    # From 01:00 for 2 h: 60 + 30 min at 1 h, then 30 at 2 h.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    start = datetime(2026, 4, 5, 1, 0, tzinfo=lord_howe)
    assert _hours("Australia/Lord_Howe", start, 120) == {1: 90, 2: 30}


def test_idle_time_and_pauses() -> None:
    start = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    assert _hours("Europe/Paris", start, 30, active=False) == {9: 30}
    pause = _Span(1, 1, start, 30 * MIN, start.date(), active=False, tracked=False)
    assert hourly_sums([pause], lambda _: PARIS) == {}


ZONES = ["Europe/Paris", "America/Martinique", "Indian/Reunion", "Asia/Kathmandu", "UTC"]


@given(
    zone=st.sampled_from(ZONES),
    # Around both of 2026's DST changes in Europe and plain days.
    first=st.datetimes(
        min_value=datetime(2026, 3, 28),  # noqa: DTZ001
        max_value=datetime(2026, 10, 27),  # noqa: DTZ001
    ),
    pieces=st.lists(st.tuples(st.integers(0, 3 * 3_600_000), st.booleans()), max_size=8),
)
def test_the_hours_of_a_day_add_up_to_its_spans(
    zone: str, first: datetime, pieces: list[tuple[int, bool]]
) -> None:
    tz = ZoneInfo(zone)
    cursor = first.replace(tzinfo=tz)
    spans = []
    for ms, active in pieces:
        # As the ingest stores them: cut at local midnight.
        for piece in split_at_midnight(cursor, ms, tz):
            spans.append(_Span(1, 1, piece.start, piece.duration_ms, piece.day, active))
        cursor += timedelta(milliseconds=ms)
    sums = hourly_sums(spans, lambda _: tz)
    for day in {s.day for s in spans}:
        assert sum(v[0] for (_, d, _), v in sums.items() if d == day) == sum(
            s.duration_ms for s in spans if s.day == day and s.active
        )
        assert sum(v[1] for (_, d, _), v in sums.items() if d == day) == sum(
            s.duration_ms for s in spans if s.day == day and not s.active
        )
    # An hour holds at most the real time it lasted: 60 min, 120 for a repeated one.
    assert all(0 <= hour <= 23 for _, _, hour in sums)
    assert all(v[0] + v[1] <= 2 * 3_600_000 for v in sums.values())
