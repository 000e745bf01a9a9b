"""The audit log page (super-admin): a filtered, paged table of entries."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import django_tables2 as tables
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import superadmin_required
from oxytrack.audit.models import Action, Entry
from oxytrack.web.formatting import agent_html
from oxytrack.web.forms import BoundedDateField
from oxytrack.web.tables import BaseTable, configure, filter_text, wants_table_only


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Toutes")), *Action.choices]
    )
    actor = forms.CharField(label=_("Auteur"), required=False, max_length=254)
    target = forms.CharField(label=_("Cible"), required=False, max_length=300)
    start = BoundedDateField(label=_("Du"), required=False)
    end = BoundedDateField(label=_("Au"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(
                _("La date de fin est antérieure à la date de début."), code="end_before_start"
            )
        return data

    def apply(self, qs: QuerySet[Entry]) -> QuerySet[Entry]:
        """`qs` narrowed by the validated filters."""
        data = self.cleaned_data
        if data.get("action"):
            qs = qs.filter(action=data["action"])
        if data.get("actor"):
            qs = qs.filter(actor_label__icontains=data["actor"].strip())
        if data.get("target"):
            qs = qs.filter(target_label__icontains=data["target"].strip())
        tz = timezone.get_current_timezone()
        if data.get("start"):
            qs = qs.filter(at__gte=datetime.combine(data["start"], time(0), tzinfo=tz))
        if data.get("end"):
            end = datetime.combine(data["end"] + timedelta(days=1), time(0), tzinfo=tz)
            qs = qs.filter(at__lt=end)
        return qs


class AuditTable(BaseTable):
    dom_id = "audit"

    at = tables.Column(verbose_name=_("Date"))
    actor_label = tables.Column(verbose_name=_("Auteur"))
    action = tables.Column(verbose_name=_("Action"))
    target_label = tables.Column(verbose_name=_("Cible"))
    detail = tables.Column(verbose_name=_("Détail"), orderable=False, empty_values=())
    ip = tables.Column(verbose_name=_("Adresse IP"))

    class Meta(BaseTable.Meta):
        pass

    def render_at(self, value: datetime) -> str:
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")

    # Labels can hold an employee's login or display name: agent text.
    def render_actor_label(self, value: str) -> SafeString:
        return agent_html(value)

    def render_target_label(self, value: str) -> SafeString:
        return agent_html(value)

    def render_action(self, record: Entry) -> str:
        return str(record.get_action_display())

    def render_detail(self, value: Any) -> SafeString:
        # Details quote names (an agency, a title) as they were: agent text too.
        return agent_html(json.dumps(value, ensure_ascii=False)) if value else SafeString("")


@require_GET
@superadmin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who did what to whom, when, from where — newest first, filterable."""
    form = AuditFilterForm(request.GET or None)
    qs = Entry.objects.all()
    if form.is_bound:
        qs = form.apply(qs) if form.is_valid() else Entry.objects.none()
    text = filter_text(request)
    if text:
        qs = qs.filter(
            Q(actor_label__icontains=text) | Q(target_label__icontains=text) | Q(ip__icontains=text)
        )
    table = configure(request, AuditTable(qs.order_by("-at", "-id")), url=request.path)
    table.include = "#audit-form"
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "audit/log.html", {"form": form, "table": table})
