"""Retention per kind of data: each rule deletes exactly what it should, nothing else.

Employees come from enrollment through the API and their activity from
real uploads (the span retention is raised while uploading old days); then
the purge runs with the default settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.activity.retention import purge_preview, retention_cutoffs
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.ingest.models import Batch
from oxytrack.ingest.tests.payloads import BASE, batch, consecutive, post_batch
from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Device, Employee


@dataclass
class Agent:
    employee: Employee
    device: Device
    token: str


def enroll(client: Client, username: str) -> Agent:
    body = {"username": username, "hostname": f"PC-{username}", "time_zone": "Europe/Paris"}
    response = client.post(
        f"{BASE}/enroll",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Enrollment-Key": get_enrollment_key()},
    )
    assert response.status_code == 201, response.content
    device = Device.objects.select_related("employee").get(public_id=response.json()["device_id"])
    return Agent(device.employee, device, response.json()["device_token"])


def days_ago(days: int) -> datetime:
    """A moment of the local day `days` days before today, already past even for today.

    Noon would be in the future for today's spans in the morning (422
    span_in_future); a minute after local midnight is past except in the
    first minutes of a day.
    """
    day = timezone.localdate() - timedelta(days=days)
    start = datetime.combine(day, time(0, 1), tzinfo=timezone.get_current_timezone())
    return start.astimezone(UTC)


@override_settings(OXYTRACK_SPAN_RETENTION_DAYS=1000)
def upload(
    client: Client, agent: Agent, days: int, title: str = "Budget 2026.xlsx - Excel"
) -> None:
    payload = batch(consecutive(days_ago(days), 2, title=title), time_zone="Europe/Paris")
    response = post_batch(client, agent.token, payload)
    assert response.status_code == 200, response.content


def seen(agent: Agent, days: int) -> None:
    """The agent's last contact (and enrollment, and record) was `days` days ago."""
    moment = timezone.now() - timedelta(days=days)
    Device.objects.filter(pk=agent.device.pk).update(last_seen_at=moment, enrolled_at=moment)
    Employee.objects.filter(pk=agent.employee.pk).update(created_at=moment - timedelta(days=1))


def days_of(agent: Agent) -> tuple[set[int], set[int], set[int]]:
    """Ages in days of the agent's spans, DailyUsage and DailyTotal rows."""
    today = timezone.localdate()

    def ages(model: type[Span] | type[DailyUsage] | type[DailyTotal]) -> set[int]:
        days = model.objects.filter(employee=agent.employee).values_list("day", flat=True)
        return {(today - day).days for day in days}

    return ages(Span), ages(DailyUsage), ages(DailyTotal)


def purge() -> None:
    do_purge_activity(retention_cutoffs(), actor=None, batch_rows=100)


def test_spans_go_after_30_days_their_rollups_stay(client: Client, org: Org) -> None:
    agent = enroll(client, "ana")
    for days in (0, 29, 30, 31, 45):
        upload(client, agent, days)
    purge()
    spans, usage, totals = days_of(agent)
    assert spans == {0, 29, 30}
    assert usage == totals == {0, 29, 30, 31, 45}


def test_rollups_go_after_180_days(client: Client, org: Org) -> None:
    agent = enroll(client, "ana")
    for days in (1, 179, 180, 181, 200):
        upload(client, agent, days, title=f"Rapport {days}")
    purge()
    spans, usage, totals = days_of(agent)
    assert spans == {1}
    assert usage == totals == {1, 179, 180}
    # The windows only the purged rollups used are gone, the others stay.
    titles = set(Window.objects.values_list("title", flat=True))
    assert titles == {"Rapport 1", "Rapport 179", "Rapport 180"}


def test_audit_entries_go_after_365_days(org: Org) -> None:
    now = timezone.now()
    for days in (364, 366):
        Entry.objects.create(
            action=Action.LOGIN, actor_label=f"{days}@example.com", at=now - timedelta(days=days)
        )
    purge()
    labels = set(Entry.objects.filter(action=Action.LOGIN).values_list("actor_label", flat=True))
    assert labels == {"364@example.com"}


def test_an_employee_without_activity_for_91_days_is_deleted_with_all_their_data(
    client: Client, org: Org
) -> None:
    gone, stays = enroll(client, "gone"), enroll(client, "stays")
    with override_settings(OXYTRACK_SPAN_RETENTION_DAYS=365, OXYTRACK_ROLLUP_RETENTION_DAYS=365):
        for agent, last in ((gone, 91), (stays, 89)):
            for days in (last, last + 20):
                upload(client, agent, days)
            seen(agent, last)
        before = days_of(stays)
        purge()
    assert not Employee.objects.filter(pk=gone.employee.pk).exists()
    assert not Device.objects.filter(employee_id=gone.employee.pk).exists()
    assert not Batch.objects.filter(employee_id=gone.employee.pk).exists()
    assert days_of(gone) == (set(), set(), set())
    assert days_of(stays) == before == ({89, 109}, {89, 109}, {89, 109})
    assert Device.objects.filter(employee=stays.employee).count() == 1
    # Audited as a deletion by hand is, by the system, with what went.
    entry = Entry.objects.get(action=Action.DELETE_EMPLOYEE)
    assert entry.actor is None and entry.actor_label == "système"
    assert entry.target_id == str(gone.employee.public_id)
    assert entry.detail == {"spans": 4, "days": 2, "devices": 1, "reason": "retention"}
    # The other employees, created today, stay.
    assert Employee.objects.filter(pk__in=[e.pk for e in org.employees.values()]).count() == len(
        org.employees
    )


def test_a_recent_upload_keeps_an_employee_whose_device_was_long_silent(
    client: Client, org: Org
) -> None:
    agent = enroll(client, "back")
    seen(agent, 200)
    # Another device, or the same one before last_seen_at is written: time in the rollups counts.
    upload(client, agent, 3)
    Device.objects.filter(pk=agent.device.pk).update(last_seen_at=timezone.now() - timedelta(200))
    purge()
    assert Employee.objects.filter(pk=agent.employee.pk).exists()


def test_an_employee_who_never_had_activity_goes_90_days_after_their_creation(
    org: Org,
) -> None:
    old = Employee.objects.create(username="never")
    recent = Employee.objects.create(username="soon")
    Employee.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    Employee.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=89))
    purge()
    assert not Employee.objects.filter(pk=old.pk).exists()
    assert Employee.objects.filter(pk=recent.pk).exists()


def test_the_preview_counts_what_the_purge_then_deletes(client: Client, org: Org) -> None:
    ana, gone = enroll(client, "ana"), enroll(client, "gone")
    for days in (0, 31, 40, 181):
        upload(client, ana, days, title=f"Doc {days}")
    upload(client, gone, 100)
    seen(gone, 100)
    Entry.objects.create(action=Action.LOGIN, actor_label="x", at=timezone.now() - timedelta(400))
    counts = purge_preview()
    result = do_purge_activity(retention_cutoffs(), actor=None, batch_rows=100)
    # Spans of 31, 40, 181 and (gone's) 100 days; gone's rollups go with gone.
    assert (counts.spans, counts.daily_usage, counts.daily_totals) == (8, 1, 1)
    assert (result.spans, result.daily_usage, result.daily_totals) == (8, 1, 1)
    assert counts.audit_entries == result.audit_entries == 1
    assert counts.departed_employees == result.employees == 1
    assert purge_preview().spans == 0


def test_the_purge_works_in_batches_and_is_audited(client: Client, org: Org) -> None:
    agent = enroll(client, "ana")
    with override_settings(OXYTRACK_SPAN_RETENTION_DAYS=1000):
        payload = batch(consecutive(days_ago(40), 1000, duration_s=5), time_zone="Europe/Paris")
        assert post_batch(client, agent.token, payload).status_code == 200
    call_command("purge_activity", stdout=StringIO())
    assert not Span.objects.exists()
    entry = Entry.objects.get(action=Action.PURGE)
    assert entry.actor_label == "système"
    assert entry.detail["spans"] == 1000
    assert entry.detail["cutoffs"]["spans_before"] == str(timezone.localdate() - timedelta(30))


def test_a_dry_run_counts_and_deletes_nothing(client: Client, org: Org) -> None:
    agent = enroll(client, "ana")
    upload(client, agent, 40)
    out = StringIO()
    call_command("purge_activity", "--dry-run", stdout=out)
    assert "Would delete: 2 spans" in out.getvalue()
    assert Span.objects.count() == 2
    assert not Entry.objects.filter(action=Action.PURGE).exists()


@pytest.mark.parametrize(("days", "status"), [(29, 200), (31, 422)])
def test_uploads_older_than_the_span_retention_are_refused(
    client: Client, org: Org, days: int, status: int
) -> None:
    agent = enroll(client, "ana")
    start = timezone.now() - timedelta(days=days)
    response = post_batch(client, agent.token, batch(consecutive(start, 1)))
    assert response.status_code == status
    if status == 422:
        assert response.json()["code"] == "span_too_old"
        assert "30 days" in response.json()["message"]
