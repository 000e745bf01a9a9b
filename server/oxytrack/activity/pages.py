"""The part of a page that shows one employee's activity over a date range: totals, pie,
per-day bars, titles table, day timeline. The managers' detail page and the employee
portal both render it from here, so the employee sees exactly what their managers see.

Callers check access and write their own audit entries (a manager's view is audited,
the employee's own is not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from oxytrack.activity import queries
from oxytrack.org.models import Employee
from oxytrack.web.activity import TitleTable
from oxytrack.web.formatting import chart_label, zone_of
from oxytrack.web.forms import RangeForm, shortcuts
from oxytrack.web.tables import configure, filter_text


@dataclass(frozen=True)
class ActivityUrls:
    """Where the activity part's links and htmx requests go (no query string)."""

    page: str  # the whole page: the range form's action and the shortcuts' links
    activity: str  # the activity part alone (htmx)
    titles: str  # the titles table alone (htmx)
    exports: tuple[tuple[str, str], ...]  # (label, URL) of each download


def range_form(request: HttpRequest, today: date) -> RangeForm:
    """The range from the query string; last 7 days when none is given."""
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):
        data["start"] = (today - timedelta(days=6)).isoformat()
        data["end"] = today.isoformat()
    return RangeForm(data)


def _wall_clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(zone_of(zone)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def titles_table(
    request: HttpRequest, employee: Employee, start: date, end: date, *, url: str
) -> TitleTable:
    """The titles of the range as a table, sorted, paged and filtered from the request."""
    qs = queries.title_rows(employee, start, end)
    text = filter_text(request)
    if text:
        qs = qs.filter(Q(window__title__icontains=text) | Q(window__app__icontains=text))
    table = TitleTable(
        qs,
        total_active_ms=queries.active_total(employee, start, end),
        time_zone=queries.employee_time_zone(employee),
    )
    configure(request, table, url=url)
    table.hidden = {"start": start.isoformat(), "end": end.isoformat()}
    return table


def activity_context(
    request: HttpRequest, employee: Employee, form: RangeForm, today: date, urls: ActivityUrls
) -> dict[str, Any]:
    """The context of `oxytrack/_activity.html` for the form's range (if valid)."""
    # Their times are read on their clock (their days are theirs too: see Span.day).
    zone = queries.employee_time_zone(employee)
    context: dict[str, Any] = {
        "employee": employee,
        "employee_zone": zone,
        "form": form,
        "activity_url": urls.activity,
        "detail_url": urls.page,
        "shortcuts": [
            (label, f"?{urlencode({'start': s.isoformat(), 'end': e.isoformat()})}")
            for label, s, e in shortcuts(today)
        ],
    }
    if not form.is_valid():
        return context
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    # No day asked: the last day of the range that has activity (a weekend's
    # empty frieze says nothing).
    day = form.cleaned_data["day"] or queries.last_active_day(employee, start, end) or end
    activity = queries.employee_activity(employee, start, end)
    table = TitleTable(
        queries.title_rows(employee, start, end),
        total_active_ms=activity.active_ms,
        time_zone=zone,
    )
    configure(request, table, url=urls.titles)
    table.hidden = {"start": start.isoformat(), "end": end.isoformat()}
    other = _("Autres")
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    context.update(
        activity=activity,
        table=table,
        day=day,
        exports=[(label, f"{url}?{query}") for label, url in urls.exports],
        chart_data={
            # Plotly draws SVG text, out of reach of HTML's bidi isolation.
            "titles": [[chart_label(s.label or other), s.active_ms] for s in activity.top_titles],
            "apps": [[chart_label(s.label or other), s.active_ms] for s in activity.top_apps],
            "days": [[d.day.isoformat(), d.active_ms, d.idle_ms] for d in activity.days],
            # Naive local wall-clock strings: plotly.js has no time zones.
            "timeline": [
                [
                    _wall_clock(s.start, zone),
                    _wall_clock(s.start + timedelta(milliseconds=s.duration_ms), zone),
                    chart_label(s.app),
                    chart_label(s.title),
                    s.active,
                ]
                for s in queries.timeline(employee, day)
            ],
            "labels": {
                # Named on the axis only when it is not the reader's own zone.
                "zone": ""
                if zone == str(timezone.get_current_timezone())
                else _("heure de %(zone)s") % {"zone": zone},
                "active": _("Actif"),
                "idle": _("Inactif"),
                "hours": _("heures"),
                "idle_span": _("inactif"),
                "empty": _("Aucune activité sur cette période"),
                "empty_day": _("Aucune activité ce jour-là"),
            },
        },
    )
    return context
