"""Exports of the home, search and titles tables: the page's rows, every one, in the
page's order, as CSV (both separators) and XLSX; hostile text neutralised; scopes;
each export audited."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.dashboard.tests.conftest import Activity
from oxytrack.web.formatting import format_duration

ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


def _page_rows(body: str) -> list[list[str]]:
    """The table's body cells as the reader sees them (tags dropped)."""
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [html.unescape(TAG.sub(" ", c)).split() for c in CELL.findall(r)]  # type: ignore[misc]
        for r in ROW.findall(tbody)
    ]


def _download(client: Client, url: str, query: dict[str, str]) -> list[list[Any]]:
    response = client.get(url, query)
    assert response.status_code == 200, response
    fmt = query.get("format", "csv")
    if fmt == "xlsx":
        assert isinstance(response, FileResponse)
        raw = b"".join(response.streaming_content)
        sheet = load_workbook(io.BytesIO(raw)).worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    delimiter = ";" if query.get("sep") == "semicolon" else ","
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def _hours(cell: Any) -> int:
    """An exported duration (hours, "1.5", "1,5" or 1.5) back in milliseconds."""
    return round(float(str(cell).replace(",", ".")) * 3_600_000)


@pytest.mark.parametrize(
    "query",
    [{"format": "csv"}, {"format": "csv", "sep": "semicolon"}, {"format": "xlsx"}],
    ids=["csv", "csv-semicolon", "xlsx"],
)
def test_home_export_has_the_page_rows_in_its_order_and_is_audited(
    client: Client, superadmin: User, activity: Activity, query: dict[str, str]
) -> None:
    client.force_login(superadmin)
    state = {"sort": "-name", "q": "nice"}
    page = _page_rows(client.get(reverse("dashboard:home"), {**state, "per_page": "100"}).text)
    rows = _download(client, reverse("dashboard:home"), {**state, **query, "per_page": "10"})
    assert rows[0] == [
        "Nom",
        "Machine(s)",
        "Dernière IP",
        "Agence",
        "Service",
        "Vu pour la dernière fois",
        "Actif aujourd'hui (h)",
        "Écran aujourd'hui (h)",
        "Identifiant",
        "Fuseau horaire",
    ]
    body = rows[1:]
    # Nice Logistique, Nice Facturation, and the Nice employee without a display name.
    assert len(body) == len(page) == 3
    for exported, shown in zip(body, page, strict=True):
        assert shown[0][0] == str(exported[0]).split()[0]  # same order, same names
        assert " ".join(shown[6]) == format_duration(_hours(exported[6]))
        assert " ".join(shown[7]) == format_duration(_hours(exported[7]))
    facturation = next(r for r in body if r[8] == "CORP\\nice_facturation")
    assert facturation[:5] == ["Nice Facturation", "PC-NICE-01", "10.1.2.3", "Nice", "Facturation"]
    # Today: 1 h 55 min active, 2 h 15 min on screen, exactly.
    # (in hours with four decimals: to 0.36 s)
    assert _hours(facturation[6]) == pytest.approx(6_900_000, abs=180)
    assert _hours(facturation[7]) == pytest.approx(8_100_000, abs=180)
    entry = Entry.objects.get(action=Action.EXPORT)
    assert entry.actor == superadmin and entry.target_label == "accueil"
    assert entry.detail["format"] == query["format"]
    assert entry.detail["rows"] == 3
    assert entry.detail["scope"] == "toute l'organisation"
    assert entry.detail["filters"] == {"q": "nice"}
    assert len(entry.detail["employees"]) == 3


def test_home_export_keeps_to_my_scope_and_names_the_file_after_it(
    client: Client, alice: User, org: Org
) -> None:
    client.force_login(alice)
    response = client.get(reverse("dashboard:home"), {"format": "csv"})
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="oxytrack-accueil-nice-facturation-{today}.csv"'
    )
    rows = _download(client, reverse("dashboard:home"), {"format": "csv"})
    assert [r[0] for r in rows[1:]] == ["Nice Facturation"]
    employees = Entry.objects.filter(action=Action.EXPORT).last().detail["employees"]  # type: ignore[union-attr]
    assert employees == [str(org.employees["nice_facturation"].public_id)] * 1


def test_search_export_follows_the_criteria(client: Client, superadmin: User, org: Org) -> None:
    client.force_login(superadmin)
    query = {"agency": str(org.marseille.pk), "format": "xlsx", "sort": "name"}
    rows = _download(client, reverse("dashboard:search"), query)
    assert [r[0] for r in rows[1:]] == ["Marseille Facturation", "Marseille Logistique"]
    entry = Entry.objects.get(action=Action.EXPORT)
    assert entry.target_label == "recherche"
    assert entry.detail["filters"] == {"agency": str(org.marseille.pk)}
    assert entry.detail["rows"] == 2


def test_search_export_with_bad_criteria_is_a_readable_400(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    response = client.get(reverse("dashboard:search"), {"agency": "999999", "format": "csv"})
    assert response.status_code == 400
    assert "choix valide" in response.content.decode()
    assert not Entry.objects.filter(action=Action.EXPORT).exists()


HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A9)", "\tTab"]


@pytest.fixture
def hostile(activity: Activity) -> None:
    """Spans whose app names and titles a spreadsheet would run, today."""
    add_to_rollups(
        store_spans(
            activity.device.device,
            [
                RawSpan(activity.today_start + timedelta(hours=4, minutes=i), 1000, text, text)
                for i, text in enumerate(HOSTILE)
            ],
        )
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_titles_export_neutralises_titles_and_app_names(
    client: Client, superadmin: User, org: Org, hostile: None, fmt: str
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    today = timezone.localdate().isoformat()
    url = reverse("dashboard:employee_export", args=[employee.public_id])
    rows = _download(client, url, {"start": today, "end": today, "format": fmt})
    guarded = {"'" + text for text in HOSTILE}
    assert guarded <= {r[0] for r in rows[1:]}  # apps
    assert guarded <= {r[1] for r in rows[1:]}  # titles
    if fmt == "xlsx":
        raw = b"".join(
            client.get(url, {"start": today, "end": today, "format": "xlsx"}).streaming_content  # type: ignore[attr-defined]
        )
        sheet = load_workbook(io.BytesIO(raw)).worksheets[0]
        assert {c.data_type for col in ("A", "B") for c in sheet[col]} == {"s"}


def test_titles_export_has_the_page_rows_in_the_page_order(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    today = timezone.localdate().isoformat()
    state = {"start": yesterday, "end": today, "sort": "-active"}
    titles = reverse("dashboard:employee_titles", args=[employee.public_id])
    page = _page_rows(client.get(titles, {**state, "per_page": "100"}).text)
    url = reverse("dashboard:employee_export", args=[employee.public_id])
    response = client.get(url, {**state, "format": "xlsx", "per_page": "10"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="oxytrack-titres-nice-facturation-{yesterday}-{today}.xlsx"'
    )
    rows = _download(client, url, {**state, "format": "xlsx"})
    assert rows[0][:3] == ["Application", "Titre", "Première ouverture"]
    assert rows[0][3:] == ["Temps actif (h)", "Inactif (h)", "Part (%)"]
    assert len(rows) - 1 == len(page) == 4
    for exported, shown in zip(rows[1:], page, strict=True):
        assert " ".join(shown[1]) == " ".join(str(exported[1]).split())
        assert " ".join(shown[3]) == format_duration(_hours(exported[3]))
    # Budget: twice 60 min active and 20 min idle; 120 of 230 active minutes.
    assert rows[1][:2] == ["EXCEL.EXE", "Budget 2026 - Excel"]
    assert [rows[1][3], rows[1][4], rows[1][5]] == [2.0, round(40 / 60, 4), 52.2]
    assert rows[1][2] == (activity.today_start - timedelta(days=1)).replace(tzinfo=None)
    # Two downloads, two entries.
    entries = Entry.objects.filter(action=Action.EXPORT)
    assert {e.target_id for e in entries} == {str(employee.public_id)} and len(entries) == 2
    assert entries[0].detail == {"start": yesterday, "end": today, "format": "xlsx", "rows": 4}


def test_the_old_csv_address_still_answers_csv(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    today = timezone.localdate().isoformat()
    url = reverse("dashboard:employee_export", args=[employee.public_id])
    assert url.endswith("/export.csv")
    rows = _download(client, url, {"start": today, "end": today, "q": "budget"})
    assert [r[1] for r in rows[1:]] == ["Budget 2026 - Excel"]
    assert Entry.objects.get(action=Action.EXPORT).detail["filter"] == "budget"


def test_an_out_of_scope_employee_export_is_404_and_not_audited(
    client: Client, alice: User, org: Org
) -> None:
    client.force_login(alice)
    url = reverse(
        "dashboard:employee_export", args=[org.employees["marseille_facturation"].public_id]
    )
    response = client.get(url, {"start": "2026-11-01", "end": "2026-11-30", "format": "xlsx"})
    assert response.status_code == 404
    assert not Entry.objects.filter(action=Action.EXPORT).exists()


def test_the_dpo_exports_no_activity(client: Client, dpo: User, org: Org) -> None:
    client.force_login(dpo)
    url = reverse("dashboard:employee_export", args=[org.employees["nice_facturation"].public_id])
    assert client.get(url, {"format": "csv"}).status_code == 404
    assert client.get(reverse("dashboard:search"), {"format": "csv"}).status_code == 404
    # Their home is the audit log: the home's export is no way round.
    assert client.get(reverse("dashboard:home"), {"format": "csv"}).status_code == 302
    assert not Entry.objects.filter(action=Action.EXPORT).exists()


def test_the_pages_show_export_buttons_carrying_their_state(
    client: Client, superadmin: User, org: Org, activity: Activity
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:home"), {"q": "nice", "sort": "-name"}).text
    assert 'href="/?q=nice&amp;sort=-name&amp;format=xlsx"' in body
    assert "format=csv&amp;sep=semicolon" in body
    employee = org.employees["nice_facturation"]
    detail = client.get(reverse("dashboard:employee", args=[employee.public_id])).text
    export = reverse("dashboard:employee_export", args=[employee.public_id])
    assert f'href="{export}?start=' in detail and "format=xlsx" in detail


def test_the_teams_table_export_has_the_range_in_its_name_and_its_audit(
    client: Client, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    today = timezone.localdate().isoformat()
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    query = {"start": yesterday, "end": today, "format": "csv", "sep": "semicolon"}
    response = client.get(reverse("dashboard:team"), query)
    assert response["Content-Disposition"] == (
        f'attachment; filename="oxytrack-equipes-nice-facturation-{yesterday}-{today}.csv"'
    )
    rows = _download(client, reverse("dashboard:team"), query)
    assert rows[0][:2] == ["Agence", "Service"]
    assert rows[0][6] == "Actif moyen par personne et par jour (h)"
    assert "Vue d'équipe" not in rows[0]  # a link, not data
    # Alice's scope: one group, twice 1 h 55 min active (2 h 15 min on screen) in 2 days.
    assert rows[1][:6] == ["Nice", "Facturation", "1", "1", "3,8333", "4,5"]
    assert rows[1][6] == "1,9167"
    entry = Entry.objects.filter(action=Action.EXPORT).last()
    assert entry is not None and entry.target_label == "équipes"
    assert entry.detail == {
        "format": "csv",
        "rows": 1,
        "scope": "Nice / Facturation",
        "start": yesterday,
        "end": today,
    }


@pytest.mark.parametrize("group", ["app", "category"])
def test_the_grouped_tables_export_as_the_page_shows_them(
    client: Client, superadmin: User, org: Org, activity: Activity, group: str
) -> None:
    client.force_login(superadmin)
    employee = org.employees["nice_facturation"]
    today = timezone.localdate().isoformat()
    state = {"start": today, "end": today, "group": group, "sort": "-active"}
    titles = reverse("dashboard:employee_titles", args=[employee.public_id])
    page = _page_rows(client.get(titles, {**state, "per_page": "100"}).text)
    url = reverse("dashboard:employee_export", args=[employee.public_id])
    response = client.get(url, {**state, "format": "csv"})
    kind = {"app": "applications", "category": "categories"}[group]
    assert (
        f'filename="oxytrack-{kind}-nice-facturation-{today}-{today}.csv"'
        in (response["Content-Disposition"])
    )
    rows = _download(client, url, {**state, "format": "csv"})
    assert rows[0][-3:] == ["Temps actif (h)", "Inactif (h)", "Part (%)"]
    assert len(rows) - 1 == len(page) > 0
    for exported, shown in zip(rows[1:], page, strict=True):
        assert shown[0] == exported[0].split()  # the friendly name or the category
        assert " ".join(shown[-3]) == format_duration(_hours(exported[-3]))
    # The shares add up to the whole active time.
    assert sum(float(r[-1]) for r in rows[1:]) == pytest.approx(100, abs=0.2)
