"""Cutting spans at local midnight (activity/days.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxytrack.activity.days import MondayOf, Piece, next_local_midnight, split_at_midnight
from oxytrack.activity.models import DailyTotal
from oxytrack.conftest import Org

PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
HOUR_MS = 3_600_000


def local(tz: ZoneInfo, year: int, month: int, day: int, *clock: int) -> datetime:
    hour, minute, second = (*clock, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)


def assert_well_cut(pieces: list[Piece], start: datetime, duration_ms: int, tz: ZoneInfo) -> None:
    """Contiguous, summing to the duration, each piece inside its own local day."""
    assert sum(p.duration_ms for p in pieces) == duration_ms
    assert pieces[0].start == start.replace(microsecond=start.microsecond // 1000 * 1000)
    for before, after in itertools.pairwise(pieces):
        assert before.start + timedelta(milliseconds=before.duration_ms) == after.start
        assert after.day > before.day
    for piece in pieces:
        assert piece.day == piece.start.astimezone(tz).date()
        end = piece.start + timedelta(milliseconds=piece.duration_ms)
        assert end <= next_local_midnight(piece.start, tz)


def test_a_span_within_one_day_is_one_piece() -> None:
    start = local(PARIS, 2026, 3, 10, 9, 0)
    pieces = split_at_midnight(start, 2 * HOUR_MS, PARIS, keys=120, clicks=30)
    assert pieces == [Piece(start, 2 * HOUR_MS, date(2026, 3, 10), 120, 30)]


def test_a_span_crossing_midnight_is_cut_there() -> None:
    start = local(PARIS, 2026, 3, 10, 23, 0)
    pieces = split_at_midnight(start, 2 * HOUR_MS, PARIS, keys=100, clicks=11)
    midnight = local(PARIS, 2026, 3, 11, 0, 0)
    assert [(p.start, p.duration_ms, p.day) for p in pieces] == [
        (start, HOUR_MS, date(2026, 3, 10)),
        (midnight, HOUR_MS, date(2026, 3, 11)),
    ]
    # Shared in proportion to time, the remainder to the last piece.
    assert [(p.keys, p.clicks) for p in pieces] == [(50, 5), (50, 6)]
    assert_well_cut(pieces, start, 2 * HOUR_MS, PARIS)


def test_a_span_ending_exactly_at_midnight_stays_whole() -> None:
    start = local(PARIS, 2026, 3, 10, 23, 0)
    pieces = split_at_midnight(start, HOUR_MS, PARIS)
    assert [(p.duration_ms, p.day) for p in pieces] == [(HOUR_MS, date(2026, 3, 10))]


def test_a_zero_length_span_still_has_a_day() -> None:
    start = local(MARTINIQUE, 2026, 5, 1, 23, 59)
    assert split_at_midnight(start, 0, MARTINIQUE) == [Piece(start, 0, date(2026, 5, 1), 0, 0)]


def test_the_spring_dst_day_in_paris_has_23_hours() -> None:
    start = local(PARIS, 2026, 3, 28, 23, 0)  # the clocks go forward on the 29th
    duration = 26 * HOUR_MS  # to 2026-03-30 02:00 local
    pieces = split_at_midnight(start, duration, PARIS, keys=2600, clicks=26)
    assert [(p.day, p.duration_ms) for p in pieces] == [
        (date(2026, 3, 28), HOUR_MS),
        (date(2026, 3, 29), 23 * HOUR_MS),
        (date(2026, 3, 30), 2 * HOUR_MS),
    ]
    assert sum(p.keys for p in pieces) == 2600
    assert sum(p.clicks for p in pieces) == 26
    assert_well_cut(pieces, start, duration, PARIS)


def test_the_autumn_dst_day_in_paris_has_25_hours() -> None:
    start = local(PARIS, 2026, 10, 24, 22, 0)  # the clocks go back on the 25th
    duration = 29 * HOUR_MS  # to 2026-10-26 02:00 local
    pieces = split_at_midnight(start, duration, PARIS, keys=7, clicks=3)
    assert [(p.day, p.duration_ms) for p in pieces] == [
        (date(2026, 10, 24), 2 * HOUR_MS),
        (date(2026, 10, 25), 25 * HOUR_MS),
        (date(2026, 10, 26), 2 * HOUR_MS),
    ]
    assert (sum(p.keys for p in pieces), sum(p.clicks for p in pieces)) == (7, 3)
    assert_well_cut(pieces, start, duration, PARIS)


def test_martinique_has_no_dst_and_its_midnight_is_0400_utc() -> None:
    # The weekend Paris changes time, Martinique's days stay 24 hours long.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    duration = 48 * HOUR_MS
    pieces = split_at_midnight(start, duration, MARTINIQUE)
    assert [(p.start, p.day, p.duration_ms) for p in pieces] == [
        (start, date(2026, 3, 28), 16 * HOUR_MS),
        (datetime(2026, 3, 29, 4, 0, tzinfo=UTC), date(2026, 3, 29), 24 * HOUR_MS),
        (datetime(2026, 3, 30, 4, 0, tzinfo=UTC), date(2026, 3, 30), 8 * HOUR_MS),
    ]


def test_the_same_moment_falls_on_different_days_by_zone() -> None:
    start = datetime(2026, 6, 1, 2, 30, tzinfo=UTC)  # 04:30 in Nice, 22:30 the day before in FdF
    assert split_at_midnight(start, 1000, PARIS)[0].day == date(2026, 6, 1)
    assert split_at_midnight(start, 1000, MARTINIQUE)[0].day == date(2026, 5, 31)


def test_a_start_with_microseconds_never_crosses_midnight() -> None:
    # Agents send ISO timestamps that may carry microseconds; durations are whole ms.
    start = local(PARIS, 2026, 3, 10, 23, 59, 59).replace(microsecond=999_500)
    pieces = split_at_midnight(start, 1000, PARIS, keys=4)
    assert_well_cut(pieces, start, 1000, PARIS)
    assert [p.day for p in pieces] == [date(2026, 3, 10), date(2026, 3, 11)]


# Zones with DST, no DST, half-hour DST (Lord Howe), changes at midnight (Santiago,
# Havana), far east and west of UTC.
ZONES = [
    "Europe/Paris",
    "America/Martinique",
    "Indian/Reunion",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        # hypothesis wants naive bounds; the values it draws are made aware in UTC.
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    duration_ms=st.integers(min_value=0, max_value=3 * 24 * HOUR_MS),
    zone=st.sampled_from(ZONES),
    keys=st.integers(min_value=0, max_value=100_000),
    clicks=st.integers(min_value=0, max_value=10_000),
)
def test_pieces_are_contiguous_whole_and_each_in_one_local_day(
    start: datetime, duration_ms: int, zone: str, keys: int, clicks: int
) -> None:
    tz = ZoneInfo(zone)
    pieces = split_at_midnight(start, duration_ms, tz, keys=keys, clicks=clicks)
    assert_well_cut(pieces, start, duration_ms, tz)
    assert sum(p.keys for p in pieces) == keys
    assert sum(p.clicks for p in pieces) == clicks
    assert all(p.keys >= 0 and p.clicks >= 0 for p in pieces)
    # A span longer than a day is cut at least once per midnight it passes.
    assert len(pieces) >= duration_ms // (26 * HOUR_MS) + 1


@pytest.mark.django_db
def test_the_database_finds_the_monday_of_any_day(org: Org) -> None:
    # Every day of a span crossing a year end, an ISO week 53 (2026) and both DST changes.
    employee = org.employees["nice_facturation"]
    first = date(2026, 3, 20)
    days = [first + timedelta(days=n) for n in range(300)]
    DailyTotal.objects.bulk_create(
        DailyTotal(
            employee=employee,
            day=day,
            first_start=datetime(2026, 1, 1, tzinfo=UTC),
            last_end=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for day in days
    )
    found = dict(DailyTotal.objects.annotate(monday=MondayOf("day")).values_list("day", "monday"))
    assert found == {day: day - timedelta(days=day.weekday()) for day in days}
