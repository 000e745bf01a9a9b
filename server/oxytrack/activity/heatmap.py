"""The heatmap: hour of day by weekday of average active minutes, for one employee or a team.

Read from the hourly rollups (activity.models.HourlyTotal), whose days and
hours are each employee's own local ones (the zone of the device that
recorded them): in a team spread over Europe/Paris and America/Martinique,
9 h is 9 h on each one's clock.

The average, for weekday w and hour h: the active time of the counted
employees in hour h of every w of the range, divided by (the number of
employees counted times the number of w in the range). Days without activity
(weekends, leave) count as zero, so the figure reads "on a Monday of this
range, between 9 h and 10 h, a person was active N minutes on average".
Employees counted: those given that have any hourly row in the range
(someone who arrived after it, or never enrolled, would only pull it down).
On the 25-hour day of a DST change the repeated hour holds both, so one
cell may pass 60 minutes; on the 23-hour day the skipped hour has nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from oxytrack.activity.models import HourlyTotal
from oxytrack.org.models import Employee
from oxytrack.web.formatting import format_number

HOURS = 24
DAYS_OF_WEEK = 7
_MINUTE_MS = 60_000


@dataclass(frozen=True)
class Heatmap:
    """Average active minutes per [weekday][hour], Monday first, hours 0 to 23 local."""

    start: date
    end: date
    employees: int  # counted in the average: those with activity in the range
    occurrences: tuple[int, ...]  # per weekday, Monday first: how many in the range
    minutes: tuple[tuple[float, ...], ...]

    @property
    def empty(self) -> bool:
        return self.employees == 0


def weekday_occurrences(start: date, end: date) -> tuple[int, ...]:
    """How many Mondays, Tuesdays, … Sundays the range `start`..`end` (inclusive) holds."""
    days = (end - start).days + 1
    full, rest = divmod(max(days, 0), DAYS_OF_WEEK)
    counts = [full] * DAYS_OF_WEEK
    for offset in range(rest):
        counts[(start.weekday() + offset) % DAYS_OF_WEEK] += 1
    return tuple(counts)


@dataclass(frozen=True)
class HourlySums:
    """What a heatmap averages: active ms per (local day, hour), and who had any row.

    Two of them over consecutive stretches of days add up (`+`) to the sums of
    the whole: the team overview caches its past days' part.
    """

    employees: frozenset[int] = frozenset()
    by_hour: dict[tuple[date, int], int] = field(default_factory=dict)

    def __add__(self, other: HourlySums) -> HourlySums:
        merged = dict(self.by_hour)
        for key, ms in other.by_hour.items():
            merged[key] = merged.get(key, 0) + ms
        return HourlySums(self.employees | other.employees, merged)


def hourly_sums(
    employee_ids: Collection[int] | QuerySet[Any], start: date, end: date
) -> HourlySums:
    """The hourly rollups of the employees given over `start`..`end`, summed per (day,
    hour): two queries, one listing the employees that have any."""
    rows = HourlyTotal.objects.filter(employee_id__in=employee_ids, day__range=(start, end))
    employees = frozenset(rows.values_list("employee_id", flat=True).distinct().order_by())
    if not employees:
        return HourlySums()
    # Grouped by day, the weekday taken in Python: at most 366 x 24 rows, where
    # SQLite's weekday extraction is a Python call per hourly row (minutes for
    # a whole organisation over a year).
    grouped = rows.values_list("day", "hour").annotate(active=Sum("active_ms")).order_by()
    return HourlySums(employees, {(day, hour): active or 0 for day, hour, active in grouped})


def heatmap_of(sums: HourlySums, start: date, end: date) -> Heatmap:
    """The heatmap of `sums`, which cover `start`..`end`."""
    employees = len(sums.employees)
    occurrences = weekday_occurrences(start, end)
    totals = [[0] * HOURS for _ in range(DAYS_OF_WEEK)]
    for (day, hour), ms in sums.by_hour.items():
        totals[day.weekday()][hour] += ms
    minutes = tuple(
        tuple(
            ms / _MINUTE_MS / (employees * occurrences[weekday])
            if employees and occurrences[weekday]
            else 0.0
            for ms in totals[weekday]
        )
        for weekday in range(DAYS_OF_WEEK)
    )
    return Heatmap(start, end, employees, occurrences, minutes)


def team_heatmap(employee_ids: Collection[int] | QuerySet[Any], start: date, end: date) -> Heatmap:
    """The heatmap of the employees given (ids, or a queryset of ids) over `start`..`end`.

    Callers check access (Employee.objects.visible_to) and audit the read.
    Two queries (hourly_sums).
    """
    return heatmap_of(hourly_sums(employee_ids, start, end), start, end)


def employee_heatmap(employee: Employee, start: date, end: date) -> Heatmap:
    """One employee's heatmap over `start`..`end` (see `team_heatmap`)."""
    return team_heatmap([employee.pk], start, end)


def heatmap_chart(heatmap: Heatmap) -> dict[str, Any]:
    """What `oxytrack/_heatmap.html` and charts.js draw: JSON-ready, labels translated.

    No agent text in it: every string is ours. Hover texts are formatted
    here, in the reader's language ("42,5 min").
    """
    days = [str(WEEKDAYS[weekday]) for weekday in range(DAYS_OF_WEEK)]
    hours = [_("%(hour)d h") % {"hour": hour} for hour in range(HOURS)]
    hover = [
        [
            _("%(day)s, %(start)s-%(end)s : %(minutes)s min actives en moyenne")
            % {
                "day": days[weekday],
                "start": hours[hour],
                "end": hours[(hour + 1) % HOURS],
                "minutes": format_number(round(value, 1), 1),
            }
            for hour, value in enumerate(row)
        ]
        for weekday, row in enumerate(heatmap.minutes)
    ]
    return {
        "z": [[round(value, 1) for value in row] for row in heatmap.minutes],
        "x": hours,
        "y": days,
        "hover": hover,
        "employees": heatmap.employees,
        "labels": {
            "minutes": _("min"),
            "empty": _("Aucune activité sur cette période"),
        },
    }
