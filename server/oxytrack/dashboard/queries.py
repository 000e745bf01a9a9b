"""Reads for the dashboard pages: the employee list and the team overview.

One employee's activity is read by `oxytrack.activity.queries` (the portal shows it too).

The employee list is a queryset (django-tables2 sorts and pages it in SQL, so
100,000 rows cost one COUNT and one LIMIT query); everything else returns
dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import (
    Case,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity import past_totals
from oxytrack.activity.models import DailyTotal
from oxytrack.org.models import Agency, Device, Employee, Service
from oxytrack.web.formatting import fold


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

    Three or four queries whatever the number of groups or days: the groups with
    their names and last device contact (grouped in SQL), the visible employees'
    groups (ids only), then their DailyTotal sums per employee from
    `past_totals.range_sums` (the past days' from a cache that database triggers
    keep exact, so a sort or a page change of a year's overview does not sum a
    year again). Summed per group here, so a transfer shows at once.
    `text` keeps the groups whose agency or service name contains it.
    """
    visible = Employee.objects.visible_to(user)
    needle = fold(text)
    groups: dict[tuple[int | None, int | None], dict[str, Any]] = {}
    for named in (
        visible.values("agency", "agency__name", "service", "service__name")
        .annotate(last_seen=Max("devices__last_seen_at"))
        .order_by()
    ):
        agency, service = named["agency__name"] or "—", named["service__name"] or "—"
        if needle and needle not in fold(agency) and needle not in fold(service):
            continue
        groups[(named["agency"], named["service"])] = {
            "agency": agency,
            "service": service,
            "members": [],
            "last_seen": named["last_seen"],
        }
    if groups:
        for pk, in_agency, in_service in visible.values_list("pk", "agency", "service").order_by():
            found = groups.get((in_agency, in_service))
            if found is not None:
                found["members"].append(pk)
    sums = past_totals.range_sums(start, end, visible) if groups else {}
    nothing = past_totals.Sums()
    rows = []
    for (agency_id, service_id), group in groups.items():
        members = [sums.get(pk, nothing) for pk in group["members"]]
        active = sum(m.active_ms for m in members)
        rows.append(
            TeamRow(
                agency_id=agency_id,
                agency=group["agency"],
                service_id=service_id,
                service=group["service"],
                employees=len(members),
                active_employees=sum(1 for m in members if m.active_ms > 0),
                active_ms=active,
                screen_ms=active + sum(m.idle_ms for m in members),
                worked_days=sum(m.worked_days for m in members),
                last_seen=group["last_seen"],
            )
        )
    rows.sort(key=lambda r: (fold(r.agency), fold(r.service), r.agency, r.service))
    return rows
