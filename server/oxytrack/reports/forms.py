from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ReportPreferenceForm(forms.Form):
    weekly = forms.BooleanField(label=_("Recevoir l'e-mail hebdomadaire"), required=False)
    language = forms.ChoiceField(
        label=_("Langue de l'e-mail"),
        required=False,
        choices=[("", _("Langue du site")), *settings.LANGUAGES],
    )
