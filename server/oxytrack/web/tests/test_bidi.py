"""Bidi controls in agent text (U+202E makes "gpj.exe" read "exe.jpg") cannot spoof a page.

In HTML every agent string sits in an isolating element with its controls
flagged; in the chart data (drawn by plotly as SVG) no control is left.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.org.actions import do_transfer_employee
from oxytrack.org.models import Employee
from oxytrack.web.formatting import BIDI_CONTROLS, agent_html, chart_label

RLO = "\u202e"
TITLE = f"Facture {RLO}gpj.exe"
APP = f"evil{RLO}exe.app"
USERNAME = f"jean{RLO}sirap"
HOSTNAME = f"PC-{RLO}10-ECIN"
VOID = {"br", "img", "input", "meta", "link", "hr", "col", "area", "base", "source", "wbr"}


class _BidiFinder(HTMLParser):
    """Each text run holding U+202E, and whether an isolating element encloses it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.runs: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        # <option> holds plain text only (no element can isolate in it): agency
        # names there are the super-admin's own text, not the agent's.
        if RLO not in data or any(t in ("script", "title", "option") for t, _ in self.stack):
            return
        isolated = any(
            tag == "bdi" or attrs.get("dir") == "auto" or "agent-text" in (attrs.get("class") or "")
            for tag, attrs in self.stack
        )
        self.runs.append((data, isolated))


def rlo_runs(body: str) -> list[tuple[str, bool]]:
    finder = _BidiFinder()
    finder.feed(body)
    return finder.runs


def assert_isolated(body: str, *expected: str) -> None:
    runs = rlo_runs(body)
    shown = "".join(text for text, _ in runs)
    for text in expected:
        assert text.split(RLO)[1] in shown, f"{text!r} not on the page"
    assert runs, "no U+202E on the page"
    assert all(isolated for _, isolated in runs), runs
    # Each control is flagged by a mark the stylesheet shows as ⟨RLO⟩.
    assert body.count('data-control="RLO"') >= len(runs)


@pytest.fixture
def hostile(org: Org, enrolled_device: EnrolledDevice) -> Employee:
    """An employee enrolled the agent's way (no display name) with U+202E everywhere."""
    employee = org.employees["nice_facturation"]
    employee.username = USERNAME
    employee.display_name = ""
    employee.save()
    org.nice.name = f"Nice {RLO}ecnarF"
    org.nice.save()
    device = enrolled_device.device
    device.hostname = HOSTNAME
    device.time_zone = str(timezone.get_current_timezone())
    device.last_ip = "10.1.2.3"
    device.last_seen_at = timezone.now()
    device.save()
    start = datetime.combine(timezone.localdate(), time(8), tzinfo=timezone.get_current_timezone())
    add_to_rollups(store_spans(device, [RawSpan(start, 3_600_000, APP, TITLE, True)]))
    return employee


def test_chart_label_shows_every_bidi_control_and_leaves_none() -> None:
    text = "a" + "".join(BIDI_CONTROLS) + "b"
    label = chart_label(text)
    assert not set(label) & set(BIDI_CONTROLS)
    assert label.startswith("a⟨ALM⟩⟨LRM⟩⟨RLM⟩⟨LRE⟩⟨RLE⟩⟨PDF⟩⟨LRO⟩⟨RLO⟩")
    assert label.endswith("⟨LRI⟩⟨RLI⟩⟨FSI⟩⟨PDI⟩b")
    assert chart_label("Budget 2026 - Excel") == "Budget 2026 - Excel"


def test_agent_html_isolates_escapes_and_flags() -> None:
    html = agent_html(f"<b>{TITLE}</b>")
    assert html == (
        "<bdi>&lt;b&gt;Facture "
        f'<span class="bidi-control" data-control="RLO" title="U+202E"></span>{RLO}'
        "gpj.exe&lt;/b&gt;</bdi>"
    )


def test_detail_page_isolates_title_app_login_and_hostname(
    client: Client, superadmin: User, hostile: Employee
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse("dashboard:employee", args=[hostile.public_id])).content.decode()
    assert_isolated(body, TITLE, APP, USERNAME, HOSTNAME)
    # The tab title is plain text: there the control is shown, not kept.
    head = re.search(r"<title>(.*?)</title>", body, re.S)
    assert head is not None
    assert RLO not in head.group(1)
    assert "⟨RLO⟩" in head.group(1)


def test_chart_data_has_no_bidi_control_left(
    client: Client, superadmin: User, hostile: Employee
) -> None:
    client.force_login(superadmin)
    charts = []
    # The pie by title, then by application (friendly name, raw names on hover).
    for group in ("title", "app"):
        url = reverse("dashboard:employee", args=[hostile.public_id])
        body = client.get(url, {"group": group}).content.decode()
        pattern = r'<script id="chart-data" type="application/json">(.*?)</script>'
        match = re.search(pattern, body, re.S)
        assert match is not None
        data = json.loads(match.group(1))
        charts += [data["pie"], data["timeline"]]
    text = json.dumps(charts, ensure_ascii=False)
    assert not set(text) & set(BIDI_CONTROLS)
    assert "Facture ⟨RLO⟩gpj.exe" in text
    assert "evil⟨RLO⟩exe.app" in text


def test_titles_table_alone_isolates_the_title(
    client: Client, superadmin: User, hostile: Employee
) -> None:
    client.force_login(superadmin)
    today = timezone.localdate().isoformat()
    body = client.get(
        reverse("dashboard:employee_titles", args=[hostile.public_id]),
        {"start": today, "end": today},
    ).content.decode()
    assert_isolated(body, TITLE, APP)


@pytest.mark.parametrize("name", ["dashboard:home", "dashboard:search"])
def test_employee_lists_isolate_login_and_hostname(
    client: Client, superadmin: User, hostile: Employee, name: str
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse(name), {"q": "jean"}).content.decode()
    assert_isolated(body, USERNAME, HOSTNAME)


def test_team_page_isolates_agency_names(
    client: Client, superadmin: User, hostile: Employee
) -> None:
    client.force_login(superadmin)
    assert_isolated(client.get(reverse("dashboard:team")).content.decode(), "Nice \u202eecnarF")


@pytest.mark.parametrize(
    "name", ["org:employee_transfer", "org:employee_rename", "org:employee_delete"]
)
def test_org_pages_isolate_the_login(
    client: Client, superadmin: User, hostile: Employee, name: str
) -> None:
    client.force_login(superadmin)
    body = client.get(reverse(name, args=[hostile.public_id])).content.decode()
    assert_isolated(body, USERNAME)


def test_audit_log_isolates_a_target_login(
    client: Client, superadmin: User, org: Org, hostile: Employee
) -> None:
    do_transfer_employee(hostile, org.marseille, org.facturation, actor=superadmin)
    client.force_login(superadmin)
    body = client.get(reverse("audit:log")).content.decode()
    assert_isolated(body, USERNAME)
