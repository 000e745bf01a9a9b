"""Sums by category in SQL (window_map.py), against hand-computed figures and the
Python path they replace, through rule edits, new windows and a map that lags."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import QuerySet

from oxytrack.activity.models import DailyUsage, Window
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.categories import rollup, window_map
from oxytrack.categories.models import Category, Revision, WindowCategory, WindowCategoryState
from oxytrack.conftest import Org
from oxytrack.org.models import Device, Employee

pytestmark = pytest.mark.django_db

H = 3_600_000
PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 3, 16)


def _work(employee: Employee, spans: list[tuple[int, int, str, str]]) -> None:
    """(day offset from MONDAY, hours, app, title) spans, all active, from 9:00."""
    device, _created = Device.objects.get_or_create(
        employee=employee, hostname=f"PC-{employee.pk}", defaults={"time_zone": "Europe/Paris"}
    )
    raw = []
    for offset, hours, app, title in spans:
        day = MONDAY + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, 9, tzinfo=PARIS)
        raw.append(RawSpan(start, hours * H, app, title, True))
    add_to_rollups(store_spans(device, raw))


@pytest.fixture
def usage(org: Org) -> QuerySet[DailyUsage]:
    _work(
        org.employees["nice_facturation"],
        [
            (0, 2, "EXCEL.EXE", "Budget - Excel"),  # Bureautique
            (0, 1, "OUTLOOK.EXE", "Boîte de réception - Outlook"),  # Messagerie
            (1, 3, "EXCEL.EXE", "Budget - Excel"),
        ],
    )
    _work(
        org.employees["nice_logistique"],
        [(0, 4, "stock.exe", "Inventaire"), (1, 1, "EXCEL.EXE", "Stock - Excel")],
    )
    return DailyUsage.objects.all()


def _by_day(usage: QuerySet[DailyUsage]) -> dict[tuple[date, str], int]:
    return {
        (row.group[0], row.category.name): row.active_ms
        for row in window_map.sum_by_category(usage, {"day": "day"})
    }


def test_sums_per_day_and_category_are_the_hand_computed_ones(
    usage: QuerySet[DailyUsage],
) -> None:
    assert _by_day(usage) == {
        (MONDAY, "Bureautique"): 2 * H,
        (MONDAY, "Messagerie"): 1 * H,
        (MONDAY, "Non classé"): 4 * H,
        (MONDAY + timedelta(1), "Bureautique"): 4 * H,
    }
    # The map now holds every window, under the rules in force.
    assert WindowCategory.objects.count() == Window.objects.count() == 4
    token = Revision.objects.get(pk=1).token
    assert WindowCategoryState.objects.get(pk=1).token == token


def test_groups_can_be_any_field_path(org: Org, usage: QuerySet[DailyUsage]) -> None:
    sums = window_map.sum_by_category(usage, {"service": "employee__service"})
    assert {(r.group, r.category.name): r.active_ms for r in sums} == {
        ((org.facturation.pk,), "Bureautique"): 5 * H,
        ((org.facturation.pk,), "Messagerie"): 1 * H,
        ((org.logistique.pk,), "Non classé"): 4 * H,
        ((org.logistique.pk,), "Bureautique"): 1 * H,
    }


def test_a_rule_edited_after_the_fact_recategorises_history(
    usage: QuerySet[DailyUsage],
) -> None:
    _by_day(usage)
    Category.objects.create(name="Logistique", colour="#336699", app_pattern="^stock", order=0)
    Category.objects.filter(name="Messagerie").delete()
    assert _by_day(usage) == {
        (MONDAY, "Bureautique"): 2 * H,
        (MONDAY, "Non classé"): 1 * H,
        (MONDAY, "Logistique"): 4 * H,
        (MONDAY + timedelta(1), "Bureautique"): 4 * H,
    }


def test_a_window_uploaded_after_the_map_is_counted(org: Org, usage: QuerySet[DailyUsage]) -> None:
    _by_day(usage)
    _work(org.employees["nice_facturation"], [(2, 2, "teams.exe", "Réunion - Microsoft Teams")])
    assert _by_day(DailyUsage.objects.all())[(MONDAY + timedelta(2), "Réunions")] == 2 * H


def test_a_window_the_map_missed_is_classified_in_python_then_mapped(
    usage: QuerySet[DailyUsage],
) -> None:
    # What a window committed late with a smaller id looks like (PostgreSQL hands ids
    # out before commit): below the newest mapped id, yet not mapped.
    _by_day(usage)
    outlook = Window.objects.get(app="OUTLOOK.EXE")
    rollup.move_windows([outlook.pk], -1)  # its rows came in unmapped: not in the rollup
    WindowCategory.objects.filter(window=outlook).delete()
    assert _by_day(usage)[(MONDAY, "Messagerie")] == 1 * H
    assert not WindowCategory.objects.filter(window=outlook).exists()  # classified in Python
    # The rollup's reader looks for every unmapped window, not only the newest.
    window_map.sum_days_by_category(Employee.objects.all(), MONDAY, MONDAY, {"day": "day"})
    assert WindowCategory.objects.filter(window=outlook).exists()


def test_rules_changed_while_classifying_fall_back_to_python(
    usage: QuerySet[DailyUsage], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process saves a rule between our classification and our write.
    monkeypatch.setattr(window_map, "_rules_still", lambda token: False)
    assert _by_day(usage)[(MONDAY, "Messagerie")] == 1 * H
    assert not WindowCategory.objects.exists()
    assert not WindowCategoryState.objects.filter(token__gt="").exists()


def test_the_sum_is_one_query_whatever_the_rows(
    org: Org, usage: QuerySet[DailyUsage], django_assert_num_queries: object
) -> None:
    _by_day(usage)  # map built
    _work(org.employees["nice_no_service"], [(d, 1, "EXCEL.EXE", f"F{d}") for d in range(5)])
    _by_day(usage)  # the new windows mapped
    # Up to date: the state, the newest mapped id, the windows past it, the sum.
    with django_assert_num_queries(4):  # type: ignore[operator]
        window_map.sum_by_category(usage, {"day": "day"})
