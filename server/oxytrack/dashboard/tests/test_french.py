"""French done properly: accent-blind search, French name order, local numbers and times.

Employees come from enrollment through the agent API (the production path):
some with the name the agent read from the OS, some with none (login only).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.conftest import Org
from oxytrack.dashboard.queries import SearchCriteria, employee_list
from oxytrack.ingest.tests.payloads import BASE
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Agency, Device, Employee

NBSP = "\xa0"
MARTINIQUE = ZoneInfo("America/Martinique")


def enroll(client: Client, username: str, **fields: Any) -> Employee:
    body = {
        "username": username,
        "domain": "CORP",
        "hostname": f"PC-{username[:20]}",
        "os": "Windows 11",
        "agent_version": "0.1.0",
        "time_zone": "Europe/Paris",
        "agency": "Nice",
        "service": "Facturation",
        **fields,
    }
    response = client.post(
        f"{BASE}/enroll",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Enrollment-Key": get_enrollment_key()},
    )
    assert response.status_code == 201, response.content
    return Device.objects.get(public_id=response.json()["device_id"]).employee


@pytest.fixture
def people(client: Client, org: Org) -> dict[str, Employee]:
    agent = Client()
    return {
        "frederic_named": enroll(agent, "fmartin", display_name="Frédéric Martin"),
        "frederic_login": enroll(agent, "frederic.leroy"),  # no display name
        "cedric": enroll(agent, "cdupont", display_name="Cédric Dupont"),
        "christophe": enroll(agent, "cblanc", display_name="Christophe Blanc"),
        "emile": enroll(agent, "ezola", display_name="Émile Zola"),
        "eric": enroll(agent, "edurand", display_name="eric Durand"),
    }


def names_in(body: str, people: dict[str, Employee]) -> set[str]:
    return {key for key, e in people.items() if f"/employees/{e.public_id}/" in body}


@pytest.mark.parametrize("text", ["frederic", "FRÉDÉRIC", "Frédéric", "fre", "FrÉdÉrIc"])
def test_the_live_filter_ignores_accents_and_case(
    client: Client, superadmin: User, people: dict[str, Employee], text: str
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": text}).content.decode()
    assert names_in(body, people) == {"frederic_named", "frederic_login"}


@pytest.mark.parametrize("text", ["frederic", "FRÉDÉRIC", "Frédéric", "fre"])
def test_the_search_form_name_ignores_accents_and_case(
    client: Client, superadmin: User, people: dict[str, Employee], text: str
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:search"), {"name": text}).content.decode()
    assert names_in(body, people) == {"frederic_named", "frederic_login"}


def test_a_login_is_found_with_its_domain_in_any_case(
    superadmin: User, people: dict[str, Employee]
) -> None:
    found = employee_list(superadmin, now=timezone.now(), text="corp\\FRÉDÉRIC.LEROY")
    assert list(found) == [people["frederic_login"]]
    criteria = SearchCriteria(name="Leroy")
    assert list(employee_list(superadmin, now=timezone.now(), criteria=criteria)) == [
        people["frederic_login"]
    ]


def test_agency_names_are_found_without_their_accents(
    superadmin: User, people: dict[str, Employee], org: Org
) -> None:
    Agency.objects.create(name="Orléans", time_zone="Europe/Paris")
    Employee.objects.create(username="oz", agency=Agency.objects.get(name="Orléans"))
    found = employee_list(superadmin, now=timezone.now(), text="ORLEANS")
    assert [e.username for e in found] == ["oz"]


def test_a_renamed_employee_is_found_by_the_new_name(
    superadmin: User, people: dict[str, Employee]
) -> None:
    employee = people["eric"]
    employee.display_name = "Éloïse Durand"
    employee.save(update_fields=["display_name"])
    assert list(employee_list(superadmin, now=timezone.now(), text="eloise")) == [employee]


def test_the_home_table_sorts_names_in_french_order(
    client: Client, superadmin: User, people: dict[str, Employee]
) -> None:
    client.force_login(superadmin)
    wanted = ["cedric", "christophe", "emile", "eric", "frederic_named"]
    for sort in ("", "name"):
        body = client.get(reverse("dashboard:home"), {"per_page": "100", "sort": sort}).content
        positions = [body.decode().index(str(people[k].public_id)) for k in wanted]
        assert positions == sorted(positions), sort
    body = client.get(reverse("dashboard:home"), {"per_page": "100", "sort": "-name"}).content
    positions = [body.decode().index(str(people[k].public_id)) for k in wanted]
    assert positions == sorted(positions, reverse=True)


def test_agencies_are_listed_in_french_order(client: Client, superadmin: User, org: Org) -> None:
    Agency.objects.create(name="Évry", time_zone="Europe/Paris")
    Agency.objects.create(name="Zurich", time_zone="Europe/Zurich")
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:search")).content.decode()
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", body)
    agencies = [o for o in options if o in {"Évry", "Fort-de-France", "Marseille", "Zurich"}]
    assert agencies == ["Évry", "Fort-de-France", "Marseille", "Zurich"]


@pytest.fixture
def many(org: Org) -> None:
    # bulk_create, as the demo seeder: the folded columns are filled there too.
    Employee.objects.bulk_create(
        [Employee(username=f"u{i:04d}", display_name=f"Élève {i:04d}") for i in range(1200)]
    )


def test_counts_are_grouped_in_french(client: Client, superadmin: User, many: None) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": "eleve"}).content.decode()
    assert f"Affichage de 1 à 25 sur 1{NBSP}200 éléments" in body


def test_counts_are_grouped_in_english(client: Client, superadmin: User, many: None) -> None:
    client.force_login(superadmin)
    body = client.get(
        reverse("dashboard:home"), {"q": "ÉLÈVE"}, headers={"Accept-Language": "en"}
    ).content.decode()
    assert "Showing 1 to 25 of 1,200 entries" in body


@pytest.fixture
def overseas(org: Org) -> tuple[Employee, datetime]:
    """A Fort-de-France employee enrolled from Martinique, seen at 14:02 their time."""
    employee = enroll(
        Client(),
        "mlouis",
        time_zone="America/Martinique",
        agency="Fort-de-France",
        service="Facturation",
    )
    device = employee.devices.get()
    seen = datetime.combine(timezone.now().astimezone(MARTINIQUE).date(), time(14, 2))
    seen = seen.replace(tzinfo=MARTINIQUE)
    if seen > timezone.now():
        seen -= timedelta(days=1)
    Device.objects.filter(pk=device.pk).update(last_seen_at=seen)
    spans = store_spans(
        device,
        [
            RawSpan(seen - timedelta(hours=5), 3_600_000, "EXCEL.EXE", "Budget", True, 61_234, 2),
            RawSpan(seen - timedelta(hours=4), 7_200_000, "chrome.exe", "Intranet", True),
        ],
    )
    add_to_rollups(spans)
    return employee, seen


def test_an_overseas_last_seen_is_on_their_clock_with_the_zone_named(
    client: Client, superadmin: User, overseas: tuple[Employee, datetime]
) -> None:
    _employee, seen = overseas
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": "mlouis"}).content.decode()
    local = seen.astimezone(MARTINIQUE).strftime("%d/%m/%Y %H:%M")
    assert local.endswith("14:02")
    assert f"{local} (America/Martinique, UTC\u221204:00)" in body
    paris = seen.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    assert paris not in body


def test_the_detail_page_is_on_the_employees_clock(
    client: Client, superadmin: User, overseas: tuple[Employee, datetime]
) -> None:
    employee, seen = overseas
    day = seen.astimezone(MARTINIQUE).date()
    client.force_login(superadmin)
    response = client.get(
        reverse("dashboard:employee", args=[employee.public_id]),
        {"start": day.isoformat(), "end": day.isoformat()},
    )
    body = response.content.decode()
    zone = "(America/Martinique, UTC\u221204:00)"
    # The device's last contact, and the first opening of Budget (09:02 their time).
    assert f"{seen.astimezone(MARTINIQUE):%d/%m/%Y} 14:02 {zone}" in body
    assert f"{seen.astimezone(MARTINIQUE):%d/%m/%Y} 09:02 {zone}" in body
    # The timeline is drawn on their clock, its axis named.
    data = response.context["chart_data"]
    assert [s[0][11:16] for s in data["timeline"]] == ["09:02", "10:02"]
    assert data["labels"]["zone"] == "heure de America/Martinique"
    # Keys grouped, the share with a no-break space before %.
    assert f"61{NBSP}234" in body
    assert f"33,3{NBSP}%" in body


def test_the_detail_page_in_english(
    client: Client, superadmin: User, overseas: tuple[Employee, datetime]
) -> None:
    employee, seen = overseas
    day = seen.astimezone(MARTINIQUE).date()
    client.force_login(superadmin)
    body = client.get(
        reverse("dashboard:employee", args=[employee.public_id]),
        {"start": day.isoformat(), "end": day.isoformat()},
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert "61,234" in body
    assert "33.3%" in body
    assert "(America/Martinique, UTC\u221204:00)" in body


def test_a_paris_employee_seen_by_a_paris_reader_has_no_zone_named(
    client: Client, superadmin: User, people: dict[str, Employee]
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": "cdupont"}).content.decode()
    assert "(Europe/Paris" not in body
    assert timezone.localtime().strftime("%d/%m/%Y") in body
