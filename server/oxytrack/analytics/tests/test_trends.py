"""Trends (analytics/trends.py) against hand-computed weeks: ISO weeks of each employee's
local days, a DST week, an overseas employee, rules edited after the fact, a transfer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.analytics.trends import employee_trend, team_trend, week_starts
from oxytrack.categories.actions import do_save_category
from oxytrack.categories.models import Category
from oxytrack.conftest import Org
from oxytrack.org.actions import do_transfer_employee
from oxytrack.org.models import Device, Employee

H = 3_600_000
MIN = 60_000
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _french() -> Iterator[None]:
    # "Non classé" is translated when read: a page test in English before must not leak.
    with translation.override("fr"):
        yield


def _device(employee: Employee, zone: str = "Europe/Paris") -> Device:
    return Device.objects.create(
        employee=employee, hostname=f"PC-{employee.username}", os="Windows 11", time_zone=zone
    )


def _record(device: Device, *spans: RawSpan) -> None:
    add_to_rollups(store_spans(device, spans))


def _weeks(trend: object) -> dict[str, list[int]]:
    return {c.label: c.weekly_ms for c in trend.categories}  # type: ignore[attr-defined]


def test_weeks_are_the_twelve_iso_weeks_ending_with_the_chosen_one() -> None:
    weeks = week_starts(date(2026, 12, 2))  # a Wednesday
    assert weeks[-1] == date(2026, 11, 30)  # its Monday
    assert weeks[0] == date(2026, 9, 14)  # eleven weeks before
    assert all(b - a == timedelta(days=7) for a, b in pairwise(weeks))
    # Across a new year: ISO week 1 of 2027 starts on Monday 4 January 2027.
    assert week_starts(date(2027, 1, 10), 2) == [date(2026, 12, 28), date(2027, 1, 4)]


def test_an_employee_trend_sums_each_category_per_week_and_compares_four_weeks(
    org: Org,
) -> None:
    device = _device(org.employees["nice_facturation"])
    last = date(2026, 11, 30)  # the last week shown: 30 Nov - 6 Dec
    nine = datetime(2026, 11, 30, 9, tzinfo=PARIS)
    _record(
        device,
        # The last week: 2 h of Excel, 30 min of web, 10 min of an unknown app.
        RawSpan(nine, 2 * H, "EXCEL.EXE", "Budget"),
        RawSpan(nine + timedelta(hours=2), 30 * MIN, "chrome.exe", "Actualités"),
        RawSpan(nine + timedelta(hours=3), 10 * MIN, "inconnu.exe", "?"),
        # Idle time is no active time.
        RawSpan(nine + timedelta(hours=4), H, "EXCEL.EXE", "Budget", active=False),
        # Five weeks before (26 Oct - 1 Nov, in the 4 weeks before the last 4): 1 h of Excel.
        RawSpan(nine - timedelta(weeks=5), H, "EXCEL.EXE", "Budget"),
        # Thirteen weeks before: outside the 12 weeks.
        RawSpan(nine - timedelta(weeks=12), 5 * H, "EXCEL.EXE", "Budget"),
    )
    trend = employee_trend(org.employees["nice_facturation"], last)
    zero = [0] * 12
    assert _weeks(trend) == {
        "Bureautique": [*zero[:6], H, *zero[:4], 2 * H],
        "Web": [*zero[:11], 30 * MIN],
        "Non classé": [*zero[:11], 10 * MIN],
    }
    # The rules' order, "Non classé" last, and its colour for the pie and the bars.
    assert [c.label for c in trend.categories] == ["Bureautique", "Web", "Non classé"]
    office = trend.categories[0]
    assert (office.change.recent_ms, office.change.previous_ms) == (2 * H, H)
    assert office.change.ratio == 1.0
    # Web had nothing before: no ratio to give.
    assert trend.categories[1].change.ratio is None
    assert trend.weekly_ms[-1] == 2 * H + 40 * MIN
    assert trend.employees == [0] * 6 + [1] + [0] * 4 + [1]


def test_a_dst_week_has_its_25_hour_sunday_and_the_next_week_its_own_half_hour(
    org: Org,
) -> None:
    # Sunday 25 October 2026: Paris goes from UTC+2 to UTC+1, a 25-hour day.
    device = _device(org.employees["nice_facturation"])
    midnight = datetime(2026, 10, 25, 0, tzinfo=PARIS)
    _record(
        device,
        # 24 h 30 from midnight: 23:30 on that long Sunday.
        RawSpan(midnight, 24 * H + 30 * MIN, "EXCEL.EXE", "Budget"),
        # From 23:30 Sunday to 00:30 Monday: cut at local midnight. (Written as a wall
        # clock: adding to an aware datetime adds wall-clock time, not elapsed time.)
        RawSpan(datetime(2026, 10, 25, 23, 30, tzinfo=PARIS), H, "EXCEL.EXE", "Budget"),
    )
    trend = employee_trend(org.employees["nice_facturation"], date(2026, 10, 26), weeks=2)
    assert trend.weeks == [date(2026, 10, 19), date(2026, 10, 26)]
    assert _weeks(trend) == {"Bureautique": [25 * H, 30 * MIN]}


def test_an_overseas_employee_s_weeks_are_their_local_weeks(org: Org) -> None:
    device = _device(org.employees["fdf_facturation"], "America/Martinique")
    # Monday 2 November 02:00 UTC is still Sunday 1 November 22:00 in Martinique (UTC-4).
    start = datetime(2026, 11, 2, 2, tzinfo=ZoneInfo("UTC"))
    _record(device, RawSpan(start, H, "EXCEL.EXE", "Budget"))
    trend = employee_trend(org.employees["fdf_facturation"], date(2026, 11, 2), weeks=2)
    assert _weeks(trend) == {"Bureautique": [H, 0]}


def test_a_rule_edited_afterwards_recategorises_the_past_weeks(org: Org, superadmin: User) -> None:
    device = _device(org.employees["nice_facturation"])
    _record(device, RawSpan(datetime(2026, 11, 3, 9, tzinfo=PARIS), H, "EXCEL.EXE", "Budget"))
    employee = org.employees["nice_facturation"]
    assert _weeks(employee_trend(employee, date(2026, 11, 2), weeks=1)) == {"Bureautique": [H]}
    office = Category.objects.get(name="Bureautique")
    do_save_category(
        office,
        {
            "name": "Traitement de texte",
            "colour": "#123456",
            "app_pattern": r"^winword(\.exe)?$",
            "title_pattern": "",
            "case_sensitive": False,
        },
        actor=superadmin,
    )
    trend = employee_trend(employee, date(2026, 11, 2), weeks=1)
    assert _weeks(trend) == {"Non classé": [H]}


def test_a_team_is_today_s_and_a_transferred_employee_brings_their_history(
    org: Org, superadmin: User
) -> None:
    moved = org.employees["nice_facturation"]
    stays = org.employees["marseille_logistique"]
    nine = datetime(2026, 11, 3, 9, tzinfo=PARIS)
    _record(_device(moved), RawSpan(nine, 2 * H, "EXCEL.EXE", "Budget"))
    _record(_device(stays), RawSpan(nine, H, "EXCEL.EXE", "Budget"))
    # Moved to Marseille / Logistique after that week.
    do_transfer_employee(moved, org.marseille, org.logistique, actor=superadmin, ip=None)
    week = date(2026, 11, 2)
    marseille = Employee.objects.filter(agency=org.marseille, service=org.logistique)
    trend = team_trend(marseille, week, weeks=1)
    assert _weeks(trend) == {"Bureautique": [3 * H]}
    assert trend.employees == [2]
    assert trend.average_ms == [round(1.5 * H)]
    nice = Employee.objects.filter(agency=org.nice, service=org.facturation)
    assert team_trend(nice, week, weeks=1).categories == []


@pytest.mark.parametrize("weeks", [1, 12])
def test_a_team_without_activity_has_an_empty_trend(org: Org, weeks: int) -> None:
    trend = team_trend(Employee.objects.all(), date(2026, 11, 2), weeks=weeks)
    assert trend.is_empty
    assert trend.average_ms == [0] * weeks
