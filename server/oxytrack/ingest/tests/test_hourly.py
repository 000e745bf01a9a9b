"""Hourly rollups written at ingest (HourlyTotal), and everything that rebuilds or deletes them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import DailyTotal, HourlyTotal
from oxytrack.activity.retention import purge_preview, retention_cutoffs
from oxytrack.activity.rollups import rebuild_rollups
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.actions import do_store_batch
from oxytrack.ingest.schemas import BatchIn
from oxytrack.ingest.tests.payloads import batch, post_batch, span
from oxytrack.ingest.tests.test_not_tracked import morning, paused
from oxytrack.org.actions import do_delete_employee
from oxytrack.org.models import Device
from oxytrack.org.tokens import hash_device_token, new_device_token

MIN = 60_000


def _hours(employee_id: int) -> dict[tuple[date, int], tuple[int, int]]:
    return {
        (h.day, h.hour): (h.active_ms, h.idle_ms)
        for h in HourlyTotal.objects.filter(employee_id=employee_id)
    }


def _upload(client: Client, device: EnrolledDevice) -> tuple[dict[str, object], date]:
    start = morning().replace(minute=50)  # 09:50 Paris, yesterday
    payload = batch(
        [
            span(start, 20 * 60),  # 09:50-10:10 active
            paused(start + timedelta(minutes=20), 15 * 60),  # 10:10-10:25: neither
            span(start + timedelta(minutes=35), 10 * 60, active=False),  # 10:25-10:35 idle
        ]
    )
    response = post_batch(client, device.token, payload)
    assert response.status_code == 200, response.content
    return payload, start.date()


def test_an_upload_fills_the_hours_of_its_day(enrolled_device: EnrolledDevice) -> None:
    client = Client()
    payload, day = _upload(client, enrolled_device)
    employee_id = enrolled_device.device.employee_id
    assert _hours(employee_id) == {(day, 9): (10 * MIN, 0), (day, 10): (10 * MIN, 10 * MIN)}
    total = DailyTotal.objects.get(employee_id=employee_id, day=day)
    assert (total.active_ms, total.idle_ms, total.untracked_ms) == (20 * MIN, 10 * MIN, 15 * MIN)

    # A re-sent batch (the reply was lost) adds nothing.
    again = post_batch(client, enrolled_device.token, payload)
    assert again.json()["duplicate"] is True
    assert _hours(employee_id) == {(day, 9): (10 * MIN, 0), (day, 10): (10 * MIN, 10 * MIN)}


def test_a_span_over_midnight_gives_each_day_its_hours(enrolled_device: EnrolledDevice) -> None:
    evening = morning().replace(hour=23, minute=30)
    response = post_batch(Client(), enrolled_device.token, batch([span(evening, 3600)]))
    assert response.status_code == 200, response.content
    day = evening.date()
    assert _hours(enrolled_device.device.employee_id) == {
        (day, 23): (30 * MIN, 0),
        (day + timedelta(days=1), 0): (30 * MIN, 0),
    }


def test_overseas_hours_are_on_the_device_clock(org: Org) -> None:
    token = new_device_token()
    employee = org.employees["fdf_facturation"]
    Device.objects.create(employee=employee, hostname="PC-FDF", token_hash=hash_device_token(token))
    martinique = ZoneInfo("America/Martinique")
    day = morning().date()
    start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=martinique)
    payload = batch([span(start, 3600)], time_zone="America/Martinique")
    assert post_batch(Client(), token, payload).status_code == 200
    assert _hours(employee.pk) == {(day, 8): (30 * MIN, 0), (day, 9): (30 * MIN, 0)}


def _store_at(device: Device, spans: list[dict[str, object]], now: datetime) -> None:
    body = json.dumps(batch(spans, time_zone="Europe/Paris"))
    do_store_batch(device, BatchIn.model_validate_json(body), ip=None, now=now)


def test_dst_days_through_the_ingest(enrolled_device: EnrolledDevice) -> None:
    device = enrolled_device.device
    paris = ZoneInfo("Europe/Paris")
    # 25 October 2026 (25 h): 00:30 for 3 h of real time; 29 March 2026 (23 h): 01:30 for 2 h.
    _store_at(
        device,
        [span(datetime(2026, 10, 25, 0, 30, tzinfo=paris), 3 * 3600)],
        datetime(2026, 10, 26, tzinfo=UTC),
    )
    _store_at(
        device,
        [span(datetime(2026, 3, 29, 1, 30, tzinfo=paris), 2 * 3600)],
        datetime(2026, 3, 30, tzinfo=UTC),
    )
    autumn, spring = date(2026, 10, 25), date(2026, 3, 29)
    assert _hours(device.employee_id) == {
        (autumn, 0): (30 * MIN, 0),
        (autumn, 1): (60 * MIN, 0),
        (autumn, 2): (90 * MIN, 0),  # the repeated hour: CEST, then CET
        (spring, 1): (30 * MIN, 0),
        (spring, 3): (60 * MIN, 0),  # 2 h never happened
        (spring, 4): (30 * MIN, 0),
    }
    for day in (autumn, spring):
        hours = HourlyTotal.objects.filter(day=day).aggregate(a=Sum("active_ms"), i=Sum("idle_ms"))
        total = DailyTotal.objects.get(day=day)
        assert (hours["a"], hours["i"] or 0) == (total.active_ms, total.idle_ms)


def test_rebuild_and_backfill_give_back_the_same_hours(enrolled_device: EnrolledDevice) -> None:
    _, day = _upload(Client(), enrolled_device)
    employee_id = enrolled_device.device.employee_id
    expected = _hours(employee_id)

    rebuild_rollups([employee_id])
    assert _hours(employee_id) == expected

    # A base from before the hourly rollups: backfill, twice (idempotent).
    HourlyTotal.objects.all().delete()
    for _ in range(2):
        out = StringIO()
        call_command("backfill_hourly", stdout=out)
        assert _hours(employee_id) == expected
        assert f"[1/1] employee {employee_id}: 1 days, 2 hourly rows" in out.getvalue()
        assert "Backfilled 1 employees: 1 days, 2 hourly rows." in out.getvalue()
    # Other days' rows stay as they are (their spans may be purged already).
    HourlyTotal.objects.create(employee_id=employee_id, day=day - timedelta(days=5), hour=9)
    call_command("backfill_hourly", stdout=StringIO())
    assert len(_hours(employee_id)) == 3


def test_the_purge_and_a_deletion_remove_the_hours(enrolled_device: EnrolledDevice) -> None:
    _, day = _upload(Client(), enrolled_device)
    employee = enrolled_device.device.employee
    cutoffs = retention_cutoffs(before=day + timedelta(days=1))
    assert purge_preview(cutoffs).hourly_totals == 2
    result = do_purge_activity(cutoffs, actor=None, pause_s=0)
    assert result.hourly_totals == 2
    assert not HourlyTotal.objects.exists()

    _upload(Client(), enrolled_device)
    assert HourlyTotal.objects.filter(employee=employee).count() == 2
    do_delete_employee(employee, actor=None)
    assert not HourlyTotal.objects.exists()
