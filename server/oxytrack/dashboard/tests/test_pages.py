"""The dashboard pages: home, search, employee detail, export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.dashboard.tests.conftest import Activity
from oxytrack.org.models import Device, Employee


def test_home_shows_only_my_scopes(client: Client, alice: User, org: Org) -> None:
    client.force_login(alice)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nice Facturation" in body
    assert "Nice Logistique" not in body
    assert "Affichage de 1 à 1 sur 1 élément" in body


def test_home_shows_today_times_and_a_silence_badge(
    client: Client, superadmin: User, activity: Activity
) -> None:
    device = activity.device.device
    device.last_seen_at = timezone.now() - timedelta(days=3)
    device.save(update_fields=["last_seen_at"])
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": "nice_facturation"}).content.decode()
    assert "PC-NICE-01" in body
    assert "10.1.2.3" in body
    assert "silencieux" in body
    # Today: 1 h + 30 + 10 + 15 min active, 20 min idle.
    assert "1 h 55 min" in body
    assert "2 h 15 min" in body


def test_home_pages_and_sorts_in_sql_with_few_queries(
    client: Client,
    superadmin: User,
    org: Org,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    Employee.objects.bulk_create(
        [Employee(username=f"user{i:03d}", display_name=f"User {i:03d}") for i in range(120)]
    )
    for employee in Employee.objects.all()[:60]:
        Device.objects.create(employee=employee, hostname=f"PC-{employee.username}")
    client.force_login(superadmin)
    # Session, user, the second factor's device, the time zones in use, count, page,
    # devices…: constant.
    with django_assert_max_num_queries(10):
        response = client.get(
            reverse("dashboard:home"), {"per_page": "10", "page": "2", "sort": "-name"}
        )
    body = response.content.decode()
    assert "Affichage de 11 à 20 sur 128 éléments" in body
    assert "Précédent" in body and "Suivant" in body


def test_a_page_size_outside_the_list_falls_back(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"per_page": 100000}).content.decode()
    assert '<option value="25" selected>' in body


def test_the_htmx_table_request_gets_only_the_table(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    response = client.get(
        reverse("dashboard:home"),
        {"q": "zzz-nobody"},
        headers={"HX-Request": "true", "HX-Target": "employees-body"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith("{") is False
    assert "<html" not in body
    assert "Aucun élément trouvé" in body


@pytest.mark.parametrize("text", ["sueur", "SUEUR", "Sueur"])
def test_search_is_a_case_insensitive_substring(
    client: Client, superadmin: User, org: Org, text: str
) -> None:
    for username in ("tsueur", "sueurt", "TSUEURT", "martin"):
        Employee.objects.create(username=username, agency=org.nice)
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:search"), {"name": text}).content.decode()
    assert "sur 3 éléments" in body
    assert "martin" not in body


def test_search_by_ip_machine_agency_and_service(
    client: Client, bob: User, org: Org, activity: Activity
) -> None:
    client.force_login(bob)
    url = reverse("dashboard:search")
    cases: list[dict[str, Any]] = [
        {"ip": "10.1.2"},
        {"ip": "168.7.4"},
        {"machine": "pc-nice"},
        {"agency": org.nice.pk, "service": org.facturation.pk, "name": "facturation"},
    ]
    for params in cases:
        body = client.get(url, params).content.decode()
        assert "Nice Facturation" in body, params
        assert "sur 1 élément" in body, params


def test_search_refuses_an_agency_outside_my_scopes(client: Client, alice: User, org: Org) -> None:
    client.force_login(alice)
    response = client.get(reverse("dashboard:search"), {"agency": org.marseille.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in body
    assert "Marseille" not in body.split('id="employees"')[1]
    assert f'<option value="{org.marseille.pk}"' not in body


def test_detail_shows_totals_and_writes_an_audit_entry(
    client: Client, alice: User, org: Org, activity: Activity
) -> None:
    client.force_login(alice)
    employee = org.employees["nice_facturation"]
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse("dashboard:employee", args=[employee.public_id]), {"start": today, "end": today}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="total-active">1 h 55 min' in body
    assert 'id="total-idle">20 min' in body
    entry = Entry.objects.get(action=Action.VIEW_EMPLOYEE)
    assert entry.actor == alice
    assert entry.target_id == str(employee.public_id)
    assert entry.ip == "127.0.0.1"
    assert entry.detail == {"start": today, "end": today}


def test_hostile_titles_are_text_in_the_page_and_in_the_chart_data(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    body = client.get(
        reverse("dashboard:employee", args=[org.employees["nice_facturation"].public_id])
    ).content.decode()
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in body
    # json_script escapes <, > and & so the JSON cannot close its <script> element.
    assert "\\u003Cscript\\u003E" in body
    assert "😀" in body or "\\ud83d\\ude00" in body


def test_a_range_ending_before_it_starts_is_refused(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    url = reverse("dashboard:employee_activity", args=[org.employees["nice_facturation"].public_id])
    response = client.get(url, {"start": "2026-03-10", "end": "2026-03-01"})
    # A refused fragment is a 400 that htmx still shows (app.js).
    assert response.status_code == 400
    assert "La date de fin est antérieure à la date de début." in response.content.decode()
    assert not Entry.objects.filter(action=Action.VIEW_EMPLOYEE).exists()


def test_the_activity_part_follows_the_range(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    url = reverse("dashboard:employee_activity", args=[employee.public_id])
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    today = timezone.localdate().isoformat()
    one = client.get(url, {"start": today, "end": today}, headers={"HX-Request": "true"})
    two = client.get(url, {"start": yesterday, "end": today}, headers={"HX-Request": "true"})
    assert 'id="total-active">1 h 55 min' in one.content.decode()
    assert 'id="total-active">3 h 50 min' in two.content.decode()
    assert two["HX-Push-Url"].startswith(reverse("dashboard:employee", args=[employee.public_id]))
    assert "<html" not in two.content.decode()


def test_the_titles_table_pages_and_filters(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    url = reverse("dashboard:employee_titles", args=[org.employees["nice_facturation"].public_id])
    today = timezone.localdate().isoformat()
    body = client.get(
        url, {"start": today, "end": today, "q": "budget", "sort": "-active"}
    ).content.decode()
    assert "Budget 2026 - Excel" in body
    assert "sur 1 élément" in body
    assert "52,2\xa0%" in body  # 60 of 115 active minutes, French decimals


def test_export_is_csv_safe_and_audited(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    employee = org.employees["nice_facturation"]
    activity_title = '=HYPERLINK("http://evil")'
    from oxytrack.activity.rollups import add_to_rollups
    from oxytrack.activity.tests.factories import RawSpan, store_spans

    add_to_rollups(
        store_spans(
            activity.device.device, [RawSpan(activity.today_start, 1000, "x", activity_title)]
        )
    )
    client.force_login(superadmin)
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse("dashboard:employee_export", args=[employee.public_id]),
        {"start": today, "end": today},
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK" in text
    assert Entry.objects.filter(action=Action.EXPORT, target_id=str(employee.public_id)).exists()


@pytest.mark.parametrize("name", ["dashboard:home", "dashboard:search"])
def test_list_pages_refuse_post(client: Client, superadmin: User, name: str) -> None:
    client.force_login(superadmin)
    assert client.post(reverse(name)).status_code == 405


def test_detail_refuses_post(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    url = reverse("dashboard:employee", args=[org.employees["nice_facturation"].public_id])
    assert client.post(url).status_code == 405


def test_pages_send_a_strict_csp(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    response = client.get(reverse("dashboard:home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_english_is_complete_on_the_home_page(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), headers={"Accept-Language": "en"}).content.decode()
    assert "Showing 1 to" in body
    assert "Affichage" not in body
    assert "Previous" not in body or "Précédent" not in body


def test_french_is_the_default(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home")).content.decode()
    assert "Affichage de 1 à" in body
