"""Reads of the BI API: the employees a token's owner may see, and their time
summed by title, app, category, day or hour over a range.

Everything goes through `Employee.objects.visible_to(user)` with the owner's
scopes as they are now. Ranges read the rollups only (DailyUsage, DailyTotal,
HourlyTotal, CategoryDay), never raw spans. Each function returns rows in one stable
order (ties broken by an id), so limit/offset pages never skip or repeat.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Window
from oxytrack.categories.classify import window_categories
from oxytrack.categories.names import friendly_apps
from oxytrack.categories.window_map import sum_days_by_category
from oxytrack.org.models import Agency, Device, Employee, Service
from oxytrack.org.queries import org_choices_for
from oxytrack.web.formatting import fold


class By(enum.StrEnum):
    """The dimensions usage can be summed by."""

    TITLE = "title"
    APP = "app"
    CATEGORY = "category"
    DAY = "day"
    HOUR = "hour"


Unit = TypeVar("Unit", Agency, Service)


def _unit_in_scope(model: type[Unit], name: str, allowed: list[Unit]) -> Unit:
    """The agency (or service) called `name` if `allowed` holds it, else 404.

    Unknown and out of scope answer the same, as an employee does.
    """
    unit = model.objects.filter(name=name).first()
    if unit is None or unit not in allowed:
        raise Http404(_("Agence ou service introuvable."))
    return unit


# French order (folded name), then the raw name, then the row: a total order.
NAME_ORDER = ("sort_name", "display_name", "username", "pk")


def employees_for(
    user: User, *, agency: str = "", service: str = "", text: str = ""
) -> QuerySet[Employee]:
    """The employees `user` may see, in French name order, each with `local_zone`.

    `agency` and `service` are exact names (an unknown or out-of-scope one: 404);
    `text` is a part of the name, login, agency or service, case and accents
    ignored ("frederic" finds "Frédéric"). `local_zone` is the time zone of
    their days: their latest device's, else their agency's, else the server's.
    """
    choices = org_choices_for(user)
    qs = Employee.objects.visible_to(user).select_related("agency", "service")
    if agency:
        qs = qs.filter(agency=_unit_in_scope(Agency, agency, choices.agencies))
    if service:
        qs = qs.filter(service=_unit_in_scope(Service, service, choices.services))
    if text:
        needle = fold(text)
        qs = qs.filter(
            # search_name holds display name, login and DOMAIN\user, folded;
            # sort_name is the unit's name folded the same way.
            Q(search_name__contains=needle)
            | Q(agency__sort_name__contains=needle)
            | Q(service__sort_name__contains=needle)
        )
    latest = Device.objects.filter(employee=OuterRef("pk")).order_by(
        F("last_seen_at").desc(nulls_last=True)
    )
    qs = qs.annotate(
        local_zone=Coalesce(
            Subquery(latest.values("time_zone")[:1]),
            F("agency__time_zone"),
            Value(settings.TIME_ZONE),
        )
    )
    return qs.order_by(*NAME_ORDER)


def team_for(user: User, *, agency: str = "", service: str = "") -> QuerySet[Employee]:
    """The employees of a team: an agency and/or a service within `user`'s
    scopes, or without either the whole scope (404 for an out-of-scope unit)."""
    choices = org_choices_for(user)
    qs = Employee.objects.visible_to(user)
    if agency:
        qs = qs.filter(agency=_unit_in_scope(Agency, agency, choices.agencies))
    if service:
        qs = qs.filter(service=_unit_in_scope(Service, service, choices.services))
    return qs


@dataclass(frozen=True)
class Usage:
    """The rows of one page and how many there are in all."""

    count: int
    rows: list[dict[str, Any]]


def _who(employees: Employee | QuerySet[Employee]) -> Q:
    # One employee: filter on its id first (the rollups' indexes start with it).
    if isinstance(employees, Employee):
        return Q(employee=employees)
    return Q(employee__in=employees.values("pk"))


def _title_rows(who: Q, start: date, end: date, limit: int, offset: int) -> Usage:
    # One aggregation by window id, without the join to Window, sorted here:
    # counting and paging in SQL ran the grouped join twice (17 s for 105
    # employees over a year on SQLite, against 5 s so); only the page's windows
    # are then read.
    per_window = list(
        DailyUsage.objects.filter(who, day__range=(start, end))
        .values("window_id")
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"))
        .order_by()
    )
    per_window.sort(key=lambda r: (-r["active"], -r["idle"], r["window_id"]))
    page = per_window[offset : offset + limit]
    ids = [r["window_id"] for r in page]
    windows = Window.objects.in_bulk(ids)
    categories = window_categories(ids)
    names = friendly_apps()
    return Usage(
        len(per_window),
        [
            {
                "title": windows[r["window_id"]].title,
                "app": names.get(windows[r["window_id"]].app, windows[r["window_id"]].app),
                "app_raw": [windows[r["window_id"]].app],
                "category": categories[r["window_id"]].label,
                "active_ms": int(r["active"]),
                "idle_ms": int(r["idle"]),
            }
            for r in page
        ],
    )


def _app_rows(who: Q, start: date, end: date, limit: int, offset: int) -> Usage:
    # Grouped by the friendly name: "WINWORD.EXE" and "winword" are one "Word".
    raw = (
        DailyUsage.objects.filter(who, day__range=(start, end))
        .values("window__app")
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"))
        .order_by()
    )
    names = friendly_apps()
    merged: dict[str, dict[str, Any]] = {}
    for r in raw:
        app = r["window__app"]
        name = names.get(app, app)
        row = merged.setdefault(name, {"app": name, "app_raw": [], "active_ms": 0, "idle_ms": 0})
        row["app_raw"].append(app)
        row["active_ms"] += int(r["active"])
        row["idle_ms"] += int(r["idle"])
    rows = sorted(
        merged.values(), key=lambda r: (-r["active_ms"], -r["idle_ms"], fold(r["app"]), r["app"])
    )
    for row in rows:
        row["app_raw"].sort()
    return Usage(len(rows), rows[offset : offset + limit])


def _category_rows(
    employees: QuerySet[Employee], start: date, end: date, limit: int, offset: int
) -> Usage:
    # Read time: the rules as they are now categorise the whole range, read from the
    # per-(employee, day, category) rollup: a few rows per employee and day, not ~20.
    totals = {
        row.category: (row.active_ms, row.idle_ms)
        for row in sum_days_by_category(employees, start, end, {}, idle=True)
    }
    rows = [
        {"category": c.label, "colour": c.colour, "active_ms": a, "idle_ms": i}
        for c, (a, i) in sorted(totals.items(), key=lambda item: (item[0].order, item[0].id or 0))
    ]
    return Usage(len(rows), rows[offset : offset + limit])


def _day_rows(who: Q, start: date, end: date, limit: int, offset: int) -> Usage:
    totals = {
        r["day"]: r
        for r in DailyTotal.objects.filter(who, day__range=(start, end))
        .values("day")
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"))
        .order_by()
    }
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    rows = []
    for day in days[offset : offset + limit]:
        row = totals.get(day)
        active, idle = (int(row["active"]), int(row["idle"])) if row else (0, 0)
        rows.append({"day": day, "active_ms": active, "idle_ms": idle})
    return Usage(len(days), rows)


def _hour_rows(who: Q, start: date, end: date, limit: int, offset: int) -> Usage:
    # One grouped query (at most 24 rows a day), sliced here: counting and paging in
    # SQL grouped the range twice (2 x 2 s for a whole organisation over a year).
    hours = list(
        HourlyTotal.objects.filter(who, day__range=(start, end))
        .values("day", "hour")
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"))
        .order_by("day", "hour")
    )
    return Usage(
        len(hours),
        [
            {
                "day": r["day"],
                "hour": r["hour"],
                "active_ms": int(r["active"]),
                "idle_ms": int(r["idle"]),
            }
            for r in hours[offset : offset + limit]
        ],
    )


#: The dimensions summed per window (DailyUsage), the costly ones for a large team.
PER_WINDOW = frozenset({By.TITLE, By.APP})

_READS = {
    By.TITLE: _title_rows,
    By.APP: _app_rows,
    By.DAY: _day_rows,
    By.HOUR: _hour_rows,
}


def usage(
    employees: Employee | QuerySet[Employee],
    start: date,
    end: date,
    by: By,
    *,
    limit: int,
    offset: int,
) -> Usage:
    """Active and idle milliseconds of `employees` from `start` to `end` (inclusive), by `by`.

    - title: one row per (app, title), most active first, with its app's
      friendly name and its category;
    - app: one row per friendly app name (the raw names behind it listed), most active first;
    - category: one row per category with time, in the rules' order, "Non classé" last;
    - day: every day of the range, in order, zero when nothing was recorded;
    - hour: each (local day, local hour) with time recorded, in order.
    """
    if by == By.CATEGORY:
        team = (
            Employee.objects.filter(pk=employees.pk)
            if isinstance(employees, Employee)
            else employees
        )
        return _category_rows(team, start, end, limit, offset)
    return _READS[by](_who(employees), start, end, limit, offset)


def employees_with_time(team: QuerySet[Employee], start: date, end: date) -> list[str]:
    """Public ids of the team's employees with any time recorded in the range (for the audit)."""
    ids = (
        DailyTotal.objects.filter(_who(team), day__range=(start, end))
        .values_list("employee__public_id", flat=True)
        .distinct()
        .order_by("employee__public_id")
    )
    return [str(public_id) for public_id in ids]
