"""The chart pages in a real Chromium under the strict CSP: plotly draws them with its own
styles and the console stays clean (plotly.js injects styles the CSP used to block, four
"Applying inline style violates ... 'style-src'" errors a page; see plotly_csp.py)."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

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


def _drawn_with_plotlys_styles(web: Browser, chart: str) -> None:
    web.page.wait_for_selector(f"#{chart} .main-svg")
    # plotly's own rule lays its SVG layers (the hover labels' among them) over the plot;
    # without its styles they stack below one another.
    positions = web.page.eval_on_selector_all(
        f"#{chart} .main-svg", "svgs => svgs.map(s => getComputedStyle(s).position)"
    )
    assert positions and set(positions) == {"absolute"}, (chart, positions)


def test_the_chart_pages_log_no_console_error(web: Browser) -> None:
    tz = timezone.get_current_timezone()
    yesterday = timezone.localdate() - timedelta(days=1)
    nice = Agency.objects.create(name="Nice", time_zone=str(tz))
    compta = Service.objects.create(name="Comptabilité")
    # As enrollment leaves it: no display name.
    employee = Employee.objects.create(username="CORP\\jdupont", agency=nice, service=compta)
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
    console: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            console.append(message.text)

    web.page.on("console", on_console)
    # The first load of a page with plotly can pass 10 s on a loaded machine.
    web.page.set_default_timeout(30_000)
    web.login("chef@example.com", PASSWORD)

    day = yesterday.isoformat()
    web.go(f"/employees/{employee.public_id}/?start={day}&end={day}&day={day}")
    for chart in ("timeline-chart", "heatmap-chart"):
        _drawn_with_plotlys_styles(web, chart)
    # The heatmap's colour bar (plotly resets its cells with an empty style attribute).
    web.page.wait_for_selector("#heatmap-chart rect.cbfill")
    assert console == []

    web.go(f"/analytics/team/?team={team_key(nice.pk, compta.pk)}")
    for chart in ("category-days-chart", "heatmap-chart"):
        _drawn_with_plotlys_styles(web, chart)
    assert console == []
