"""CategoryDay, the per (employee, day, category) rollup the team overview and the team
trends read for the past days: after every kind of write (an upload to a past day, with a
new window or a known one, a rule edited after the fact, a transfer, the purge, an
erasure, a rebuild of the rollups, a dump loaded back), the pages show what the plain
sums over DailyUsage give, and the rollup is that join row for row."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F, Sum
from django.test import Client
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity import past_totals
from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import DailyTotal, DailyUsage, Window
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.activity.rollups import add_to_rollups, rebuild_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.analytics import team, trends
from oxytrack.categories import rollup, window_map
from oxytrack.categories.models import Category, CategoryDay, WindowCategory, WindowCategoryState
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import batch, post_batch, span
from oxytrack.org.actions import do_delete_employee, do_transfer_employee
from oxytrack.org.models import Device, Employee

pytestmark = pytest.mark.django_db

H = 3_600_000
PARIS = ZoneInfo("Europe/Paris")
# A week well inside the past days (past_totals.last_past_day()): the pages read it from
# the rollup. Three weeks back, so an upload to it is still accepted.
_THREE_WEEKS_AGO = timezone.now().date() - timedelta(days=21)
MONDAY = _THREE_WEEKS_AGO - timedelta(days=_THREE_WEEKS_AGO.weekday())
WEEK = (MONDAY, MONDAY + timedelta(days=6))


def _work(employee: Employee, spans: list[tuple[int, float, str, str, bool]]) -> None:
    """(day offset from MONDAY, hours, app, title, active) spans, from 9:00 Paris."""
    device, _created = Device.objects.get_or_create(
        employee=employee, hostname=f"PC-{employee.pk}", defaults={"time_zone": "Europe/Paris"}
    )
    raw: list[RawSpan] = []
    at: dict[date, datetime] = {}
    for offset, hours, app, title, active in spans:
        day = MONDAY + timedelta(days=offset)
        start = at.get(day, datetime(day.year, day.month, day.day, 9, tzinfo=PARIS))
        raw.append(RawSpan(start, int(hours * H), app, title, active))
        at[day] = start + timedelta(hours=hours)
    add_to_rollups(store_spans(device, raw))


@pytest.fixture
def history(org: Org) -> Org:
    _work(
        org.employees["nice_facturation"],
        [
            (0, 2, "EXCEL.EXE", "Budget - Excel", True),  # Bureautique
            (0, 1, "OUTLOOK.EXE", "Boîte de réception - Outlook", True),  # Messagerie
            (0, 0.5, "OUTLOOK.EXE", "Boîte de réception - Outlook", False),  # idle
            (1, 3, "EXCEL.EXE", "Budget - Excel", True),
            (2, 1, "stock.exe", "Inventaire", True),  # Non classé
        ],
    )
    _work(
        org.employees["nice_logistique"],
        [(0, 4, "stock.exe", "Inventaire", True), (1, 1, "EXCEL.EXE", "Stock - Excel", True)],
    )
    window_map.refresh()  # the map, and the rollup with it, as a reader leaves them
    return org


def _joined() -> set[tuple[Any, ...]]:
    """The rollup as it must be: DailyUsage joined to the map, grouped in SQL."""
    rows = (
        DailyUsage.objects.filter(window__category_map__isnull=False)
        .values("employee_id", "day", c=F("window__category_map__category"))
        .annotate(active=Sum("active_ms"), idle=Sum("idle_ms"))
        .order_by()
    )
    return {(r["employee_id"], r["day"], r["c"], r["active"], r["idle"]) for r in rows}


def _stored() -> set[tuple[Any, ...]]:
    return set(
        CategoryDay.objects.values_list("employee_id", "day", "category", "active_ms", "idle_ms")
    )


def _overview(user: User) -> team.TeamSummary:
    """The team overview's summary of the whole organisation over WEEK, as the page gets it."""
    choice = team.find_team(team.team_choices(user), "")
    assert choice is not None
    return team.team_summary(user, choice, team.grid_columns(*WEEK), *WEEK)


def _pages(user: User) -> tuple[team.CategoryCharts, trends.Trend]:
    """What the overview's category charts and the team trends show (rollup, caches)."""
    trend = trends.team_trend(Employee.objects.visible_to(user), MONDAY)
    return _overview(user).charts, trend


def _direct() -> tuple[team.CategoryCharts, trends.Trend]:
    """The same figures summed over DailyUsage, with no rollup and no cache."""
    ids = Employee.objects.values("pk")
    usage = DailyUsage.objects.filter(employee__in=ids)
    totals = DailyTotal.objects.filter(employee__in=ids)
    return (
        team.category_charts(Employee.objects.all(), *WEEK),
        trends._trend(usage, totals, MONDAY, trends.WEEKS),
    )


def _seen(user: User) -> dict[str, Any]:
    """The overview and the trends agree with the direct sums, and the rollup is the join;
    returns what the overview shows: {category: hours per day}, {(agency, service): hours},
    and the trend's last week {category label: hours}."""
    charts, trend = _pages(user)
    assert (charts, trend) == _direct()
    assert _stored() == _joined()
    return {
        "days": {s.category.name: [ms / H for ms in s.days] for s in charts.series},
        "teams": {(t.agency, t.service): t.active_ms / H for t in charts.teams},
        "week": {c.label: c.weekly_ms[-1] / H for c in trend.categories},
    }


def test_the_pages_show_the_rollup_s_sums(history: Org, superadmin: User) -> None:
    seen = _seen(superadmin)
    assert seen["days"] == {
        "Bureautique": [2, 4, 0, 0, 0, 0, 0],
        "Messagerie": [1, 0, 0, 0, 0, 0, 0],
        "Non classé": [4, 0, 1, 0, 0, 0, 0],
    }
    assert seen["teams"] == {("Nice", "Facturation"): 7, ("Nice", "Logistique"): 5}
    assert seen["week"] == {"Bureautique": 6, "Messagerie": 1, "Non classé": 5}
    # They were read from the rollup: one row per employee, day and category.
    assert CategoryDay.objects.count() == 6


def test_a_rule_edited_after_the_fact_shows_at_once(history: Org, superadmin: User) -> None:
    _seen(superadmin)  # cached meanwhile
    Category.objects.create(name="Logistique", colour="#336699", app_pattern="^stock", order=0)
    Category.objects.filter(name="Messagerie").delete()
    seen = _seen(superadmin)
    assert seen["days"]["Logistique"] == [4, 0, 1, 0, 0, 0, 0]
    assert seen["days"]["Non classé"] == [1, 0, 0, 0, 0, 0, 0]  # Outlook's hour
    assert "Messagerie" not in seen["days"]
    # The rollup followed the map: no empty row left where the time moved out.
    assert not CategoryDay.objects.filter(active_ms=0, idle_ms=0).exists()


def test_a_late_upload_to_a_past_day_shows_a_new_window_and_a_known_one(
    history: Org, superadmin: User, enrolled_device: EnrolledDevice
) -> None:
    _seen(superadmin)
    wednesday = MONDAY + timedelta(days=2)
    start = datetime(wednesday.year, wednesday.month, wednesday.day, 14, tzinfo=PARIS)
    teams = span(start, 1800, app="teams.exe", title="Réunion - Microsoft Teams")
    excel = span(start + timedelta(hours=1), 3600, app="EXCEL.EXE", title="Budget - Excel")
    # Excel's window is mapped already (in the rollup at once, by the ingest's own
    # transaction); Teams' is new (in the rollup once the next reader maps it).
    assert post_batch(Client(), enrolled_device.token, batch([teams, excel])).status_code == 200
    assert _stored() == _joined()
    seen = _seen(superadmin)
    assert seen["days"]["Réunions"] == [0, 0, 0.5, 0, 0, 0, 0]
    assert seen["days"]["Bureautique"] == [2, 4, 1, 0, 0, 0, 0]
    # Another upload to that day, to both windows: added to their rows.
    later = start + timedelta(hours=3)
    again = [
        span(later, 1800, app="teams.exe", title="Réunion - Microsoft Teams"),
        span(later + timedelta(hours=1), 3600, app="EXCEL.EXE", title="Budget - Excel"),
    ]
    assert post_batch(Client(), enrolled_device.token, batch(again)).status_code == 200
    seen = _seen(superadmin)
    assert seen["days"]["Réunions"] == [0, 0, 1, 0, 0, 0, 0]
    assert seen["days"]["Bureautique"] == [2, 4, 2, 0, 0, 0, 0]


def test_a_transfer_takes_the_history_along(history: Org, superadmin: User) -> None:
    _seen(superadmin)
    employee = history.employees["nice_facturation"]
    do_transfer_employee(employee, history.marseille, history.facturation, actor=superadmin)
    seen = _seen(superadmin)
    assert seen["teams"] == {("Marseille", "Facturation"): 7, ("Nice", "Logistique"): 5}


def test_the_purge_takes_the_old_days_out(history: Org, superadmin: User) -> None:
    _seen(superadmin)
    do_purge_activity(retention_cutoffs(before=MONDAY + timedelta(days=1)), actor=None, pause_s=0)
    seen = _seen(superadmin)
    assert seen["days"] == {"Bureautique": [0, 4, 0, 0, 0, 0, 0], "Non classé": [0, 0, 1] + [0] * 4}
    assert not CategoryDay.objects.filter(day=MONDAY).exists()


def test_an_erasure_takes_the_employee_s_time_out(history: Org, superadmin: User) -> None:
    _seen(superadmin)
    do_delete_employee(history.employees["nice_facturation"], actor=superadmin)
    seen = _seen(superadmin)
    assert seen["teams"] == {("Nice", "Logistique"): 5}
    do_delete_employee(history.employees["nice_logistique"], actor=superadmin)
    assert _seen(superadmin)["days"] == {}
    assert not CategoryDay.objects.exists()


def test_a_rebuild_of_the_rollups_shows_the_same(history: Org, superadmin: User) -> None:
    before = _seen(superadmin)
    rows = _stored()
    rebuild_rollups()
    assert _seen(superadmin) == before
    assert _stored() == rows


@pytest.mark.django_db(transaction=True)
def test_a_dump_loaded_into_an_emptied_database_shows_the_same(
    history: Org, superadmin: User, tmp_path: Path
) -> None:
    # The move between SQLite and PostgreSQL (ops/backup.py): dumpdata, then loaddata.
    # The triggers fire on the loaded DailyUsage rows; the rollup's own rows come too.
    before = _seen(superadmin)
    fixture = tmp_path / "dump.json"
    call_command("dumpdata", "-e", "contenttypes", "-e", "auth", output=str(fixture))
    call_command("flush", "--noinput")
    assert not CategoryDay.objects.exists()  # a flush leaves no row, whatever its order
    call_command("loaddata", str(fixture), verbosity=0)
    assert _stored() == _joined()
    assert _seen(superadmin) == before


@pytest.mark.django_db(transaction=True)
def test_migrating_back_and_forth_keeps_the_rollup(history: Org, superadmin: User) -> None:
    # Back past the rollup's migration (its triggers go first), forth (an empty rollup
    # built again by the next reader); then a migrate that runs a migration of
    # activity: the triggers go and come back, and the rollup is rebuilt whole.
    before = _seen(superadmin)
    call_command("migrate", "categories", "0003", verbosity=0)
    _work(history.employees["nice_logistique"], [(3, 1, "EXCEL.EXE", "Stock - Excel", True)])
    call_command("migrate", "categories", verbosity=0)
    seen = _seen(superadmin)
    assert seen["days"]["Bureautique"] == [*before["days"]["Bureautique"][:3], 1, 0, 0, 0]
    call_command("migrate", "activity", "0005", verbosity=0)
    call_command("migrate", verbosity=0)
    _work(history.employees["nice_logistique"], [(4, 1, "EXCEL.EXE", "Stock - Excel", True)])
    assert _seen(superadmin)["days"]["Bureautique"][3:5] == [1, 1]
    names = _trigger_names()
    assert {f"oxytrack_category_day_{n}" for n in ("insert", "update", "delete")} <= names


def _trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}


# --- The map's corner cases, on the rollup itself ---------------------------------------


def test_a_window_mapped_late_is_added_once(history: Org, superadmin: User) -> None:
    # A window committed late with a smaller id (PostgreSQL hands ids out before commit):
    # its DailyUsage rows came while it had no map row, so the rollup lacks its time.
    outlook = Window.objects.get(app="OUTLOOK.EXE")
    with transaction.atomic():
        rollup.move_windows([outlook.pk], -1)
        WindowCategory.objects.filter(window=outlook).delete()
        rollup.drop_empty_rows()
    assert _stored() == _joined()
    seen = _seen(superadmin)  # mapped again by the refresh, its time added once
    assert seen["days"]["Messagerie"] == [1, 0, 0, 0, 0, 0, 0]


def test_a_map_that_cannot_be_trusted_falls_back_to_daily_usage(
    history: Org, superadmin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    Category.objects.create(name="Logistique", colour="#336699", app_pattern="^stock", order=0)
    # Another process saves a rule between our classification and our write.
    monkeypatch.setattr(window_map, "_rules_still", lambda token: False)
    charts, trend = _pages(superadmin)
    assert (charts, trend) == _direct()
    assert any(s.category.name == "Logistique" for s in charts.series)


def test_a_reset_state_rebuilds_the_whole_rollup(history: Org, superadmin: User) -> None:
    # What the migration that brought the rollup does: the next reader builds it whole.
    CategoryDay.objects.all().delete()
    WindowCategoryState.objects.update(token="")
    _seen(superadmin)
    assert CategoryDay.objects.count() == 6


def test_a_map_row_a_rebuild_did_not_classify_takes_its_time_out(
    history: Org, superadmin: User
) -> None:
    # A window created after a rebuild read the windows, and mapped meanwhile by another
    # process under the old rules: the rebuild drops its row, and its time with it.
    categories = dict(WindowCategory.objects.values_list("window_id", "category"))
    outlook = Window.objects.get(app="OUTLOOK.EXE").pk
    del categories[outlook]
    with transaction.atomic():
        window_map._move(categories)
    assert not WindowCategory.objects.filter(window_id=outlook).exists()
    assert _stored() == _joined()
    _seen(superadmin)  # mapped again by the next refresh, its time back once
    assert WindowCategory.objects.filter(window_id=outlook).exists()


def test_the_past_days_come_from_the_rollup(history: Org) -> None:
    assert WEEK[1] <= past_totals.last_past_day()
    everyone = Employee.objects.all()
    sums = window_map.sum_days_by_category(everyone, *WEEK, {"day": "day"})
    plain = window_map.sum_by_category(DailyUsage.objects.filter(day__range=WEEK), {"day": "day"})
    assert sorted(map(repr, sums)) == sorted(map(repr, plain))
