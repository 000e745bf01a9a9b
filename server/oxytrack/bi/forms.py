"""The form that creates a personal access token."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oxytrack.bi.models import NAME_MAX

# A choice of lifetimes rather than a date: nothing to mistype, and a
# token that lives forever is a choice made on purpose, not a blank field.
LIFETIMES = (
    ("30", _("30 jours")),
    ("90", _("90 jours")),
    ("365", _("1 an")),
    ("never", _("Jamais (à révoquer à la main)")),
)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=NAME_MAX,
        help_text=_("Pour le reconnaître : l'outil ou le rapport qui s'en sert."),
        error_messages={"required": _("Donnez un nom au jeton.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    lifetime = forms.ChoiceField(label=_("Expiration"), choices=LIFETIMES, initial="90")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Donnez un nom au jeton."), code="required")
        return name

    def expires_at(self, now: datetime | None = None) -> datetime | None:
        """When the token stops working (None: never), from the chosen lifetime."""
        lifetime = self.cleaned_data["lifetime"]
        if lifetime == "never":
            return None
        return (now or timezone.now()) + timedelta(days=int(lifetime))
