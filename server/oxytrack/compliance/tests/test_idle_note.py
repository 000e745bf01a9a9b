"""Next to the idle figures, the employee page says what idle means, at the employee's threshold."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.conftest import Org
from oxytrack.policy.models import PolicyOverride


def _note(client: Client, org: Org, **headers: str) -> str:
    employee = org.employees["nice_facturation"]
    html = client.get(
        reverse("dashboard:employee", args=[employee.public_id]), headers=headers
    ).content.decode()
    start = html.index('id="idle-note"')
    return html[start : html.index("</p>", start)]


def test_the_employee_page_explains_idle_with_the_policy_threshold(
    client: Client, org: Org, alice: User
) -> None:
    client.force_login(alice)
    note = _note(client, org)
    assert "Inactif : aucune saisie clavier ou souris depuis 3 minutes" in note
    assert "ce n&#x27;est pas du temps non travaillé (lecture, téléphone, réunion)" in note

    # The service's own threshold is the one this employee's agent applies.
    PolicyOverride.objects.create(service=org.facturation, idle_threshold_s=60)
    assert "depuis 1 minute ;" in _note(client, org)
    PolicyOverride.objects.filter(service=org.facturation).update(idle_threshold_s=90)
    assert "depuis 1,5 minutes" in _note(client, org)


def test_the_explanation_in_english(client: Client, org: Org, alice: User) -> None:
    client.force_login(alice)
    note = _note(client, org, accept_language="en")
    assert "Idle: no keyboard or mouse input for 3 minutes" in note
    assert "this does not mean time not worked (reading, phone calls, meetings)" in note
