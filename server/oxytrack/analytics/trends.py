"""Trends: weekly active time per category over the last 12 ISO weeks, for one employee
or a team, and the change of the last 4 weeks against the 4 before.

Weeks are ISO weeks (Monday to Sunday) of each employee's own local days (the rollups'
`day`), so a DST week of 167 or 169 hours and an employee overseas need no special
case. Categories are applied at read time (`oxytrack.categories`): a rule edited today
re-categorises the past weeks too. A team is the employees in it today: someone
transferred brings their whole history with them (rollups carry the employee, not
their agency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.utils.translation import get_language

from oxytrack.activity import past_totals
from oxytrack.activity.days import MondayOf
from oxytrack.activity.models import DailyTotal, DailyUsage
from oxytrack.analytics.team import team_members
from oxytrack.categories.classify import (
    Category,
    current_categories,
)
from oxytrack.categories.revision import current_token
from oxytrack.categories.window_map import CategorySum, sum_by_category, sum_days_by_category
from oxytrack.org.models import Employee

WEEKS = 12
#: The change compares the last COMPARE_WEEKS weeks with the COMPARE_WEEKS before them.
COMPARE_WEEKS = 4


def monday_of(day: date) -> date:
    """The Monday that starts `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_starts(last_week: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the `weeks` ISO weeks ending with the one holding `last_week`,
    oldest first."""
    last = monday_of(last_week)
    return [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


@dataclass(frozen=True)
class Change:
    """The last COMPARE_WEEKS weeks against the COMPARE_WEEKS before them."""

    recent_ms: int
    previous_ms: int

    @property
    def delta_ms(self) -> int:
        return self.recent_ms - self.previous_ms

    @property
    def ratio(self) -> float | None:
        """The relative change (0.25 for +25 %); None when there was nothing before."""
        if not self.previous_ms:
            return None
        return self.delta_ms / self.previous_ms


def _change(weekly: list[int]) -> Change:
    return Change(
        recent_ms=sum(weekly[-COMPARE_WEEKS:]),
        previous_ms=sum(weekly[-2 * COMPARE_WEEKS : -COMPARE_WEEKS]),
    )


@dataclass(frozen=True)
class CategoryTrend:
    """One category's active time, week by week (milliseconds, oldest first)."""

    label: str
    colour: str
    weekly_ms: list[int]

    @property
    def total_ms(self) -> int:
        return sum(self.weekly_ms)

    @property
    def change(self) -> Change:
        return _change(self.weekly_ms)


@dataclass
class Trend:
    """Weekly active time per category, and per week the employees who had any time.

    For a team the figures are the team's totals; `average_ms` divides a week's total by
    the employees with recorded time that week (an employee on leave does not lower it).
    """

    weeks: list[date]
    categories: list[CategoryTrend] = field(default_factory=list)
    employees: list[int] = field(default_factory=list)

    @property
    def weekly_ms(self) -> list[int]:
        return [sum(c.weekly_ms[i] for c in self.categories) for i in range(len(self.weeks))]

    @property
    def average_ms(self) -> list[int]:
        return [
            round(total / count) if count else 0
            for total, count in zip(self.weekly_ms, self.employees, strict=True)
        ]

    @property
    def change(self) -> Change:
        return _change(self.weekly_ms)

    @property
    def average_change(self) -> Change:
        return _change(self.average_ms)

    @property
    def is_empty(self) -> bool:
        return not any(self.employees)


def _by_week(
    usage: QuerySet[DailyUsage], first: date, last: date, team: QuerySet[Any] | None
) -> list[CategorySum]:
    by_week = {"week": MondayOf("day")}
    if team is None:
        return sum_by_category(usage.filter(day__range=(first, last)), by_week)
    # A team's past days from the per (employee, day, category) rollup, its recent days
    # (which may hold windows the map has not seen yet) from DailyUsage.
    last_past = min(last, past_totals.last_past_day())
    parts = []
    if first <= last_past:
        parts += sum_days_by_category(team, first, last_past, by_week)
    if last_past < last:
        recent = (max(first, last_past + timedelta(days=1)), last)
        parts += sum_by_category(usage.filter(day__range=recent), by_week)
    return parts


def _trend(
    usage: QuerySet[DailyUsage],
    totals: QuerySet[DailyTotal],
    last_week: date,
    weeks: int,
    *,
    team: QuerySet[Any] | None = None,
) -> Trend:
    mondays = week_starts(last_week, weeks)
    first, last = mondays[0], mondays[-1] + timedelta(days=6)
    index = {monday: i for i, monday in enumerate(mondays)}
    weekly: dict[int | None, list[int]] = {}
    seen: dict[int | None, Category] = {}
    # A week cut by the past/recent boundary comes in two parts: they add up below.
    for part in _by_week(usage, first, last, team):
        seen[part.category.id] = part.category
        weekly.setdefault(part.category.id, [0] * weeks)[index[_as_date(part.group[0])]] += (
            part.active_ms
        )
    employees = [0] * weeks
    for row in (
        totals.filter(day__range=(first, last))
        .annotate(week=MondayOf("day"))
        .values("week")
        .annotate(n=Count("employee", distinct=True))
        .order_by()
    ):
        employees[index[_as_date(row["week"])]] = int(row["n"])
    # The rules' order, "Non classé" last; only categories that had time.
    order: list[Category] = current_categories()
    known = {c.id for c in order}
    # A category whose rule was deleted since this request began: still shown.
    order += [c for c in seen.values() if c.id not in known]
    return Trend(
        weeks=mondays,
        categories=[
            CategoryTrend(c.label, c.colour, weekly[c.id]) for c in order if c.id in weekly
        ],
        employees=employees,
    )


def _as_date(value: date) -> date:
    # MondayOf gives a date; a backend may still hand back a datetime.
    return value.date() if isinstance(value, datetime) else value


def employee_trend(employee: Employee, last_week: date, weeks: int = WEEKS) -> Trend:
    """`employee`'s weekly active time per category, the `weeks` ISO weeks ending with
    the one holding `last_week` (their local days)."""
    return _trend(
        DailyUsage.objects.filter(employee=employee),
        DailyTotal.objects.filter(employee=employee),
        last_week,
        weeks,
    )


#: How long a team's trend is kept: today's uploads show within minutes, a past day's
#: change (a late upload, a purge) and a rule edit at once (keys).
TEAM_TREND_CACHE_SECONDS = 120


def team_trend(employees: QuerySet[Employee], last_week: date, weeks: int = WEEKS) -> Trend:
    """The weekly active time per category of `employees` (a scoped queryset: a team of
    today), summed, with per week the number of them who had any time.

    Kept TEAM_TREND_CACHE_SECONDS under the team's members, the rules' revision, the
    past days' token and the language (category labels are translated).
    """
    _count, members = team_members(employees)
    key = ":".join(
        [
            "analytics:team-trend",
            members,
            last_week.isoformat(),
            str(weeks),
            current_token(),
            str(past_totals.past_token()),
            get_language() or "",
        ]
    )
    trend = cache.get(key)
    if isinstance(trend, Trend):
        return trend
    ids = employees.values("pk")
    trend = _trend(
        DailyUsage.objects.filter(employee__in=ids),
        DailyTotal.objects.filter(employee__in=ids),
        last_week,
        weeks,
        team=ids,
    )
    cache.set(key, trend, TEAM_TREND_CACHE_SECONDS)
    return trend
