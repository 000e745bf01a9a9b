"""The managers' pages: home, search, team overview, one employee's detail. Views stay thin:
parse input, call one query, render."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.activity import queries as activity_queries
from oxytrack.activity.pages import ActivityUrls, activity_context, range_form, titles_table
from oxytrack.audit.actions import (
    do_record_export,
    do_record_list_export,
    do_record_view,
    scope_label,
)
from oxytrack.audit.reason import (
    AccessReasonForm,
    current_reason,
    reason_required,
    remember_reason,
)
from oxytrack.audit.request import client_ip
from oxytrack.dashboard import queries
from oxytrack.dashboard.forms import SearchForm
from oxytrack.dashboard.tables import EmployeeTable, TeamTable
from oxytrack.org.models import Employee
from oxytrack.org.queries import get_employee_for
from oxytrack.web.export import export_filename_stem, export_format, table_export
from oxytrack.web.forms import RangeForm, TeamRangeForm, shortcuts
from oxytrack.web.tables import configure, filter_text, wants_table_only


def _employee_table(request: HttpRequest, qs: Any) -> EmployeeTable:
    silent_before = timezone.now() - timedelta(hours=settings.OXYTRACK_SILENT_AFTER_HOURS)
    table = EmployeeTable(qs, silent_before=silent_before)
    table.export_url = request.path
    return configure(request, table, url=request.path)


def _employee_list_export(
    request: HttpRequest,
    table: EmployeeTable,
    qs: QuerySet[Employee],
    *,
    list_name: str,
    filters: dict[str, str],
) -> HttpResponseBase:
    """The home or search table as a file: every row, audited with the employees it holds."""
    user = current_user(request)

    def audit(fmt: str, rows: int) -> None:
        employees = [str(p) for p in qs.prefetch_related(None).values_list("public_id", flat=True)]
        do_record_list_export(
            list_name,
            fmt=fmt,
            rows=rows,
            actor=user,
            ip=client_ip(request),
            filters=filters,
            employees=employees,
        )

    # "Today" is each employee's own; the file is named after the reader's.
    stem = export_filename_stem(list_name, scope_label(user), timezone.localdate())
    return table_export(request, table, filename_stem=stem, audit=audit)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponseBase:
    """The employees of my scopes with today's times; the table reloads alone via htmx.

    The dpo sees no activity: their home is the audit log.
    """
    user = current_user(request)
    if user.is_dpo:
        return redirect("audit:log")
    qs = queries.employee_list(user, now=timezone.now(), text=request.GET.get("q", ""))
    table = _employee_table(request, qs)
    if export_format(request):
        text = filter_text(request)
        filters = {"q": text} if text else {}
        return _employee_list_export(request, table, qs, list_name="accueil", filters=filters)
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "dashboard/home.html", {"table": table})


@require_GET
@activity_reader_required
def search(request: HttpRequest) -> HttpResponseBase:
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
    if export_format(request):
        if form.is_bound and not form.is_valid():
            errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
            return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
        names = [*SearchForm.base_fields, "q"]
        filters = {k: str(request.GET[k]) for k in names if request.GET.get(k)}
        return _employee_list_export(request, table, qs, list_name="recherche", filters=filters)
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
@activity_reader_required
def team(request: HttpRequest) -> HttpResponseBase:
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
    table.export_url = request.path
    if export_format(request):
        if not form.is_valid():
            errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
            return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        text = filter_text(request)

        def audit(fmt: str, count: int) -> None:
            do_record_list_export(
                "équipes",
                fmt=fmt,
                rows=count,
                actor=user,
                ip=client_ip(request),
                start=start,
                end=end,
                filters={"q": text} if text else {},
            )

        stem = export_filename_stem("equipes", scope_label(user), start, end)
        return table_export(request, table, filename_stem=stem, audit=audit)
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


def _activity_context(
    request: HttpRequest, employee: Employee, form: RangeForm, today: date, reason: str = ""
) -> dict[str, Any]:
    """The context of the part of the detail page that follows the date range (audited)."""
    args = [employee.public_id]
    urls = ActivityUrls(
        page=reverse("dashboard:employee", args=args),
        activity=reverse("dashboard:employee_activity", args=args),
        titles=reverse("dashboard:employee_titles", args=args),
        exports=(),
    )
    context = activity_context(request, employee, form, today, urls)
    if "table" in context:
        context["table"].export_url = reverse("dashboard:employee_export", args=args)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        do_record_view(
            employee,
            start,
            end,
            actor=current_user(request),
            ip=client_ip(request),
            reason=reason,
        )
    return context


def _reason_refused(request: HttpRequest, employee: Employee) -> HttpResponse:
    """403 for a fragment or the CSV asked before any reason was given (access reason on)."""
    return render(request, "dashboard/_reason_needed.html", {"employee": employee}, status=403)


@require_http_methods(["GET", "POST"])
@activity_reader_required
def employee_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """Identity, devices, and the activity of the chosen range (an audited view).

    With the access reason on, a small form first (POST); the reason is kept
    for this employee in the session (audit/reason.py).
    """
    employee = get_employee_for(current_user(request), public_id)
    if not reason_required() and request.method == "POST":
        return HttpResponseNotAllowed(["GET"])
    reason = current_reason(request, employee) if reason_required() else ""
    if reason_required() and (request.method == "POST" or not reason):
        reason_form = AccessReasonForm(request.POST or None)
        if request.method == "POST" and reason_form.is_valid():
            remember_reason(request, employee, reason_form.cleaned_data["reason"])
            return redirect(request.get_full_path())
        return render(
            request,
            "dashboard/employee_reason.html",
            {"employee": employee, "form": reason_form},
            status=400 if reason_form.is_bound else 200,
        )
    today = timezone.localdate()
    form = range_form(request, today)
    context = _activity_context(request, employee, form, today, reason)
    context["devices"] = activity_queries.employee_devices(employee)
    return render(request, "dashboard/employee.html", context)


@require_GET
@activity_reader_required
def employee_activity(request: HttpRequest, public_id: str) -> HttpResponse:
    """The detail page's lower part for a new range, swapped in by htmx."""
    employee = get_employee_for(current_user(request), public_id)
    reason = current_reason(request, employee)
    if reason_required() and not reason:
        return _reason_refused(request, employee)
    today = timezone.localdate()
    form = range_form(request, today)
    context = _activity_context(request, employee, form, today, reason)
    response = render(
        request, "oxytrack/_activity.html", context, status=200 if form.is_valid() else 400
    )
    if form.is_valid():
        # The address bar follows the range, so a reload or a shared link shows it again.
        response["HX-Push-Url"] = context["detail_url"] + "?" + request.GET.urlencode()
    return response


@require_GET
@activity_reader_required
def employee_titles(request: HttpRequest, public_id: str) -> HttpResponse:
    """The titles table alone (sort, page, filter) for a range."""
    employee = get_employee_for(current_user(request), public_id)
    reason = current_reason(request, employee)
    if reason_required() and not reason:
        return _reason_refused(request, employee)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "oxytrack/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    table = titles_table(request, employee, start, end, url=request.path)
    table.export_url = reverse("dashboard:employee_export", args=[employee.public_id])
    # Each sort, page or filter shows titles again: one view entry per request.
    do_record_view(
        employee, start, end, actor=current_user(request), ip=client_ip(request), reason=reason
    )
    return render(request, "oxytrack/table.html", {"table": table})


@require_GET
@activity_reader_required
def employee_export(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """The titles (apps, categories: `?group=`) table of a range as CSV or XLSX
    (`?format=`, CSV when absent), every row in the page's sort and filter; audited."""
    employee = get_employee_for(current_user(request), public_id)
    reason = current_reason(request, employee)
    if reason_required() and not reason:
        return _reason_refused(request, employee)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "oxytrack/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    table = titles_table(request, employee, start, end, url=request.path)

    def audit(fmt: str, rows: int) -> None:
        do_record_export(
            employee,
            start,
            end,
            actor=current_user(request),
            ip=client_ip(request),
            reason=reason,
            fmt=fmt,
            rows=rows,
            filter_text=filter_text(request),
        )

    group = request.GET.get("group", "")
    kind = {"app": "applications", "category": "categories"}.get(group, "titres")
    stem = export_filename_stem(kind, employee.display_name or employee.login, start, end)
    return table_export(request, table, filename_stem=stem, audit=audit)
