"""The team overview in a real Chromium: its charts draw under the strict CSP, and a cell
of the grid opens that employee's detail page on that day."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.analytics.team import team_key
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)
from oxytrack.org.models import Agency, Device, Employee, Service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "Correct-Horse-Battery-9"


def test_a_grid_cell_opens_the_employees_day(web: Browser) -> None:
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    nice = Agency.objects.create(name="Nice", time_zone=str(tz))
    compta = Service.objects.create(name="Comptabilité")
    employee = Employee.objects.create(
        username="jdupont", display_name="Jeanne Dupont", agency=nice, service=compta
    )
    device = Device.objects.create(employee=employee, hostname="PC-01", time_zone=str(tz))
    start = datetime.combine(yesterday, time(9), tzinfo=tz)
    add_to_rollups(
        store_spans(
            device,
            [
                RawSpan(start, 90 * 60_000, "EXCEL.EXE", "Budget - Excel", True),
                RawSpan(start + timedelta(hours=2), 30 * 60_000, "firefox", "Intranet", True),
            ],
        )
    )
    User.objects.create_superadmin("chef@example.com", PASSWORD)
    web.login("chef@example.com", PASSWORD)
    page = web.page

    web.go(f"/analytics/team/?team={team_key(nice.pk, compta.pk)}")
    # The stacked bars: one trace per category, drawn (the JSON and plotly under the CSP).
    page.wait_for_selector("#category-days-chart .main-svg")
    web.until("document.getElementById('category-days-chart').data.length === 2")
    row = page.locator("#team-grid-body tbody tr", has_text="Jeanne Dupont")
    cells = row.locator("td.period").all_inner_texts()
    # The last 7 days: "—" on the days without data, 2,0 h yesterday, nothing today.
    assert [c.strip() for c in cells] == ["—"] * 5 + ["2,0 h", "—"]
    assert page.locator("#team-grid-body tfoot").inner_text().count("2,0 h") == 1
    web.shot("team-overview")

    row.locator("td.period a").click()
    day = yesterday.isoformat()
    page.wait_for_url(f"**/employees/{employee.public_id}/?start={day}&end={day}&day={day}")
    page.wait_for_selector("#timeline-chart .main-svg")
    assert page.locator("#total-active").inner_text() == "2 h 00 min"
    assert page.locator("h1").inner_text() == "Jeanne Dupont"


def test_a_category_name_with_template_syntax_shows_as_written(web: Browser) -> None:
    # A rule's name is text typed by a super-admin: plotly must never read it as a
    # hover template ("%{y}") or as markup.
    from oxytrack.categories.models import Category

    tz = timezone.get_current_timezone()
    yesterday = timezone.localdate() - timedelta(days=1)
    nice = Agency.objects.create(name="Nice", time_zone=str(tz))
    employee = Employee.objects.create(username="mleroy", agency=nice)
    device = Device.objects.create(employee=employee, hostname="PC-02", time_zone=str(tz))
    start = datetime.combine(yesterday, time(9), tzinfo=tz)
    add_to_rollups(
        store_spans(device, [RawSpan(start, 2 * 3_600_000, "visites.exe", "Tournée", True)])
    )
    name = "Visites %{y} <i>à domicile</i>"
    Category.objects.create(name=name, colour="#aa3377", app_pattern="^visites", order=0)
    User.objects.create_superadmin("chef@example.com", PASSWORD)
    web.login("chef@example.com", PASSWORD)
    page = web.page

    web.go(f"/analytics/team/?team={team_key(nice.pk)}")
    page.wait_for_selector("#category-days-chart .main-svg")
    bars = page.locator("#category-days-chart .bars path").all()
    drawn = [b for b in bars if (box := b.bounding_box()) is not None and box["height"] > 1]
    assert len(drawn) == 1  # yesterday's two hours, the other days empty
    drawn[0].scroll_into_view_if_needed()
    box = drawn[0].bounding_box()
    assert box is not None
    # plotly's drag layer lies over the bars: hover the point, as a mouse does.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator("#category-days-chart .hoverlayer .hovertext")
    label.first.wait_for()
    text = label.first.text_content() or ""
    assert name in text, text
    assert "2 h" in text
