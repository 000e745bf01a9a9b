"""The super-admin's forms: one category rule, one friendly app name."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import regex
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oxytrack.categories.models import MAX_PATTERN, AppName, Category
from oxytrack.categories.names import app_key
from oxytrack.categories.patterns import check_speed, compile_pattern
from oxytrack.web.pattern_errors import describe_error

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _clean_label(value: str) -> str:
    """A name typed by the super-admin, without invisible or direction characters.

    Names end up in chart legends and exports, where a bidi override would
    reorder what follows and a control character would break a CSV row.
    """
    value = value.strip()
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise forms.ValidationError(
            _("Le nom contient des caractères invisibles ou de contrôle de direction.")
        )
    return value


class CategoryForm(forms.ModelForm):
    """A rule: name, colour, patterns. The order is changed on the list page."""

    class Meta:
        model = Category
        fields = ("name", "colour", "app_pattern", "title_pattern", "case_sensitive")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}
        help_texts = {
            "app_pattern": _(
                "Expression régulière sur le nom de l'application (WINWORD.EXE, "
                "com.microsoft.Word, firefox…). Vide : toute application."
            ),
            "title_pattern": _(
                "Expression régulière sur le titre de la fenêtre. Vide : tout titre. "
                "Si les deux sont remplies, les deux doivent correspondre."
            ),
            "case_sensitive": _("Sinon, majuscules et minuscules sont confondues."),
        }

    def clean_name(self) -> str:
        name = _clean_label(self.cleaned_data["name"])
        others = Category.objects.exclude(pk=self.instance.pk)
        if name and others.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("Une catégorie porte déjà ce nom."))
        return name

    def clean_colour(self) -> str:
        colour = str(self.cleaned_data["colour"]).strip()
        if not _COLOUR.fullmatch(colour):
            raise forms.ValidationError(_("Une couleur s'écrit #rrvvbb, par exemple #1f77b4."))
        return colour.lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        case_sensitive = bool(data.get("case_sensitive"))
        for field in ("app_pattern", "title_pattern"):
            pattern = data.get(field)
            if not pattern:
                continue
            try:
                compiled = compile_pattern(pattern, case_sensitive=case_sensitive)
            except regex.error as error:
                self.add_error(
                    field,
                    gettext("Expression invalide : %(error)s") % {"error": describe_error(error)},
                )
                continue
            if not check_speed(compiled):
                self.add_error(
                    field,
                    gettext(
                        "Cette expression prend trop de temps sur un titre long "
                        "(retour arrière catastrophique) : simplifiez-la."
                    ),
                )
        if (
            "app_pattern" not in self.errors
            and "title_pattern" not in self.errors
            and not data.get("app_pattern")
            and not data.get("title_pattern")
        ):
            raise forms.ValidationError(
                _("Indiquez une expression sur l'application, sur le titre, ou les deux.")
            )
        return data


class AppNameForm(forms.ModelForm):
    """A friendly name for an application as the agents report it."""

    class Meta:
        model = AppName
        fields = ("app", "name")
        help_texts = {
            "app": _(
                "Tel que l'agent l'envoie : ms-teams.exe, com.microsoft.Word, firefox… "
                "Majuscules et « .exe » final sont ignorés."
            ),
        }

    def clean_app(self) -> str:
        key = app_key(_clean_label(self.cleaned_data["app"]))
        if not key:
            raise forms.ValidationError(_("Ce champ est obligatoire."))
        if AppName.objects.exclude(pk=self.instance.pk).filter(app=key).exists():
            raise forms.ValidationError(_("Cette application a déjà un nom."))
        return key

    def clean_name(self) -> str:
        return _clean_label(self.cleaned_data["name"])


class PreviewForm(forms.Form):
    """What the rule form's preview reads (the form's own fields, unsaved)."""

    app_pattern = forms.CharField(required=False, max_length=MAX_PATTERN)
    title_pattern = forms.CharField(required=False, max_length=MAX_PATTERN)
    case_sensitive = forms.BooleanField(required=False)
