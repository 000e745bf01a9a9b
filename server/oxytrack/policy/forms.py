"""The super-admin's policy form: every field may be left to inherit."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oxytrack.policy.models import PolicyOverride, TitleMode

# Bounds that keep an agent useful and the server safe from a typo.
MAX_RULES = 50
MAX_RULE_CHARS = 200

_TRI_STATE = [("", _("hérité")), ("yes", _("oui")), ("no", _("non"))]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class PolicyForm(forms.Form):
    sample_interval_s = forms.IntegerField(
        label=_("Période d'échantillonnage (s)"), required=False, min_value=1, max_value=60
    )
    upload_interval_s = forms.IntegerField(
        label=_("Période d'envoi (s)"), required=False, min_value=10, max_value=86400
    )
    idle_threshold_s = forms.IntegerField(
        label=_("Seuil d'inactivité (s)"), required=False, min_value=10, max_value=3600
    )
    titles = forms.ChoiceField(
        label=_("Titres des fenêtres"),
        required=False,
        choices=[("", _("hérité")), *TitleMode.choices],
    )
    redact = forms.CharField(
        label=_("Masquage (expressions régulières, une par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Le texte des titres qui correspond est remplacé sur le poste. Vide : hérité."),
    )
    exclude_apps = forms.CharField(
        label=_("Applications exclues (une par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Vide : hérité."),
    )
    input_counts = forms.ChoiceField(
        label=_("Compter frappes et clics"), required=False, choices=_TRI_STATE
    )

    def clean_redact(self) -> list[str] | None:
        rules = _lines(self.cleaned_data["redact"])
        if len(rules) > MAX_RULES:
            raise forms.ValidationError(_("Au plus %(n)d règles.") % {"n": MAX_RULES})
        for rule in rules:
            if len(rule) > MAX_RULE_CHARS:
                raise forms.ValidationError(
                    _("Règle trop longue (%(n)d caractères au plus).") % {"n": MAX_RULE_CHARS}
                )
            try:
                re.compile(rule)
            except re.error as error:
                raise forms.ValidationError(
                    _("Expression régulière invalide « %(rule)s » : %(error)s")
                    % {"rule": rule, "error": error}
                ) from None
        return rules or None

    def clean_exclude_apps(self) -> list[str] | None:
        apps = _lines(self.cleaned_data["exclude_apps"])
        if len(apps) > MAX_RULES:
            raise forms.ValidationError(_("Au plus %(n)d applications.") % {"n": MAX_RULES})
        return apps or None

    def clean_input_counts(self) -> bool | None:
        return {"": None, "yes": True, "no": False}[self.cleaned_data["input_counts"]]

    @staticmethod
    def initial_from(row: PolicyOverride | None) -> dict[str, Any]:
        """The form's initial values from a stored override (None: all inherited)."""
        if row is None:
            return {}
        return {
            "sample_interval_s": row.sample_interval_s,
            "upload_interval_s": row.upload_interval_s,
            "idle_threshold_s": row.idle_threshold_s,
            "titles": row.titles,
            "redact": "\n".join(row.redact or []),
            "exclude_apps": "\n".join(row.exclude_apps or []),
            "input_counts": {None: "", True: "yes", False: "no"}[row.input_counts],
        }
