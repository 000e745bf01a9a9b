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
from oxytrack.activity.heatmap import employee_heatmap, heatmap_chart
from oxytrack.org.models import Employee
from oxytrack.web.activity import AppTable, CategoryTable, TitleTable
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


def group_of(request: HttpRequest) -> str:
    """`?group=`: title, app or category; anything else (a hostile value included) the default."""
    value = request.GET.get("group", "")
    return value if value in queries.GROUPS else queries.DEFAULT_GROUP


ActivityTable = TitleTable | AppTable | CategoryTable


def _table(
    request: HttpRequest,
    employee: Employee,
    start: date,
    end: date,
    *,
    group: str,
    total_active_ms: int,
    time_zone: str,
    url: str,
    rows: list[queries.GroupRow] | None = None,
) -> ActivityTable:
    text = filter_text(request)
    table: ActivityTable
    if group == "title":
        qs = queries.title_rows(employee, start, end)
        if text:
            qs = qs.filter(Q(window__title__icontains=text) | Q(window__app__icontains=text))
        table = TitleTable(qs, total_active_ms=total_active_ms, time_zone=time_zone)
    else:
        if rows is None:
            rows = (queries.app_rows if group == "app" else queries.category_rows)(
                employee, start, end
            )
        if text:
            # As the titles' filter does in SQL: case-insensitive, the raw names too.
            needle = text.casefold()
            rows = [
                r
                for r in rows
                if needle in r.label.casefold() or any(needle in a.casefold() for a in r.apps)
            ]
        table_class = AppTable if group == "app" else CategoryTable
        table = table_class(rows, total_active_ms=total_active_ms, time_zone=time_zone)
    configure(request, table, url=url)
    # Sorting, paging and filtering keep the range and the grouping.
    table.hidden = {"start": start.isoformat(), "end": end.isoformat(), "group": group}
    return table


def titles_table(
    request: HttpRequest, employee: Employee, start: date, end: date, *, url: str
) -> ActivityTable:
    """The range's time by title, app or category (`?group=`) as a table, sorted, paged
    and filtered from the request. The exports take it too, so they follow the grouping."""
    return _table(
        request,
        employee,
        start,
        end,
        group=group_of(request),
        total_active_ms=queries.active_total(employee, start, end),
        time_zone=queries.employee_time_zone(employee),
        url=url,
    )


def activity_context(
    request: HttpRequest, employee: Employee, form: RangeForm, today: date, urls: ActivityUrls
) -> dict[str, Any]:
    """The context of `oxytrack/_activity.html` for the form's range (if valid)."""
    # Their times are read on their clock (their days are theirs too: see Span.day).
    zone = queries.employee_time_zone(employee)
    group = group_of(request)

    def link(**extra: str) -> str:
        return "?" + urlencode({**extra, "group": group})

    context: dict[str, Any] = {
        "employee": employee,
        "employee_zone": zone,
        "form": form,
        "group": group,
        "activity_url": urls.activity,
        "detail_url": urls.page,
        "shortcuts": [
            (label, link(start=s.isoformat(), end=e.isoformat()))
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
    other = _("Autres")
    rows: list[queries.GroupRow] | None = None
    if group == "title":
        pie = [queries.PieSlice(s.label, s.active_ms) for s in activity.top_titles]
    else:
        rows = (queries.app_rows if group == "app" else queries.category_rows)(employee, start, end)
        pie = queries.group_slices(rows, activity.active_ms, keep_all=group == "category")
    table = _table(
        request,
        employee,
        start,
        end,
        group=group,
        total_active_ms=activity.active_ms,
        time_zone=zone,
        url=urls.titles,
        rows=rows,
    )
    range_query = {"start": start.isoformat(), "end": end.isoformat()}
    if form.cleaned_data["day"]:
        range_query["day"] = form.cleaned_data["day"].isoformat()
    query = urlencode({**range_query, "group": group})
    context.update(
        activity=activity,
        table=table,
        day=day,
        exports=[(label, f"{url}?{query}") for label, url in urls.exports],
        # Each choice keeps the range (and the frieze's day) it was drawn with.
        groups=[
            (value, label, "?" + urlencode({**range_query, "group": value}))
            for value, label in (
                ("title", _("Titres")),
                ("app", _("Applications")),
                ("category", _("Catégories")),
            )
        ],
        chart_data={
            # Plotly draws SVG text, out of reach of HTML's bidi isolation.
            "pie": [
                [
                    chart_label(s.label or other),
                    s.active_ms,
                    s.colour,
                    chart_label(s.detail),
                    not s.label,  # the "Autres" slice: greyed
                ]
                for s in pie
            ],
            "days": [[d.day.isoformat(), d.active_ms, d.idle_ms] for d in activity.days],
            # By category, the active part of each day's bar is stacked per category
            # (rules' order, "Non classé" last), idle time on top as it is otherwise:
            # [label, colour, ms per day, aligned on "days"].
            "day_categories": [
                [chart_label(c.category.label), c.category.colour, list(c.active_ms)]
                for c in queries.category_days(employee, start, end)
            ]
            if group == "category"
            else [],
            # Naive local wall-clock strings: plotly.js has no time zones. Each span's
            # row is its app (title), friendly app name (app) or category, with the
            # category's colour and place in the rules ("" and 0 otherwise).
            "timeline": [
                [
                    _wall_clock(s.start, zone),
                    _wall_clock(s.start + timedelta(milliseconds=s.duration_ms), zone),
                    chart_label(s.app),
                    chart_label(s.title),
                    s.active,
                    chart_label(s.label),
                    s.colour,
                    s.order,
                ]
                for s in queries.timeline(employee, day, group)
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
    # Part of the same page, so of the same audited view.
    context["heatmap"] = heatmap_chart(employee_heatmap(employee, start, end))
    return context
