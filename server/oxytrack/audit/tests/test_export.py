"""The audit log as CSV or XLSX: the page's filters, UTF-8 with a BOM, `,` or `;`,
formulas neutralised, and each export itself an entry of the log."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action, Entry


def _download(client: Client, **query: str) -> tuple[bytes, list[list[str]]]:
    response = client.get(reverse("audit:export"), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="oxytrack-audit-')
    raw = b"".join(response)
    delimiter = ";" if query.get("sep") == "semicolon" else ","
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))


@pytest.fixture
def entries(superadmin: User, alice: User) -> None:
    record(Action.ROTATE_KEY, actor=superadmin, ip="10.0.0.1")
    record(Action.CHANGE_ORG, actor=alice, target_label='=HYPERLINK("http://x")', detail={})
    record(Action.CHANGE_ORG, actor=alice, target_label="Agence Nîmes", detail={"to": "Été"})


def test_the_export_follows_the_filters_and_is_audited(
    client: Client, superadmin: User, entries: None
) -> None:
    client.force_login(superadmin)
    raw, rows = _download(client, action=Action.CHANGE_ORG)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0][:3] == ["Date", "Auteur", "Action"]
    body = rows[1:]
    assert {r[2] for r in body} == {"Modification des agences et services"}
    assert len(body) == 2
    labels = {r[5] for r in body}
    # A cell a spreadsheet would run starts with a quote; accents come through.
    assert '\'=HYPERLINK("http://x")' in labels and "Agence Nîmes" in labels
    assert any('"to": "Été"' in r[6] for r in body)
    export = Entry.objects.get(action=Action.EXPORT)
    assert export.actor == superadmin and export.target_type == "audit"
    # The two entries the filters selected when it was asked.
    assert export.detail == {"format": "csv", "filters": {"action": "change_org"}, "rows": 2}


def test_the_export_lists_itself_when_unfiltered(
    client: Client, superadmin: User, entries: None
) -> None:
    client.force_login(superadmin)
    _raw, rows = _download(client)
    # Three entries, the login of force_login, and this export.
    assert len(rows) == 1 + 5
    assert rows[1][2] == "Export" and rows[1][5] == "journal d'audit"


def test_the_semicolon_option(client: Client, dpo: User, entries: None) -> None:
    client.force_login(dpo)
    raw, rows = _download(client, sep="semicolon", actor="alice")
    assert raw.decode("utf-8-sig").splitlines()[0].count(";") == 7
    assert len(rows) == 1 + 2
    assert Entry.objects.get(action=Action.EXPORT).actor == dpo


def test_a_bad_range_is_a_readable_400_and_writes_nothing(
    client: Client, superadmin: User, entries: None
) -> None:
    client.force_login(superadmin)
    response = client.get(reverse("audit:export"), {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "La date de fin est antérieure à la date de début." in response.content.decode()
    assert not Entry.objects.filter(action=Action.EXPORT).exists()


def test_the_log_page_links_the_export_with_its_filters(
    client: Client, superadmin: User, entries: None
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("audit:log"), {"action": "change_org", "actor": "alice"}).text
    export = f'href="{reverse("audit:log")}?action=change_org&amp;actor=alice&amp;format='
    assert f'{export}csv"' in body and f'{export}xlsx"' in body
    assert f'{export}csv&amp;sep=semicolon"' in body


def test_the_log_as_xlsx_has_the_table_rows_and_guards_formulas(
    client: Client, superadmin: User, entries: None
) -> None:
    client.force_login(superadmin)
    response = client.get(reverse("audit:log"), {"actor": "alice", "format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="oxytrack-audit-')
    raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(raw)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "Date",
        "Auteur",
        "Action",
        "Type de cible",
        "Identifiant de cible",
        "Cible",
        "Détail",
        "Adresse IP",
    ]
    # Newest first, as the page.
    assert [r[5] for r in rows[1:]] == ["Agence Nîmes", '\'=HYPERLINK("http://x")']
    assert rows[1][6] == '{"to": "Été"}'
    assert isinstance(rows[1][0], datetime)
    export = Entry.objects.get(action=Action.EXPORT)
    assert export.detail == {"format": "xlsx", "filters": {"actor": "alice"}, "rows": 2}


def test_the_filters_narrow_the_log(client: Client, superadmin: User, entries: None) -> None:
    client.force_login(superadmin)

    def rows(**query: str) -> int:
        body = client.get(reverse("audit:log"), query).text
        return body.count("<tr") - 1 - body.count('<tr class="empty"')  # header, no-row row

    assert rows() == 4  # with the login of force_login
    assert rows(action=Action.ROTATE_KEY) == 1
    assert rows(actor="alice") == 2
    assert rows(target="nîmes") == 1
    assert rows(start="2000-01-01", end="2000-01-02") == 0
