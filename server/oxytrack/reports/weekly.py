"""The figures of the weekly report: per (agency, service) team, one ISO week.

Plain functions over the daily rollups; the command, the e-mail and the tests
call them directly. Days are the employees' local days as the rollups store
them; the week is chosen on the server's calendar (TIME_ZONE).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage
from oxytrack.categories.classify import Category, current_categories, window_categories
from oxytrack.org.models import Agency, Employee, Service
from oxytrack.web.formatting import fold

_WEEK = re.compile(r"(\d{4})-W(\d{2})")

#: An (agency id, service id) pair; None for an employee without one.
TeamKey = tuple[int | None, int | None]


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday to Sunday."""

    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7))

    @property
    def label(self) -> str:
        """`2026-W48`, as `--week` takes it."""
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"


def parse_week(text: str) -> Week:
    """The week `2026-W48` names; ValueError for anything else (W53 only in long years)."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W48")
    try:
        return Week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except ValueError:
        raise ValueError(f"{text!r} is not a week of that year") from None


def last_complete_week(today: date | None = None) -> Week:
    """The ISO week before the one `today` (default: the server's today) falls in."""
    today = today or timezone.localdate()
    return Week(today - timedelta(days=today.weekday() + 7))


@dataclass(frozen=True)
class CategoryShare:
    category: Category
    active_ms: int
    #: Of the team's categorised time (0 to 1).
    share: float


@dataclass(frozen=True)
class TeamSummary:
    """One team's week. No figure names or orders a person."""

    key: TeamKey
    agency: str  # "" when the employees have none
    service: str
    employees: int
    #: Employees with some active time in the week.
    active_employees: int
    active_ms: int
    #: (employee, day) pairs with some active time.
    worked_days: int
    previous_active_ms: int
    categories: list[CategoryShare] = field(default_factory=list)

    @property
    def average_ms_per_worked_day(self) -> int | None:
        return round(self.active_ms / self.worked_days) if self.worked_days else None

    @property
    def change(self) -> float | None:
        """Relative change of active time from the previous week; None after an empty week."""
        if not self.previous_active_ms:
            return None
        return (self.active_ms - self.previous_active_ms) / self.previous_active_ms


@dataclass(frozen=True)
class WeeklyReport:
    """What one manager receives: their teams' weeks."""

    week: Week
    teams: list[TeamSummary]
    #: Every category of the rules, in their order, "Non classé" last: the chart's legend.
    categories: list[Category]

    @property
    def employees(self) -> int:
        return sum(t.employees for t in self.teams)


def team_summaries(week: Week) -> dict[TeamKey, TeamSummary]:
    """Every team that has employees today, with `week`'s figures (current members:
    a transferred employee's history follows them)."""
    members = {
        (row["agency_id"], row["service_id"]): row["n"]
        for row in Employee.objects.values("agency_id", "service_id").annotate(n=Count("id"))
    }
    team_of = "employee__agency_id", "employee__service_id"
    this_week = Q(day__gte=week.monday)
    worked = this_week & Q(active_ms__gt=0)
    totals = {
        (row["employee__agency_id"], row["employee__service_id"]): row
        for row in DailyTotal.objects.filter(day__range=(week.previous.monday, week.sunday))
        .values(*team_of)
        .annotate(
            week_ms=Sum("active_ms", filter=this_week),
            previous_ms=Sum("active_ms", filter=~this_week),
            worked_days=Count("id", filter=worked),
            active_employees=Count("employee_id", filter=worked, distinct=True),
        )
    }
    usage: dict[TeamKey, dict[int, int]] = defaultdict(dict)
    for row in (
        # Every employee spelt out: the (employee, day, window) index then serves the
        # week per employee, where a filter on `day` alone scanned every row kept.
        DailyUsage.objects.filter(
            employee__in=Employee.objects.values("pk"),
            day__range=(week.monday, week.sunday),
            active_ms__gt=0,
        )
        .values(*team_of, "window_id")
        .annotate(ms=Sum("active_ms"))
    ):
        usage[(row["employee__agency_id"], row["employee__service_id"])][row["window_id"]] = row[
            "ms"
        ]
    # One classification for every team's windows (usage_by_category per team
    # would read the rules' revision once per team).
    category_of = window_categories({w for by_window in usage.values() for w in by_window})
    rank = {category: i for i, category in enumerate(current_categories())}
    agencies = dict(Agency.objects.values_list("id", "name"))
    services = dict(Service.objects.values_list("id", "name"))

    summaries: dict[TeamKey, TeamSummary] = {}
    for key, count in members.items():
        row = totals.get(key, {})
        per_category: dict[Category, int] = defaultdict(int)
        for window_id, ms in usage.get(key, {}).items():
            per_category[category_of[window_id]] += ms
        categorised = sum(per_category.values())
        # The rules' order, "Non classé" last (a rule deleted meanwhile: just before it).
        in_order = sorted(per_category.items(), key=lambda item: rank.get(item[0], len(rank) - 1))
        summaries[key] = TeamSummary(
            key=key,
            agency=agencies.get(key[0], "") if key[0] else "",
            service=services.get(key[1], "") if key[1] else "",
            employees=count,
            active_employees=row.get("active_employees") or 0,
            active_ms=row.get("week_ms") or 0,
            worked_days=row.get("worked_days") or 0,
            previous_active_ms=row.get("previous_ms") or 0,
            categories=[CategoryShare(c, ms, ms / categorised) for c, ms in in_order],
        )
    return summaries


def _team_order(team: TeamSummary) -> tuple[bool, str, bool, str]:
    # French order (fold), teams without an agency or a service last.
    return (not team.agency, fold(team.agency), not team.service, fold(team.service))


def report_for(user: User, week: Week, summaries: dict[TeamKey, TeamSummary]) -> WeeklyReport:
    """`user`'s teams among `summaries`: those of the employees they may see.

    A scope is a whole team or a whole agency, so the teams of the visible
    employees are exactly the manager's teams, each with all its members.
    """
    # order_by(): the model's ordering would add its columns to the DISTINCT.
    visible = Employee.objects.visible_to(user).order_by()
    keys = set(visible.values_list("agency_id", "service_id").distinct())
    teams = sorted((summaries[k] for k in keys if k in summaries), key=_team_order)
    return WeeklyReport(week=week, teams=teams, categories=current_categories())
