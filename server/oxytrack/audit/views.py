"""The audit log page (super-admin and dpo): a filtered, paged table of entries, and its CSV."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import django_tables2 as tables
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from oxytrack.accounts.decorators import current_user, superadmin_or_dpo_reads
from oxytrack.audit.actions import do_record_audit_export
from oxytrack.audit.models import Action, Entry
from oxytrack.audit.request import client_ip
from oxytrack.web.export import export_filename_stem, export_format, table_export
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
    # In exports only: what the target is when its label is not enough (a deleted one).
    target_type = tables.Column(verbose_name=_("Type de cible"), visible=False, orderable=False)
    target_id = tables.Column(
        verbose_name=_("Identifiant de cible"), visible=False, orderable=False
    )

    class Meta(BaseTable.Meta):
        sequence = ("at", "actor_label", "action", "target_type", "target_id", "...")

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

    def value_detail(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False) if value else ""


def _entries(request: HttpRequest, form: AuditFilterForm) -> QuerySet[Entry]:
    """The entries the filters and the live filter box select, newest first."""
    qs: QuerySet[Entry] = Entry.objects.all()
    if form.is_bound:
        qs = form.apply(qs) if form.is_valid() else Entry.objects.none()
    text = filter_text(request)
    if text:
        qs = qs.filter(
            Q(actor_label__icontains=text) | Q(target_label__icontains=text) | Q(ip__icontains=text)
        )
    return qs.order_by("-at", "-id")


def _filters(form: AuditFilterForm) -> dict[str, str]:
    """The filters as given, read by name: the pages read no other parameter."""
    values = {k: form.data.get(k) for k in [*AuditFilterForm.base_fields, "q"]}
    return {k: str(v) for k, v in values.items() if v}


def _export(request: HttpRequest, form: AuditFilterForm, table: AuditTable) -> HttpResponseBase:
    """The filtered entries as CSV or XLSX; the export is itself an entry of the log."""
    if form.is_bound and not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    filters = _filters(form)
    user = current_user(request)

    def audit(fmt: str, rows: int) -> None:
        # Written before the rows are read, so the file lists its own export.
        do_record_audit_export(filters, actor=user, ip=client_ip(request), fmt=fmt, rows=rows)

    data = form.cleaned_data if form.is_bound else {}
    stem = export_filename_stem("audit", data.get("start") or "", data.get("end") or "")
    if not data.get("start") and not data.get("end"):
        stem = export_filename_stem("audit", timezone.localdate())
    return table_export(request, table, filename_stem=stem, audit=audit)


@require_GET
@superadmin_or_dpo_reads
def audit_log(request: HttpRequest) -> HttpResponseBase:
    """Who did what to whom, when, from where — newest first, filterable; `?format=csv|xlsx`
    downloads every entry the filters select."""
    form = AuditFilterForm(request.GET or None)
    table = configure(request, AuditTable(_entries(request, form)), url=request.path)
    table.include = "#audit-form"
    table.export_url = request.path
    if export_format(request):
        return _export(request, form, table)
    if wants_table_only(request, table):
        return render(request, "oxytrack/table.html", {"table": table})
    return render(request, "audit/log.html", {"form": form, "table": table})


@require_GET
@superadmin_or_dpo_reads
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The address of the earlier CSV download, kept: the same as `audit_log?format=csv`."""
    form = AuditFilterForm(request.GET or None)
    table = configure(request, AuditTable(_entries(request, form)), url=request.path)
    return _export(request, form, table)
