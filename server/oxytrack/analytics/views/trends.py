"""Trends pages: one employee's weekly time per category, and a team's.

Thin views: a form (the last week, and for a team which one), a query from
`analytics.trends`, an audit entry, a page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import activity_reader_required, current_user
from oxytrack.accounts.models import User
from oxytrack.analytics import trends
from oxytrack.analytics.trend_pages import WeekForm, trends_context
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
    context.update(trends_context(trend, form, team=False, request=request))
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
    context.update(trends_context(trend, form, team=True, request=request), team_label=label)
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
