"""A real first day in Chromium: a fresh server (no demo data), agencies made by
the console command, an employee enrolled by the API exactly as the agent does
(no display name), a batch of more than 25 titles with hostile ones, then the
super-admin finds the employee, opens them and reads their titles.
"""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from django.core.management import call_command

from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

API = "/api/agent/v1"
EMAIL = "dsi@example.fr"
PASSWORD = "Premier-jour-2026!"
RLO = "\u202e"
SPOOF = f"Facture {RLO}gpj.exe"
MARKUP = "<b>gras</b> %{y} &amp; <br>"
TITLE_COUNT = 30


def _command(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is None:
        call_command(*args, stdout=out)
        return out.getvalue()
    import sys

    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = saved
    return out.getvalue()


def _enroll_and_upload(base: str) -> dict[str, Any]:
    """POST enroll as the agent does (no display name), then one batch of 30 titles."""
    key = _command("enrollment_key").strip().splitlines()[-1]
    identity = {
        "username": "jdupont",
        "domain": "CORP",
        "hostname": "PC-NICE-07",
        "os": "Windows 11",
        "agent_version": "0.1.0",
        "time_zone": "Europe/Paris",
        "local_ips": ["192.168.1.20"],
        "agency": "Nice",
        "service": "Facturation",
    }
    reply = requests.post(
        f"{base}{API}/enroll", json=identity, headers={"X-Enrollment-Key": key}, timeout=30
    )
    assert reply.status_code == 201, reply.text
    token = reply.json()["device_token"]
    now = datetime.now().astimezone().replace(microsecond=0)
    start = now - timedelta(hours=2)
    titles = [SPOOF, MARKUP] + [f"Dossier {i:02d} - Word" for i in range(TITLE_COUNT - 2)]
    spans: list[dict[str, Any]] = []
    for i, title in enumerate(titles):
        # The two hostile titles get the most time: first in the table and the pie.
        seconds = 600 if i < 2 else 60 + i
        spans.append(
            {
                "start": start.isoformat(),
                "duration_s": seconds,
                "app": "winword.exe",
                "title": title,
                "active": True,
                "keys": 5,
                "clicks": 1,
            }
        )
        start += timedelta(seconds=seconds)
    batch: dict[str, Any] = {
        "batch_id": str(uuid.uuid4()),
        "sent_at": now.isoformat(),
        "spans": spans,
    }
    uploaded = requests.post(
        f"{base}{API}/batches",
        json=batch,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["accepted"] == TITLE_COUNT
    return reply.json()


def test_first_day_search_open_page_and_a_spoofing_title(web: Browser, web_server: str) -> None:
    # A fresh server: no agencies until the super-admin adds them from the console.
    _command("agencies", "add", "Nice", "--time-zone", "Europe/Paris")
    _command("services", "add", "Facturation")
    _command("create_superadmin", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    _enroll_and_upload(web_server)

    page = web.page
    # Two cores shared with other suites: a first page load may take more than 10 s.
    page.set_default_timeout(30_000)
    web.login(EMAIL, PASSWORD)

    # Search by a substring of the login, in upper case; open from the results.
    web.go("/search/?name=DUPON")
    link = page.locator("#employees-body tbody a", has_text="jdupont")
    assert link.count() == 1
    assert link.inner_text() == "CORP\\jdupont"  # no display name: the login
    link.click()
    page.wait_for_url(re.compile(r"/employees/[0-9a-f-]+/$"))
    assert page.locator("h1").inner_text() == "CORP\\jdupont"

    # A fresh detail page: "Suivant" keeps the range and shows rows 26 to 30.
    titles = page.locator("#titles-body")
    info = titles.locator(".table-info")
    assert info.inner_text() == f"Affichage de 1 à 25 sur {TITLE_COUNT} éléments"
    start_value = page.input_value("#range-form input[name=start]")
    titles.locator("a[rel=next]").click()
    web.until(
        "document.querySelector('#titles-body .table-info').innerText"
        f" === 'Affichage de 26 à {TITLE_COUNT} sur {TITLE_COUNT} éléments'"
    )
    assert titles.locator("tbody tr").count() == TITLE_COUNT - 25
    next_href = page.locator("#titles-body a[rel=prev]").get_attribute("href") or ""
    assert f"start={start_value}" in next_href
    titles.locator("a[rel=prev]").click()
    web.until("document.querySelector('#titles-body .table-info').innerText.includes('1 à 25')")

    # The spoofing title: isolated, its U+202E flagged, kept as sent.
    cell = page.locator("#titles-body td", has_text="gpj.exe")
    assert cell.count() == 1
    shown = cell.evaluate(
        """td => {
          const bdi = td.querySelector('bdi');
          const mark = td.querySelector('.bidi-control');
          return {
            inBdi: !!bdi,
            bidi: getComputedStyle(bdi).unicodeBidi,
            dir: getComputedStyle(bdi).direction,
            text: bdi.innerText,
            mark: getComputedStyle(mark, '::before').content,
            markLeft: mark.getBoundingClientRect().left,
            bdiLeft: bdi.getBoundingClientRect().left,
            bdiRight: bdi.getBoundingClientRect().right,
            cellRight: td.getBoundingClientRect().right,
          };
        }"""
    )
    assert shown["inBdi"]
    assert shown["bidi"] in ("isolate", "isolate-override", "plaintext")
    assert shown["dir"] == "ltr"
    assert shown["text"] == SPOOF  # the text as sent, with its control (copy finds it)
    assert shown["mark"] == '"⟨RLO⟩"'
    # The mark sits inside the title's box, after "Facture ": the reader sees the
    # override where it starts, before the reversed part.
    assert shown["bdiLeft"] < shown["markLeft"] < shown["bdiRight"] <= shown["cellRight"]

    # Hostile markup in a title is text in the table and in plotly's legend.
    assert page.locator("#titles-body td", has_text="<b>gras</b>").count() == 1
    web.until("document.querySelectorAll('#pie-chart .legendtext').length > 2")
    legend = page.evaluate(
        "Array.from(document.querySelectorAll('#pie-chart .legendtext')).map(e => e.textContent)"
    )
    assert "Facture ⟨RLO⟩gpj.exe" in legend
    assert not any(RLO in text for text in legend)
    assert any(text.startswith("<b>gras</b> %{y}") for text in legend), legend
    assert page.locator("#pie-chart .legendtext b").count() == 0

    # The hover box shows the hostile title as text too.
    slices = page.locator("#pie-chart path.surface")
    slices.nth(1).hover()
    web.until("document.querySelector('.hoverlayer .hovertext') !== null")
    hover = page.evaluate("document.querySelector('.hoverlayer .hovertext').textContent")
    assert "<b>gras</b> %{y}" in hover, hover
    assert web.dialogs == []
