"""Reads of one employee's activity: what the managers' detail page and the employee
portal both show (the same figures, from the same functions), and their exports.

Ranges read the daily rollups only; one day's timeline reads the raw spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Max, Min, OuterRef, QuerySet, Subquery, Sum

from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.categories.classify import UNCATEGORISED, Category, window_categories
from oxytrack.categories.names import friendly_apps
from oxytrack.org.models import Device, Employee

# The pie shows this many titles (or apps), the rest summed as "Autres".
PIE_SLICES = 7
# A day of one employee rarely has more spans; the timeline stops there.
TIMELINE_MAX_SPANS = 5000


@dataclass(frozen=True)
class DeviceInfo:
    hostname: str
    os: str
    agent_version: str
    time_zone: str
    last_ip: str | None
    local_ips: list[str]
    last_seen_at: datetime | None
    enrolled_at: datetime
    revoked: bool


def employee_time_zone(employee: Employee) -> str:
    """The employee's time zone: their latest device's, else their agency's, else the server's.

    The same choice as `employee_list`'s `local_zone` (and as their spans' days).
    """
    latest = (
        Device.objects.filter(employee=employee)
        .order_by(F("last_seen_at").desc(nulls_last=True))
        .values_list("time_zone", flat=True)
        .first()
    )
    if latest:
        return latest
    if employee.agency is not None:
        return employee.agency.time_zone
    return str(settings.TIME_ZONE)


def employee_devices(employee: Employee) -> list[DeviceInfo]:
    """The employee's machines, newest contact first."""
    return [
        DeviceInfo(
            hostname=d.hostname,
            os=d.os,
            agent_version=d.agent_version,
            time_zone=d.time_zone,
            last_ip=d.last_ip,
            local_ips=[str(ip) for ip in (d.local_ips or [])],
            last_seen_at=d.last_seen_at,
            enrolled_at=d.enrolled_at,
            revoked=d.revoked_at is not None,
        )
        for d in Device.objects.filter(employee=employee).order_by(
            F("last_seen_at").desc(nulls_last=True), "hostname"
        )
    ]


@dataclass(frozen=True)
class Slice:
    label: str
    active_ms: int


@dataclass(frozen=True)
class DayBar:
    day: date
    active_ms: int
    idle_ms: int


@dataclass(frozen=True)
class TimelineSpan:
    start: datetime
    duration_ms: int
    app: str
    title: str
    active: bool
    #: The timeline's row (see `timeline`): the raw app, its friendly name or its category.
    label: str = ""
    #: A category's "#rrggbb"; "" lets the chart pick from its palette.
    colour: str = ""
    #: A category's place in the rules (rows in that order); 0 otherwise.
    order: int = 0


@dataclass
class Activity:
    """Everything the detail page shows for a date range."""

    start: date
    end: date
    active_ms: int = 0
    idle_ms: int = 0
    #: Private pauses: neither active nor idle, not part of screen time.
    untracked_ms: int = 0
    keys: int = 0
    clicks: int = 0
    days: list[DayBar] = field(default_factory=list)
    top_titles: list[Slice] = field(default_factory=list)
    top_apps: list[Slice] = field(default_factory=list)

    @property
    def screen_ms(self) -> int:
        return self.active_ms + self.idle_ms


def _top(rows: list[dict[str, Any]], label: str, total: int) -> list[Slice]:
    """The PIE_SLICES biggest rows plus one "other" slice (label "") for the rest."""
    slices = [Slice(str(r[label]), int(r["active"] or 0)) for r in rows[:PIE_SLICES]]
    rest = total - sum(s.active_ms for s in slices)
    if rest > 0:
        slices.append(Slice("", rest))
    return slices


def employee_activity(employee: Employee, start: date, end: date) -> Activity:
    """Totals, per-day bars and the top titles and apps between `start` and `end` (inclusive).

    Reads only the daily rollups: three queries whatever the range.
    """
    totals = DailyTotal.objects.filter(employee=employee, day__range=(start, end))
    activity = Activity(start=start, end=end)
    by_day = {
        row["day"]: row
        for row in totals.values("day", "active_ms", "idle_ms", "keys", "clicks", "untracked_ms")
    }
    day = start
    while day <= end:
        row = by_day.get(day)
        bar = DayBar(day, int(row["active_ms"]) if row else 0, int(row["idle_ms"]) if row else 0)
        activity.days.append(bar)
        activity.active_ms += bar.active_ms
        activity.idle_ms += bar.idle_ms
        if row:
            activity.keys += int(row["keys"])
            activity.clicks += int(row["clicks"])
            activity.untracked_ms += int(row["untracked_ms"])
        day += timedelta(days=1)
    # One aggregate per window, its app read per window after grouping (see
    # _window_field); titles and apps are summed from it, the titles read for the
    # top few only.
    per_window = list(
        DailyUsage.objects.filter(employee=employee, day__range=(start, end))
        .values("window_id")
        .annotate(active=Sum("active_ms"))
        .filter(active__gt=0)
        .annotate(app=_window_field("app"))
        .order_by("-active", "window_id")
    )
    top = per_window[:PIE_SLICES]
    titles = dict(
        Window.objects.filter(pk__in=[r["window_id"] for r in top]).values_list("pk", "title")
    )
    activity.top_titles = _top(
        [{"label": titles[r["window_id"]], "active": r["active"]} for r in top],
        "label",
        activity.active_ms,
    )
    by_app: dict[str, int] = {}
    for window in per_window:
        by_app[window["app"]] = by_app.get(window["app"], 0) + int(window["active"])
    apps = sorted(by_app.items(), key=lambda item: (-item[1], item[0]))
    activity.top_apps = _top(
        [{"label": app, "active": active} for app, active in apps], "label", activity.active_ms
    )
    return activity


def last_active_day(employee: Employee, start: date, end: date) -> date | None:
    """The last day between `start` and `end` with any recorded time."""
    result = DailyTotal.objects.filter(employee=employee, day__range=(start, end)).aggregate(
        last=Max("day")
    )
    return result["last"]


def active_total(employee: Employee, start: date, end: date) -> int:
    """Active milliseconds over the range (the titles table's 100 %)."""
    result = DailyTotal.objects.filter(employee=employee, day__range=(start, end)).aggregate(
        total=Sum("active_ms", default=0)
    )
    return int(result["total"])


def title_rows(employee: Employee, start: date, end: date) -> QuerySet[Any]:
    """One row per (app, title) over the range: active and idle time, first opened.

    A values() queryset so the table sorts and pages it in SQL; its rows' keys
    `window__app` and `window__title` are read per window after grouping (a filter
    on them, as the table's, reads them per DailyUsage row of the range).
    """
    return (
        DailyUsage.objects.filter(employee=employee, day__range=(start, end))
        .values("window_id")
        .annotate(
            active=Sum("active_ms"),
            idle=Sum("idle_ms"),
            first_opened=Min("first_start"),
            last_closed=Max("last_end"),
        )
        .annotate(window__app=_window_field("app"), window__title=_window_field("title"))
        .order_by("-active", "window_id")
    )


def _window_field(name: str) -> Subquery:
    """A Window column for the `window_id` of a grouped DailyUsage query.

    A join grouped by the window's columns made PostgreSQL hash the whole Window
    table (every title of every employee: 100,000 rows at 1,700 employees) for the
    few hundred windows of one employee's year; this subquery runs once per group
    through the primary key.
    """
    return Subquery(Window.objects.filter(pk=OuterRef("window_id")).values(name)[:1])


def timeline(employee: Employee, day: date, group: str = "title") -> list[TimelineSpan]:
    """The spans of one local day, in order (raw spans: the only page that reads them).

    Each span's `label` is its row on the chart, by `group` (see GROUPS): the raw app
    name for titles, the app's friendly name for apps, its window's category (by
    today's rules, as category_rows) for categories.
    """
    spans = list(
        # A private pause is no window's time: the timeline leaves it blank.
        Span.objects.filter(employee=employee, day=day, tracked=True)
        .select_related("window")
        .order_by("start", "pk")[:TIMELINE_MAX_SPANS]
    )
    categories = window_categories({s.window_id for s in spans}) if group == "category" else {}
    names = friendly_apps() if group == "app" else {}
    result = []
    for s in spans:
        app = s.window.app
        label, colour, order = app, "", 0
        if group == "category":
            category = categories.get(s.window_id, UNCATEGORISED)
            label, colour, order = category.label, category.colour, category.order
        elif group == "app":
            label = names.get(app, app)
        result.append(
            TimelineSpan(
                s.start, s.duration_ms, app, s.window.title, s.active, label, colour, order
            )
        )
    return result


# --- Titles, apps or categories -----------------------------------------------------------

#: What the pie and the table group the range's time by (`?group=`).
GROUPS = ("title", "app", "category")
DEFAULT_GROUP = "title"


@dataclass(frozen=True)
class GroupRow:
    """One application (by friendly name) or one category over a range."""

    label: str
    #: The raw app names behind the row (an app's several executables), for hover texts.
    apps: tuple[str, ...]
    #: A category's "#rrggbb"; "" for an app.
    colour: str
    active: int
    idle: int
    first_opened: datetime
    #: A category's place in the rules (UNCATEGORISED last); 0 for an app.
    order: int = 0


def _usage(employee: Employee, start: date, end: date, key: str) -> QuerySet[Any]:
    return (
        DailyUsage.objects.filter(employee=employee, day__range=(start, end))
        .values(key)
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"), first_opened=Min("first_start"))
        .order_by()
    )


def _by_active(rows: list[GroupRow]) -> list[GroupRow]:
    return sorted(rows, key=lambda r: (-r.active, r.order, r.label))


def app_rows(employee: Employee, start: date, end: date) -> list[GroupRow]:
    """One row per application over the range, several executables of one friendly name
    ("WINWORD.EXE" and "winword.exe": "Word") summed into one.

    A list, not a queryset: friendly names are not in SQL, and one employee's range
    has tens of apps, not thousands.
    """
    names = friendly_apps()  # once: each lookup would check the names' revision
    # Grouped by window first, then each window's app by primary key: grouping by
    # window__app joins Window before aggregating (PostgreSQL then reads the whole
    # Window table for a long range, as title_rows did).
    rows = list(_usage(employee, start, end, "window_id"))
    app_of = dict(
        Window.objects.filter(pk__in=[r["window_id"] for r in rows]).values_list("pk", "app")
    )
    groups: dict[str, list[Any]] = {}
    for row in rows:
        app = str(app_of.get(row["window_id"], ""))
        acc = groups.setdefault(names.get(app, app), [set(), 0, 0, row["first_opened"]])
        acc[0].add(app)
        acc[1] += int(row["active"] or 0)
        acc[2] += int(row["idle"] or 0)
        acc[3] = min(acc[3], row["first_opened"])
    return _by_active(
        [
            GroupRow(label, tuple(sorted(apps)), "", active, idle, first)
            for label, (apps, active, idle, first) in groups.items()
        ]
    )


def category_rows(employee: Employee, start: date, end: date) -> list[GroupRow]:
    """One row per category over the range, by today's rules (a rule edited since
    re-categorises the past: categories are applied at read time)."""
    rows = list(_usage(employee, start, end, "window_id"))
    categories = window_categories(r["window_id"] for r in rows)
    groups: dict[int | None, list[Any]] = {}
    for row in rows:
        category = categories.get(row["window_id"], UNCATEGORISED)
        acc = groups.setdefault(category.id, [category, 0, 0, row["first_opened"]])
        acc[1] += int(row["active"] or 0)
        acc[2] += int(row["idle"] or 0)
        acc[3] = min(acc[3], row["first_opened"])
    return _by_active(
        [
            GroupRow(c.label, (), c.colour, active, idle, first, c.order)
            for c, active, idle, first in groups.values()
        ]
    )


@dataclass(frozen=True)
class CategoryDays:
    """One category's active time on each day of a range (the per-day bars by category)."""

    category: Category
    #: Milliseconds per day, from the range's first day to its last.
    active_ms: tuple[int, ...]


def category_days(employee: Employee, start: date, end: date) -> list[CategoryDays]:
    """Active time per category and day between `start` and `end` (inclusive), by today's
    rules; in the rules' order, "Non classé" last; categories with no time left out.

    DailyUsage has one row per (employee, day, window): its rows are already grouped
    by (day, window), and are categorised in Python with the same cache as
    category_rows, so the bars add up to the table's categories. A year of one
    employee (14,600 rows, 600 windows) took 150-250 ms on SQLite, the window map's
    SQL sum (window_map.py) 130-145 ms once up to date; but the map brings itself up
    to date first: a write after each upload with new windows, and a rebuild of the
    whole organisation's windows after a rule edit, on a page that only reads.
    """
    rows = list(
        DailyUsage.objects.filter(
            employee=employee, day__range=(start, end), active_ms__gt=0
        ).values_list("day", "window_id", "active_ms")
    )
    categories = window_categories({window for _day, window, _ms in rows})
    length = (end - start).days + 1
    sums: dict[Category, list[int]] = {}
    for day, window, ms in rows:
        category = categories.get(window, UNCATEGORISED)
        sums.setdefault(category, [0] * length)[(day - start).days] += int(ms)
    return [
        CategoryDays(category, tuple(days))
        for category, days in sorted(
            sums.items(), key=lambda item: (item[0].order, item[0].id or 0)
        )
    ]


@dataclass(frozen=True)
class PieSlice:
    label: str
    active_ms: int
    #: "" lets the chart pick from its palette.
    colour: str = ""
    #: The hover text's extra line (an app's raw names).
    detail: str = ""


def group_slices(rows: list[GroupRow], total_ms: int, *, keep_all: bool) -> list[PieSlice]:
    """The pie of grouped rows: the PIE_SLICES biggest plus "other" (label ""), or every
    row with time when `keep_all` (a category is never lumped with others)."""
    shown = [r for r in rows if r.active > 0]
    if not keep_all:
        shown = shown[:PIE_SLICES]
    slices = [PieSlice(r.label, r.active, r.colour, ", ".join(r.apps)) for r in shown]
    rest = total_ms - sum(s.active_ms for s in slices)
    if rest > 0 and not keep_all:
        slices.append(PieSlice("", rest))
    return slices
