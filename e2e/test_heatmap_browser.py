"""The heatmap of the employee detail page drawn in a real Chromium, under the strict CSP."""

# The fixtures come from a module shared with no conftest (see its docstring): imported
# here, then named as test arguments, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    Demo,
    chromium,
    demo,
    web,
    web_server,
)
from oxytrack.org.models import Employee

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_detail_page_draws_the_heatmap_under_the_csp(web: Browser, demo: Demo) -> None:
    employee = Employee.objects.filter(agency__name="Nice", devices__isnull=False).first()
    assert employee is not None
    # The first load of the detail page with plotly can pass 10 s on a loaded machine.
    web.page.set_default_timeout(30_000)
    web.login(*demo.superadmin)
    web.go(f"/employees/{employee.public_id}/")
    web.page.wait_for_selector("#heatmap-chart .main-svg")
    web.until("document.getElementById('heatmap-chart').data[0].type === 'heatmap'")
    # Monday first, 24 local hours, and some active minutes in the demo's working hours.
    assert web.page.evaluate("document.getElementById('heatmap-chart').data[0].y[0]") == "lundi"
    assert web.page.evaluate("document.getElementById('heatmap-chart').data[0].z[0].length") == 24
    assert (
        web.page.evaluate("Math.max(...document.getElementById('heatmap-chart').data[0].z.flat())")
        > 0
    )
    web.shot("employee-heatmap")
