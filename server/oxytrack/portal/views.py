"""The employee portal: one employee reads, read-only, exactly what their managers see
about them, and downloads it. Opened by a one-time link the agent asks for
(`oxytrack-agent portal`); see session.py for what the session may do."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from oxytrack.activity import queries
from oxytrack.activity.pages import ActivityUrls, activity_context, range_form, titles_table
from oxytrack.analytics.trend_pages import WeekForm, trends_context
from oxytrack.analytics.trends import employee_trend
from oxytrack.audit.request import client_ip
from oxytrack.org.models import Employee
from oxytrack.portal.actions import do_use_portal_link
from oxytrack.portal.exports import export_data, write_csv, xlsx_workbook
from oxytrack.portal.session import closed, portal_required, start_portal_session
from oxytrack.web.export import export_filename_stem, export_format, table_export, xlsx_response
from oxytrack.web.forms import RangeForm


def _urls() -> ActivityUrls:
    return ActivityUrls(
        page=reverse("portal:home"),
        activity=reverse("portal:activity"),
        titles=reverse("portal:titles"),
        exports=(
            (_("Télécharger (CSV)"), reverse("portal:export_csv")),
            (_("Télécharger (XLSX)"), reverse("portal:export_xlsx")),
            (_("Télécharger (JSON)"), reverse("portal:export_json")),
        ),
    )


@require_GET
@never_cache
def enter(request: HttpRequest, code: str) -> HttpResponse:
    """Spend a one-time code: a new portal session, then the portal. Spent or expired: 403."""
    employee = do_use_portal_link(code, ip=client_ip(request))
    if employee is None:
        return closed(request)
    start_portal_session(request, employee)
    # The code leaves the address bar (and any Referer) at once.
    return redirect("portal:home")


@require_GET
@portal_required
def home(request: HttpRequest, employee: Employee) -> HttpResponse:
    """Identity, machines, and the activity of the chosen range: the managers' detail page."""
    today = timezone.localdate()
    form = range_form(request, today)
    context = activity_context(request, employee, form, today, _urls())
    context["devices"] = queries.employee_devices(employee)
    return render(request, "portal/home.html", context)


@require_GET
@portal_required
def activity(request: HttpRequest, employee: Employee) -> HttpResponse:
    """The page's lower part for a new range, swapped in by htmx."""
    today = timezone.localdate()
    form = range_form(request, today)
    context = activity_context(request, employee, form, today, _urls())
    response = render(
        request, "oxytrack/_activity.html", context, status=200 if form.is_valid() else 400
    )
    if form.is_valid():
        response["HX-Push-Url"] = context["detail_url"] + "?" + request.GET.urlencode()
    return response


@require_GET
@portal_required
def titles(request: HttpRequest, employee: Employee) -> HttpResponse:
    """The titles table alone (sort, page, filter) for a range."""
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "oxytrack/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    table = titles_table(request, employee, start, end, url=request.path)
    return render(request, "oxytrack/table.html", {"table": table})


@require_GET
@portal_required
def trends(request: HttpRequest, employee: Employee) -> HttpResponseBase:
    """The employee's own weekly time per category over 12 weeks: the managers' trends
    page for them (analytics' own functions), with its downloads; not audited, as no
    other portal page or download is (the link and the login are)."""
    form = WeekForm(request.GET)
    context: dict[str, object] = {"employee": employee, "form": form, "team": False}
    if not form.is_valid():
        return render(request, "portal/trends.html", context, status=400)
    trend = employee_trend(employee, form.last_week(timezone.localdate()))
    context.update(trends_context(trend, form, team=False, request=request))
    if export_format(request):
        first, last = trend.weeks[0], trend.weeks[-1] + timedelta(days=6)
        stem = export_filename_stem("tendances", employee.public_id, first, last)
        return table_export(
            request, context["table"], filename_stem=stem, audit=lambda _fmt, _rows: None
        )
    return render(request, "portal/trends.html", context)


def _export(request: HttpRequest, employee: Employee, kind: str) -> HttpResponseBase:
    form = RangeForm(request.GET)
    if not form.is_valid():
        return render(request, "oxytrack/_range_errors.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    data = export_data(employee, start, end)
    name = f"oxytrack-{employee.public_id}-{start}-{end}.{kind}"
    if kind == "xlsx":
        return xlsx_response(xlsx_workbook(data), name)
    if kind == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
    else:
        out = io.StringIO()
        out.write("\ufeff")  # so Excel reads UTF-8
        write_csv(data, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@portal_required
def export_csv(request: HttpRequest, employee: Employee) -> HttpResponseBase:
    """All of the employee's data over the range as CSV (sections)."""
    return _export(request, employee, "csv")


@require_GET
@portal_required
def export_xlsx(request: HttpRequest, employee: Employee) -> HttpResponseBase:
    """The CSV's rows as an XLSX sheet (numbers as numbers, text never a formula)."""
    return _export(request, employee, "xlsx")


@require_GET
@portal_required
def export_json(request: HttpRequest, employee: Employee) -> HttpResponseBase:
    """All of the employee's data over the range as JSON."""
    return _export(request, employee, "json")


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """End the portal session (CSRF-protected like every form)."""
    request.session.flush()
    return render(request, "portal/closed.html", {"left": True})
