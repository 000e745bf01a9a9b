"""The detail page's per-day bars and timeline by category (activity/queries.py):
`category_days` and `timeline`'s rows, against sums worked out by hand.

The days are the employee's (Europe/Paris): Saturday 28 March 2026, then Sunday
29 March, the 23-hour day the clocks go forward.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from oxytrack.accounts.models import User
from oxytrack.activity.queries import CategoryDays, category_days, timeline
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.categories.actions import do_save_category
from oxytrack.categories.classify import UNCATEGORISED
from oxytrack.categories.models import Category
from oxytrack.conftest import EnrolledDevice
from oxytrack.org.models import Employee

PARIS = ZoneInfo("Europe/Paris")
MIN = 60_000
SATURDAY, SUNDAY = date(2026, 3, 28), date(2026, 3, 29)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def employee(enrolled_device: EnrolledDevice) -> Employee:
    device = enrolled_device.device
    spans = [
        RawSpan(at(SATURDAY, 9), 60 * MIN, "EXCEL.EXE", "Budget - Excel"),  # Bureautique
        RawSpan(at(SATURDAY, 10), 30 * MIN, "chrome.exe", "Le Monde - Google Chrome"),  # Web
        RawSpan(at(SATURDAY, 10, 30), 15 * MIN, "jeu.exe", "<b>Partie</b>"),  # Non classé
        RawSpan(at(SATURDAY, 11), 20 * MIN, "EXCEL.EXE", "Budget - Excel", active=False),
        # 23:30 to 00:30: half on each day.
        RawSpan(at(SATURDAY, 23, 30), 60 * MIN, "chrome.exe", "Le Monde - Google Chrome"),
        # 01:30 to 03:30 on the clock: one hour, across the skipped 02:00-03:00.
        RawSpan(at(SUNDAY, 1, 30), 60 * MIN, "notepad.exe", "notes.txt - Bloc-notes"),
    ]
    add_to_rollups(store_spans(device, spans))
    return device.employee


def _sums(rows: list[CategoryDays]) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(r.category.label, r.category.colour, r.active_ms) for r in rows]


def test_each_day_is_split_by_category_in_the_rules_order_non_classe_last(
    employee: Employee,
) -> None:
    rows = category_days(employee, date(2026, 3, 27), date(2026, 3, 30))
    # Friday and Monday empty; idle time is in no category's bar.
    assert _sums(rows) == [
        ("Bureautique", "#ff7f0e", (0, 60 * MIN, 60 * MIN, 0)),
        ("Web", "#17becf", (0, 30 * MIN + 30 * MIN, 30 * MIN, 0)),
        ("Non classé", UNCATEGORISED.colour, (0, 15 * MIN, 0, 0)),
    ]


def test_a_range_of_one_day_and_a_range_without_time(employee: Employee) -> None:
    assert _sums(category_days(employee, SUNDAY, SUNDAY)) == [
        ("Bureautique", "#ff7f0e", (60 * MIN,)),
        ("Web", "#17becf", (30 * MIN,)),
    ]
    assert category_days(employee, date(2026, 4, 1), date(2026, 4, 30)) == []


def test_a_rule_edited_afterwards_recategorises_the_past_bars(
    employee: Employee, superadmin: User
) -> None:
    category_days(employee, SATURDAY, SUNDAY)  # the windows' categories now remembered
    web = Category.objects.get(name="Web")
    values = {
        "name": "Internet",
        "colour": "#123456",
        "app_pattern": web.app_pattern,
        "title_pattern": web.title_pattern,
        "case_sensitive": web.case_sensitive,
    }
    do_save_category(web, values, actor=superadmin)
    values = {
        "name": "Jeux",
        "colour": "#00aa00",
        "app_pattern": r"^jeu\.exe$",
        "title_pattern": "",
        "case_sensitive": False,
    }
    do_save_category(None, values, actor=superadmin)  # placed last, before "Non classé"
    assert _sums(category_days(employee, SATURDAY, SUNDAY)) == [
        ("Bureautique", "#ff7f0e", (60 * MIN, 60 * MIN)),
        ("Internet", "#123456", (60 * MIN, 30 * MIN)),
        ("Jeux", "#00aa00", (15 * MIN, 0)),
    ]


def test_the_timeline_rows_follow_the_grouping(employee: Employee) -> None:
    def rows(group: str) -> list[tuple[str, str, bool]]:
        return [(s.label, s.colour, s.active) for s in timeline(employee, SATURDAY, group)]

    assert rows("title") == [
        ("EXCEL.EXE", "", True),
        ("chrome.exe", "", True),
        ("jeu.exe", "", True),
        ("EXCEL.EXE", "", False),
        ("chrome.exe", "", True),
    ]
    # Friendly names; an app nobody named keeps its own.
    assert [label for label, _c, _a in rows("app")] == [
        "Excel",
        "Google Chrome",
        "jeu.exe",
        "Excel",
        "Google Chrome",
    ]
    assert rows("category") == [
        ("Bureautique", "#ff7f0e", True),
        ("Web", "#17becf", True),
        ("Non classé", UNCATEGORISED.colour, True),
        ("Bureautique", "#ff7f0e", False),  # idle, in its window's category's row
        ("Web", "#17becf", True),
    ]
    orders = [s.order for s in timeline(employee, SATURDAY, "category")]
    assert orders[0] < orders[1] < orders[2] == UNCATEGORISED.order
    # The raw app and the title are kept for the hover text, whatever the grouping.
    span = timeline(employee, SATURDAY, "category")[2]
    assert (span.app, span.title) == ("jeu.exe", "<b>Partie</b>")
    # The 23-hour day: its one span, one hour long.
    sunday = timeline(employee, SUNDAY, "category")
    assert [(s.label, s.duration_ms) for s in sunday] == [
        ("Web", 30 * MIN),
        ("Bureautique", 60 * MIN),
    ]


def test_one_query_for_the_bars(employee: Employee, django_assert_max_num_queries: object) -> None:
    category_days(employee, SATURDAY, SUNDAY)  # rules compiled, windows remembered
    # The usage rows, and the rules' Revision token when its copy is over a second old.
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        category_days(employee, date(2025, 3, 30), SUNDAY)
