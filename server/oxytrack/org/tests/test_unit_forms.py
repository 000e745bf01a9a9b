"""The organisation page's add forms refuse a name that exists in another case, accents included."""

from __future__ import annotations

import pytest

from oxytrack.org.forms import AgencyForm, ServiceForm
from oxytrack.org.models import Agency, Service

pytestmark = pytest.mark.django_db


def test_agency_in_another_case_is_refused_accents_included() -> None:
    # SQL lower() on SQLite folds ASCII only: "ÎLE" would pass an iexact check.
    Agency.objects.create(name="Île-de-France", time_zone="Europe/Paris")
    form = AgencyForm({"name": "  ÎLE-DE-FRANCE ", "time_zone": "Europe/Paris"})
    assert not form.is_valid()
    assert form.errors["name"] == ["Cette agence existe déjà."]


def test_new_agency_name_is_accepted_trimmed() -> None:
    Agency.objects.create(name="Île-de-France", time_zone="Europe/Paris")
    form = AgencyForm({"name": "  Étampes ", "time_zone": "Europe/Paris"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Étampes"


def test_service_in_another_case_is_refused_accents_included() -> None:
    Service.objects.create(name="Éducation")
    form = ServiceForm({"name": "ÉDUCATION"})
    assert not form.is_valid()
    assert form.errors["name"] == ["Ce service existe déjà."]
