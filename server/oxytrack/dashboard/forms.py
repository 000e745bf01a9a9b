"""Forms of the dashboard pages: search and the date range."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from oxytrack.accounts.models import User
from oxytrack.dashboard.queries import SearchCriteria
from oxytrack.org.models import Agency, Service
from oxytrack.org.queries import org_choices_for

# Longest range one request may ask for: a year of rollups stays a fast read.
MAX_RANGE_DAYS = 366


class SearchForm(forms.Form):
    """Search by name, IP, machine, agency and service; the lists hold only my scopes."""

    name = forms.CharField(label=_("Nom"), required=False, max_length=100)
    ip = forms.CharField(label=_("Adresse IP"), required=False, max_length=45)
    machine = forms.CharField(label=_("Machine"), required=False, max_length=100)
    agency = forms.ModelChoiceField(
        label=_("Agence"), queryset=Agency.objects.none(), required=False, empty_label=_("Toutes")
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("Tous")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = org_choices_for(user)
        # Querysets limited to the scopes: an agency outside them is "not a valid choice".
        agency_field = cast(forms.ModelChoiceField, self.fields["agency"])
        service_field = cast(forms.ModelChoiceField, self.fields["service"])
        agency_field.queryset = Agency.objects.filter(pk__in=[a.pk for a in choices.agencies])
        service_field.queryset = Service.objects.filter(pk__in=[s.pk for s in choices.services])

    def criteria(self) -> SearchCriteria:
        """The validated criteria (call after is_valid())."""
        data = self.cleaned_data
        return SearchCriteria(
            name=data["name"].strip(),
            ip=data["ip"].strip(),
            machine=data["machine"].strip(),
            agency=data["agency"],
            service=data["service"],
        )


class RangeForm(forms.Form):
    """A date range (inclusive) and the day shown on the timeline."""

    start = forms.DateField(label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Au"), widget=forms.DateInput(attrs={"type": "date"}))
    day = forms.DateField(
        label=_("Jour de la frise"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(
                    _("La date de fin est antérieure à la date de début."), code="end_before_start"
                )
            if (end - start).days >= MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("La période ne peut pas dépasser %(days)d jours.") % {"days": MAX_RANGE_DAYS},
                    code="too_long",
                )
        return data


class TeamRangeForm(RangeForm):
    """The team overview's range: no timeline, so no day."""

    day = None  # type: ignore[assignment]


def shortcuts(today: date) -> list[tuple[str, date, date]]:
    """The range shortcuts: today, this week (from Monday), last 7 days, this month."""
    return [
        (str(_("Aujourd'hui")), today, today),
        (str(_("Cette semaine")), today - timedelta(days=today.weekday()), today),
        (str(_("7 derniers jours")), today - timedelta(days=6), today),
        (str(_("Ce mois-ci")), today.replace(day=1), today),
    ]
