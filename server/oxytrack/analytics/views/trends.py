"""Trends pages: one employee's weekly time per category, and a team's.

Thin views: a form (the last week, and for a team which one), a query from
`analytics.trends`, an audit entry, a page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.accounts.models import User
from oxytrack.analytics import trends
from oxytrack.analytics.trend_tables import TrendTable, trend_rows, week_label
from oxytrack.audit.actions import (
    do_record_export,
    do_record_list_export,
    do_record_team_view,
    do_record_view,
)
from oxytrack.audit.reason import current_reason, reason_required
from oxytrack.audit.request import client_ip
from oxytrack.org.models import Agency, Employee, Service
from oxytrack.org.queries import get_employee_for, org_choices_for
from oxytrack.web.export import export_filename_stem, export_format, table_export
from oxytrack.web.formatting import chart_label
from oxytrack.web.forms import BoundedDateField
from oxytrack.web.tables import configure


class WeekForm(forms.Form):
    """The last of the weeks shown: any day of it (default: this week)."""

    week = BoundedDateField(label=gettext_lazy("Jusqu'à la semaine du"), required=False)

    def last_week(self, today: date) -> date:
        """The chosen day, else `today` (call after is_valid())."""
        return self.cleaned_data.get("week") or today


class TeamWeekForm(WeekForm):
    """A team: an agency, a service, both, or neither (my whole scope); lists limited to
    my scopes, so another agency is "not a valid choice"."""

    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agence"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=gettext_lazy("Toutes"),
    )
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=gettext_lazy("Tous"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = org_choices_for(user)
        agency_field = cast(forms.ModelChoiceField, self.fields["agency"])
        service_field = cast(forms.ModelChoiceField, self.fields["service"])
        agency_field.queryset = Agency.objects.filter(pk__in=[a.pk for a in choices.agencies])
        service_field.queryset = Service.objects.filter(pk__in=[s.pk for s in choices.services])


def _chart_data(trend: trends.Trend, *, team: bool) -> dict[str, Any]:
    return {
        # Categories on the axis rather than dates: plotly.js would name weeks in English.
        "weeks": [
            [week_label(monday), date_format(monday, "SHORT_DATE_FORMAT")] for monday in trend.weeks
        ],
        "categories": [
            # Plotly draws SVG text, out of reach of HTML's bidi isolation.
            [chart_label(c.label), c.colour, c.weekly_ms]
            for c in trend.categories
        ],
        "average": trend.average_ms if team else [],
        "labels": {
            "hours": _("heures"),
            "week": _("semaine du"),
            "average": _("Moyenne par employé"),
            "empty": _("Aucune activité sur ces semaines"),
        },
    }


def _context(
    trend: trends.Trend, form: forms.Form, *, team: bool, request: HttpRequest
) -> dict[str, Any]:
    table = TrendTable(trend_rows(trend, team=team), weeks=trend.weeks)
    # A row per category: one page; the export buttons keep the week and the team.
    configure(request, table, url=request.path)
    table.export_url = request.path
    return {
        "form": form,
        "trend": trend,
        "table": table,
        "team": team,
        "first_week": trend.weeks[0],
        "last_week": trend.weeks[-1],
        "compare_weeks": trends.COMPARE_WEEKS,
        "employee_counts": [
            (monday, week_label(monday), count)
            for monday, count in zip(trend.weeks, trend.employees, strict=True)
        ],
        "chart_data": _chart_data(trend, team=team),
    }


@require_GET
@activity_reader_required
def employee_trends(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """One employee's weekly time per category over 12 weeks (an audited view, as the
    detail page: the same access reason, asked there)."""
    user = current_user(request)
    employee = get_employee_for(user, public_id)
    reason = current_reason(request, employee) if reason_required() else ""
    if reason_required() and not reason:
        return redirect(reverse("dashboard:employee", args=[employee.public_id]))
    form = WeekForm(request.GET)
    context: dict[str, Any] = {"employee": employee, "form": form, "team": False}
    if not form.is_valid():
        return render(request, "analytics/trends.html", context, status=400)
    trend = trends.employee_trend(employee, form.last_week(timezone.localdate()))
    first, last = trend.weeks[0], trend.weeks[-1] + timedelta(days=6)
    context.update(_context(trend, form, team=False, request=request))
    if export_format(request):

        def audit(fmt: str, rows: int) -> None:
            do_record_export(
                employee,
                first,
                last,
                actor=user,
                ip=client_ip(request),
                reason=reason,
                fmt=fmt,
                rows=rows,
            )

        stem = export_filename_stem("tendances", employee.public_id, first, last)
        return table_export(request, context["table"], filename_stem=stem, audit=audit)
    do_record_view(employee, first, last, actor=user, ip=client_ip(request), reason=reason)
    return render(request, "analytics/trends.html", context)


def _team(user: User, form: TeamWeekForm) -> tuple[QuerySet[Employee], str, str]:
    """The team's employees (scoped), its label for people and its key for the audit."""
    agency: Agency | None = form.cleaned_data.get("agency")
    service: Service | None = form.cleaned_data.get("service")
    employees = Employee.objects.visible_to(user)
    if agency is not None:
        employees = employees.filter(agency=agency)
    if service is not None:
        employees = employees.filter(service=service)
    if agency is None and service is None:
        label = _("Tout mon périmètre")
    else:
        label = " / ".join(
            [
                agency.name if agency else _("toutes les agences"),
                service.name if service else _("tous les services"),
            ]
        )
    key = f"{agency.pk if agency else '*'}:{service.pk if service else '*'}"
    return employees, label, key


@require_GET
@activity_reader_required
def team_trends(request: HttpRequest) -> HttpResponseBase:
    """A team's weekly time per category over 12 weeks: its total and the average per
    employee (an audited team read)."""
    user = current_user(request)
    form = TeamWeekForm(request.GET, user=user)
    context: dict[str, Any] = {"form": form, "team": True}
    if not form.is_valid():
        return render(request, "analytics/trends.html", context, status=400)
    employees, label, key = _team(user, form)
    trend = trends.team_trend(employees, form.last_week(timezone.localdate()))
    context.update(_context(trend, form, team=True, request=request), team_label=label)
    last_day = trend.weeks[-1] + timedelta(days=6)
    if export_format(request):

        def audit(fmt: str, rows: int) -> None:
            do_record_list_export(
                "tendances d'équipe",
                fmt=fmt,
                rows=rows,
                actor=user,
                ip=client_ip(request),
                start=trend.weeks[0],
                end=last_day,
                filters={"team": label},
                employees=[],
            )

        stem = export_filename_stem("tendances", label, trend.weeks[0], last_day)
        return table_export(request, context["table"], filename_stem=stem, audit=audit)
    # No employee's own figures on this page: the entry names the team, not each of them.
    do_record_team_view(
        label, key, trend.weeks[0], last_day, employees=[], actor=user, ip=client_ip(request)
    )
    return render(request, "analytics/trends.html", context)
