"""Reads for the dashboard pages: the employee list, the team overview and one employee's activity.

The employee list is a queryset (django-tables2 sorts and pages it in SQL, so
100,000 rows cost one COUNT and one LIMIT query); everything else returns
dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.org.models import Agency, Device, Employee, Service
from oxytrack.web.formatting import fold

# The pie shows this many titles (or apps), the rest summed as "Autres".
PIE_SLICES = 7
# A day of one employee rarely has more spans; the timeline stops there.
TIMELINE_MAX_SPANS = 5000


@dataclass(frozen=True)
class SearchCriteria:
    """The search form's fields; empty strings and None match everything."""

    name: str = ""
    ip: str = ""
    machine: str = ""
    agency: Agency | None = None
    service: Service | None = None


def _device_matches(condition: Q) -> Exists:
    return Exists(Device.objects.filter(condition, employee=OuterRef("pk")))


def _units_named(model: type[Agency] | type[Service], needle: str) -> list[int]:
    """The ids of the agencies (or services) whose folded name contains `needle` (folded).

    A few dozen rows: folded in Python, so "fort de france" finds "Fort-de-France"'s
    accents and case alike on both databases.
    """
    return [pk for pk, name in model.objects.values_list("pk", "name") if needle in fold(name)]


#: How the employee tables sort by name: French order (folded), then the raw name.
NAME_ORDER = ("sort_name", "display_name", "username")


def _other_todays(now: datetime) -> dict[str, date]:
    """The time zones in use whose date at `now` is not the server's, with that date.

    Usually none: then every employee's today is the server's.
    """
    default = timezone.localdate(now)
    zones = (
        Agency.objects.order_by()
        .values_list("time_zone", flat=True)
        .union(Device.objects.order_by().values_list("time_zone", flat=True))
    )
    dates = {}
    for name in sorted(zones):
        try:
            local = now.astimezone(ZoneInfo(name)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if local != default:
            dates[name] = local
    return dates


def employee_list(
    user: User, *, now: datetime, text: str = "", criteria: SearchCriteria | None = None
) -> QuerySet[Employee]:
    """The employees `user` may see, annotated for the home and search tables.

    "Today" is each employee's own: the local date in the time zone of their
    latest device (their agency's before any), as their spans' days are.
    `text` is the live filter: a substring of the name, login, agency or
    service ignoring case and accents ("frederic" finds "Frédéric"), or of a
    machine name or an IP (seen by the server or reported by the agent),
    ignoring case. Each row carries `local_zone`, the employee's time zone.
    Devices are prefetched for the page only.
    """
    devices = Device.objects.filter(employee=OuterRef("pk"))
    latest = devices.order_by(F("last_seen_at").desc(nulls_last=True))
    qs = (
        Employee.objects.visible_to(user)
        .select_related("agency", "service")
        .prefetch_related(Prefetch("devices", queryset=Device.objects.order_by("hostname")))
    )
    today: Any = timezone.localdate(now)
    other_todays = _other_todays(now)
    qs = qs.annotate(
        local_zone=Coalesce(
            Subquery(latest.values("time_zone")[:1]),
            F("agency__time_zone"),
            Value(settings.TIME_ZONE),
        )
    )
    if other_todays:
        qs = qs.annotate(
            local_today=Case(
                *(When(local_zone=zone, then=Value(day)) for zone, day in other_todays.items()),
                default=Value(today),
                output_field=DateField(),
            ),
        )
        today = OuterRef("local_today")
    today_total = DailyTotal.objects.filter(employee=OuterRef("pk"), day=today)
    qs = qs.annotate(
        last_seen=Subquery(latest.values("last_seen_at")[:1]),
        last_ip=Subquery(latest.values("last_ip")[:1]),
        first_hostname=Subquery(devices.order_by("hostname").values("hostname")[:1]),
        today_active=Coalesce(
            Subquery(today_total.values("active_ms")[:1]), Value(0), output_field=IntegerField()
        ),
        today_idle=Coalesce(
            Subquery(today_total.values("idle_ms")[:1]), Value(0), output_field=IntegerField()
        ),
    ).annotate(today_screen=F("today_active") + F("today_idle"))
    if text:
        needle = fold(text)
        qs = qs.filter(
            # search_name holds the domain too (DOMAIN\user), folded like the needle.
            Q(search_name__contains=needle)
            | Q(agency__in=_units_named(Agency, needle))
            | Q(service__in=_units_named(Service, needle))
            | _device_matches(
                Q(hostname__icontains=text)
                | Q(last_ip__icontains=text)
                | Q(local_ips__icontains=text)
            )
        )
    if criteria is not None:
        if criteria.name:
            qs = qs.filter(search_name__contains=fold(criteria.name))
        if criteria.machine:
            qs = qs.filter(_device_matches(Q(hostname__icontains=criteria.machine)))
        if criteria.ip:
            qs = qs.filter(
                _device_matches(
                    Q(last_ip__icontains=criteria.ip) | Q(local_ips__icontains=criteria.ip)
                )
            )
        if criteria.agency is not None:
            qs = qs.filter(agency=criteria.agency)
        if criteria.service is not None:
            qs = qs.filter(service=criteria.service)
    return qs.order_by(*NAME_ORDER)


# --- One employee --------------------------------------------------------------------


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


@dataclass
class Activity:
    """Everything the detail page shows for a date range."""

    start: date
    end: date
    active_ms: int = 0
    idle_ms: int = 0
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

    Reads only the daily rollups: four queries whatever the range.
    """
    totals = DailyTotal.objects.filter(employee=employee, day__range=(start, end))
    activity = Activity(start=start, end=end)
    by_day = {
        row["day"]: row for row in totals.values("day", "active_ms", "idle_ms", "keys", "clicks")
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
        day += timedelta(days=1)
    usage = DailyUsage.objects.filter(employee=employee, day__range=(start, end))
    titles = list(
        usage.values("window_id", "window__title")
        .annotate(active=Sum("active_ms"))
        .filter(active__gt=0)
        .order_by("-active", "window_id")[:PIE_SLICES]
    )
    activity.top_titles = _top(titles, "window__title", activity.active_ms)
    apps = list(
        usage.values("window__app")
        .annotate(active=Sum("active_ms"))
        .filter(active__gt=0)
        .order_by("-active", "window__app")[:PIE_SLICES]
    )
    activity.top_apps = _top(apps, "window__app", activity.active_ms)
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

    A values() queryset so the table sorts and pages it in SQL.
    """
    return (
        DailyUsage.objects.filter(employee=employee, day__range=(start, end))
        .values("window_id", "window__app", "window__title")
        .annotate(
            active=Sum("active_ms"),
            idle=Sum("idle_ms"),
            first_opened=Min("first_start"),
            last_closed=Max("last_end"),
        )
        .order_by("-active", "window_id")
    )


def timeline(employee: Employee, day: date) -> list[TimelineSpan]:
    """The spans of one local day, in order (raw spans: the only page that reads them)."""
    spans = (
        Span.objects.filter(employee=employee, day=day)
        .select_related("window")
        .order_by("start", "pk")[:TIMELINE_MAX_SPANS]
    )
    return [
        TimelineSpan(s.start, s.duration_ms, s.window.app, s.window.title, s.active) for s in spans
    ]


# --- Team overview -------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    """One (agency, service) group of visible employees over a date range.

    `agency_id`/`service_id` are None for employees without one (shown "—").
    `worked_days` counts (employee, day) pairs with active time: the average
    is per active employee per worked day.
    """

    agency_id: int | None
    agency: str
    service_id: int | None
    service: str
    employees: int
    active_employees: int
    active_ms: int
    screen_ms: int
    worked_days: int
    last_seen: datetime | None

    @property
    def average_ms(self) -> int:
        """Active time per active employee per worked day (0 with no worked day)."""
        return self.active_ms // self.worked_days if self.worked_days else 0


def team_rows(user: User, start: date, end: date, *, text: str = "") -> list[TeamRow]:
    """The (agency, service) groups with employees `user` may see, with their range totals.

    Two queries whatever the number of groups: the employees grouped (count,
    last device contact) and ONE aggregate of DailyTotal grouped the same way.
    `text` keeps the groups whose agency or service name contains it.
    """
    visible = Employee.objects.visible_to(user)
    groups = (
        visible.values("agency", "agency__name", "service", "service__name")
        .annotate(
            # distinct: the devices join repeats an employee once per machine.
            n=Count("pk", distinct=True),
            last_seen=Max("devices__last_seen_at"),
        )
        .order_by()
    )
    worked = Q(active_ms__gt=0)
    totals = {
        (t["employee__agency"], t["employee__service"]): t
        for t in DailyTotal.objects.filter(employee__in=visible, day__range=(start, end))
        .values("employee__agency", "employee__service")
        .annotate(
            active=Sum("active_ms"),
            idle=Sum("idle_ms"),
            active_employees=Count("employee", distinct=True, filter=worked),
            worked_days=Count("pk", filter=worked),
        )
        .order_by()
    }
    needle = fold(text)
    rows = []
    for g in groups:
        agency, service = g["agency__name"] or "—", g["service__name"] or "—"
        if needle and needle not in fold(agency) and needle not in fold(service):
            continue
        t = totals.get((g["agency"], g["service"]), {})
        active, idle = int(t.get("active") or 0), int(t.get("idle") or 0)
        rows.append(
            TeamRow(
                agency_id=g["agency"],
                agency=agency,
                service_id=g["service"],
                service=service,
                employees=g["n"],
                active_employees=int(t.get("active_employees") or 0),
                active_ms=active,
                screen_ms=active + idle,
                worked_days=int(t.get("worked_days") or 0),
                last_seen=g["last_seen"],
            )
        )
    rows.sort(key=lambda r: (fold(r.agency), fold(r.service), r.agency, r.service))
    return rows
