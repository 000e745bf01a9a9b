"""The ingest's time arithmetic: exact milliseconds, and the text SQLite stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from oxytrack.ingest.prepare import datetime_of, ms_of, sqlite_text_of_ms

# hypothesis takes naive bounds and adds the zone itself.
moments = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(ms=st.integers(0, 4_102_444_800_000))
def test_sqlite_text_is_what_django_stores(ms: int) -> None:
    # Django's SQLite backend stores an aware datetime as str() of its naive
    # UTC value; starts are compared as text, so the format must match exactly.
    expected = str(datetime_of(ms).astimezone(UTC).replace(tzinfo=None))
    assert sqlite_text_of_ms(ms) == expected


@given(moment=moments, offset_minutes=st.integers(-14 * 60, 14 * 60))
def test_milliseconds_round_half_up_whatever_the_offset(
    moment: datetime, offset_minutes: int
) -> None:
    written = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    ms = ms_of(written)
    # Within half a millisecond, and exactly half rounds up.
    assert abs(datetime_of(ms) - moment) <= timedelta(microseconds=500)
    if moment.microsecond % 1000 == 500:
        assert datetime_of(ms) > moment
    assert ms_of(datetime_of(ms)) == ms
