"""Working hours and the private pause in the policy: form, list, what agents receive."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import BASE
from oxytrack.policy.models import PolicyOverride
from oxytrack.policy.queries import effective_policy

WEEKDAYS = {
    f"schedule_{d}": "08:00-12:30, 13:30-18:00" for d in ("mon", "tue", "wed", "thu", "fri")
}


def save(client: Client, data: dict[str, Any], url: str | None = None) -> Any:
    return client.post(url or reverse("policy:edit_global"), data)


def test_hours_and_pause_are_saved_and_sent_to_agents(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice
) -> None:
    client.force_login(superadmin)
    response = save(
        client,
        {
            "schedule": "hours",
            **WEEKDAYS,
            "schedule_sat": "09:00 à 12:00",
            "schedule_holidays": "fr-alsace-moselle",
            "pause_max_minutes_per_day": "30",
        },
    )
    assert response.status_code == 302, response.content.decode()
    reply = client.get(
        f"{BASE}/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    ).json()
    # A weekday off is null (or absent) on the wire.
    assert {k: v for k, v in reply["schedule"].items() if v is not None} == {
        **{
            d: [["08:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
        "sat": [["09:00", "12:00"]],
        "holidays": "fr-alsace-moselle",
    }
    assert reply["pause_max_minutes_per_day"] == 30
    # The list shows both, in words.
    page = client.get(reverse("policy:list")).content.decode()
    assert "Lundi 08:00-12:30, 13:30-18:00" in page
    assert "Alsace-Moselle" in page
    assert "Pause privée par jour (minutes) = 30" in page
    # The edit page shows what is stored.
    edit = client.get(reverse("policy:edit_global")).content.decode()
    assert 'value="09:00-12:00"' in edit


@pytest.mark.parametrize(
    ("day", "error"),
    [
        ("12:00-09:00", "la fin vient avant le début"),
        ("08:00-12:00, 11:00-14:00", "08:00-12:00 et 11:00-14:00 se chevauchent"),
        ("8h-12h", "n&#x27;est pas une heure"),
        ("25:00-26:00", "n&#x27;est pas une heure"),
        ("le matin", "écrivez début-fin"),
    ],
)
def test_bad_hours_get_a_readable_error_and_change_nothing(
    client: Client, superadmin: User, day: str, error: str
) -> None:
    client.force_login(superadmin)
    response = save(client, {"schedule": "hours", "schedule_mon": day})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not PolicyOverride.objects.exists()


def test_hours_without_any_range_are_refused(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    response = save(client, {"schedule": "hours"})
    assert "au moins une plage horaire" in response.content.decode()
    assert not PolicyOverride.objects.exists()


def test_pause_maximum_is_bounded(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert save(client, {"pause_max_minutes_per_day": "-1"}).status_code == 200
    assert save(client, {"pause_max_minutes_per_day": "100000"}).status_code == 200
    assert not PolicyOverride.objects.exists()
    assert save(client, {"pause_max_minutes_per_day": "0"}).status_code == 302
    assert effective_policy(None, None)["pause_max_minutes_per_day"] == 0


def test_a_service_can_lift_its_agencys_hours(org: Org) -> None:
    hours = {"mon": [["08:00", "18:00"]], "holidays": "fr"}
    PolicyOverride.objects.create(agency=org.nice, schedule=hours)
    PolicyOverride.objects.create(service=org.facturation, schedule="always")
    assert effective_policy(org.nice, org.logistique)["schedule"] == hours
    assert effective_policy(org.nice, org.facturation)["schedule"] is None
    assert effective_policy(None, None)["schedule"] is None  # the default: any hour


def test_only_the_superadmin_changes_hours(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = save(client, {"schedule": "hours", **WEEKDAYS})
    assert response.status_code in (403, 404)
    assert not PolicyOverride.objects.exists()
