"""The downloads carry the page's figures: totals, per-day times, every title, the machines;
the XLSX holds the CSV's rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice
from oxytrack.portal.tests.helpers import open_portal, table_rows, text_of, upload
from oxytrack.web.formatting import format_duration

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","clic")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's sections by name: their header row then their rows."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[2:]:
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


def _ms(seconds: str) -> int:
    return round(float(seconds) * 1000)


def test_the_json_and_csv_downloads_equal_the_page(enrolled_device: EnrolledDevice) -> None:
    now = timezone.now().replace(microsecond=0)
    yesterday = now - timedelta(days=1)
    upload(
        enrolled_device.token,
        [
            (yesterday - timedelta(hours=2), 1234.5, "excel.exe", "Budget 2026.xlsx", True),
            (yesterday - timedelta(hours=1), 300, "excel.exe", "Budget 2026.xlsx", False),
            (now - timedelta(hours=2), 2400, "chrome.exe", FORMULA, True),
            (now - timedelta(hours=1), 61, "winword.exe", "Lettre.docx", True),
        ],
    )
    browser = open_portal(enrolled_device.token)
    end = timezone.localdate()
    start = end - timedelta(days=6)
    query = {"start": start.isoformat(), "end": end.isoformat()}
    page = browser.get("/portal/", query).content.decode()
    data: dict[str, Any] = json.loads(browser.get("/portal/export.json", query).content)
    csv_reply = browser.get("/portal/export.csv", query)
    assert csv_reply["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_reply["Content-Disposition"]
    sections = _sections(csv_reply.content.decode())

    # Totals: the page's figures, and the CSV's equal to the JSON's to the millisecond.
    totals = data["totals"]
    assert text_of(page, "total-screen") == format_duration(totals["screen_ms"])
    assert text_of(page, "total-active") == format_duration(totals["active_ms"])
    assert text_of(page, "total-idle") == format_duration(totals["idle_ms"])
    assert totals["active_ms"] == (1234.5 + 2400 + 61) * 1000
    assert totals["idle_ms"] == 300_000
    (period,) = sections["Période"][1:]
    assert period[:3] == [start.isoformat(), end.isoformat(), "Europe/Paris"]
    assert [_ms(v) for v in period[3:6]] == [
        totals["screen_ms"],
        totals["active_ms"],
        totals["idle_ms"],
    ]
    assert [int(v) for v in period[6:8]] == [totals["keys"], totals["clicks"]]

    # Per day: the chart's bars, one per day of the range.
    chart = json.loads(page.split('id="chart-data" type="application/json">')[1].split("<")[0])
    assert [[d["day"], d["active_ms"], d["idle_ms"]] for d in data["days"]] == chart["days"]
    assert [[r[0], _ms(r[1]), _ms(r[2])] for r in sections["Par jour"][1:]] == chart["days"]
    assert len(data["days"]) == 7

    # Titles: the table's rows, in its order; the formula stays text in the CSV.
    shown = table_rows(page, "titles")
    assert [(r[0], r[1], r[3], r[4]) for r in shown] == [
        (t["app"], t["title"], format_duration(t["active_ms"]), format_duration(t["idle_ms"]))
        for t in data["titles"]
    ]
    assert len(shown) == 3
    csv_titles = sections["Titres"][1:]
    assert [(r[0], r[1].removeprefix("'"), _ms(r[4]), _ms(r[5])) for r in csv_titles] == [
        (t["app"], t["title"], t["active_ms"], t["idle_ms"]) for t in data["titles"]
    ]
    assert "'" + FORMULA in [r[1] for r in csv_titles]
    assert [r[2] for r in csv_titles] == [t["first_opened"] for t in data["titles"]]

    # Machines: the page's table.
    assert [d["hostname"] for d in data["devices"]] == ["PC-NICE-01"]
    assert [r[0] for r in sections["Machines"][1:]] == ["PC-NICE-01"]
    assert "PC-NICE-01" in page


def test_the_xlsx_holds_the_csvs_rows_and_runs_no_formula(
    enrolled_device: EnrolledDevice,
) -> None:
    now = timezone.now().replace(microsecond=0)
    upload(
        enrolled_device.token,
        [
            (now - timedelta(days=1, hours=2), 1234.5, "excel.exe", "Budget 2026.xlsx", True),
            (now - timedelta(days=1, hours=1), 300, "excel.exe", "Budget 2026.xlsx", False),
            (now - timedelta(hours=2), 2400, "chrome.exe", FORMULA, True),
            (now - timedelta(hours=1), 61, "winword.exe", "+33 6 12 34 56 78", True),
        ],
    )
    browser = open_portal(enrolled_device.token)
    end = timezone.localdate()
    start = end - timedelta(days=6)
    query = {"start": start.isoformat(), "end": end.isoformat()}
    csv_text = browser.get("/portal/export.csv", query).content.decode().lstrip("\ufeff")
    csv_rows = list(csv.reader(io.StringIO(csv_text)))
    reply = browser.get("/portal/export.xlsx", query)
    assert reply.status_code == 200
    assert reply["Content-Type"] == XLSX
    public_id = enrolled_device.device.employee.public_id
    assert reply["Content-Disposition"] == (
        f'attachment; filename="oxytrack-{public_id}-{start}-{end}.xlsx"'
    )
    content = b"".join(reply.streaming_content)  # type: ignore[attr-defined]  # a FileResponse
    book = load_workbook(io.BytesIO(content))
    (sheet,) = book.worksheets
    assert sheet.title == f"{start} {end}"
    # No cell is a formula, whatever its text starts with.
    assert "f" not in {c.data_type for row in sheet.iter_rows() for c in row}

    def plain(row: tuple[Any, ...]) -> list[Any]:
        cells = list(row)
        while cells and cells[-1] is None:  # a row is as wide as the widest one
            cells.pop()
        return ["" if c is None else c for c in cells]

    xlsx_rows = [plain(row) for row in sheet.iter_rows(values_only=True)]
    # Cell for cell the CSV's rows: text equal (the formula guard included), numbers
    # numbers (seconds to the millisecond, counts).
    assert len(xlsx_rows) == len(csv_rows)
    for got, want in zip(xlsx_rows, csv_rows, strict=True):
        assert len(got) == len(want), (got, want)
        for value, text in zip(got, want, strict=True):
            if isinstance(value, int | float):
                assert Decimal(str(value)) == Decimal(text), (got, want)
            else:
                assert value == text, (got, want)
    titles = {r[1]: r for r in xlsx_rows if len(r) == 6 and r[0] != "Application"}
    assert set(titles) == {"Budget 2026.xlsx", "'" + FORMULA, "'+33 6 12 34 56 78"}
    assert titles["Budget 2026.xlsx"][4:] == [1234.5, 300]
    assert sheet.cell(row=1, column=1).font.bold
    # The employee's own downloads are not audited, as the page is not: link and login only.
    actions = list(Entry.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions == [Action.PORTAL_LINK, Action.PORTAL_LOGIN]
