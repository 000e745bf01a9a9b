"""Forms of the super-admin's organisation pages."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from oxytrack.org.importing import find_named
from oxytrack.org.models import DISPLAY_NAME_MAX, Agency, Employee, Service, clean_display_name


def _org_fields() -> tuple[forms.ModelChoiceField[Agency], forms.ModelChoiceField[Service]]:
    return (
        forms.ModelChoiceField(
            label=_("Agence"),
            queryset=Agency.objects.all(),
            required=False,
            empty_label=_("— aucune —"),
        ),
        forms.ModelChoiceField(
            label=_("Service"),
            queryset=Service.objects.all(),
            required=False,
            empty_label=_("— aucun —"),
        ),
    )


class EmployeeCreateForm(forms.Form):
    username = forms.CharField(label=_("Identifiant Windows"), max_length=150)
    domain = forms.CharField(
        label=_("Domaine"),
        max_length=150,
        required=False,
        help_text=_("Vide pour un compte local."),
    )
    display_name = forms.CharField(label=_("Nom affiché"), max_length=200, required=False)
    agency, service = _org_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username = (data.get("username") or "").strip()
        domain = (data.get("domain") or "").strip()
        data["username"], data["domain"] = username, domain
        data["display_name"] = (data.get("display_name") or "").strip()
        if (
            username
            and Employee.objects.filter(username__iexact=username, domain__iexact=domain).exists()
        ):
            raise forms.ValidationError(
                _("Un utilisateur avec cet identifiant et ce domaine existe déjà."),
                code="duplicate",
            )
        return data


class TransferForm(forms.Form):
    agency, service = _org_fields()

    def __init__(self, *args: Any, employee: Employee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employee = employee

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("agency") == self.employee.agency
            and data.get("service") == self.employee.service
        ):
            raise forms.ValidationError(
                _("L'utilisateur est déjà dans cette agence et ce service."), code="same_place"
            )
        return data


class RenameForm(forms.Form):
    display_name = forms.CharField(
        label=_("Nom affiché"),
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text=_(
            "Vide : l'identifiant est affiché. Une fois modifié ici, le nom n'est plus "
            "mis à jour par l'agent."
        ),
    )

    def clean_display_name(self) -> str:
        # Bidi controls could reorder the rest of a page: removed like the agent's.
        return clean_display_name(str(self.cleaned_data["display_name"]))


class AgencyForm(forms.Form):
    name = forms.CharField(label=_("Nom de l'agence"), max_length=100)
    time_zone = forms.CharField(
        label=_("Fuseau horaire"),
        max_length=64,
        initial=settings.TIME_ZONE,
        help_text=_("Nom IANA, par exemple Europe/Paris ou America/Martinique."),
    )

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if find_named(Agency, name) is not None:
            raise forms.ValidationError(_("Cette agence existe déjà."), code="duplicate")
        return name

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                _("Fuseau horaire inconnu."), code="unknown_time_zone"
            ) from None
        return value


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Nom du service"), max_length=100)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if find_named(Service, name) is not None:
            raise forms.ValidationError(_("Ce service existe déjà."), code="duplicate")
        return name
