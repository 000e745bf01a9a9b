"""The default demo organisation: seeded once for this module, then inspected.

The seed is committed outside the tests' transactions (module fixture) because
the checks only read it; it is deleted when the module ends.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.activity.days import next_local_midnight
from oxytrack.activity.models import DailyTotal, HourlyTotal, Span, Window
from oxytrack.activity.tests.factories import assert_rollups_match_spans
from oxytrack.demo import data
from oxytrack.demo.actions import SeedResult, do_seed_demo
from oxytrack.demo.tests.fingerprint import wipe_demo
from oxytrack.org.models import Agency, Device, Employee, EnrollmentKey, Service

# A Tuesday afternoon in Nice; the 30 days before it include the spring DST change.
NOW = datetime.fromisoformat("2026-03-31T15:00:00+02:00")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[SeedResult]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        try:
            yield do_seed_demo(now=NOW)
        finally:
            wipe_demo()


def _spans_by(key: str) -> dict[int, list[tuple[datetime, int]]]:
    grouped: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for owner, start, ms in Span.objects.order_by(key, "start").values_list(
        key, "start", "duration_ms"
    ):
        grouped[owner].append((start, ms))
    return grouped


def test_the_organisation_has_its_agencies_services_and_people(demo: SeedResult) -> None:
    assert dict(Agency.objects.values_list("name", "time_zone")) == {
        "Nice": "Europe/Paris",
        "Marseille": "Europe/Paris",
        "Fort-de-France": "America/Martinique",
    }
    assert set(Service.objects.values_list("name", flat=True)) == {
        "Facturation",
        "Logistique",
        "Service client",
        "Direction",
    }
    assert Employee.objects.count() == 40 == demo.employees
    # Every (agency, service) pair has someone, so every admin scope shows people.
    pairs = set(Employee.objects.values_list("agency__name", "service__name"))
    assert len(pairs) == 12
    assert set(Employee.objects.values_list("domain", flat=True)) == {"OXY"}
    thomas = Employee.objects.get(username="tsueur")
    assert thomas.display_name == "Thomas Sueur"
    assert thomas.agency is not None and thomas.agency.name == "Nice"
    assert EnrollmentKey.objects.exists()


def test_every_employee_has_a_pc_and_some_a_laptop(demo: SeedResult) -> None:
    counts: dict[int, int] = defaultdict(int)
    for employee_id in Device.objects.values_list("employee_id", flat=True):
        counts[employee_id] += 1
    assert len(counts) == 40
    assert set(counts.values()) == {1, 2}
    assert Device.objects.count() == demo.devices
    for device in Device.objects.select_related("employee__agency"):
        agency = device.employee.agency
        assert agency is not None and device.time_zone == agency.time_zone
        assert device.hostname and device.os.startswith("Windows") and device.agent_version
        assert device.last_ip and device.local_ips
        ends = [s + timedelta(milliseconds=ms) for s, ms in _device_spans(device)]
        # last_seen_at is the end of the last span (None for a laptop never used).
        assert device.last_seen_at == (max(ends) if ends else None)


def _device_spans(device: Device) -> list[tuple[datetime, int]]:
    return list(Span.objects.filter(device=device).values_list("start", "duration_ms"))


def test_the_demo_managers_have_their_scopes(demo: SeedResult) -> None:
    assert list(User.objects.filter(role=Role.SUPERADMIN).values_list("email", flat=True)) == [
        "superadmin@oxytrack.demo"
    ]
    scopes = {
        (email, agency, service)
        for email, agency, service in Scope.objects.values_list(
            "user__email", "agency__name", "service__name"
        )
    }
    assert scopes == {
        ("admin.nice@oxytrack.demo", "Nice", None),
        ("admin.facturation@oxytrack.demo", "Marseille", "Facturation"),
        ("admin.facturation@oxytrack.demo", "Fort-de-France", "Facturation"),
    }
    nice = User.objects.get(email="admin.nice@oxytrack.demo")
    facturation = User.objects.get(email="admin.facturation@oxytrack.demo")
    assert set(Employee.objects.visible_to(nice).values_list("agency__name", flat=True)) == {"Nice"}
    seen = set(
        Employee.objects.visible_to(facturation).values_list("agency__name", "service__name")
    )
    assert seen == {("Marseille", "Facturation"), ("Fort-de-France", "Facturation")}


def test_spans_of_a_device_or_a_person_never_overlap(demo: SeedResult) -> None:
    for key in ("device_id", "employee_id"):
        for spans in _spans_by(key).values():
            for (start, ms), (next_start, _) in itertools.pairwise(spans):
                assert start + timedelta(milliseconds=ms) <= next_start


def test_no_span_crosses_local_midnight_of_its_device(demo: SeedResult) -> None:
    zones = {pk: ZoneInfo(tz) for pk, tz in Device.objects.values_list("pk", "time_zone")}
    cut_at_midnight = {"Europe/Paris": 0, "America/Martinique": 0}
    rows = Span.objects.values_list("device_id", "start", "duration_ms", "day")
    for device_id, start, ms, day in rows.iterator(chunk_size=5000):
        tz = zones[device_id]
        local_start = start.astimezone(tz)
        assert local_start.date() == day
        assert start + timedelta(milliseconds=ms) <= next_local_midnight(start, tz)
        if local_start.time() == datetime.min.time():
            cut_at_midnight[str(tz)] += 1
    # Late sessions past midnight exist and were cut, in both zones.
    assert all(cut_at_midnight.values()), cut_at_midnight


def test_rollups_are_exactly_the_sums_of_the_spans(demo: SeedResult) -> None:
    assert_rollups_match_spans()


def test_the_heatmap_has_hours_that_add_up_to_each_day(demo: SeedResult) -> None:
    hours: defaultdict[tuple[int, object], list[int]] = defaultdict(lambda: [0, 0])
    for h in HourlyTotal.objects.all():
        hours[(h.employee_id, h.day)][0] += h.active_ms
        hours[(h.employee_id, h.day)][1] += h.idle_ms
    days = {
        (t.employee_id, t.day): [t.active_ms, t.idle_ms]
        for t in DailyTotal.objects.all()
        if t.active_ms or t.idle_ms
    }
    assert days
    assert dict(hours) == days


def test_hostile_titles_are_stored_byte_exact(demo: SeedResult) -> None:
    expected = [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        'C:\\Users\\tsueur\\Documents\\l\'été "2019".xlsx',
    ] + [title for _, title in data.HOSTILE_TITLES]
    stored = set(Window.objects.values_list("title", flat=True))
    for title in expected:
        assert title in stored
        assert Span.objects.filter(window__title=title).exists(), title
    assert "Boîte de réception - thomas.sueur@oxytrack-demo.fr - Outlook" in stored
    assert any(t.startswith("Le Monde.fr - Actualités") for t in stored)
    assert "Réunion d'équipe | Microsoft Teams" in stored


def test_idle_spans_have_no_input_and_work_has_some(demo: SeedResult) -> None:
    idle = Span.objects.filter(active=False)
    assert idle.exists()
    assert not idle.exclude(keys=0, clicks=0).exists()
    assert Span.objects.filter(active=True, keys__gt=0).count() > Span.objects.count() // 2


def test_weekends_are_empty_and_weekdays_are_not(demo: SeedResult) -> None:
    days = set(Span.objects.values_list("day", flat=True))
    assert days
    assert all(day.weekday() < 5 for day in days)
    # 30 days ending Tuesday 31 March: 22 weekdays, nearly all worked by someone.
    assert len(days) >= 20


def test_data_reaches_now_and_never_goes_past_it(demo: SeedResult) -> None:
    ends = [
        s + timedelta(milliseconds=ms) for s, ms in Span.objects.values_list("start", "duration_ms")
    ]
    assert max(ends) <= NOW
    assert NOW - max(ends) < timedelta(minutes=30)
    today = timezone.localdate(NOW)
    assert Span.objects.filter(day=today, device__time_zone="Europe/Paris").exists()
    # Durations are whole milliseconds; the shortest span the agent keeps is 1 s.
    assert not Span.objects.filter(duration_ms__lt=1000).exists()
    assert demo.spans == Span.objects.count()
