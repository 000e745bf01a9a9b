"""The team overview page: scopes and 404s, the grid's cells and links, the audit entry."""

from __future__ import annotations

import html
import json
import re

from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal
from oxytrack.analytics.team import team_key
from oxytrack.analytics.tests.conftest import MONDAY, PARIS, SUNDAY, H, Week, _at
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.org.models import Employee

URL = reverse("analytics:team_overview")
WEEK = {"start": MONDAY.isoformat(), "end": SUNDAY.isoformat()}


def _grid(body: str) -> dict[str, list[str]]:
    """The grid's rows by employee name: each cell's text (tags stripped)."""
    table = body.split('class="data team-grid"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


def test_a_service_shows_its_grid_with_totals_and_the_team_row(
    client: Client, org: Org, week: Week, bob: User
) -> None:
    client.force_login(bob)
    response = client.get(URL, {"team": team_key(org.nice.pk, org.facturation.pk), **WEEK})
    assert response.status_code == 200
    grid = _grid(response.content.decode())
    # Mon..Sun, total, worked days, average per worked day. No team column: one service.
    assert grid["Nice Facturation"] == [
        "2,0 h", "0 h", "—", "—", "—", "—", "25,0 h", "27 h 00 min", "2", "13 h 30 min",
    ]  # fmt: skip
    # The moved employee brought their Monday.
    assert grid["Nice Logistique"] == [
        "3,0 h", "—", "—", "—", "—", "—", "—", "3 h 00 min", "1", "3 h 00 min",
    ]  # fmt: skip
    assert grid["Équipe (2 utilisateurs)"] == [
        "5,0 h", "0 h", "—", "—", "—", "—", "25,0 h", "30 h 00 min", "3", "10 h 00 min",
    ]  # fmt: skip


def test_each_cell_links_to_the_employees_day_and_weekends_are_marked(
    client: Client, org: Org, week: Week, superadmin: User
) -> None:
    client.force_login(superadmin)
    body = client.get(URL, {"team": team_key(org.nice.pk, org.facturation.pk), **WEEK})
    text = body.content.decode()
    detail = reverse("dashboard:employee", args=[week.paris.public_id])
    assert f'href="{detail}?start=2026-10-25&amp;end=2026-10-25&amp;day=2026-10-25"' in text
    # Saturday and Sunday columns only.
    headers = re.findall(r'<th class="([^"]*period[^"]*)"', text)
    assert ["weekend" in h for h in headers] == [False] * 5 + [True, True]


def test_a_long_range_has_week_columns_and_says_so(
    client: Client, org: Org, week: Week, superadmin: User
) -> None:
    client.force_login(superadmin)
    response = client.get(
        URL, {"team": team_key(org.nice.pk), "start": "2026-10-01", "end": "2026-11-09"}
    )
    body = response.content.decode()
    assert "une colonne par semaine ISO" in body
    row = _grid(body)["Nice Facturation"]
    # Seven weeks (40, cut to Thursday the 1st, to 46, cut to Monday the 9th), then the
    # team column (the whole agency shows its services) comes first.
    assert row[0] == "Nice / Facturation"
    assert row[1:8] == ["—", "—", "—", "27,0 h", "—", "—", "—"]


def test_the_charts_data_has_categories_per_day_and_teams_side_by_side(
    client: Client, week: Week, superadmin: User
) -> None:
    client.force_login(superadmin)
    body = client.get(URL, WEEK).content.decode()
    data = json.loads(
        html.unescape(
            body.split('id="team-chart-data" type="application/json">', 1)[1].split("</script>")[0]
        )
    )
    names = [c["name"] for c in data["categories"]]
    assert names == ["Messagerie", "Bureautique", "Web"]
    assert data["hours"][names.index("Web")][-1] == 25
    assert [t["name"] for t in data["teams"]] == [
        "Fort-de-France / Facturation",
        "Nice / Facturation",
    ]
    nice = data["teams"][1]["shares"]
    assert nice == [0, round(100 * 5 / 30, 1), round(100 * 25 / 30, 1)]
    assert 'id="team-shares-chart"' in body
    # The heatmap of the same employees (activity/heatmap.py): the three who worked.
    heatmap = json.loads(
        html.unescape(
            body.split('id="heatmap-data" type="application/json">', 1)[1].split("</script>")[0]
        )
    )
    assert heatmap["employees"] == 3
    # Sunday (the last row), 0 h to 1 h in Paris: the employee active all day.
    assert heatmap["z"][6][0] == round(60 / 3 / 1, 1)


def test_out_of_scope_teams_are_404_and_the_dpo_sees_none(
    client: Client, org: Org, alice: User, dpo: User
) -> None:
    client.force_login(alice)
    # Alice has Nice/Facturation only: Nice/Logistique, Fort-de-France and nonsense are 404.
    for key in (team_key(org.nice.pk, org.logistique.pk), team_key(org.fdf.pk), "a999", "x"):
        assert client.get(URL, {"team": key}).status_code == 404, key
    assert client.get(URL, {"team": team_key(org.nice.pk, org.facturation.pk)}).status_code == 200
    client.force_login(dpo)
    assert client.get(URL).status_code == 404


def test_the_team_picker_lists_the_scope_with_the_shown_team_selected(
    client: Client, org: Org, week: Week, superadmin: User
) -> None:
    from oxytrack.org.models import Agency

    hostile = Agency.objects.create(name='<b>"Nord" & Sud</b>', time_zone="Europe/Paris")
    Employee.objects.create(username="h", agency=hostile, service=org.facturation)
    client.force_login(superadmin)
    shown = team_key(org.nice.pk, org.facturation.pk)
    body = client.get(URL, {"team": shown, **WEEK}).content.decode()
    picker = body.split('<select name="team" id="id_team">', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>(.*?)</option>', picker)
    assert [key for key, selected, _label in options if selected] == [shown]
    labels = {key: label for key, _selected, label in options}
    assert options[0][0] == ""  # the whole scope comes first
    # A service is indented under its agency; names are escaped text.
    assert labels[shown] == "&nbsp;&nbsp;Nice / Facturation"
    assert labels[team_key(hostile.pk)] == "&lt;b&gt;&quot;Nord&quot; &amp; Sud&lt;/b&gt;"
    assert "<b>" not in picker


def test_an_admins_whole_scope_holds_only_their_employees(
    client: Client, week: Week, carol: User
) -> None:
    client.force_login(carol)
    grid = _grid(client.get(URL, WEEK).content.decode())
    assert set(grid) == {"Fdf Facturation", "Équipe (1 utilisateur)"}


def test_a_bad_range_is_a_form_error(client: Client, org: Org, superadmin: User) -> None:
    client.force_login(superadmin)
    response = client.get(URL, {"start": "2026-10-25", "end": "2026-10-19"})
    assert response.status_code == 400
    assert "La date de fin est antérieure à la date de début." in response.content.decode()


def test_each_page_shown_is_one_audit_entry_naming_its_employees(
    client: Client, org: Org, week: Week, bob: User
) -> None:
    client.force_login(bob)
    client.get(URL, {"team": team_key(org.nice.pk, org.facturation.pk), **WEEK})
    entry = Entry.objects.get(action=Action.VIEW_TEAM)
    assert entry.actor == bob
    assert entry.target_label == "Nice / Facturation"
    assert entry.detail["start"] == "2026-10-19" and entry.detail["end"] == "2026-10-25"
    assert sorted(entry.detail["employees"]) == sorted(
        [str(week.paris.public_id), str(week.moved.public_id)]
    )


def test_sorting_by_total_and_paging_keep_the_team(
    client: Client, org: Org, week: Week, superadmin: User
) -> None:
    client.force_login(superadmin)
    response = client.get(URL, {**WEEK, "sort": "-total_ms", "per_page": "10"})
    names = list(_grid(response.content.decode()))
    assert names[:3] == ["Nice Facturation", "Nice Logistique", "Fdf Facturation"]
    # The sort links carry the range the page shows.
    links = re.findall(r'<a href="([^"]*sort=[^"]*)"', response.content.decode())
    assert links and all("start=2026-10-19&amp;end=2026-10-25" in link for link in links)


def test_the_page_reads_a_bounded_number_of_queries(
    client: Client,
    org: Org,
    week: Week,
    superadmin: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client.force_login(superadmin)
    client.get(URL, WEEK)  # sessions, categories: warm

    def add(n: int) -> None:
        for i in range(n):
            employee = Employee.objects.create(username=f"x{n}-{i}", agency=org.nice)
            DailyTotal.objects.create(
                employee=employee, day=MONDAY, active_ms=H,
                first_start=_at(MONDAY, 9, PARIS), last_end=_at(MONDAY, 10, PARIS),
            )  # fmt: skip

    add(5)
    cache.clear()  # the team's totals and charts are cached: count the queries without
    with django_assert_max_num_queries(30) as few:
        client.get(URL, {**WEEK, "per_page": "100"})
    add(40)
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, {**WEEK, "per_page": "100"})
    assert "Équipe (53 utilisateurs)" in response.content.decode()


def test_the_teams_page_links_each_group_and_the_whole_scope(
    client: Client, org: Org, bob: User
) -> None:
    client.force_login(bob)
    body = client.get(reverse("dashboard:team"), WEEK).content.decode()
    query = (
        f"team={team_key(org.nice.pk, org.logistique.pk)}&amp;start=2026-10-19&amp;end=2026-10-25"
    )
    assert f'href="{URL}?{query}"' in body
    assert f'href="{URL}?start=2026-10-19&amp;end=2026-10-25"' in body


def test_the_grid_exports_every_row_in_hours_and_is_audited(
    client: Client, org: Org, week: Week, bob: User
) -> None:
    client.force_login(bob)
    query = {"team": team_key(org.nice.pk, org.facturation.pk), **WEEK, "per_page": "10"}
    response = client.get(URL, {**query, "format": "csv", "sep": "semicolon"})
    assert response.status_code == 200
    assert (
        "oxytrack-equipe-nice-facturation-2026-10-19-2026-10-25.csv"
        in response["Content-Disposition"]
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()  # type: ignore[attr-defined]
    assert lines[0].split(";")[:3] == ["Nom", "lun 19/10 (h)", "mar 20/10 (h)"]
    # Empty for no data, 0 for data without active time, hours with a decimal comma.
    assert lines[1] == "Nice Facturation;2,0;0,0;;;;;25,0;27,0;2;13,5"
    assert lines[2] == "Nice Logistique;3,0;;;;;;;3,0;1;3,0"
    entry = Entry.objects.get(action=Action.EXPORT)
    assert entry.detail["rows"] == 2 and entry.detail["filters"] == {"team": "Nice / Facturation"}
    assert not Entry.objects.filter(action=Action.VIEW_TEAM).exists()
