"""The downloads carry the page's figures: totals, per-day times, every title, the machines."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oxytrack.conftest import EnrolledDevice
from oxytrack.portal.tests.helpers import open_portal, table_rows, text_of, upload
from oxytrack.web.formatting import format_duration

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","clic")'


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
