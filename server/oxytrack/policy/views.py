"""The super-admin's policy pages: the global override and one per agency or service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oxytrack.accounts.decorators import (
    current_user,
    superadmin_or_dpo_reads,
    superadmin_required,
)
from oxytrack.audit.request import client_ip
from oxytrack.org.models import Agency, Service
from oxytrack.policy.actions import do_change_policy
from oxytrack.policy.forms import PolicyForm, PreviewForm
from oxytrack.policy.models import PolicyOverride, TitleMode
from oxytrack.policy.queries import POLICY_FIELDS, effective_policy, inherited_policy
from oxytrack.policy.redaction import PRIVACY_FIELDS, SAMPLES, preview, too_slow
from oxytrack.policy.schedule import ALWAYS
from oxytrack.policy.schedule import summary as schedule_summary


@dataclass(frozen=True)
class PolicyRow:
    kind: str
    pk: int | None
    label: str
    overrides: dict[str, Any]


def _labels() -> dict[str, str]:
    """Each policy field's label in the current language (the form's)."""
    fields = PolicyForm().fields
    return {name: str(fields[name].label) for name in POLICY_FIELDS}


def _show(value: Any) -> str:
    if value is None or value == ALWAYS or isinstance(value, dict):
        return schedule_summary(value)  # the only field that may be null or an object
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, list):
        # Redaction rules: their names (the edit page shows them in full).
        return ", ".join(str(v["name"]) if isinstance(v, dict) else str(v) for v in value) or "—"
    if value in TitleMode.values:
        return str(TitleMode(value).label)
    return str(value)


def _overrides(row: PolicyOverride | None) -> dict[str, Any]:
    """The fields `row` sets (not inherited), by label."""
    if row is None:
        return {}
    labels = _labels()
    return {
        labels[f]: _show(getattr(row, f))
        for f in POLICY_FIELDS
        if getattr(row, f) not in (None, "")
    }


@require_GET
@superadmin_or_dpo_reads
def policy_list(request: HttpRequest) -> HttpResponse:
    """The defaults and every override, each with a link to edit it."""
    rows = list(PolicyOverride.objects.all())
    by_agency = {r.agency_id: r for r in rows if r.agency_id}
    by_service = {r.service_id: r for r in rows if r.service_id}
    global_row = next((r for r in rows if not r.agency_id and not r.service_id), None)
    table = [PolicyRow("global", None, _("Politique globale"), _overrides(global_row))]
    table += [
        PolicyRow(
            "agency", a.pk, _("Agence %(name)s") % {"name": a.name}, _overrides(by_agency.get(a.pk))
        )
        for a in Agency.objects.all()
    ]
    table += [
        PolicyRow(
            "service",
            s.pk,
            _("Service %(name)s") % {"name": s.name},
            _overrides(by_service.get(s.pk)),
        )
        for s in Service.objects.all()
    ]
    return render(
        request,
        "policy/list.html",
        {
            "rows": table,
            "effective": {
                label: _show(effective_policy(None, None)[name])
                for name, label in _labels().items()
            },
        },
    )


def _target(kind: str, pk: int | None) -> Agency | Service | None:
    if kind == "global":
        return None
    if kind == "agency":
        return get_object_or_404(Agency, pk=pk)
    if kind == "service":
        return get_object_or_404(Service, pk=pk)
    raise Http404


@require_http_methods(["GET", "POST"])
@superadmin_or_dpo_reads
def policy_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """Edit one override; an empty field inherits from the level above."""
    target = _target(kind, pk)
    if target is None:
        row = PolicyOverride.objects.filter(agency=None, service=None).first()
    elif isinstance(target, Agency):
        row = PolicyOverride.objects.filter(agency=target).first()
    else:
        row = PolicyOverride.objects.filter(service=target).first()
    form = PolicyForm(
        request.POST or None,
        initial=PolicyForm.initial_from(row),
        inherited_rules=inherited_policy(kind)["redact_rules"],
    )
    if current_user(request).is_dpo:
        # The dpo reads the policy; the decorator refuses their POST.
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        do_change_policy(
            target, form.cleaned_data, actor=current_user(request), ip=client_ip(request)
        )
        messages.success(request, _("Politique enregistrée."))
        return redirect("policy:list")
    label = _("Politique globale") if target is None else str(target)
    return render(
        request,
        "policy/edit.html",
        {
            "form": form,
            "label": label,
            "kind": kind,
            "preview_form": PreviewForm(),
            "rows": preview(inherited_policy(kind) | _privacy_of(row), list(SAMPLES)),
        },
    )


def _privacy_of(row: PolicyOverride | None) -> dict[str, Any]:
    """The privacy fields `row` sets (not inherited)."""
    if row is None:
        return {}
    values = {f: getattr(row, f) for f in PRIVACY_FIELDS}
    return {f: v for f, v in values.items() if v is not None and v != ""}


@require_http_methods(["POST"])
@superadmin_required
def policy_preview(request: HttpRequest, kind: str) -> HttpResponse:
    """What the sample titles and the pasted one become under the form's rules (htmx).

    Nothing is saved. The form's privacy fields override the level above,
    as they would once saved; a field in error is reported, not applied.
    """
    if kind not in ("global", "agency", "service"):
        raise Http404
    inherited = inherited_policy(kind)
    form = PolicyForm(request.POST, inherited_rules=inherited["redact_rules"])
    form.is_valid()
    bench = PreviewForm(request.POST)
    privacy = {f: inherited[f] for f in PRIVACY_FIELDS}
    for field in PRIVACY_FIELDS:
        value = form.cleaned_data.get(field)
        if field not in form.errors and value is not None and value != "":
            privacy[field] = value
    errors = [str(e) for f in PRIVACY_FIELDS for e in form.errors.get(f, [])]
    titles = list(SAMPLES)
    pasted = bench.cleaned_data.get("bench_title") if bench.is_valid() else None
    if pasted:
        titles.insert(0, (bench.cleaned_data.get("bench_app") or "chrome.exe", pasted))
    errors += [str(e) for field_errors in bench.errors.values() for e in field_errors]
    if privacy["redact_rules"] != inherited["redact_rules"] and "redact_rules" not in form.errors:
        # Rules nobody has timed yet: time them in a child process before running them here.
        slow = too_slow(privacy["redact_rules"])
        if slow is not None:
            errors.append(
                _("Règles de masquage : « %(name)s » prend trop de temps sur un titre long.")
                % {"name": slow}
            )
            privacy["redact_rules"] = inherited["redact_rules"]
    return render(
        request,
        "policy/_preview.html",
        {"rows": preview(privacy, titles), "errors": errors, "pasted": bool(pasted)},
    )
