"""POST enroll and GET choices: the enrollment key, employees, devices, tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Entry
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import BASE, batch, consecutive, post_batch
from oxytrack.org.actions import do_create_employee, do_rotate_enrollment_key, get_enrollment_key
from oxytrack.org.models import Device, Employee
from oxytrack.org.tokens import TOKEN_PREFIX, hash_device_token


def enroll(client: Client, key: str | None, **fields: Any) -> Any:
    body = {
        "username": "jdupont",
        "domain": "CORP",
        "hostname": "PC-NICE-42",
        "os": "Windows 11 23H2",
        "agent_version": "0.1.0",
        "time_zone": "Europe/Paris",
        "local_ips": ["192.168.1.20"],
    }
    body.update(fields)
    headers = {"X-Enrollment-Key": key} if key is not None else {}
    return client.post(
        f"{BASE}/enroll", json.dumps(body), content_type="application/json", headers=headers
    )


def snapshot() -> tuple[int, int, int]:
    return Employee.objects.count(), Device.objects.count(), Entry.objects.count()


@pytest.fixture
def key(org: Org) -> str:
    return get_enrollment_key()


def test_choices_lists_agencies_and_services(client: Client, key: str) -> None:
    response = client.get(f"{BASE}/choices", headers={"X-Enrollment-Key": key})
    assert response.status_code == 200
    assert response.json() == {
        "agencies": ["Fort-de-France", "Marseille", "Nice"],
        "services": ["Facturation", "Logistique"],
    }


@pytest.mark.parametrize("header", [None, "", "oxe_wrong", "x" * 500])
def test_choices_and_enroll_refuse_a_missing_or_wrong_key(
    client: Client, key: str, header: str | None
) -> None:
    headers = {"X-Enrollment-Key": header} if header is not None else {}
    response = client.get(f"{BASE}/choices", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    before = snapshot()
    response = enroll(client, header)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert snapshot() == before


def test_first_contact_creates_employee_and_device(client: Client, key: str, org: Org) -> None:
    response = enroll(client, key, agency="Nice", service="Facturation")
    assert response.status_code == 201
    reply = response.json()
    token = reply["device_token"]
    # ≥ 32 random bytes behind a recognisable prefix, stored only as a hash.
    assert token.startswith(TOKEN_PREFIX) and len(token) >= len(TOKEN_PREFIX) + 43
    device = Device.objects.get(public_id=reply["device_id"])
    assert device.token_hash == hash_device_token(token)
    assert token not in json.dumps(list(Device.objects.values()), default=str)
    assert device.hostname == "PC-NICE-42"
    assert device.time_zone == "Europe/Paris"
    assert device.local_ips == ["192.168.1.20"]
    assert device.last_ip == "127.0.0.1"
    assert device.last_seen_at is not None
    employee = device.employee
    assert (employee.domain, employee.username) == ("CORP", "jdupont")
    assert (employee.agency, employee.service) == (org.nice, org.facturation)
    assert reply["policy"]["version"] and reply["policy"]["titles"] == "full"
    # The new token works at once.
    assert (
        client.get(f"{BASE}/policy", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_employee_is_matched_case_insensitively(client: Client, key: str, org: Org) -> None:
    existing = org.employees["nice_facturation"]  # CORP\nice_facturation
    response = enroll(client, key, username="NICE_Facturation", domain="corp", hostname="PC-X")
    assert response.status_code == 201
    assert Device.objects.get(public_id=response.json()["device_id"]).employee == existing
    assert Employee.objects.filter(username__iexact="nice_facturation").count() == 1


def test_re_enrolling_a_device_revokes_its_old_token(
    client: Client, key: str, enrolled_device: EnrolledDevice
) -> None:
    old = enrolled_device.token
    employee = enrolled_device.device.employee
    response = enroll(client, key, username=employee.username, domain="corp", hostname="pc-nice-01")
    assert response.status_code == 201
    new = response.json()["device_token"]
    assert new != old
    assert Device.objects.filter(employee=employee).count() == 1
    assert response.json()["device_id"] == str(enrolled_device.device.public_id)
    assert (
        client.get(f"{BASE}/policy", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    )
    assert (
        client.get(f"{BASE}/policy", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    )


def test_a_second_machine_is_a_second_device(client: Client, key: str, org: Org) -> None:
    first = enroll(client, key, hostname="PC-A").json()
    second = enroll(client, key, hostname="PC-B").json()
    assert first["device_id"] != second["device_id"]
    both = Device.objects.filter(public_id__in=[first["device_id"], second["device_id"]])
    assert {d.employee_id for d in both} == {both[0].employee_id}


def test_agency_is_set_when_the_employee_has_none(client: Client, key: str, org: Org) -> None:
    nowhere = org.employees["nowhere"]
    response = enroll(client, key, username="nowhere", domain="", agency="Marseille")
    assert response.status_code == 201
    nowhere.refresh_from_db()
    assert nowhere.agency == org.marseille and nowhere.service is None


def test_the_same_agency_and_service_again_are_fine(client: Client, key: str, org: Org) -> None:
    response = enroll(
        client, key, username="nice_facturation", agency="nice", service="FACTURATION"
    )
    assert response.status_code == 201


def test_a_different_agency_is_refused_with_a_transfer_hint(
    client: Client, key: str, org: Org
) -> None:
    before = snapshot()
    response = enroll(client, key, username="nice_facturation", agency="Marseille")
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "already_assigned"
    # French first (the UI is French), then English.
    assert error["message"].startswith("Cet utilisateur est déjà rattaché")
    assert "super-administrateur" in error["message"]
    assert "super-administrator for a transfer" in error["message"]
    assert snapshot() == before
    employee = org.employees["nice_facturation"]
    employee.refresh_from_db()
    assert employee.agency == org.nice


def test_a_different_service_is_refused(client: Client, key: str, org: Org) -> None:
    response = enroll(client, key, username="nice_facturation", service="Logistique")
    assert response.status_code == 409
    assert response.json()["code"] == "already_assigned"


@pytest.mark.parametrize(
    ("field", "code", "listed"),
    [
        ("agency", "unknown_agency", "Fort-de-France, Marseille, Nice"),
        ("service", "unknown_service", "Facturation, Logistique"),
    ],
)
def test_unknown_agency_or_service_lists_the_valid_ones(
    client: Client, key: str, field: str, code: str, listed: str
) -> None:
    before = snapshot()
    response = enroll(client, key, username="newcomer", **{field: "Atlantis"})
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert listed in response.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"time_zone": "Mars/Olympus"}, "invalid_time_zone"),
        ({"username": ""}, "invalid_field"),
        ({"hostname": "PC\x00-1"}, "invalid_field"),
        ({"username": "u" * 151}, "invalid_field"),
        ({"local_ips": ["not-an-ip"]}, "invalid_field"),
        ({"time_zone": None}, "invalid_field"),
    ],
)
def test_invalid_fields_are_422_and_write_nothing(
    client: Client, key: str, fields: dict[str, Any], code: str
) -> None:
    before = snapshot()
    response = enroll(client, key, **fields)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert snapshot() == before


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"hello"', b"\xff\xfe"])
def test_malformed_bodies_are_400(client: Client, key: str, body: bytes) -> None:
    before = snapshot()
    response = client.post(
        f"{BASE}/enroll", body, content_type="application/json", headers={"X-Enrollment-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert snapshot() == before


def test_a_rotated_key_refuses_the_old_one(client: Client, key: str) -> None:
    new = do_rotate_enrollment_key(actor=None)
    assert enroll(client, key).status_code == 401
    assert enroll(client, new).status_code == 201


def test_enrolled_devices_survive_a_key_rotation(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    do_rotate_enrollment_key(actor=None)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    response = post_batch(client, enrolled_device.token, batch(consecutive(start, 2)))
    assert response.status_code == 200


def test_without_a_display_name_the_employee_has_none(client: Client, key: str) -> None:
    reply = enroll(client, key).json()
    employee = Device.objects.get(public_id=reply["device_id"]).employee
    assert employee.display_name == ""
    assert str(employee) == "CORP\\jdupont"  # pages show the login


def test_the_agents_display_name_names_a_new_employee(client: Client, key: str) -> None:
    reply = enroll(client, key, display_name="  Jean \u202eDupont\u2069\x07 ").json()
    employee = Device.objects.get(public_id=reply["device_id"]).employee
    # Bidi and control characters removed: nothing can reorder the page around it.
    assert employee.display_name == "Jean Dupont"
    assert not employee.display_name_locked
    assert str(employee) == "Jean Dupont"


def test_re_enrollment_follows_the_os_name_until_the_superadmin_edits_it(
    client: Client, key: str, superadmin: User
) -> None:
    enroll(client, key, display_name="Jean Dupont")
    enroll(client, key, display_name="Jean Dupont-Moreau", hostname="PC-NICE-43")
    employee = Employee.objects.get(username="jdupont")
    assert employee.display_name == "Jean Dupont-Moreau"
    # Absent or empty: the agent knows no name, the one we have stays.
    enroll(client, key)
    enroll(client, key, display_name="\u202e ")
    employee.refresh_from_db()
    assert employee.display_name == "Jean Dupont-Moreau"

    manager = Client()
    manager.force_login(superadmin)
    url = reverse("org:employee_rename", args=[employee.public_id])
    assert manager.post(url, {"display_name": "Jean D. (compta)"}).status_code == 302
    for name in ("Jean Dupont", "Someone Else"):
        assert enroll(client, key, display_name=name).status_code == 201
    employee.refresh_from_db()
    assert employee.display_name == "Jean D. (compta)"
    assert employee.display_name_locked


def test_a_name_typed_at_creation_is_kept_by_enrollment(
    client: Client, key: str, superadmin: User
) -> None:
    do_create_employee(
        username="jdupont",
        domain="CORP",
        display_name="Jean Dupont",
        agency=None,
        service=None,
        actor=superadmin,
    )
    assert enroll(client, key, display_name="DUPONT Jean (ext)").status_code == 201
    assert Employee.objects.get(username="jdupont").display_name == "Jean Dupont"


def test_a_display_name_over_200_characters_is_refused(client: Client, key: str) -> None:
    before = snapshot()
    response = enroll(client, key, display_name="x" * 201)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_field"
    assert "display_name" in response.json()["message"]
    assert snapshot() == before
    # What the agent sends: cleaned, then cut at 200.
    assert enroll(client, key, display_name="x" * 200 + "\u202e").status_code == 201
