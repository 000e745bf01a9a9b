""" "Today" on the home and search tables is each employee's own local date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal
from oxytrack.conftest import Org
from oxytrack.dashboard.queries import employee_list
from oxytrack.org.models import Device, Employee

# 02:00 in Paris on 2 June is still 1 June, 20:00, in Martinique.
NOW = datetime(2026, 6, 2, 2, 0, tzinfo=ZoneInfo("Europe/Paris"))
JUNE_1, JUNE_2 = date(2026, 6, 1), date(2026, 6, 2)


def _total(employee: Employee, day: date, active_min: int) -> None:
    start = datetime.combine(day, time(9), tzinfo=UTC)
    DailyTotal.objects.create(
        employee=employee,
        day=day,
        active_ms=active_min * 60_000,
        idle_ms=0,
        first_start=start,
        last_end=start + timedelta(minutes=active_min),
    )


def _today_active_min(superadmin: User, now: datetime) -> dict[str, int]:
    rows = employee_list(superadmin, now=now)
    return {e.username: e.today_active // 60_000 for e in rows}  # type: ignore[attr-defined]


def test_each_employee_counts_their_own_local_day(org: Org, superadmin: User) -> None:
    paris, martinique = org.employees["nice_facturation"], org.employees["fdf_facturation"]
    for employee in (paris, martinique):
        _total(employee, JUNE_1, 60)
        _total(employee, JUNE_2, 5)
    today = _today_active_min(superadmin, NOW)
    assert today["nice_facturation"] == 5  # already 2 June in Paris
    assert today["fdf_facturation"] == 60  # still 1 June in Martinique
    # Later, when both zones are on 2 June, both show 2 June.
    later = _today_active_min(superadmin, NOW.replace(hour=14))
    assert later["nice_facturation"] == later["fdf_facturation"] == 5


def test_the_zone_of_the_latest_device_wins_over_the_agency(org: Org, superadmin: User) -> None:
    # A Nice employee whose laptop now reports Martinique time: their spans'
    # days are Martinique days, so is their today.
    traveller = org.employees["nice_logistique"]
    Device.objects.create(
        employee=traveller, hostname="PORTABLE", time_zone="America/Martinique", last_seen_at=NOW
    )
    _total(traveller, JUNE_1, 45)
    _total(traveller, JUNE_2, 3)
    assert _today_active_min(superadmin, NOW)["nice_logistique"] == 45
