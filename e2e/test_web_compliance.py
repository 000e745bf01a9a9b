"""The compliance kit in a real Chromium: printed, it is the document alone, black on white."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811
from __future__ import annotations

import re

import pytest

from oxytrack.accounts.models import User
from oxytrack.conftest import PASSWORD
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]


@pytest.mark.parametrize(
    "path", ["/settings/compliance/dpia/fr/", "/settings/compliance/notice/en/"]
)
def test_a_printed_document_hides_the_navigation_and_prints_black_on_white(
    web: Browser, path: str
) -> None:
    User.objects.create_superadmin("dpo-kit@example.com", PASSWORD)
    web.login("dpo-kit@example.com", PASSWORD)
    web.go(path)
    page = web.page
    web.shot("compliance-" + path.strip("/").split("/", 2)[2].replace("/", "-"))

    def style(selector: str, prop: str) -> str:
        return str(page.evaluate(f"getComputedStyle(document.querySelector({selector!r})).{prop}"))

    def visible(selector: str) -> bool:
        return bool(page.evaluate(f"document.querySelector({selector!r}).checkVisibility()"))

    assert visible(".mainnav") and visible("[data-print]")
    page.emulate_media(media="print")
    assert not visible(".topbar")
    assert not visible(".mainnav")
    assert not visible("[data-print]")
    assert visible("#document")
    assert style("body", "backgroundColor") == "rgb(255, 255, 255)"
    assert style("#document", "color") == "rgb(0, 0, 0)"
    assert style("#document h2", "color") == "rgb(0, 0, 0)"
    # A real print: several A4 pages, the document's words and none of the menu's.
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) >= 2
    # What is printed: the document's words, not the menu's.
    printed = str(page.evaluate("document.body.innerText"))
    logout = str(page.evaluate("document.querySelector('#logout').textContent")).strip()
    assert logout and logout not in printed
    heading = str(page.evaluate("document.querySelector('#document h1').textContent"))
    assert heading in printed
