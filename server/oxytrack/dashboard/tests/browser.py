"""Fixtures for the web app's browser tests (e2e/test_web_*.py): Django's live
server thread on a free port, Debian's Chromium driven by Playwright, and
the demo organisation.

A separate module rather than e2e/conftest.py, whose `live_server` is the
agent tests' gunicorn: these tests need the server in-process, on the test
database, so they can set data up and shift time through the ORM.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from oxytrack.accounts.tests.otp import pass_second_factor

# Playwright's sync API runs an event loop in this thread; Django would then
# refuse ORM calls from the test body, which are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots are test artifacts; `make screenshots` copies them into docs/.
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


def end_request_threads(timeout_s: float = 10) -> None:
    """End the live server's request threads while it still shares the test's connection.

    Each kept-alive connection has its thread, which closes the database
    connections as it ends. Once `LiveServer.stop()` stops sharing the test's
    SQLite connection, that close raises in the thread: a warning in every CI
    run, from an idle connection the test process itself left in a requests
    pool (a fixed 0.3 s pause waited for the browser's only). Shutting the
    server's side of each socket ends its thread now, whoever the client is.
    """
    deadline = time.monotonic() + timeout_s
    for thread in threading.enumerate():
        if "process_request_thread" not in thread.name:
            continue
        # socketserver starts each thread with (socket, client address).
        args = getattr(thread, "_args", ())
        if args and isinstance(args[0], socket.socket):
            with contextlib.suppress(OSError):
                args[0].shutdown(socket.SHUT_RDWR)
        thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def web_server(transactional_db: None) -> Iterator[str]:
    """The app in a thread on a free port, serving static files; yields its base URL."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost:0")
    try:
        yield server.url
    finally:
        end_request_threads()
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Browser:
    """One browser context (its own cookies) and page, recording what must never happen."""

    base: str
    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def login(self, email: str, password: str) -> list[str]:
        """Log in through the pages: password, then the second factor when asked
        (set up on a super-admin's first login: the recovery codes are returned)."""
        self.go("/login/")
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("main button[type=submit]")
        codes = pass_second_factor(self.page, self.base, email)
        self.page.wait_for_url(self.base + "/")
        return codes

    def until(self, expression: str, timeout_s: float = 10) -> None:
        """Wait until a JS expression is true. Polled from here: page.wait_for_function
        evaluates strings with eval() in the page, which the strict CSP refuses."""
        deadline = time.monotonic() + timeout_s
        # False while the expression throws: htmx may be swapping the element in.
        guarded = (
            f"(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"
        )
        while not self.page.evaluate(guarded):
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout_s} s: {expression}")
            self.page.wait_for_timeout(50)

    def close(self) -> None:
        """Leave the app first, so no request is still in flight when the server stops."""
        self.page.goto("about:blank")
        self.page.context.close()

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(150)  # let plotly's transitions end
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_browser(chromium: Any, base: str, locale: str = "fr-FR") -> Browser:
    context = chromium.new_context(
        locale=locale, viewport={"width": 1280, "height": 860}, accept_downloads=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser = Browser(base, page)

    def on_dialog(dialog: Any) -> None:
        # An alert() here means a hostile title ran as code.
        browser.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: browser.errors.append(str(error)))
    return browser


@pytest.fixture
def web(chromium: Any, web_server: str) -> Iterator[Browser]:
    """A fresh browser context on the live server; fails the test on any dialog or JS error."""
    browser = open_browser(chromium, web_server)
    yield browser
    browser.close()
    assert browser.dialogs == []
    assert browser.errors == []


@dataclass(frozen=True)
class Demo:
    superadmin: tuple[str, str]
    admin_nice: tuple[str, str]


@pytest.fixture
def demo(transactional_db: None) -> Demo:
    """A small demo organisation (14 days of activity) with the demo logins."""
    from oxytrack.demo.actions import DEMO_ACCOUNTS, do_seed_demo

    do_seed_demo(employees=24, days=14)
    accounts = {a.email: (a.email, a.password) for a in DEMO_ACCOUNTS}
    return Demo(
        superadmin=accounts["superadmin@oxytrack.demo"],
        admin_nice=accounts["admin.nice@oxytrack.demo"],
    )
