"""The team overview's cast: one week of activity (see test_team.py's docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.conftest import Org
from oxytrack.org.actions import do_transfer_employee
from oxytrack.org.models import Device, Employee

H = 3_600_000
MIN = 60_000
PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
MONDAY = date(2026, 10, 19)
SUNDAY = date(2026, 10, 25)  # 25 hours in Paris


def _at(day: date, hour: int, zone: ZoneInfo, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _work(employee: Employee, zone: ZoneInfo, spans: list[RawSpan]) -> None:
    device = Device.objects.create(
        employee=employee, hostname=f"PC-{employee.pk}", time_zone=str(zone)
    )
    add_to_rollups(store_spans(device, spans))


@dataclass
class Week:
    paris: Employee  # Nice/Facturation
    overseas: Employee  # Fort-de-France/Facturation, works in the evening
    moved: Employee  # Nice/Logistique, then Nice/Facturation from Wednesday


@pytest.fixture
def week(org: Org, superadmin: User) -> Week:
    e = org.employees
    paris, overseas, moved = e["nice_facturation"], e["fdf_facturation"], e["nice_logistique"]
    _work(
        paris,
        PARIS,
        [
            # Monday: 2 h of Excel, then 30 min idle.
            RawSpan(_at(MONDAY, 9, PARIS), 2 * H, "EXCEL.EXE", "Budget - Excel", True),
            RawSpan(_at(MONDAY, 11, PARIS), 30 * MIN, "EXCEL.EXE", "Budget - Excel", False),
            # Tuesday: screen on, nobody working.
            RawSpan(_at(MONDAY + timedelta(1), 9, PARIS), 20 * MIN, "EXCEL.EXE", "Budget", False),
            # Sunday the 25th, midnight to midnight: 25 hours of wall clock, all active.
            RawSpan(_at(SUNDAY, 0, PARIS), 12 * H, "firefox", "Portail - Firefox", True),
            # In UTC: adding 12 h to a Paris datetime would add wall-clock hours.
            RawSpan(
                _at(SUNDAY, 0, PARIS).astimezone(UTC) + timedelta(hours=12),
                13 * H,
                "firefox",
                "Web",
                True,
            ),
        ],
    )
    _work(
        overseas,
        MARTINIQUE,
        # Wednesday 22:30 to 23:30 in Fort-de-France: Thursday 02:30-03:30 in UTC.
        [RawSpan(_at(MONDAY + timedelta(2), 22, MARTINIQUE, 30), H, "outlook", "Boîte", True)],
    )
    _work(moved, PARIS, [RawSpan(_at(MONDAY, 14, PARIS), 3 * H, "EXCEL.EXE", "Stock", True)])
    do_transfer_employee(moved, org.nice, org.facturation, actor=superadmin)
    return Week(paris, overseas, moved)
