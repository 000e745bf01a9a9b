"""Two quick sort clicks on the home table, in Chromium: the table ends in the
second click's order whatever order the two answers come back in.

Both answers are held by Playwright, then let through one after the other.
First answer first is the order that went wrong: without `hx-sync` on the table
block, the first answer's redraw replaced the element the second was meant to
replace, and htmx dropped the second answer, so the table stayed in the first
click's order.
"""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from oxytrack.accounts.models import User
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)
from oxytrack.org.models import Device, Employee

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Correct-Horse-Battery-9"
ROWS = "#employees-body tbody tr td:first-child a"


def _sort_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("sort", [""])[0]


def _names(web: Browser) -> list[str]:
    return [a.splitlines()[0].strip() for a in web.page.locator(ROWS).all_inner_texts()]


def _wait(web: Browser, done: Any, what: str, timeout_ms: int = 10_000) -> None:
    """Let the page's events run (route handlers included) until `done()`."""
    for _ in range(timeout_ms // 50):
        if done():
            return
        web.page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    "first_answer_first", [True, False], ids=["first-answer-first", "second-answer-first"]
)
def test_the_last_of_two_quick_sort_clicks_wins(web: Browser, first_answer_first: bool) -> None:
    User.objects.create_superadmin("super@example.com", PASSWORD)
    # Names and machines in different orders: each sort has its own first rows.
    for i in range(10):
        employee = Employee.objects.create(username=f"user{i:02d}", display_name=f"Agent {i:02d}")
        Device.objects.create(employee=employee, hostname=f"PC-{(3 * i) % 10:02d}")
    web.login("super@example.com", PASSWORD)
    page = web.page
    first = page.locator("#employees-body th a.sort", has_text="Machine(s)")
    second = page.locator("#employees-body th a.sort", has_text="Nom")
    first_sort = _sort_of(first.get_attribute("href") or "")
    second_sort = _sort_of(second.get_attribute("href") or "")
    assert first_sort and second_sort and first_sort != second_sort

    held: dict[str, list[Any]] = {first_sort: [], second_sort: []}

    def hold(route: Any) -> None:
        sort = _sort_of(route.request.url)
        if sort in held and route.request.headers.get("hx-request"):
            held[sort].append(route)
        else:
            route.continue_()

    page.route("**/*", hold)
    first.click()
    _wait(web, lambda: held[first_sort], "the first sort's request")
    second.click()  # before the first answer: the table is not redrawn yet
    _wait(web, lambda: held[second_sort], "the second sort's request")

    # The answers come back one after the other, time for a redraw between them
    # (the page may have given up the first: Playwright then refuses to continue it).
    for sort in (first_sort, second_sort) if first_answer_first else (second_sort, first_sort):
        with contextlib.suppress(Exception):
            held[sort][0].continue_()
        page.wait_for_timeout(500)
    sort_shown = page.locator("#employees-body input[name=sort]")
    with contextlib.suppress(AssertionError):  # its absence is what the asserts below tell
        _wait(web, lambda: sort_shown.get_attribute("value") == second_sort, "the second redraw")
    page.wait_for_timeout(300)  # no late redraw either
    shown = _names(web)
    assert sort_shown.get_attribute("value") == second_sort
    assert page.locator("#employees-body th a.sort[aria-sort]", has_text="Nom").count() == 1
    page.unroute("**/*")

    # The order of each sort, loaded directly.
    orders = {}
    for sort in (first_sort, second_sort):
        web.go(f"/?sort={sort}")
        orders[sort] = _names(web)
    assert orders[first_sort] != orders[second_sort]
    assert shown == orders[second_sort]
