"""The team overview's reads (analytics/team.py), against hand-computed figures.

The week of 19 to 25 October 2026: Paris leaves summer time on Sunday the 25th (a 25 h
day). A Fort-de-France employee works late in the evening (UTC-4: after 20:00 local it is
already the next day in UTC). An employee of Nice/Logistique is moved to Nice/Facturation
on the Wednesday: their Monday goes with them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal
from oxytrack.analytics import team
from oxytrack.analytics.tests.conftest import MONDAY, PARIS, SUNDAY, H, Week, _at
from oxytrack.categories.models import Category as CategoryRule
from oxytrack.conftest import Org
from oxytrack.org.models import Employee


def _choice(user: User, key: str) -> team.TeamChoice:
    found = team.find_team(team.team_choices(user), key)
    assert found is not None
    return found


# --- Choices and scopes ----------------------------------------------------------------


def test_an_admin_picks_only_teams_of_their_scopes(org: Org, bob: User) -> None:
    choices = team.team_choices(bob)
    labels = [c.label for c in choices]
    # Bob has all of Nice: the agency, then its services in French order.
    assert labels == [
        "Tout mon périmètre",
        "Nice",
        "Nice / Facturation",
        "Nice / Logistique",
        "Nice / —",
    ]
    assert team.find_team(choices, team.team_key(org.fdf.pk, org.facturation.pk)) is None
    assert team.find_team(choices, "a999") is None


def test_a_team_holds_its_employees_only(org: Org, bob: User, alice: User) -> None:
    nice_facturation = _choice(bob, team.team_key(org.nice.pk, org.facturation.pk))
    assert {e.username for e in team.team_employees(bob, nice_facturation)} == {"nice_facturation"}
    assert {e.username for e in team.team_employees(bob, _choice(bob, ""))} == {
        "nice_facturation",
        "nice_logistique",
        "nice_no_service",
    }
    # Alice's whole scope is her one service, whatever the key says.
    assert {e.username for e in team.team_employees(alice, _choice(alice, ""))} == {
        "nice_facturation"
    }


# --- Columns ---------------------------------------------------------------------------


def test_a_week_has_a_column_per_day_weekends_marked() -> None:
    columns = team.grid_columns(MONDAY, SUNDAY)
    assert [c.start for c in columns] == [MONDAY + timedelta(i) for i in range(7)]
    assert [c.weekend for c in columns] == [False] * 5 + [True, True]


def test_a_long_range_has_a_column_per_iso_week_cut_to_the_range() -> None:
    # Thursday 1 October to Monday 9 November 2026: 40 days.
    columns = team.grid_columns(date(2026, 10, 1), date(2026, 11, 9))
    assert all(c.weekly for c in columns)
    assert [(c.key, c.start, c.end) for c in (columns[0], columns[1], columns[-1])] == [
        ("w2026-40", date(2026, 10, 1), date(2026, 10, 4)),
        ("w2026-41", date(2026, 10, 5), date(2026, 10, 11)),
        ("w2026-46", date(2026, 11, 9), date(2026, 11, 9)),
    ]
    assert len(columns) == 7
    assert len(team.grid_columns(date(2026, 10, 1), date(2026, 10, 31))) == 31


# --- The grid --------------------------------------------------------------------------


def test_the_grid_counts_local_days_dst_and_overseas(week: Week, superadmin: User) -> None:
    columns = team.grid_columns(MONDAY, SUNDAY)
    ids = [week.paris.pk, week.overseas.pk]
    cells = team.grid_cells(ids, columns)
    paris = {k: v for (pk, k), v in cells.items() if pk == week.paris.pk}
    # Monday's active 2 h; Tuesday is data without active time; Sunday lasted 25 h.
    assert paris == {"d2026-10-19": 2 * H, "d2026-10-20": 0, "d2026-10-25": 25 * H}
    # The evening in Fort-de-France stays on its Wednesday, not UTC's Thursday.
    assert {k: v for (pk, k), v in cells.items() if pk == week.overseas.pk} == {"d2026-10-21": H}


def test_the_grid_rows_carry_totals_and_averages_per_worked_day(
    week: Week, superadmin: User
) -> None:
    rows = {
        e.username: (e.total_ms, e.worked_days, e.average_ms)  # type: ignore[attr-defined]
        for e in team.grid_employees(
            team.team_employees(superadmin, _choice(superadmin, "")), MONDAY, SUNDAY
        )
    }
    # Paris: 2 h + 25 h over 2 worked days (Tuesday had no active time).
    assert rows["nice_facturation"] == (27 * H, 2, 27 * H // 2)
    assert rows["fdf_facturation"] == (H, 1, H)
    # No data at all: no average (not 0).
    assert rows["marseille_facturation"] == (0, 0, None)


def test_a_transferred_employee_brings_their_history(
    org: Org, week: Week, superadmin: User
) -> None:
    columns = team.grid_columns(MONDAY, SUNDAY)
    facturation = _choice(superadmin, team.team_key(org.nice.pk, org.facturation.pk))
    totals = team.team_totals(team.team_employees(superadmin, facturation), columns)
    # Paris (2 h Monday, 25 h Sunday) and the moved employee's Monday (3 h).
    assert totals.columns == {"d2026-10-19": 5 * H, "d2026-10-20": 0, "d2026-10-25": 25 * H}
    assert (totals.employees, totals.active_ms, totals.worked_days) == (2, 30 * H, 3)
    assert totals.average_ms == 10 * H
    # Nobody is left in Nice/Logistique: it is no longer a team to pick.
    emptied = team.team_key(org.nice.pk, org.logistique.pk)
    assert team.find_team(team.team_choices(superadmin), emptied) is None


def test_weekly_columns_sum_their_days(week: Week, superadmin: User) -> None:
    columns = team.grid_columns(date(2026, 10, 1), date(2026, 11, 9))
    cells = team.grid_cells([week.paris.pk], columns)
    assert cells == {(week.paris.pk, "w2026-43"): 27 * H}


def test_the_team_totals_read_a_bounded_number_of_queries(
    week: Week, superadmin: User, django_assert_max_num_queries: object
) -> None:
    for i in range(30):
        employee = Employee.objects.create(username=f"extra{i}", agency=week.paris.agency)
        DailyTotal.objects.create(
            employee=employee,
            day=MONDAY,
            active_ms=H,
            first_start=_at(MONDAY, 9, PARIS),
            last_end=_at(MONDAY, 10, PARIS),
        )
    columns = team.grid_columns(MONDAY, SUNDAY)
    employees = team.team_employees(superadmin, _choice(superadmin, ""))
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        totals = team.team_totals(employees, columns)
    assert totals.columns["d2026-10-19"] == (2 + 3 + 30) * H


# --- Categories ------------------------------------------------------------------------


def _hours(charts: team.CategoryCharts) -> dict[str, list[float]]:
    return {s.category.name: [ms / H for ms in s.days] for s in charts.series}


def test_active_time_per_category_per_day(week: Week, superadmin: User) -> None:
    charts = team.category_charts(
        team.team_employees(superadmin, _choice(superadmin, "")), MONDAY, SUNDAY
    )
    assert charts.days == [MONDAY + timedelta(i) for i in range(7)]
    # Starter rules: Excel is office work, Outlook e-mail, Firefox the web; idle is none.
    assert _hours(charts) == {
        "Messagerie": [0, 0, 1, 0, 0, 0, 0],
        "Bureautique": [5, 0, 0, 0, 0, 0, 0],
        "Web": [0, 0, 0, 0, 0, 0, 25],
    }


def test_a_rule_edited_after_the_fact_recategorises_history(
    org: Org, week: Week, superadmin: User
) -> None:
    employees = team.team_employees(superadmin, _choice(superadmin, team.team_key(org.nice.pk)))
    CategoryRule.objects.filter(name="Bureautique").update(name="Tableurs")
    rule = CategoryRule.objects.get(name="Tableurs")
    rule.app_pattern = r"^excel(\.exe)?$"
    rule.title_pattern = "budget"
    rule.save()  # a save, as the page does: every process sees the new rules
    charts = team.category_charts(employees, MONDAY, SUNDAY)
    # Only the Budget hours stay; the moved employee's "Stock" in Excel is now unclassified.
    assert _hours(charts) == {
        "Tableurs": [2, 0, 0, 0, 0, 0, 0],
        "Web": [0, 0, 0, 0, 0, 0, 25],
        "Non classé": [3, 0, 0, 0, 0, 0, 0],
    }
    assert charts.series[-1].category.id is None  # "Non classé" comes last


def test_each_team_has_its_share_of_categories(week: Week, superadmin: User) -> None:
    charts = team.category_charts(
        team.team_employees(superadmin, _choice(superadmin, "")), MONDAY, SUNDAY
    )
    shares = {
        (t.agency, t.service): (t.active_ms, {c.name: ms for c, ms in t.by_category.items()})
        for t in charts.teams
    }
    assert shares == {
        ("Fort-de-France", "Facturation"): (H, {"Messagerie": H}),
        # The moved employee's Monday counts in their new team.
        ("Nice", "Facturation"): (30 * H, {"Bureautique": 5 * H, "Web": 25 * H}),
    }
    assert [t.agency for t in charts.teams] == ["Fort-de-France", "Nice"]


def test_weekly_columns_cut_to_the_range_and_across_a_year_end(org: Org) -> None:
    # 2026 has an ISO week 53: Monday 28 December 2026 to Sunday 3 January 2027.
    employee = org.employees["nice_facturation"]
    at = datetime(2026, 12, 1, tzinfo=UTC)
    for day, hours in [
        (date(2026, 12, 16), 1),  # a Wednesday: its week starts before the range
        (date(2026, 12, 31), 2),
        (date(2027, 1, 3), 3),
        (date(2027, 1, 4), 0),  # data without active time: "0 h", not "no data"
    ]:
        DailyTotal.objects.create(
            employee=employee, day=day, active_ms=hours * H, first_start=at, last_end=at
        )
    columns = team.grid_columns(date(2026, 12, 17), date(2027, 1, 31))
    assert columns[0].key == "w2026-51" and columns[0].start == date(2026, 12, 17)
    cells = team.grid_cells([employee.pk], columns)
    assert cells == {(employee.pk, "w2026-53"): 5 * H, (employee.pk, "w2027-01"): 0}
