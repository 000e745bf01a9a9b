"""Reads of the team overview: which teams a manager may pick, the employees-by-days grid,
the team's totals, and the active time per category (per day, and per team).

Everything reads the daily rollups (DailyTotal, DailyUsage), whose `day` is already the
employee's own local day: a Fort-de-France employee's evening stays on their date, a
23 h or 25 h DST day is summed as it was lived. Employees are grouped by their current
agency and service, so a transferred employee's history follows them to the new team.

Query counts do not grow with the number of employees: the grid is sorted and paged in
SQL (one COUNT, one page), its cells are read for the page's employees only (one query),
the team's totals are one GROUP BY day, and the category charts come from two GROUP BYs
(per day, per team) by category in SQL: over the CategoryDay rollup for the past days,
over DailyUsage through the window map for the recent ones (categories/window_map.py).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from oxytrack.accounts.models import User
from oxytrack.activity import past_totals
from oxytrack.activity.days import MondayOf
from oxytrack.activity.heatmap import Heatmap, HourlySums, heatmap_of, hourly_sums
from oxytrack.activity.models import DailyTotal, DailyUsage
from oxytrack.categories.classify import Category, current_categories
from oxytrack.categories.revision import current_token
from oxytrack.categories.window_map import CategorySum, sum_by_category, sum_days_by_category
from oxytrack.org.models import Agency, Employee, Service
from oxytrack.web.formatting import fold

#: Up to this many days the grid has a column per day; beyond, one per ISO week
#: (a year of days is 365 columns no one can read).
MAX_DAY_COLUMNS = 31

#: The key of an absent agency or service in a team key ("a-s-": neither).
NONE = "-"


# --- Which team ------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamChoice:
    """A team a manager may pick: their whole scope, an agency, or an (agency, service).

    `key` is what the URL carries: "" (whole scope), "a3" (agency 3, all its
    services), "a3s2" (agency 3, service 2); "-" stands for "none" ("a-s-").
    """

    key: str
    label: str
    agency: int | None = None
    service: int | None = None
    # False for the whole scope and for an agency: no service filter.
    by_service: bool = False
    whole_scope: bool = False


def _part(pk: int | None) -> str:
    return NONE if pk is None else str(pk)


def team_key(agency: int | None, service: int | bool | None = False) -> str:
    """The key of an agency (`service` False) or of an (agency, service) group."""
    if service is False:
        return f"a{_part(agency)}"
    return f"a{_part(agency)}s{_part(service if service is not True else None)}"


def team_choices(user: User) -> list[TeamChoice]:
    """The teams `user` may pick, in French order: whole scope, then each agency followed
    by its services. Only groups with at least one visible employee (one query)."""
    groups = (
        Employee.objects.visible_to(user)
        .values_list("agency", "agency__name", "service", "service__name")
        .distinct()
        .order_by()
    )
    none = "—"
    agencies: dict[int | None, str] = {}
    services: dict[int | None, list[tuple[int | None, str]]] = defaultdict(list)
    for agency_id, agency_name, service_id, service_name in groups:
        agencies[agency_id] = agency_name or none
        services[agency_id].append((service_id, service_name or none))
    choices = [TeamChoice(key="", label=_("Tout mon périmètre"), whole_scope=True)]
    # Those without an agency or a service ("—") come after the named ones.
    for agency, agency_name in sorted(
        agencies.items(), key=lambda a: (a[0] is None, fold(a[1]), a[1])
    ):
        choices.append(TeamChoice(key=team_key(agency), label=agency_name, agency=agency))
        for service, service_name in sorted(
            services[agency], key=lambda s: (s[0] is None, fold(s[1]), s[1])
        ):
            choices.append(
                TeamChoice(
                    key=team_key(agency, service),
                    label=f"{agency_name} / {service_name}",
                    agency=agency,
                    service=service,
                    by_service=True,
                )
            )
    return choices


def find_team(choices: list[TeamChoice], key: str) -> TeamChoice | None:
    """The choice of `key`, or None when it is not one of `user`'s (the view's 404)."""
    return next((c for c in choices if c.key == key), None)


def team_employees(user: User, team: TeamChoice) -> QuerySet[Employee]:
    """The employees of `team` that `user` may see (always through visible_to)."""
    qs = Employee.objects.visible_to(user)
    if team.whole_scope:
        return qs
    qs = qs.filter(agency__isnull=True) if team.agency is None else qs.filter(agency=team.agency)
    if team.by_service:
        qs = (
            qs.filter(service__isnull=True)
            if team.service is None
            else qs.filter(service=team.service)
        )
    return qs


# --- Grid columns ----------------------------------------------------------------------


@dataclass(frozen=True)
class GridColumn:
    """A day of the range, or an ISO week of it (cut to the range) when the range is long."""

    key: str  # "d2026-03-16" or "w2026-12": a column name
    start: date
    end: date
    weekly: bool

    @property
    def weekend(self) -> bool:
        """A Saturday or a Sunday column (day columns only)."""
        return not self.weekly and self.start.weekday() >= 5


def grid_columns(start: date, end: date) -> list[GridColumn]:
    """One column per day up to MAX_DAY_COLUMNS days, else one per ISO week (Monday to
    Sunday, the first and last cut to the range)."""
    days = (end - start).days + 1
    if days <= MAX_DAY_COLUMNS:
        return [
            GridColumn(f"d{d.isoformat()}", d, d, weekly=False)
            for d in (start + timedelta(days=i) for i in range(days))
        ]
    columns = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        year, week, _weekday = monday.isocalendar()
        columns.append(
            GridColumn(
                f"w{year}-{week:02d}",
                max(monday, start),
                min(monday + timedelta(days=6), end),
                weekly=True,
            )
        )
        monday += timedelta(days=7)
    return columns


def _column_of(columns: list[GridColumn]) -> dict[date, str]:
    return {
        col.start + timedelta(days=i): col.key
        for col in columns
        for i in range((col.end - col.start).days + 1)
    }


# --- The grid --------------------------------------------------------------------------


def grid_employees(employees: QuerySet[Employee], start: date, end: date) -> QuerySet[Employee]:
    """`employees` annotated with their range's `total_ms`, `worked_days` (days with
    active time) and `average_ms` (per worked day, None without any), for a table that
    sorts and pages in SQL. Sorted by name by default."""
    in_range = DailyTotal.objects.filter(employee=OuterRef("pk"), day__range=(start, end))

    def summed(expression: Any) -> Coalesce:
        return Coalesce(
            Subquery(
                in_range.values("employee").annotate(v=expression).values("v")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
            output_field=IntegerField(),
        )

    return (
        employees.select_related("agency", "service")
        .annotate(
            total_ms=summed(Sum("active_ms")),
            worked_days=summed(Count("pk", filter=Q(active_ms__gt=0))),
        )
        .annotate(
            average_ms=ExpressionWrapper(
                F("total_ms") / NullIf(F("worked_days"), 0), output_field=IntegerField()
            )
        )
        .order_by("sort_name", "display_name", "username")
    )


def grid_cells(employee_ids: list[int], columns: list[GridColumn]) -> dict[tuple[int, str], int]:
    """Active milliseconds per (employee id, column key) for these employees (a page).

    A pair is present when the employee has a rollup in that column, even of 0 ms
    (screen on, nobody working): the page tells "0 h" from "no data". Weekly columns
    are summed by the database per (employee, Monday): a page of a year is some 2,600
    rows instead of 18,000 days.
    """
    if not employee_ids or not columns:
        return {}
    rows = DailyTotal.objects.filter(
        employee__in=employee_ids, day__range=(columns[0].start, columns[-1].end)
    )
    if columns[0].weekly:
        # Columns are ISO weeks cut to the range: the Monday of any day names its column.
        column_of = {col.start - timedelta(days=col.start.weekday()): col.key for col in columns}
        per_week = (
            rows.annotate(monday=MondayOf("day"))
            .values_list("employee", "monday")
            .annotate(active=Sum("active_ms"))
            .order_by()
        )
        return {(employee, column_of[monday]): int(ms) for employee, monday, ms in per_week}
    column_of = _column_of(columns)
    return {
        (employee, column_of[day]): active_ms
        for employee, day, active_ms in rows.values_list("employee", "day", "active_ms")
    }


@dataclass(frozen=True)
class TeamTotals:
    """The team's row of the grid: per column and over the range."""

    employees: int  # employees of the team (with or without data)
    active_ms: int
    worked_days: int  # (employee, day) pairs with active time
    columns: dict[str, int]  # column key -> active ms; absent: no data at all that column

    @property
    def average_ms(self) -> int | None:
        """Active time per worked day (each employee's days counted), None without any."""
        return self.active_ms // self.worked_days if self.worked_days else None


#: Per local day: the team's active ms and its (employee, day) pairs with active time.
DaySums = dict[date, tuple[int, int]]


def _day_sums(employees: QuerySet[Employee], start: date, end: date) -> DaySums:
    rows = (
        DailyTotal.objects.filter(employee__in=employees, day__range=(start, end))
        .values("day")
        .annotate(active=Sum("active_ms"), worked=Count("pk", filter=Q(active_ms__gt=0)))
        .order_by()
    )
    return {row["day"]: (int(row["active"] or 0), int(row["worked"])) for row in rows}


def _totals_from(count: int, days: DaySums, columns: list[GridColumn]) -> TeamTotals:
    column_of = _column_of(columns)
    per_column: dict[str, int] = defaultdict(int)
    active = worked = 0
    for day, (day_active, day_worked) in days.items():
        if day in column_of:
            per_column[column_of[day]] += day_active
            active += day_active
            worked += day_worked
    return TeamTotals(count, active, worked, dict(per_column))


def team_totals(employees: QuerySet[Employee], columns: list[GridColumn]) -> TeamTotals:
    """Totals of every employee of `employees` over `columns` (two queries)."""
    count = employees.count()
    if not columns:
        return TeamTotals(count, 0, 0, {})
    return _totals_from(count, _day_sums(employees, columns[0].start, columns[-1].end), columns)


# --- Categories ------------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySeries:
    """One category's active time per day of the range (a trace of the stacked bars)."""

    category: Category
    days: list[int]  # ms, one per day of the range


@dataclass(frozen=True)
class TeamShare:
    """One (agency, service) group's active time per category (a 100 % bar)."""

    agency: str
    service: str
    active_ms: int
    by_category: dict[Category, int]


@dataclass(frozen=True)
class CategoryCharts:
    """Both category charts: per day for the whole selection, and per team side by side."""

    days: list[date]
    series: list[CategorySeries]  # categories in their order, those with time only
    teams: list[TeamShare] = field(default_factory=list)


def _ordered(categories: set[Category]) -> list[Category]:
    # Rules' order, "Non classé" last (current_categories' order), then any category
    # a concurrent rule edit introduced between the two reads.
    order = {c: i for i, c in enumerate(current_categories())}
    return sorted(categories, key=lambda c: (order.get(c, len(order)), c.id is None, c.order))


#: Per team key (agency id, service id): active ms per category.
TeamCategories = dict[tuple[int | None, int | None], dict[Category, int]]


@dataclass(frozen=True)
class CategorySums:
    """Active time per category per day, and per (agency, service) group: what both
    category charts draw. Two over consecutive stretches of days add up (`+`)."""

    per_day: dict[Category, dict[date, int]] = field(default_factory=dict)
    per_team: TeamCategories = field(default_factory=dict)

    def __add__(self, other: CategorySums) -> CategorySums:
        per_day = {c: dict(days) for c, days in self.per_day.items()}
        for category, days in other.per_day.items():
            mine = per_day.setdefault(category, {})
            for day, ms in days.items():
                mine[day] = mine.get(day, 0) + ms
        per_team = {key: dict(by) for key, by in self.per_team.items()}
        for key, by_category in other.per_team.items():
            mine_team = per_team.setdefault(key, {})
            for category, ms in by_category.items():
                mine_team[category] = mine_team.get(category, 0) + ms
        return CategorySums(per_day, per_team)


def category_sums(
    employees: QuerySet[Employee], start: date, end: date, *, rollup: bool = False
) -> CategorySums:
    """Active time per category per day and per group over the range.

    Categories are the rules in force (a rule edited after the fact re-categorises the
    whole history), summed in SQL through the window map: over DailyUsage, or with
    `rollup` over its per (employee, day, category) rollup, CategoryDay (a few rows per
    employee and day instead of one per window; for the past days: a window uploaded
    since the map's last refresh is missing from it until the next).
    """

    # Two small GROUP BYs (per day, per team) rather than one per (team, day): a whole
    # organisation's year had 400,000 (agency, service, day, category) groups to read.
    def summed(group: dict[str, Any]) -> list[CategorySum]:
        if rollup:
            return sum_days_by_category(employees, start, end, group)
        usage = DailyUsage.objects.filter(employee__in=employees, day__range=(start, end))
        return sum_by_category(usage, group)

    per_day: dict[Category, dict[date, int]] = defaultdict(dict)
    for row in summed({"day": "day"}):
        per_day[row.category][row.group[0]] = row.active_ms
    per_team: TeamCategories = defaultdict(dict)
    for row in summed({"agency": "employee__agency", "service": "employee__service"}):
        per_team[(row.group[0], row.group[1])][row.category] = row.active_ms
    return CategorySums(dict(per_day), dict(per_team))


def charts_of(sums: CategorySums, start: date, end: date) -> CategoryCharts:
    """Both category charts of `sums`, which cover `start`..`end`."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    ordered = _ordered(set(sums.per_day))
    series = [CategorySeries(c, [sums.per_day[c].get(d, 0) for d in days]) for c in ordered]
    names = _group_names(set(sums.per_team))
    teams = [
        TeamShare(
            agency=names[key][0],
            service=names[key][1],
            active_ms=sum(by_category.values()),
            by_category={c: by_category[c] for c in ordered if c in by_category},
        )
        for key, by_category in sums.per_team.items()
    ]
    teams.sort(key=lambda t: (fold(t.agency), fold(t.service), t.agency, t.service))
    return CategoryCharts(days, series, teams)


def category_charts(employees: QuerySet[Employee], start: date, end: date) -> CategoryCharts:
    """Active time per category per day, and per (agency, service) group, over the range
    (category_sums, then charts_of)."""
    return charts_of(category_sums(employees, start, end), start, end)


def _group_names(
    keys: set[tuple[int | None, int | None]],
) -> dict[tuple[int | None, int | None], tuple[str, str]]:
    agencies = dict(
        Agency.objects.filter(pk__in={a for a, _s in keys if a}).values_list("pk", "name")
    )
    services = dict(
        Service.objects.filter(pk__in={s for _a, s in keys if s}).values_list("pk", "name")
    )
    return {
        (a, s): (agencies.get(a, "—") if a else "—", services.get(s, "—") if s else "—")
        for a, s in keys
    }


# --- The page's aggregate, cached ------------------------------------------------------

#: How long the sums of the range's recent days are kept: a sort or a page change of the
#: grid then reads only its page. Long enough for a manager's browsing, short enough that
#: today's ingest shows within minutes (the grid's own rows are always live).
SUMMARY_CACHE_SECONDS = 120


@dataclass(frozen=True)
class TeamSummary:
    """What a page of the overview shows beside its grid's rows: the same for every page."""

    totals: TeamTotals
    charts: CategoryCharts
    heatmap: Heatmap


@dataclass(frozen=True)
class _Sums:
    """Everything the summary adds up over a stretch of days; stretches add up."""

    days: DaySums
    categories: CategorySums
    hours: HourlySums

    def __add__(self, other: _Sums) -> _Sums:
        days = dict(self.days)
        for day, (active, worked) in other.days.items():
            mine = days.get(day, (0, 0))
            days[day] = (mine[0] + active, mine[1] + worked)
        return _Sums(days, self.categories + other.categories, self.hours + other.hours)


def _sums(employees: QuerySet[Employee], start: date, end: date, *, past: bool) -> _Sums:
    return _Sums(
        _day_sums(employees, start, end),
        # The past from the rollup; the recent days (a few thousand rows) from DailyUsage,
        # which also classifies the windows uploaded since the map's last refresh.
        category_sums(employees, start, end, rollup=past),
        hourly_sums(employees.values("pk"), start, end),
    )


def _cached_sums(
    employees: QuerySet[Employee], start: date, end: date, key: str, seconds: int, *, past: bool
) -> _Sums:
    sums = cache.get(key)
    if not isinstance(sums, _Sums):
        sums = _sums(employees, start, end, past=past)
        cache.set(key, sums, seconds)
    return sums


def team_members(employees: QuerySet[Employee]) -> tuple[int, str]:
    """How many `employees` there are, and a digest of who they are and in which group
    (with the groups' names): part of the key of anything cached about a team."""
    # Who is in the team, in which group and under which names: a transfer, a scope
    # change, a new employee or a renamed agency is a new key, with nothing to
    # invalidate.
    rows = list(
        employees.values_list(
            "pk", "agency_id", "service_id", "agency__name", "service__name"
        ).order_by("pk")
    )
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def team_summary(
    user: User, team: TeamChoice, columns: list[GridColumn], start: date, end: date
) -> TeamSummary:
    """The team's totals, category charts and heatmap over the range.

    The days up to `past_totals.last_past_day()` rarely change: their sums are kept an
    hour (past_totals.CACHE_SECONDS) under the token the database changes with any write
    to them, the team's members and the category rules' revision, so even a whole
    organisation over a year is summed once. The recent days are kept
    SUMMARY_CACHE_SECONDS. The finished summary is kept as long as its shortest part.
    A rule edit changes the revision token: it shows at once.
    """
    employees = team_employees(user, team)
    count, members = team_members(employees)
    rules = current_token()
    last_past = past_totals.last_past_day()
    live_start = max(start, last_past + timedelta(days=1))
    # Read before the sums: a write meanwhile then files them under an old token.
    token = str(past_totals.past_token()) if start <= last_past else "-"
    keys = [members, str(start), str(end), rules, token]
    finished_key = ":".join(["analytics:team-summary", *keys])
    summary = cache.get(finished_key)
    if isinstance(summary, TeamSummary):
        return summary
    parts = []
    if start <= last_past:
        past_end = min(end, last_past)
        key = ":".join(["analytics:team-past", members, str(start), str(past_end), rules, token])
        parts.append(
            _cached_sums(employees, start, past_end, key, past_totals.CACHE_SECONDS, past=True)
        )
    if live_start <= end:
        key = ":".join(["analytics:team-live", members, str(live_start), str(end), rules])
        parts.append(
            _cached_sums(employees, live_start, end, key, SUMMARY_CACHE_SECONDS, past=False)
        )
    sums = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    summary = TeamSummary(
        _totals_from(count, sums.days, columns) if columns else TeamTotals(count, 0, 0, {}),
        charts_of(sums.categories, start, end),
        heatmap_of(sums.hours, start, end),
    )
    seconds = SUMMARY_CACHE_SECONDS if live_start <= end else past_totals.CACHE_SECONDS
    cache.set(finished_key, summary, seconds)
    return summary
