"""Working hours from the policy: outside them the agent records nothing.

The policy's `schedule` is null (always collect) or, for example::

    {"mon": [["08:00", "12:30"], ["13:30", "18:00"]], ..., "holidays": "fr"}

Hours are wall-clock times in the PC's time zone (the employee's); a weekday
that is missing or empty is a day off. `holidays` names the public holidays
that are days off: "fr" (metropolitan France), "fr-alsace-moselle" (plus Good
Friday and 26 December), "fr-971" … "fr-976" (plus the overseas department's
abolition-of-slavery day), or null (none). Easter is computed here (a dozen
lines of arithmetic) rather than by a holidays package, which would weigh on
the agent's memory for three dates a year.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Holiday calendars a policy may name.
HOLIDAY_ZONES = (
    "fr",
    "fr-alsace-moselle",
    "fr-971",
    "fr-972",
    "fr-973",
    "fr-974",
    "fr-976",
)
# Abolition of slavery, per overseas department (loi du 30 juin 1983 and decrees).
_ABOLITION = {
    "fr-971": (5, 27),
    "fr-972": (5, 22),
    "fr-973": (6, 10),
    "fr-974": (12, 20),
    "fr-976": (4, 27),
}
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

#: A range of minutes since local midnight, [start, end).
Range = tuple[int, int]


def parse_hhmm(text: str) -> int:
    """Minutes since midnight of "HH:MM" ("24:00" ends a day); ValueError otherwise."""
    if not isinstance(text, str) or not _HHMM.match(text):
        raise ValueError(f"not a time HH:MM: {text!r}")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def easter(year: int) -> date:
    """Easter Sunday of `year` (Gregorian; the anonymous "Meeus/Jones/Butcher" computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * el) // 433
    month = (h + el - 7 * m + 90) // 25
    day = (h + el - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


@lru_cache(maxsize=16)
def holidays(year: int, zone: str) -> frozenset[date]:
    """The public holidays of `year` in `zone` (see HOLIDAY_ZONES)."""
    sunday = easter(year)
    days = {
        date(year, 1, 1),
        sunday + timedelta(days=1),  # lundi de Pâques
        date(year, 5, 1),
        date(year, 5, 8),
        sunday + timedelta(days=39),  # Ascension
        sunday + timedelta(days=50),  # lundi de Pentecôte
        date(year, 7, 14),
        date(year, 8, 15),
        date(year, 11, 1),
        date(year, 11, 11),
        date(year, 12, 25),
    }
    if zone == "fr-alsace-moselle":
        days |= {sunday - timedelta(days=2), date(year, 12, 26)}
    if zone in _ABOLITION:
        month, day = _ABOLITION[zone]
        days.add(date(year, month, day))
    return frozenset(days)


def validate(data: Any) -> dict[str, Any] | None:
    """The schedule in canonical form, or ValueError saying what is wrong (in English).

    Used by the agent (to ignore a bad one) and mirrored by the server's form.
    """
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError("schedule must be an object or null")
    unknown = set(data) - {*DAYS, "holidays"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    zone = data.get("holidays")
    if zone is not None and zone not in HOLIDAY_ZONES:
        raise ValueError(f"unknown holiday calendar {zone!r}")
    out: dict[str, Any] = {}
    for day in DAYS:
        ranges = []
        for item in data.get(day) or ():
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError(f"{day}: a range is [start, end]")
            start, end = parse_hhmm(item[0]), parse_hhmm(item[1])
            if start >= 24 * 60 or end <= start:
                raise ValueError(f"{day}: {item[0]}-{item[1]} ends before it starts")
            ranges.append((start, end))
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            if start < end:
                raise ValueError(f"{day}: ranges overlap")
        if ranges:
            out[day] = [[_hhmm(a), _hhmm(b)] for a, b in ranges]
    out["holidays"] = zone
    return out


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Schedule:
    """Working hours per weekday (minutes since local midnight) and a holiday calendar."""

    week: tuple[tuple[Range, ...], ...]
    holiday_zone: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Schedule | None:
        """The policy's `schedule`; None for null (always collect).

        A schedule the agent cannot read is taken as "no hours at all" rather
        than "always": privacy wins over collection when in doubt.
        """
        try:
            canonical = validate(data)
        except ValueError as exc:
            log.warning("unreadable work schedule (nothing is recorded): %s", exc)
            return cls(week=((),) * 7)
        if canonical is None:
            return None
        week = tuple(
            tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in canonical.get(day, ())) for day in DAYS
        )
        return cls(week=week, holiday_zone=canonical["holidays"])

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        """The working ranges of one local date (none on a holiday)."""
        if self.holiday_zone and day in holidays(day.year, self.holiday_zone):
            return ()
        return self.week[day.weekday()]

    def is_working(self, t: float, tz: tzinfo) -> bool:
        """True when POSIX time `t` falls in working hours, in zone `tz`."""
        local = datetime.fromtimestamp(t, tz=tz)
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.ranges_on(local.date()))

    def next_start(self, t: float, tz: tzinfo, *, horizon_days: int = 31) -> datetime | None:
        """The next local moment working hours begin after `t` (None within the horizon)."""
        local = datetime.fromtimestamp(t, tz=tz)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.ranges_on(day):
                at = datetime.combine(day, time(start // 60, start % 60), tzinfo=tz)
                if at.timestamp() > t:
                    return at
        return None
