"""The detail page's charts speak the page's language, in a real Chromium."""

# The fixtures come from a module shared with no conftest (see its docstring).
# ruff: noqa: F811

from __future__ import annotations

import pytest

from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    Demo,
    chromium,
    demo,
    open_browser,
    web,
    web_server,
)
from oxytrack.org.models import Employee

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

FRENCH_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


def _employee() -> Employee:
    employee = Employee.objects.filter(agency__name="Nice", devices__isnull=False).first()
    assert employee is not None
    return employee


def _range() -> str:
    return "?start=2020-01-01&end=2020-03-31"


def test_french_pages_draw_french_dates_and_numbers(web: Browser, demo: Demo) -> None:
    web.login(*demo.superadmin)
    web.go(f"/employees/{_employee().public_id}/{_range()}")
    web.page.wait_for_selector("#days-chart .main-svg")
    assert web.page.evaluate("document.getElementById('days-chart')._fullLayout.separators") == (
        ",\u00a0"
    )
    ticks = " ".join(web.page.locator("#days-chart .xtick text").all_text_contents())
    assert any(month in ticks for month in FRENCH_MONTHS), ticks
    assert "Jan" not in ticks and "Feb" not in ticks
    assert web.errors == []


def test_english_pages_keep_plotlys_english(chromium: object, web_server: str, demo: Demo) -> None:
    browser = open_browser(chromium, web_server, locale="en-GB")
    try:
        browser.login(*demo.superadmin)
        browser.go(f"/employees/{_employee().public_id}/{_range()}")
        browser.page.wait_for_selector("#days-chart .main-svg")
        layout = "document.getElementById('days-chart')._fullLayout.separators"
        assert browser.page.evaluate(layout) == ".,"
        ticks = " ".join(browser.page.locator("#days-chart .xtick text").all_text_contents())
        assert "Jan" in ticks or "Feb" in ticks or "Mar" in ticks, ticks
        assert browser.errors == []
    finally:
        browser.close()
