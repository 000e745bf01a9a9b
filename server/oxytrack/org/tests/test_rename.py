"""The super-admin edits the name pages show; agents never change it afterwards."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.ingest.tests.payloads import BASE
from oxytrack.org.actions import do_rename_employee, get_enrollment_key
from oxytrack.org.models import Employee


@pytest.fixture
def enrolled(client: Client, org: Org) -> Employee:
    """An employee as production creates them: by their agent, without a name."""
    response = client.post(
        f"{BASE}/enroll",
        json.dumps(
            {
                "username": "jdupont",
                "domain": "CORP",
                "hostname": "PC-NICE-42",
                "time_zone": "Europe/Paris",
                "agency": "Nice",
                "service": "Facturation",
            }
        ),
        content_type="application/json",
        headers={"X-Enrollment-Key": get_enrollment_key()},
    )
    assert response.status_code == 201
    return Employee.objects.get(username="jdupont")


def _heading(page: str) -> str:
    """The page's <h1> as text (agent text sits in <bdi> inside it)."""
    found = re.search(r"<h1>(.*?)</h1>", page, flags=re.S)
    assert found, page
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _url(employee: Employee) -> str:
    return reverse("org:employee_rename", args=[employee.public_id])


def test_the_employee_page_links_to_the_form_for_the_superadmin_only(
    client: Client, superadmin: User, bob: User, enrolled: Employee
) -> None:
    page = reverse("dashboard:employee", args=[enrolled.public_id])
    client.force_login(superadmin)
    assert _url(enrolled) in client.get(page).content.decode()
    client.force_login(bob)
    response = client.get(page)
    assert response.status_code == 200
    assert _url(enrolled) not in response.content.decode()


def test_the_superadmin_names_an_enrolled_employee(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(superadmin)
    form = client.get(_url(enrolled))
    assert form.status_code == 200
    assert "CORP\\jdupont" in form.content.decode()
    response = client.post(_url(enrolled), {"display_name": "  Jean Dupont "}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "dashboard:employee", args=[enrolled.public_id]
    )
    page = response.content.decode()
    assert _heading(page) == "Jean Dupont"
    assert "Nom de « CORP\\jdupont » enregistré." in page
    enrolled.refresh_from_db()
    assert (enrolled.display_name, enrolled.display_name_locked) == ("Jean Dupont", True)
    entry = Entry.objects.get(action=Action.RENAME_EMPLOYEE)
    assert entry.actor == superadmin
    assert entry.target_id == str(enrolled.public_id)
    assert entry.detail == {"from": "", "to": "Jean Dupont"}
    assert entry.ip == "127.0.0.1"


def test_an_empty_name_shows_the_login_again(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    do_rename_employee(enrolled, "Jean Dupont", actor=superadmin)
    client.force_login(superadmin)
    response = client.post(_url(enrolled), {"display_name": ""}, follow=True)
    assert _heading(response.content.decode()) == "CORP\\jdupont"
    enrolled.refresh_from_db()
    assert enrolled.display_name == "" and enrolled.display_name_locked


def test_bidi_and_control_characters_are_removed(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(superadmin)
    client.post(_url(enrolled), {"display_name": "\u202eJean\u2066 Dupont\x1b\u200f"})
    enrolled.refresh_from_db()
    assert enrolled.display_name == "Jean Dupont"


def test_html_in_a_name_is_shown_as_text(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(superadmin)
    response = client.post(_url(enrolled), {"display_name": "<b>Jean</b>"}, follow=True)
    page = response.content.decode()
    assert "<b>Jean</b>" not in page and "&lt;b&gt;Jean&lt;/b&gt;" in page


def test_a_name_over_200_characters_is_refused_readably(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(superadmin)
    response = client.post(_url(enrolled), {"display_name": "x" * 201})
    assert response.status_code == 200
    assert "au plus 200 caractères (actuellement 201)" in response.content.decode()
    enrolled.refresh_from_db()
    assert enrolled.display_name == "" and not enrolled.display_name_locked
    assert not Entry.objects.filter(action=Action.RENAME_EMPLOYEE).exists()


def test_the_error_is_in_english_for_an_english_session(
    client: Client, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(superadmin)
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(_url(enrolled), {"display_name": "x" * 201})
    page = response.content.decode()
    assert "at most 200 characters (it has 201)" in page
    assert "Display name" in page
    assert "no longer updated by the agent" in page


def test_an_admin_in_scope_gets_403_and_nothing_changes(
    client: Client, bob: User, enrolled: Employee
) -> None:
    client.force_login(bob)  # Nice, all services: jdupont is in scope
    assert client.get(_url(enrolled)).status_code == 403
    assert client.post(_url(enrolled), {"display_name": "Pirate"}).status_code == 403
    enrolled.refresh_from_db()
    assert enrolled.display_name == ""


def test_out_of_scope_and_missing_are_404(
    client: Client, carol: User, superadmin: User, enrolled: Employee
) -> None:
    client.force_login(carol)  # Fort-de-France only
    assert client.post(_url(enrolled), {"display_name": "Pirate"}).status_code == 404
    client.force_login(superadmin)
    missing = reverse("org:employee_rename", args=[uuid.uuid4()])
    assert client.post(missing, {"display_name": "x"}).status_code == 404
    enrolled.refresh_from_db()
    assert enrolled.display_name == ""


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(
    client: Client, superadmin: User, enrolled: Employee, method: str
) -> None:
    client.force_login(superadmin)
    assert getattr(client, method)(_url(enrolled)).status_code == 405


def test_the_form_needs_its_csrf_token(superadmin: User, enrolled: Employee) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    assert client.post(_url(enrolled), {"display_name": "Jean Dupont"}).status_code == 403
    enrolled.refresh_from_db()
    assert enrolled.display_name == "" and not enrolled.display_name_locked
    assert not Entry.objects.filter(action=Action.RENAME_EMPLOYEE).exists()


def test_a_login_with_bidi_controls_cannot_spoof_the_form(
    client: Client, superadmin: User, org: Org
) -> None:
    # Enrollment refuses control characters in logins, not bidi controls.
    employee = Employee.objects.create(username="\u202eevil", domain="CORP", agency=org.nice)
    client.force_login(superadmin)
    page = client.get(_url(employee)).content.decode()
    title = re.search(r"<title>(.*?)</title>", page, flags=re.S)
    assert title and "\u202e" not in title.group(1)
    # Elsewhere it only appears isolated in a <bdi>, which ends its effect.
    outside = re.sub(r"<bdi>.*?</bdi>", "", page, flags=re.S)
    assert "\u202e" not in outside
    assert "<bdi>" in page
