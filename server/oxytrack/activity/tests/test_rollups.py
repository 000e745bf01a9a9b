"""Daily rollups (activity/rollups.py) and window interning (activity/windows.py).

Run on SQLite and PostgreSQL (`make test` runs the suite on both): the
upsert SQL differs between them (MIN/MAX vs LEAST/GREATEST).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window, window_digest
from oxytrack.activity.rollups import add_to_rollups, rebuild_rollups
from oxytrack.activity.tests.factories import (
    RawSpan,
    assert_rollups_match_spans,
    rollup_snapshot,
    store_spans,
)
from oxytrack.activity.windows import intern_windows
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.org.models import Device

MORNING = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Nice


def test_repeated_calls_add_to_the_same_rows(enrolled_device: EnrolledDevice) -> None:
    device = enrolled_device.device
    first = store_spans(
        device,
        [
            RawSpan(MORNING, 60_000, keys=10, clicks=2),
            RawSpan(MORNING + timedelta(minutes=1), 240_000, active=False),
        ],
    )
    add_to_rollups(first)
    second = store_spans(device, [RawSpan(MORNING + timedelta(minutes=5), 30_500, keys=5)])
    add_to_rollups(second)

    usage = DailyUsage.objects.get()
    assert (usage.active_ms, usage.idle_ms, usage.keys, usage.clicks) == (90_500, 240_000, 15, 2)
    total = DailyTotal.objects.get()
    assert total.day == date(2026, 3, 10)
    assert (total.active_ms, total.idle_ms, total.keys, total.clicks) == (90_500, 240_000, 15, 2)
    assert_rollups_match_spans()


def test_first_start_and_last_end_widen_whatever_the_order(
    enrolled_device: EnrolledDevice,
) -> None:
    device = enrolled_device.device
    middle = MORNING + timedelta(hours=2)
    add_to_rollups(store_spans(device, [RawSpan(middle, 60_000)]))
    # An older batch arrives late (the PC was offline), then a later one.
    add_to_rollups(store_spans(device, [RawSpan(MORNING, 1_500)]))
    add_to_rollups(store_spans(device, [RawSpan(middle + timedelta(hours=3), 2_250)]))
    # A batch inside the known range changes neither bound.
    add_to_rollups(store_spans(device, [RawSpan(middle + timedelta(hours=1), 1_000)]))

    total = DailyTotal.objects.get()
    assert total.first_start == MORNING
    assert total.last_end == middle + timedelta(hours=3, milliseconds=2_250)
    usage = DailyUsage.objects.get()
    assert (usage.first_start, usage.last_end) == (total.first_start, total.last_end)


def test_more_rows_than_one_statement_holds(org: Org, enrolled_device: EnrolledDevice) -> None:
    # 260 windows on one day: three INSERT statements of at most 100 rows each.
    device = enrolled_device.device
    raw = [
        RawSpan(MORNING + timedelta(seconds=10 * i), 10_000, title=f"Dossier {i} - Excel", keys=i)
        for i in range(260)
    ]
    spans = store_spans(device, raw)
    add_to_rollups(spans)
    add_to_rollups(spans[:150])  # the same spans again: each row counted twice
    assert DailyUsage.objects.count() == 260
    doubled = {u.window.title: u.keys for u in DailyUsage.objects.select_related("window")}
    assert doubled == {f"Dossier {i} - Excel": i * (2 if i < 150 else 1) for i in range(260)}
    total = DailyTotal.objects.get()
    assert total.active_ms == 10_000 * (260 + 150)
    assert total.keys == sum(range(260)) + sum(range(150))


def test_spans_across_midnight_and_employees_land_on_their_own_rows(
    org: Org, enrolled_device: EnrolledDevice
) -> None:
    nice = enrolled_device.device
    fdf = Device.objects.create(
        employee=org.employees["fdf_facturation"],
        hostname="PC-FDF-01",
        time_zone="America/Martinique",
    )
    late = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Nice, 18:30 in FdF
    spans = store_spans(nice, [RawSpan(late, 3_600_000, keys=60)])
    spans += store_spans(fdf, [RawSpan(late, 3_600_000, keys=60)])
    add_to_rollups(spans)
    days = {
        (t.employee_id, t.day): t.active_ms for t in DailyTotal.objects.order_by("employee", "day")
    }
    assert days == {
        (nice.employee_id, date(2026, 3, 10)): 1_800_000,
        (nice.employee_id, date(2026, 3, 11)): 1_800_000,
        (fdf.employee_id, date(2026, 3, 10)): 3_600_000,
    }
    assert_rollups_match_spans()


def _random_spans(rng: random.Random, devices: list[Device], count: int) -> list[RawSpan]:
    titles = ["Boîte de réception - Outlook", "Budget - Excel", "🎉 Réunion | Teams", "x" * 300]
    result = []
    for _ in range(count):
        result.append(
            RawSpan(
                start=MORNING + timedelta(milliseconds=rng.randrange(3 * 86_400_000)),
                duration_ms=rng.randrange(0, 5 * 3_600_000),
                title=rng.choice(titles),
                active=rng.random() < 0.7,
                keys=rng.randrange(500),
                clicks=rng.randrange(100),
            )
        )
    return result


def test_rebuild_gives_what_the_increments_gave(org: Org, enrolled_device: EnrolledDevice) -> None:
    rng = random.Random(7)
    devices = [
        enrolled_device.device,
        Device.objects.create(
            employee=org.employees["fdf_logistique"],
            hostname="PC-FDF-02",
            time_zone="America/Martinique",
        ),
    ]
    for _ in range(6):  # six uploads of random sizes
        for device in devices:
            add_to_rollups(store_spans(device, _random_spans(rng, devices, rng.randint(1, 40))))
    incremental = rollup_snapshot()
    assert_rollups_match_spans()

    rebuild_rollups()
    assert rollup_snapshot() == incremental

    # Rebuilding one employee leaves the other's rows as they were.
    DailyTotal.objects.filter(employee=devices[0].employee).update(keys=0)
    DailyUsage.objects.filter(employee=devices[1].employee).update(keys=0)
    rebuild_rollups([devices[0].employee_id])
    usage, totals = rollup_snapshot()
    assert totals == incremental[1]
    assert usage != incremental[0]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=3 * 86_400_000),  # offset from MORNING, ms
                st.integers(min_value=0, max_value=30 * 3_600_000),  # duration, ms
                st.integers(min_value=0, max_value=2),  # window
                st.booleans(),
                st.integers(min_value=0, max_value=10_000),
            ),
            min_size=1,
            max_size=15,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_whatever_the_batches_the_rollups_equal_the_spans(
    enrolled_device: EnrolledDevice,
    batches: list[list[tuple[int, int, int, bool, int]]],
) -> None:
    device = enrolled_device.device
    with transaction.atomic():
        for batch in batches:
            raw = [
                RawSpan(
                    MORNING + timedelta(milliseconds=offset),
                    duration,
                    title=f"Fenêtre {window}",
                    active=active,
                    keys=keys,
                    clicks=keys // 3,
                )
                for offset, duration, window, active, keys in batch
            ]
            add_to_rollups(store_spans(device, raw))
        assert_rollups_match_spans()
        # Each example starts from an empty table.
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_interning_twice_creates_nothing_the_second_time() -> None:
    pairs = [("chrome.exe", "Le Monde - Google Chrome"), ("EXCEL.EXE", "Budget - Excel")]
    first = intern_windows(pairs)
    second = intern_windows([*pairs, *pairs])  # duplicates in one call are fine too
    assert first == second
    assert Window.objects.count() == 2
    window = Window.objects.get(pk=first[pairs[0]])
    assert (window.app, window.title, window.digest) == (
        *pairs[0],
        window_digest(*pairs[0]),
    )


@pytest.mark.django_db
def test_interning_more_than_one_chunk_of_pairs() -> None:
    pairs = [("EXCEL.EXE", f"Classeur {i} - Excel") for i in range(1_234)]
    intern_windows(pairs[:300])  # some exist already
    ids = intern_windows(pairs)
    assert len(ids) == 1_234
    assert len(set(ids.values())) == 1_234
    assert Window.objects.count() == 1_234
    stored = dict(Window.objects.values_list("title", "pk"))
    assert all(stored[title] == ids[(app, title)] for app, title in pairs)


@pytest.mark.django_db
def test_long_titles_with_emoji_and_the_same_app_are_distinct() -> None:
    # 1,024 characters of 4-byte UTF-8: past PostgreSQL's btree entry limit if
    # the title itself were indexed, hence the digest.
    long_a = ("🎉" * 1_023) + "a"
    long_b = ("🎉" * 1_023) + "b"
    hostile = 'C:\\Users\\tsueur\\Documents\\l\'été "2019".xlsx <script>alert(1)</script>'
    pairs = [("chrome.exe", long_a), ("chrome.exe", long_b), ("explorer.exe", hostile)]
    ids = intern_windows(pairs)
    assert len(set(ids.values())) == 3
    for pair, pk in ids.items():
        window = Window.objects.get(pk=pk)
        assert (window.app, window.title) == pair
    assert len(Window.objects.get(pk=ids[pairs[0]]).title) == 1_024
    assert intern_windows(pairs) == ids


@pytest.mark.django_db
def test_the_same_title_under_two_apps_is_two_windows() -> None:
    ids = intern_windows([("chrome.exe", "Accueil"), ("msedge.exe", "Accueil")])
    assert len(set(ids.values())) == 2


def test_span_rows_reference_the_interned_window(enrolled_device: EnrolledDevice) -> None:
    spans = store_spans(enrolled_device.device, [RawSpan(MORNING, 1_000, title="<b>x</b>")])
    assert Span.objects.get(pk=spans[0].pk).window.title == "<b>x</b>"
