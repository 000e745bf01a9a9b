"""The employee portal in Chromium: the agent's one-time link opens the read-only page,
its CSV download carries the page's figures, the XLSX the CSV's rows, the 12-week trends
draw, and the link does not open twice."""

# ruff: noqa: F811

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from e2e.test_first_day import TITLE_COUNT, _command, _enroll_and_upload
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    chromium,
    open_browser,
    web_server,
)
from oxytrack.web.formatting import format_duration

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]


def _plain(row: tuple[Any, ...]) -> list[Any]:
    """A sheet's row as the CSV has it: no trailing empty cells (a sheet is as wide as its
    widest row), empty cells as ""."""
    cells = list(row)
    while cells and cells[-1] is None:
        cells.pop()
    return ["" if c is None else c for c in cells]


def _as_csv(value: Any, text: str) -> Any:
    """The CSV's text for a number of the sheet equal to it ("1234.500" for 1234.5)."""
    if isinstance(value, int | float) and Decimal(str(value)) == Decimal(text):
        return text
    return value


def test_the_portal_link_opens_the_page_and_the_csv_downloads(
    chromium: Any, web_server: str
) -> None:
    _command("agencies", "add", "Nice", "--time-zone", "Europe/Paris")
    _command("services", "add", "Facturation")
    enrolled = _enroll_and_upload(web_server)
    link = requests.post(
        f"{web_server}/api/agent/v1/portal-link",
        headers={"Authorization": f"Bearer {enrolled['device_token']}"},
        timeout=30,
    )
    assert link.status_code == 201, link.text
    url = web_server + link.json()["path"]

    # Its own context: the shared helper's refuses downloads.
    context = chromium.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        page.wait_for_url(web_server + "/portal/")
        assert page.locator("h1").inner_text() == "CORP\\jdupont"
        assert "pas du temps non travaillé" in page.locator("#portal-notice").inner_text()
        # No manager navigation on the portal.
        assert page.locator("nav.mainnav").count() == 0
        info = page.locator("#titles-body .table-info").inner_text()
        assert info == f"Affichage de 1 à 25 sur {TITLE_COUNT} éléments"
        active = page.locator("#total-active").inner_text()

        with page.expect_download() as download_info:
            page.get_by_text("Télécharger (CSV)").click()
        download = download_info.value
        assert download.suggested_filename.endswith(".csv")
        text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
        rows = list(csv.reader(io.StringIO(text)))
        period = rows[rows.index(["Période"]) + 2]
        assert format_duration(round(float(period[4]) * 1000)) == active
        titles = rows[rows.index(["Titres"]) + 2 :]
        titles = titles[: titles.index([])]
        assert len(titles) == TITLE_COUNT

        # Beside it, the XLSX: the CSV's rows, cell for cell, numbers as numbers.
        with page.expect_download() as download_info:
            page.get_by_text("Télécharger (XLSX)").click()
        sheet_file = download_info.value
        start, end = rows[rows.index(["Période"]) + 2][:2]
        assert sheet_file.suggested_filename.startswith("oxytrack-")
        assert sheet_file.suggested_filename.endswith(f"-{start}-{end}.xlsx")
        # Playwright's file has no extension: openpyxl is handed the bytes.
        book = load_workbook(io.BytesIO(sheet_file.path().read_bytes()), read_only=True)
        sheet_rows = [_plain(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        assert len(sheet_rows) == len(rows)
        for got, want in zip(sheet_rows, rows, strict=True):
            assert [_as_csv(v, w) for v, w in zip(got, want, strict=True)] == want
        period_xlsx = sheet_rows[rows.index(["Période"]) + 2]
        assert isinstance(period_xlsx[4], int | float)
        assert format_duration(round(period_xlsx[4] * 1000)) == active

        # The employee's own 12-week trends, drawn under the CSP.
        page.locator("#trends-link").click()
        page.wait_for_url(web_server + "/portal/trends/")
        page.wait_for_selector("#trends-chart .main-svg")
        total = page.locator("#trends-body tbody tr", has_text="Total").locator("td")
        # The last 4 weeks' column: the upload of the last two hours, all of it.
        assert total.nth(13).inner_text() == active
        assert errors == []

        # The same link, again, in another browser: refused, with what to do.
        other = open_browser(chromium, web_server)
        try:
            reply = other.page.goto(url)
            assert reply is not None and reply.status == 403
            assert "oxytrack-agent portal" in other.page.locator("main").inner_text()
        finally:
            other.close()
    finally:
        page.goto("about:blank")
        context.close()
