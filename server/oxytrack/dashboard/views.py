"""The managers' pages: home, search, team overview, one employee's detail. Views stay thin:
parse input, call one query, render."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import current_user
from oxytrack.audit.actions import do_record_export, do_record_view
from oxytrack.audit.request import client_ip
from oxytrack.dashboard import queries
from oxytrack.dashboard.forms import SearchForm
from oxytrack.dashboard.tables import EmployeeTable, TeamTable, TitleTable
from oxytrack.org.models import Employee
from oxytrack.org.queries import get_employee_for
from oxytrack.web.formatting import chart_label, zone_of
from oxytrack.web.forms import RangeForm, TeamRangeForm, shortcuts
from oxytrack.web.tables import configure, filter_text, wants_table_only


def _employee_table(request: HttpRequest, qs: Any) -> EmployeeTable:
    silent_before = timezone.now() - timedelta(hours=settings.OXYTRACK_SILENT_AFTER_HOURS)
    table = EmployeeTable(qs, silent_before=silent_before)
    return configure(request, table, url=request.path)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The employees of my scopes with today's times; the table reloads alone via htmx."""
    user = current_user(request)
    qs = queries.employee_list(user, now=timezone.now(), text=request.GET.get("q", ""))
    table = _employee_table(request, qs)
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "dashboard/home.html", {"table": table})


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Search by name, IP, machine, agency, service; results in the home table."""
    user = current_user(request)
    form = SearchForm(request.GET or None, user=user)
    criteria = form.criteria() if form.is_bound and form.is_valid() else None
    qs: QuerySet[Employee]
    if form.is_bound and not form.is_valid():
        qs = Employee.objects.none()
    else:
        qs = queries.employee_list(
            user,
            now=timezone.now(),
            text=request.GET.get("q", ""),
            criteria=criteria,
        )
    table = _employee_table(request, qs)
    table.include = "#search-form"
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "dashboard/search.html", {"form": form, "table": table})


def _range_form(
    request: HttpRequest, today: date, form_class: type[RangeForm] = RangeForm
) -> RangeForm:
    """The range from the query string; last 7 days when none is given."""
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):
        data["start"] = (today - timedelta(days=6)).isoformat()
        data["end"] = today.isoformat()
    return form_class(data)


@require_GET
@login_required
def team(request: HttpRequest) -> HttpResponse:
    """One row per (agency, service) of my scopes: head counts and times over a range."""
    user = current_user(request)
    today = timezone.localdate()
    form = _range_form(request, today, TeamRangeForm)
    rows: list[queries.TeamRow] = []
    hidden: dict[str, str] = {}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        rows = queries.team_rows(user, start, end, text=filter_text(request))
        # Sorting, paging and filtering keep the range.
        hidden = {"start": start.isoformat(), "end": end.isoformat()}
    table = configure(request, TeamTable(rows), url=request.path)
    table.hidden = hidden
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    context = {
        "form": form,
        "table": table,
        "shortcuts": [
            (label, f"?{urlencode({'start': s.isoformat(), 'end': e.isoformat()})}")
            for label, s, e in shortcuts(today)
        ],
    }
    return render(request, "dashboard/team.html", context)


def _wall_clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(zone_of(zone)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _activity_context(
    request: HttpRequest, employee: Employee, form: RangeForm, today: date
) -> dict[str, Any]:
    """The context of the part of the detail page that follows the date range."""
    base = reverse("dashboard:employee", args=[employee.public_id])
    # Their times are read on their clock (their days are theirs too: see Span.day).
    zone = queries.employee_time_zone(employee)
    activity_url = reverse("dashboard:employee_activity", args=[employee.public_id])
    context: dict[str, Any] = {
        "employee": employee,
        "employee_zone": zone,
        "form": form,
        "activity_url": activity_url,
        "detail_url": base,
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
    configure(
        request,
        table,
        url=reverse("dashboard:employee_titles", args=[employee.public_id]),
    )
    table.hidden = {"start": start.isoformat(), "end": end.isoformat()}
    other = _("Autres")
    context.update(
        activity=activity,
        table=table,
        day=day,
        export_url=reverse("dashboard:employee_export", args=[employee.public_id])
        + f"?{urlencode({'start': start.isoformat(), 'end': end.isoformat()})}",
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
    do_record_view(employee, start, end, actor=current_user(request), ip=client_ip(request))
    return context


@require_GET
@login_required
def employee_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """Identity, devices, and the activity of the chosen range (an audited view)."""
    employee = get_employee_for(current_user(request), public_id)
    today = timezone.localdate()
    form = _range_form(request, today)
    context = _activity_context(request, employee, form, today)
    context["devices"] = queries.employee_devices(employee)
    return render(request, "dashboard/employee.html", context)


@require_GET
@login_required
def employee_activity(request: HttpRequest, public_id: str) -> HttpResponse:
    """The detail page's lower part for a new range, swapped in by htmx."""
    employee = get_employee_for(current_user(request), public_id)
    today = timezone.localdate()
    form = _range_form(request, today)
    context = _activity_context(request, employee, form, today)
    response = render(
        request, "dashboard/_activity.html", context, status=200 if form.is_valid() else 400
    )
    if form.is_valid():
        # The address bar follows the range, so a reload or a shared link shows it again.
        response["HX-Push-Url"] = context["detail_url"] + "?" + request.GET.urlencode()
    return response


@require_GET
@login_required
def employee_titles(request: HttpRequest, public_id: str) -> HttpResponse:
    """The titles table alone (sort, page, filter) for a range."""
    employee = get_employee_for(current_user(request), public_id)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "dashboard/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    qs = queries.title_rows(employee, start, end)
    text = filter_text(request)
    if text:
        qs = qs.filter(Q(window__title__icontains=text) | Q(window__app__icontains=text))
    table = TitleTable(
        qs,
        total_active_ms=queries.active_total(employee, start, end),
        time_zone=queries.employee_time_zone(employee),
    )
    configure(request, table, url=request.path)
    table.hidden = {"start": start.isoformat(), "end": end.isoformat()}
    # Each sort, page or filter shows titles again: one view entry per request.
    do_record_view(employee, start, end, actor=current_user(request), ip=client_ip(request))
    return render(request, "oxytrack/table.html", {"table": table})


def _csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a quote."""
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


@require_GET
@login_required
def employee_export(request: HttpRequest, public_id: str) -> HttpResponse:
    """The titles of a range as CSV (an audited export)."""
    employee = get_employee_for(current_user(request), public_id)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "dashboard/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="oxytrack-{employee.public_id}-{start}-{end}.csv"'
    )
    response.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [_("Application"), _("Titre"), _("Première ouverture"), _("Actif (s)"), _("Inactif (s)")]
    )
    for row in queries.title_rows(employee, start, end).iterator():
        writer.writerow(
            [
                _csv_cell(row["window__app"]),
                _csv_cell(row["window__title"]),
                timezone.localtime(row["first_opened"]).isoformat(),
                round(row["active"] / 1000),
                round(row["idle"] / 1000),
            ]
        )
    do_record_export(employee, start, end, actor=current_user(request), ip=client_ip(request))
    return response
