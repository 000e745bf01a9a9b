"""The super-admin's category rules in a real Chromium, under the strict CSP: the rule
form's live preview (htmx) lists the last 7 days' titles a rule would take before it is
saved, the rule lands last in the list, moving it up re-categorises the employee's
detail page, editing its pattern re-categorises history, deleting it gives the windows
back to the rules below; a broken expression is refused in French and saves nothing."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.accounts.tests.otp import pass_second_factor
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.categories.models import Category
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)
from oxytrack.org.models import Agency, Device, Employee, Service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "Correct-Horse-Battery-9"
NAME = "Tournées à domicile"
MIN = 60_000

# Yesterday's windows, minutes of active time. The starter rules put Excel in
# "Bureautique" and Firefox in "Web"; the new rule's expression takes the two "tournées".
PLANNING = ("EXCEL.EXE", "Planning des tournées - Excel", 50)
BUDGET = ("EXCEL.EXE", "Budget 2026 - Excel", 40)
TOURNEES = ("firefox", "Tournées du jour - Mozilla Firefox", 25)
COURRIEL = ("firefox", "Courriel - Mozilla Firefox", 20)


def _seed() -> Employee:
    """An employee as enrollment leaves them (no display name), with yesterday's activity
    stored and rolled up as the ingest does."""
    tz = timezone.get_current_timezone()
    nice = Agency.objects.create(name="Nice", time_zone=str(tz))
    soins = Service.objects.create(name="Soins à domicile")
    employee = Employee.objects.create(username="CORP\\jdupont", agency=nice, service=soins)
    device = Device.objects.create(employee=employee, hostname="PC-01", time_zone=str(tz))
    at = datetime.combine(timezone.localdate() - timedelta(days=1), time(8), tzinfo=tz)
    raw = []
    for app, title, minutes in (PLANNING, BUDGET, TOURNEES, COURRIEL):
        raw.append(RawSpan(at, minutes * MIN, app, title, True))
        at += timedelta(minutes=minutes + 5)
    add_to_rollups(store_spans(device, raw))
    return employee


def _detail_categories(web: Browser, employee: Employee) -> list[tuple[str, str]]:
    """(category, active time) rows of the employee's detail page switched to categories."""
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    web.go(f"/employees/{employee.public_id}/?start={day}&end={day}")
    page = web.page
    page.locator("#group-switch a[data-group=category]").click()
    web.until("document.querySelector('#group-switch a.active').dataset.group === 'category'")
    page.wait_for_selector("#pie-chart .main-svg")
    rows = page.locator("#titles-body tbody tr")
    return [
        (row.locator("td").nth(0).inner_text().strip(), row.locator("td").nth(2).inner_text())
        for row in rows.all()
    ]


def _rule_names(web: Browser) -> list[str]:
    return web.page.locator("#category-rules tbody tr td:nth-child(2) bdi").all_inner_texts()


def _preview_titles(web: Browser) -> list[str]:
    cells = web.page.locator("#preview-table tbody tr td:nth-child(2)").all_inner_texts()
    return [c.strip() for c in cells]


def test_a_rule_previewed_saved_moved_edited_and_deleted(web: Browser) -> None:
    cache.clear()  # the preview's sums of the top windows are kept a few minutes
    employee = _seed()
    User.objects.create_superadmin("chef@example.com", PASSWORD)
    page = web.page
    # The first load of a page with plotly can pass 10 s on a loaded machine.
    page.set_default_timeout(30_000)
    console: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            console.append(message.text)

    page.on("console", on_console)
    web.go("/login/")
    page.fill("input[name=username]", "chef@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    pass_second_factor(page, web.base, "chef@example.com")
    page.wait_for_url(web.base + "/")

    before = [("Bureautique", "1 h 30 min"), ("Web", "45 min")]
    assert _detail_categories(web, employee) == before

    # The list: the starter rules, then a new one.
    web.go("/settings/categories/")
    starters = _rule_names(web)
    assert starters[0] == "Logiciel de soins" and NAME not in starters
    page.get_by_role("link", name="Nouvelle catégorie").click()
    page.wait_for_url("**/settings/categories/new/")
    page.fill("#id_name", NAME)
    page.fill("#id_colour", "#c0392b")
    page.fill("#id_title_pattern", "tourn[ée]es")
    # The preview, before anything is saved: the two matching titles, not the others.
    web.until("document.querySelector('#preview-summary') !== null")
    assert sorted(_preview_titles(web)) == sorted([PLANNING[1], TOURNEES[1]])
    summary = page.inner_text("#preview-summary")
    assert summary == (
        "2 titres sur les 4 plus utilisés correspondent (1 h 15 min sur 2 h 15 min)."
    )
    current = page.locator("#preview-table tbody tr td:nth-child(4)").all_inner_texts()
    assert sorted(current) == ["Bureautique", "Web"]
    assert not Category.objects.filter(name=NAME).exists()
    web.shot("category-preview")

    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/settings/categories/")
    assert "Catégorie enregistrée." in page.inner_text("main")
    # Placed last: every starter rule still comes first, so nothing changes yet.
    assert _rule_names(web) == [*starters, NAME]
    row = page.locator("#category-rules tbody tr", has_text=NAME)
    assert row.locator("td").nth(0).inner_text() == str(len(starters) + 1)
    assert "#c0392b" in row.inner_text()
    assert row.locator("code").nth(1).inner_text() == "tourn[ée]es"
    assert _detail_categories(web, employee) == before

    # Moved up to the top: the first rule that matches wins.
    web.go("/settings/categories/")
    for _ in starters:
        with page.expect_navigation():
            page.get_by_role("button", name=f"Monter {NAME}").click()
    assert _rule_names(web) == [NAME, *starters]
    assert page.get_by_role("button", name=f"Monter {NAME}").count() == 0
    assert _detail_categories(web, employee) == [
        (NAME, "1 h 15 min"),  # 50 + 25
        ("Bureautique", "40 min"),
        ("Web", "20 min"),
    ]

    # Editing the expression re-categorises history: the Firefox "tournées" go back to Web.
    web.go("/settings/categories/")
    page.locator("#category-rules tbody tr", has_text=NAME).get_by_role(
        "link", name="Modifier"
    ).click()
    page.wait_for_url("**/settings/categories/*/")
    # The saved rule's preview, drawn with the page.
    assert sorted(_preview_titles(web)) == sorted([PLANNING[1], TOURNEES[1]])
    page.fill("#id_title_pattern", "^planning")
    web.until(
        "document.querySelector('#preview-summary').innerText.startsWith('1 titre sur les 4')"
    )
    assert _preview_titles(web) == [PLANNING[1]]
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/settings/categories/")
    assert _detail_categories(web, employee) == [
        (NAME, "50 min"),
        ("Web", "45 min"),  # 25 + 20
        ("Bureautique", "40 min"),
    ]

    # Deleted: its windows fall back to the starter rules.
    web.go("/settings/categories/")
    with page.expect_navigation():
        page.locator("#category-rules tbody tr", has_text=NAME).get_by_role(
            "button", name="Supprimer"
        ).click()
    assert "Catégorie supprimée." in page.inner_text("main")
    assert _rule_names(web) == starters
    assert _detail_categories(web, employee) == before

    # A broken expression: the preview says so, saving is refused in French, nothing saved.
    web.go("/settings/categories/new/")
    page.fill("#id_name", "Cassée")
    page.fill("#id_title_pattern", "tourn(ées")
    web.until("document.querySelector('#category-preview .error') !== null")
    assert page.inner_text("#category-preview .error") == (
        "Expression invalide : l'aperçu attend qu'elle soit corrigée."
    )
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    error = page.locator("#category-form .error").inner_text()
    assert error == "Expression invalide : parenthèse fermante manquante (caractère 10)"
    assert "/settings/categories/new/" in page.url
    assert not Category.objects.filter(name="Cassée").exists()
    assert Category.objects.count() == len(starters)

    assert console == []
