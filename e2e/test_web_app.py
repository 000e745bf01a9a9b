"""The managers' web app in a real Chromium: tables, the detail page's charts,
the super-admin's changes, the 404 page and the idle logout.

Screenshots of the main pages land in var/screenshots/ (`make screenshots`
copies them next to the manuals).
"""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from oxytrack.activity.queries import category_days
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    Demo,
    chromium,
    demo,
    open_browser,
    web,
    web_server,
)
from oxytrack.dashboard.tests.conftest import HOSTILE_TITLES
from oxytrack.org.models import Device, Employee

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _add_hostile_titles(employee: Employee) -> date:
    """Three hostile titles on a day before the demo's 14 days, alone on that day."""
    device = Device.objects.filter(employee=employee).first()
    assert device is not None
    day = timezone.localdate() - timedelta(days=20)
    start = datetime.combine(day, time(9), tzinfo=timezone.get_current_timezone())
    spans = [
        RawSpan(start + timedelta(minutes=20 * i), 15 * 60_000, "hostile.exe", title, True)
        for i, title in enumerate(HOSTILE_TITLES)
    ]
    add_to_rollups(store_spans(device, spans))
    return day


def _trace_names(web: Browser, chart: str) -> list[str]:
    names: list[str] = web.page.evaluate(
        f"document.getElementById('{chart}').data.map(t => t.name)"
    )
    return names


def _timeline_hover(web: Browser) -> str:
    """The hover text of the timeline's first bar (plotly's drag layer lies over the
    bars: hovered by coordinates, as a mouse does)."""
    page = web.page
    page.mouse.move(0, 0)
    bar = page.locator("#timeline-chart g.point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.wait_for_selector("#timeline-chart g.hovertext")
    return page.locator("#timeline-chart g.hovertext").first.text_content() or ""


def test_an_admin_pages_sorts_and_filters_the_home_table(web: Browser, demo: Demo) -> None:
    web.login(*demo.admin_nice)
    page = web.page
    info = page.locator(".table-info")
    total = int(re.search(r"sur (\d+) élément", info.inner_text()).group(1))  # type: ignore[union-attr]
    assert 10 < total < 24  # Nice only, not the whole demo
    web.shot("home")

    page.select_option("select[name=per_page]", "10")
    web.until("document.querySelector('.table-info').innerText.includes('1 à 10')")
    assert page.locator("#employees-body tbody tr").count() == 10
    page.click(".pager a[rel=next]")
    web.until("document.querySelector('.table-info').innerText.includes('11 à ')")

    first = page.locator("#employees-body tbody tr:first-child td:first-child a").inner_text()
    page.click("th a.sort:text('Nom')")  # now descending
    page.wait_for_selector("th a.sort.desc")
    assert (
        page.locator("#employees-body tbody tr:first-child td:first-child a").inner_text() != first
    )

    page.fill("input[name=q]", "zzzz-personne")
    page.wait_for_selector("text=Aucun élément trouvé")
    name = Employee.objects.filter(agency__name="Nice").order_by("display_name").first()
    assert name is not None
    page.fill("input[name=q]", name.username.upper())
    web.until("document.querySelector('.table-info').innerText.includes('sur 1 élément')")
    assert name.display_name in page.locator("#employees-body tbody").inner_text()

    # The team overview: one row per (agency, service) of the scope, Nice only.
    web.go("/team/")
    agencies = page.locator("#team-body tbody td:first-child").all_inner_texts()
    assert agencies
    assert {a.strip() for a in agencies} == {"Nice"}
    web.shot("team")


def test_the_detail_page_follows_the_range_and_keeps_hostile_titles_as_text(
    web: Browser, demo: Demo
) -> None:
    employee = Employee.objects.filter(agency__name="Nice", devices__isnull=False).first()
    assert employee is not None
    hostile_day = _add_hostile_titles(employee).isoformat()
    today = timezone.localdate().isoformat()
    web.login(*demo.superadmin)
    page = web.page
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    web.go(f"/employees/{employee.public_id}/")
    page.wait_for_selector("#pie-chart .main-svg")
    page.wait_for_selector("#timeline-chart .main-svg")
    web.shot("employee")
    page.evaluate("window.__sameDocument = true")

    # A new range redraws totals, table and charts without a full reload.
    total_before = page.locator("#total-active").inner_text()
    rows_before = page.locator("#titles .table-info").inner_text()
    page.fill("input[name=start]", hostile_day)  # the range reloads on change
    web.until(f"document.querySelector('#total-active').innerText !== {total_before!r}")
    assert page.locator("#titles .table-info").inner_text() != rows_before
    web.until("document.getElementById('days-chart').data[0].x.length === 21")
    assert f"start={hostile_day}" in page.url

    # Hostile titles are text in the table...
    page.fill("#titles input[name=q]", "hostile")
    web.until("document.querySelector('#titles .table-info').innerText.includes('sur 3 éléments')")
    cells = page.locator("#titles-body tbody td:nth-child(2)").all_inner_texts()
    assert sorted(cells) == sorted(HOSTILE_TITLES)
    assert page.locator("img[src=x]").count() == 0

    # ... and in the pie's legend, its hover texts and the timeline (that day alone).
    page.fill("input[name=end]", hostile_day)
    web.until("document.getElementById('days-chart').data[0].x.length === 1")
    web.until("document.querySelectorAll('#pie-chart g.legend text').length === 3")
    legend = page.locator("#pie-chart g.legend text").all_text_contents()
    assert sorted(legend) == sorted(HOSTILE_TITLES)
    # What plotly receives is escaped: it reads tags in labels and hover texts.
    assert page.evaluate(
        "document.getElementById('timeline-chart').data.every(t => t.customdata.every("
        "c => !c.replace(/<br>/g, '').includes('<')))"
    )
    # plotly's drag layer lies over the bars: hover by coordinates, as a mouse does.
    bar = page.locator("#timeline-chart g.point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    page.wait_for_selector("#timeline-chart g.hovertext")
    hover = page.locator("#timeline-chart g.hovertext").text_content() or ""
    assert "hostile.exe" in hover
    assert any(title in hover for title in HOSTILE_TITLES)  # as text, tags and all

    # Clicking a legend entry hides its slice; the others take up the whole pie.
    page.locator("#pie-chart").scroll_into_view_if_needed()
    page.locator("#pie-chart g.legend g.traces").first.click()
    web.until("(document.getElementById('pie-chart')._fullLayout.hiddenlabels || []).length === 1")
    assert page.locator("#pie-chart g.slice text").count() == 2
    # Clicking a slice pulls it out.
    page.locator("#pie-chart g.slice").nth(1).click()
    web.until("document.getElementById('pie-chart').data[0].pull.some(p => p > 0)")
    # The switch: by application, then by category (the server's; htmx swaps the part).
    page.click("#group-switch a[data-group=app]")
    web.until("document.getElementById('pie-chart').data[0].labels.join() === 'hostile.exe'")
    assert "group=app" in page.url
    page.click("#group-switch a[data-group=category]")
    # No starter rule knows hostile.exe: all of it is "Non classé", in that category's grey.
    web.until("document.getElementById('pie-chart').data[0].labels.join() === 'Non classé'")
    assert page.evaluate("document.getElementById('pie-chart').data[0].marker.colors[0]") == (
        "#c7c7c7"
    )
    assert page.locator("#titles-body thead th").first.inner_text().strip() == "Catégorie"
    assert page.locator("#group-switch a.active").inner_text() == "Catégories"
    # The day bars and the timeline switch too: the bars stacked by category, idle on top.
    web.until("document.getElementById('days-chart').data.length === 2")
    assert _trace_names(web, "days-chart") == ["Non classé", "Inactif"]
    assert _timeline_hover(web).startswith("Non classé")

    # Over the demo's days too: one bar trace per category, in the rules' order.
    page.fill("input[name=end]", today)
    web.until("document.getElementById('days-chart').data[0].x.length === 21")
    expected = [
        c.category.label
        for c in category_days(employee, date.fromisoformat(hostile_day), date.fromisoformat(today))
    ]
    assert len(expected) > 1
    web.until(f"document.getElementById('days-chart').data.length === {len(expected) + 1}")
    assert _trace_names(web, "days-chart") == [*expected, "Inactif"]
    colours = page.evaluate("document.getElementById('days-chart').data.map(t => t.marker.color)")
    assert colours[-2] == "#c7c7c7"  # "Non classé" last, in its grey
    # The timeline's rows are categories too, and its hover says which.
    rows = [r for r in _trace_names(web, "timeline-chart") if r != "Inactif"]
    assert rows == [c for c in expected if c in rows]
    hover = _timeline_hover(web)
    assert any(hover.startswith(category) for category in expected), hover
    web.shot("employee-categories")

    # A shortcut: today.
    page.click(".shortcuts a:text('Aujourd\\'hui')")
    web.until(f"location.search.includes('start={today}')")
    # Wait for the swap to finish: a fill before it would be lost with the old form.
    web.until(
        f"document.querySelector('input[name=start]').value === '{today}'"
        " && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )
    assert page.evaluate("window.__sameDocument") is True
    assert console == []

    # The end before the start: a clear message (a 400, which the console reports).
    page.fill("input[name=end]", "2026-03-01")
    page.wait_for_selector("text=La date de fin est antérieure à la date de début.")


def test_the_superadmin_transfers_then_deletes_an_employee(web: Browser, demo: Demo) -> None:
    employee = Employee.objects.filter(agency__name="Nice").first()
    assert employee is not None
    web.login(*demo.superadmin)
    page = web.page
    web.go(f"/employees/{employee.public_id}/")
    page.click("a:text('Transférer')")
    page.select_option("select[name=agency]", label="Marseille")
    web.shot("transfer")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=transféré")
    employee.refresh_from_db()
    assert employee.agency is not None and employee.agency.name == "Marseille"

    page.click("a.danger:text('Supprimer')")
    web.shot("delete")
    page.click("#confirm-delete")
    page.wait_for_selector("text=supprimé")
    assert not Employee.objects.filter(pk=employee.pk).exists()

    web.go(f"/employees/{employee.public_id}/")
    assert page.locator("h1").inner_text() == "Page introuvable"
    web.shot("404")
    page.click("a:text('Retour à l\\'accueil')")
    page.wait_for_url(web.base + "/")

    for path, name in [
        ("/admins/", "admins"),
        ("/admins/new/", "admin-create"),
        ("/settings/org/", "organisation"),
        ("/settings/enrollment-key/", "enrollment-key"),
        ("/settings/policy/", "policy"),
        ("/audit/", "audit"),
    ]:
        web.go(path)
        web.shot(name)
    assert "Suppression d'un utilisateur" in page.locator("#audit-body").inner_text()


# The session's expiry is checked on PostgreSQL by the server's tests; this one is the
# browser's side of it (htmx goes to the login page): once.
@pytest.mark.once
def test_an_idle_session_ends_at_the_next_click(web: Browser, demo: Demo) -> None:
    web.login(*demo.admin_nice)
    page = web.page
    # Sixteen minutes pass, as far as the session store knows.
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    page.click("th a.sort:text('Nom')")  # an htmx request: the page must go to login
    page.wait_for_url(re.compile(r".*/login/.*"))
    assert page.locator("input[name=password]").count() == 1
    web.shot("login")


# English labels and screenshots: the database plays no part, once.
@pytest.mark.once
def test_english_pages_and_the_login_screenshot(
    chromium: object, web_server: str, demo: Demo
) -> None:
    browser = open_browser(chromium, web_server, locale="en-GB")
    try:
        browser.go("/login/")
        browser.shot("en-login")
        browser.login(*demo.admin_nice)
        assert "Showing 1 to" in browser.page.locator(".table-info").inner_text()
        browser.shot("en-home")
        employee = Employee.objects.filter(agency__name="Nice", devices__isnull=False).first()
        assert employee is not None
        browser.go(f"/employees/{employee.public_id}/")
        browser.page.wait_for_selector("#pie-chart .main-svg")
        browser.shot("en-employee")
        assert browser.dialogs == [] and browser.errors == []
    finally:
        browser.close()
