"""Forms of the dashboard pages: search (the date range is `oxytrack.web.forms`)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from oxytrack.accounts.models import User
from oxytrack.dashboard.queries import SearchCriteria
from oxytrack.org.models import Agency, Service
from oxytrack.org.queries import org_choices_for


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
