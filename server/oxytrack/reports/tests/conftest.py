"""A fortnight of rollups for the weekly report: weeks 2026-W46 and 2026-W47.

Hand-computed expectations (starter categories: WINWORD is "Bureautique",
OUTLOOK "Messagerie", anything unknown "Non classé"):

- Nice/Facturation: two members (nice_facturation and Zoé, who did nothing);
  W47: Monday 2 h Word + 1 h Outlook, Tuesday 1 h unknown app -> 4 h over 2
  worked days (2 h a day), 1 active employee; W46: 2 h -> +100 %.
  Shares: Messagerie 25 %, Bureautique 50 %, Non classé 25 %.
- Nice/Logistique: W47 Wednesday 3 h Word; W46 nothing (no change shown).
- Fort-de-France/Facturation: W47 Thursday 1 h Outlook; W46 4 h -> -75 %.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oxytrack.accounts.models import Scope, User
from oxytrack.activity.models import DailyTotal, DailyUsage, Window, window_digest
from oxytrack.conftest import PASSWORD, Org
from oxytrack.org.models import Agency, Employee
from oxytrack.reports.models import ReportPreference
from oxytrack.reports.weekly import Week

H = 3_600_000
W47 = Week(date(2026, 11, 16))
W46 = W47.previous


def add_day(employee: Employee, day: date, usage: dict[str, int]) -> None:
    """`employee`'s rollups of `day`: active ms per app (the title is the app's name)."""
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    total = 0
    for app, ms in usage.items():
        window, _ = Window.objects.get_or_create(
            digest=window_digest(app, app), defaults={"app": app, "title": app}
        )
        DailyUsage.objects.create(
            employee=employee,
            day=day,
            window=window,
            active_ms=ms,
            first_start=start,
            last_end=start + timedelta(milliseconds=ms),
        )
        total += ms
    DailyTotal.objects.create(
        employee=employee,
        day=day,
        active_ms=total,
        idle_ms=600_000,
        first_start=start,
        last_end=start + timedelta(milliseconds=total),
    )


@pytest.fixture
def fortnight(org: Org) -> Org:
    e = org.employees
    e["zoe"] = Employee.objects.create(
        username="zoe", display_name="Zoé", agency=org.nice, service=org.facturation
    )
    monday = W47.monday
    add_day(e["nice_facturation"], monday, {"WINWORD.EXE": 2 * H, "OUTLOOK.EXE": H})
    add_day(e["nice_facturation"], monday + timedelta(days=1), {"weird-tool": H})
    add_day(e["nice_facturation"], W46.monday, {"WINWORD.EXE": 2 * H})
    add_day(e["nice_logistique"], monday + timedelta(days=2), {"WINWORD.EXE": 3 * H})
    add_day(e["fdf_facturation"], monday + timedelta(days=3), {"OUTLOOK.EXE": H})
    add_day(e["fdf_facturation"], W46.monday + timedelta(days=4), {"OUTLOOK.EXE": 4 * H})
    # The weeks around are not W47's: the Sunday before and the Monday after.
    add_day(e["nice_facturation"], monday - timedelta(days=8), {"WINWORD.EXE": 7 * H})
    add_day(e["nice_facturation"], monday + timedelta(days=7), {"WINWORD.EXE": 9 * H})
    return org


@pytest.fixture
def managers(
    fortnight: Org, superadmin: User, alice: User, bob: User, carol: User, dpo: User
) -> dict[str, User]:
    """The cast who may receive the report, plus those who must not: an inactive admin
    (gone), one whose scope has no employees (empty), one who opted out (quiet)."""
    gone = User.objects.create_user("gone@example.com", PASSWORD, is_active=False)
    Scope.objects.create(user=gone, agency=fortnight.nice)
    empty = User.objects.create_user("empty@example.com", PASSWORD)
    Scope.objects.create(user=empty, agency=Agency.objects.create(name="Vide"))
    quiet = User.objects.create_user("quiet@example.com", PASSWORD)
    Scope.objects.create(user=quiet, agency=fortnight.nice)
    ReportPreference.objects.create(user=quiet, weekly=False)
    return {"super": superadmin, "alice": alice, "bob": bob, "carol": carol, "quiet": quiet}
