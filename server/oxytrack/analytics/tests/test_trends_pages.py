"""The trends pages: scopes (404), the dpo (404), bad weeks and teams (400 with a message),
the audit entries, the links from the detail and team pages."""

# The `activity` fixture is imported from the dashboard's conftest, then named as a test
# argument, which ruff reads as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.dashboard.tests.conftest import Activity, activity  # noqa: F401 (fixture)
from oxytrack.portal.tests.helpers import table_rows


def _trends_url(org: Org, key: str = "nice_facturation") -> str:
    return reverse("analytics:employee_trends", args=[org.employees[key].public_id])


def _chart(page: str) -> dict[str, Any]:
    match = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_an_employee_s_trends_show_this_week_s_categories_and_are_audited(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    response = client.get(_trends_url(org))
    assert response.status_code == 200
    page = response.content.decode()
    rows = {r[0]: r for r in table_rows(page, "trends")}
    # Today and yesterday (the fixture), each day 1 h 15 of office work and 40 min of web;
    # the last column is this week's, unless yesterday was last week.
    today = timezone.localdate()
    this_week = 2 if today.weekday() else 1
    assert rows["Bureautique"][12] == f"{this_week * 75 // 60} h {this_week * 75 % 60:02d} min"
    assert rows["Web"][12] == ("1 h 20 min" if this_week == 2 else "40 min")
    assert rows["Bureautique"][13] == "2 h 30 min"  # the last 4 weeks
    assert rows["Bureautique"][15] == "+2 h 30 min"  # nothing in the 4 before: no ratio
    assert list(rows)[-1] == "Total"
    chart = _chart(page)
    assert [c[0] for c in chart["categories"]] == ["Bureautique", "Web"]
    assert chart["categories"][0][1] == "#ff7f0e"
    assert len(chart["weeks"]) == 12
    entry = Entry.objects.get(action=Action.VIEW_EMPLOYEE)
    assert entry.actor == alice
    assert entry.target_id == str(org.employees["nice_facturation"].public_id)
    monday = today - timedelta(days=today.weekday())
    assert entry.detail == {
        "start": (monday - timedelta(weeks=11)).isoformat(),
        "end": (monday + timedelta(days=6)).isoformat(),
    }


def test_a_chosen_week_ends_the_twelve(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    page = client.get(_trends_url(org), {"week": "2026-03-04"}).content.decode()
    chart = _chart(page)
    assert chart["weeks"][-1] == ["S10", "02/03/2026"]
    assert chart["weeks"][0] == ["S51", "15/12/2025"]
    assert chart["categories"] == []
    assert "Aucune activité sur ces semaines" in page


@pytest.mark.parametrize(("user", "key"), [("carol", "nice_facturation"), ("alice", "nowhere")])
def test_an_employee_out_of_scope_is_a_404(
    client: Client, org: Org, request: pytest.FixtureRequest, user: str, key: str
) -> None:
    client.force_login(request.getfixturevalue(user))
    assert client.get(_trends_url(org, key)).status_code == 404
    assert not Entry.objects.filter(action=Action.VIEW_EMPLOYEE).exists()


def test_the_dpo_sees_no_trends(client: Client, org: Org, dpo: User) -> None:
    client.force_login(dpo)
    assert client.get(_trends_url(org)).status_code == 404
    assert client.get(reverse("analytics:team_trends")).status_code == 404


@pytest.mark.parametrize("bad", ["0001-01-01", "demain", "<script>", "2026-02-30"])
def test_a_bad_week_is_a_form_error(client: Client, org: Org, alice: User, bad: str) -> None:
    client.force_login(alice)
    for url in (_trends_url(org), reverse("analytics:team_trends")):
        response = client.get(url, {"week": bad})
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
        assert "<script>" not in response.content.decode().split("<main")[1]
    assert not Entry.objects.filter(action__in=[Action.VIEW_EMPLOYEE, Action.VIEW_TEAM]).exists()


def test_a_team_s_trends_total_and_average_and_are_audited(
    client: Client, org: Org, bob: User, activity: Activity
) -> None:
    client.force_login(bob)
    response = client.get(
        reverse("analytics:team_trends"), {"agency": org.nice.pk, "service": org.facturation.pk}
    )
    assert response.status_code == 200
    page = response.content.decode()
    rows = {r[0]: r for r in table_rows(page, "trends")}
    # One employee with time: the average is the total.
    assert rows["Moyenne par employé"][1:] == rows["Total"][1:]
    assert "Nice / Facturation" in page
    entry = Entry.objects.get(action=Action.VIEW_TEAM)
    assert entry.actor == bob
    assert entry.target_label == "Nice / Facturation"
    assert entry.target_id == f"{org.nice.pk}:{org.facturation.pk}"


@pytest.mark.parametrize("query", [{"agency": "fdf"}, {"agency": "999999"}, {"service": "x"}])
def test_a_team_outside_my_scopes_is_not_a_choice(
    client: Client, org: Org, alice: User, query: dict[str, str]
) -> None:
    client.force_login(alice)
    if query.get("agency") == "fdf":
        query = {"agency": str(org.fdf.pk)}
    response = client.get(reverse("analytics:team_trends"), query)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Entry.objects.filter(action=Action.VIEW_TEAM).exists()


def test_my_whole_scope_counts_only_my_employees(
    client: Client, org: Org, carol: User, activity: Activity
) -> None:
    # Carol's scope (Fort-de-France) has no activity: Nice's does not leak in.
    client.force_login(carol)
    page = client.get(reverse("analytics:team_trends")).content.decode()
    assert _chart(page)["categories"] == []
    assert "Tout mon périmètre" in page


def test_the_detail_and_team_pages_link_to_the_trends(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    employee = org.employees["nice_facturation"]
    detail = client.get(reverse("dashboard:employee", args=[employee.public_id])).content.decode()
    assert f'href="{_trends_url(org)}"' in detail
    team = client.get(reverse("dashboard:team")).content.decode()
    assert f'href="{reverse("analytics:team_trends")}"' in team


def test_the_trends_week_is_the_readers_today_by_default(
    client: Client, org: Org, alice: User
) -> None:
    client.force_login(alice)
    chart = _chart(client.get(_trends_url(org)).content.decode())
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    assert chart["weeks"][-1][0] == f"S{monday.isocalendar().week:02d}"
    assert chart["weeks"][-1][1] == monday.strftime("%d/%m/%Y")


def test_the_trends_page_speaks_english_too(
    client: Client, org: Org, bob: User, activity: Activity
) -> None:
    client.force_login(bob)
    page = client.get(
        reverse("analytics:team_trends"), headers={"Accept-Language": "en"}
    ).content.decode()
    assert "Team trends" in page
    assert "The change compares the last 4 weeks with the 4 weeks before." in page
    assert "Average per employee" in page
    assert "Tendances" not in page
    assert _chart(page)["weeks"][-1][0].startswith("W")


def test_with_the_access_reason_on_the_trends_ask_it_on_the_detail_page(
    client: Client, org: Org, alice: User, settings: Any
) -> None:
    settings.OXYTRACK_ACCESS_REASON = True
    client.force_login(alice)
    response = client.get(_trends_url(org))
    assert response.status_code == 302
    employee = org.employees["nice_facturation"]
    assert response["Location"] == reverse("dashboard:employee", args=[employee.public_id])
    assert not Entry.objects.filter(action=Action.VIEW_EMPLOYEE).exists()


def test_the_team_overview_links_to_the_same_team_s_trends(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    team = f"a{org.nice.pk}s{org.facturation.pk}"
    page = client.get(reverse("analytics:team_overview"), {"team": team}).content.decode()
    url = reverse("analytics:team_trends")
    link = f'href="{url}?agency={org.nice.pk}&amp;service={org.facturation.pk}"'
    assert link in page
    trends = client.get(url, {"agency": org.nice.pk, "service": org.facturation.pk})
    assert trends.status_code == 200


def test_the_trends_table_exports_as_shown_and_the_export_is_audited(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    response = client.get(_trends_url(org), {"format": "csv", "sort": "<x>"})
    assert response.status_code == 200
    lines = b"".join(response).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Catégorie,S")
    office = lines[1].split(",")
    assert office[0] == "Bureautique"
    assert office[13] == "2.5"  # the last 4 weeks: 2 h 30 min, in hours
    assert [line.split(",")[0] for line in lines[1:]] == ["Bureautique", "Web", "Total"]
    entry = Entry.objects.get(action=Action.EXPORT)
    assert entry.detail["format"] == "csv"
    assert not Entry.objects.filter(action=Action.VIEW_EMPLOYEE).exists()
    page = client.get(_trends_url(org), {"sort": "<x>"}).content.decode()
    assert "format=xlsx" in page
    team = client.get(reverse("analytics:team_trends"), {"format": "xlsx"})
    assert team.status_code == 200
    assert Entry.objects.filter(action=Action.EXPORT).count() == 2
