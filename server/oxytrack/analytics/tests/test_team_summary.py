"""The team overview's summary (team.team_summary): its past days summed once and kept
under the database's token, its recent days kept two minutes, both added up right."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oxytrack.accounts.models import User
from oxytrack.activity import past_totals
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.analytics import team, trends
from oxytrack.categories.models import Category
from oxytrack.conftest import Org
from oxytrack.org.actions import do_transfer_employee
from oxytrack.org.models import Device, Employee

H = 3_600_000
PARIS = ZoneInfo("Europe/Paris")


def _work(employee: Employee, day: date, hours: int, app: str, title: str) -> None:
    device, _created = Device.objects.get_or_create(
        employee=employee, hostname=f"PC-{employee.pk}", defaults={"time_zone": "Europe/Paris"}
    )
    start = datetime(day.year, day.month, day.day, 9, tzinfo=PARIS)
    add_to_rollups(store_spans(device, [RawSpan(start, hours * H, app, title, True)]))


def _summary(user: User, key: str, start: date, end: date) -> team.TeamSummary:
    choice = team.find_team(team.team_choices(user), key)
    assert choice is not None
    return team.team_summary(user, choice, team.grid_columns(start, end), start, end)


def _categories(summary: team.TeamSummary) -> dict[str, int]:
    return {s.category.name: sum(s.days) for s in summary.charts.series}


def test_past_and_recent_days_add_up_to_the_whole_range(org: Org, superadmin: User) -> None:
    last_past = past_totals.last_past_day()
    old, recent = last_past - timedelta(days=10), last_past + timedelta(days=1)
    paris = org.employees["nice_facturation"]
    _work(paris, old, 2, "EXCEL.EXE", "Budget - Excel")
    _work(paris, recent, 3, "OUTLOOK.EXE", "Boîte de réception - Outlook")
    _work(org.employees["nice_logistique"], recent, 1, "EXCEL.EXE", "Stock - Excel")
    start, end = old - timedelta(days=2), recent + timedelta(days=1)

    summary = _summary(superadmin, "", start, end)

    assert (summary.totals.active_ms, summary.totals.worked_days) == (6 * H, 3)
    columns = summary.totals.columns
    assert sum(columns.values()) == 6 * H
    assert _categories(summary) == {"Bureautique": 3 * H, "Messagerie": 3 * H}
    shares = {(t.agency, t.service): t.active_ms for t in summary.charts.teams}
    assert shares == {("Nice", "Facturation"): 5 * H, ("Nice", "Logistique"): 1 * H}
    # Two employees counted, over every weekday of the range.
    assert summary.heatmap.employees == 2
    assert sum(map(sum, summary.heatmap.minutes)) > 0
    # The same figures as one sum over the whole range.
    employees = Employee.objects.all()
    assert summary.totals == team.team_totals(employees, team.grid_columns(start, end))
    assert summary.charts == team.category_charts(employees, start, end)


def test_the_past_is_summed_once_and_a_late_upload_to_it_shows(org: Org, superadmin: User) -> None:
    old = past_totals.last_past_day() - timedelta(days=5)
    paris = org.employees["nice_facturation"]
    _work(paris, old, 2, "EXCEL.EXE", "Budget - Excel")
    start, end = old - timedelta(days=30), old
    assert _summary(superadmin, "", start, end).totals.active_ms == 2 * H
    with CaptureQueriesContext(connection) as again:
        assert _summary(superadmin, "", start, end).totals.active_ms == 2 * H
    sums = [q["sql"] for q in again.captured_queries if "SUM(" in q["sql"].upper()]
    assert sums == []  # read from the cache: no aggregate ran
    # An agent back from a week offline uploads to that past day.
    _work(paris, old, 1, "OUTLOOK.EXE", "Boîte de réception - Outlook")
    summary = _summary(superadmin, "", start, end)
    assert summary.totals.active_ms == 3 * H
    assert _categories(summary) == {"Bureautique": 2 * H, "Messagerie": 1 * H}


def test_a_transfer_and_a_rule_edit_show_at_once(org: Org, superadmin: User) -> None:
    old = past_totals.last_past_day() - timedelta(days=5)
    moved = org.employees["nice_logistique"]
    _work(moved, old, 4, "stock.exe", "Inventaire")
    start, end = old - timedelta(days=3), old
    facturation = team.team_key(org.nice.pk, org.facturation.pk)
    logistique = team.team_key(org.nice.pk, org.logistique.pk)
    assert _summary(superadmin, logistique, start, end).totals.active_ms == 4 * H
    assert _summary(superadmin, facturation, start, end).totals.active_ms == 0

    do_transfer_employee(moved, org.nice, org.facturation, actor=superadmin)
    # Their history follows them; the old team is empty at once, not in an hour.
    assert _summary(superadmin, facturation, start, end).totals.active_ms == 4 * H
    assert team.find_team(team.team_choices(superadmin), logistique) is None

    assert _categories(_summary(superadmin, facturation, start, end)) == {"Non classé": 4 * H}
    Category.objects.create(name="Logistique", colour="#336699", app_pattern="^stock", order=0)
    assert _categories(_summary(superadmin, facturation, start, end)) == {"Logistique": 4 * H}


def test_a_purged_past_day_leaves_the_summary(org: Org, superadmin: User) -> None:
    old = past_totals.last_past_day() - timedelta(days=5)
    paris = org.employees["nice_facturation"]
    _work(paris, old, 2, "EXCEL.EXE", "Budget - Excel")
    start, end = old - timedelta(days=3), old
    assert _summary(superadmin, "", start, end).totals.active_ms == 2 * H
    DailyUsage.objects.filter(day=old).delete()
    DailyTotal.objects.filter(day=old).delete()
    summary = _summary(superadmin, "", start, end)
    assert (summary.totals.active_ms, summary.charts.series) == (0, [])


def test_a_renamed_agency_shows_at_once(org: Org, superadmin: User) -> None:
    old = past_totals.last_past_day() - timedelta(days=5)
    _work(org.employees["nice_facturation"], old, 2, "EXCEL.EXE", "Budget - Excel")
    start, end = old - timedelta(days=3), old
    assert {t.agency for t in _summary(superadmin, "", start, end).charts.teams} == {"Nice"}
    org.nice.name = "Nice Est"
    org.nice.save()
    assert {t.agency for t in _summary(superadmin, "", start, end).charts.teams} == {"Nice Est"}


def test_a_team_trend_is_kept_yet_shows_a_late_upload_and_a_transfer(
    org: Org, superadmin: User
) -> None:
    old = past_totals.last_past_day() - timedelta(days=7)
    paris, moved = org.employees["nice_facturation"], org.employees["nice_logistique"]
    _work(paris, old, 2, "EXCEL.EXE", "Budget - Excel")
    facturation = Employee.objects.filter(agency=org.nice, service=org.facturation)

    def total() -> int:
        return sum(sum(c.weekly_ms) for c in trends.team_trend(facturation, old).categories)

    assert total() == 2 * H
    with CaptureQueriesContext(connection) as again:
        assert total() == 2 * H
    assert [q for q in again.captured_queries if "SUM(" in q["sql"].upper()] == []
    _work(paris, old, 1, "OUTLOOK.EXE", "Boîte de réception - Outlook")
    assert total() == 3 * H
    _work(moved, old, 4, "stock.exe", "Inventaire")
    do_transfer_employee(moved, org.nice, org.facturation, actor=superadmin)
    assert total() == 7 * H


def test_a_backfill_of_the_hours_shows_in_the_heatmap_at_once(org: Org, superadmin: User) -> None:
    old = past_totals.last_past_day() - timedelta(days=5)
    _work(org.employees["nice_facturation"], old, 2, "EXCEL.EXE", "Budget - Excel")
    # A base from before the hourly rollups: its days have no hours, and the
    # summary is kept under a token that only DailyTotal's writes change.
    HourlyTotal.objects.all().delete()
    start, end = old - timedelta(days=6), old
    assert _summary(superadmin, "", start, end).heatmap.employees == 0

    call_command("backfill_hourly", stdout=StringIO())

    heatmap = _summary(superadmin, "", start, end).heatmap
    assert heatmap.employees == 1
    assert heatmap.minutes[old.weekday()][9] == 60.0  # 09:00-11:00 over one such weekday
