"""The super-admin's policy form: every field may be left to inherit."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oxytrack.policy.models import PolicyOverride, TitleMode
from oxytrack.policy.redaction import too_slow
from oxytrack.policy.schedule import (
    ALWAYS,
    DAY_LABELS,
    DAYS,
    HOLIDAY_CHOICES,
    ScheduleError,
    day_text,
    parse_day,
)
from oxytrack.web.pattern_errors import describe_error
from oxytrack_agent.redaction import RuleError, rules_from_text, rules_to_text

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
    redact_rules = forms.CharField(
        label=_("Règles de masquage des titres"),
        required=False,
        # Bounded before parsing: MAX_RULES rules of a few bounded lines each.
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "Une règle par bloc : « [nom] », puis « apps = expression » et/ou "
            "« titre = expression », puis « catégorie = mot » (sans catégorie : le nom de "
            "l'application). La première règle qui correspond remplace tout le titre. "
            "Pré-rempli avec les règles héritées : tant qu'il est inchangé, elles restent "
            "héritées. Vide : hérité. Pour n'appliquer aucune règle : « # aucune »."
        ),
    )
    browser_sites = forms.ChoiceField(
        label=_("Navigateurs : garder le site, pas l'adresse complète"),
        required=False,
        choices=_TRI_STATE,
    )

    schedule = forms.ChoiceField(
        label=_("Horaires de travail"),
        required=False,
        choices=[
            ("", _("hérité")),
            (ALWAYS, _("à toute heure (pas d'horaires)")),
            ("hours", _("seulement pendant les horaires ci-dessous")),
        ],
        help_text=_(
            "En dehors des horaires, dans le fuseau de l'employé, l'agent n'enregistre rien."
        ),
    )
    schedule_holidays = forms.ChoiceField(
        label=_("Jours fériés chômés"),
        required=False,
        choices=[("", _("aucun")), *HOLIDAY_CHOICES],
    )
    pause_max_minutes_per_day = forms.IntegerField(
        label=_("Pause privée par jour (minutes)"),
        required=False,
        min_value=0,
        max_value=480,
        help_text=_("0 : pas de pause possible. Vide : hérité."),
    )

    def __init__(
        self, *args: Any, inherited_rules: list[dict[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # What the level above gives: the field shows it until the admin changes it.
        self.inherited_text = rules_to_text(inherited_rules or [])
        if not self.initial.get("redact_rules"):
            self.initial["redact_rules"] = self.inherited_text
        # One line per weekday, placed right after the schedule's mode.
        days = {
            f"schedule_{day}": forms.CharField(
                label=DAY_LABELS[day],
                required=False,
                max_length=200,
                help_text=_("Par exemple 08:00-12:30, 13:30-18:00. Vide : pas de travail ce jour.")
                if day == "mon"
                else "",
            )
            for day in DAYS
        }
        order = list(self.fields)
        at = order.index("schedule") + 1
        fields = {name: self.fields[name] for name in order}
        self.fields = {
            **{n: fields[n] for n in order[:at]},
            **days,
            **{n: fields[n] for n in order[at:]},
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mode = cleaned.get("schedule")
        if mode != "hours":
            cleaned["schedule"] = mode or None
            return cleaned
        schedule: dict[str, Any] = {}
        for day in DAYS:
            try:
                ranges = parse_day(cleaned.get(f"schedule_{day}") or "")
            except ScheduleError as error:
                self.add_error(f"schedule_{day}", str(error))
                continue
            if ranges:
                schedule[day] = ranges
        if not any(schedule.get(day) for day in DAYS) and not self.errors:
            self.add_error(
                "schedule", _("Donnez au moins une plage horaire, ou choisissez « à toute heure ».")
            )
        schedule["holidays"] = cleaned.get("schedule_holidays") or None
        cleaned["schedule"] = schedule
        return cleaned

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
                    % {"rule": rule, "error": describe_error(error)}
                ) from None
        return rules or None

    def clean_exclude_apps(self) -> list[str] | None:
        apps = _lines(self.cleaned_data["exclude_apps"])
        if len(apps) > MAX_RULES:
            raise forms.ValidationError(_("Au plus %(n)d applications.") % {"n": MAX_RULES})
        return apps or None

    def clean_input_counts(self) -> bool | None:
        return {"": None, "yes": True, "no": False}[self.cleaned_data["input_counts"]]

    def clean_browser_sites(self) -> bool | None:
        return {"": None, "yes": True, "no": False}[self.cleaned_data["browser_sites"]]

    def clean_redact_rules(self) -> list[dict[str, str]] | None:
        text = self.cleaned_data["redact_rules"].replace("\r\n", "\n")
        if not text.strip() or text.strip() == self.inherited_text.strip():
            return None
        try:
            rules = rules_from_text(text)
        except RuleError as error:
            # The agent's module words it in French; the admin reads their own language.
            raise forms.ValidationError(
                _("Règles de masquage : %(error)s")
                % {"error": error.render(gettext, describe_error)}
            ) from None
        slow = too_slow(rules)
        if slow is not None:
            raise forms.ValidationError(
                _("Règles de masquage : « %(name)s » prend trop de temps sur un titre long.")
                % {"name": slow}
            )
        return rules

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
            "redact_rules": ""
            if row.redact_rules is None
            else (rules_to_text(row.redact_rules) or "# aucune"),
            "browser_sites": {None: "", True: "yes", False: "no"}[row.browser_sites],
            "pause_max_minutes_per_day": row.pause_max_minutes_per_day,
            **_schedule_initial(row.schedule),
        }


def _schedule_initial(stored: Any) -> dict[str, Any]:
    """The schedule's form fields from a stored value (None, "always" or the wire dict)."""
    if not isinstance(stored, dict):
        return {"schedule": stored or ""}
    return {
        "schedule": "hours",
        "schedule_holidays": stored.get("holidays") or "",
        **{f"schedule_{day}": day_text(stored.get(day)) for day in DAYS},
    }


class PreviewForm(forms.Form):
    """The test bench of the policy page: a title to try the rules on."""

    bench_app = forms.CharField(
        label=_("Application"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "chrome.exe"}),
        help_text=_("Nom du programme (chrome.exe, EXCEL.EXE…). Vide : chrome.exe."),
    )
    bench_title = forms.CharField(
        label=_("Collez un titre"),
        required=False,
        # The agent cuts titles to 1,024 characters before any rule runs.
        max_length=4096,
        strip=False,
        widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off"}),
    )
