"""Private pauses on the wire (`tracked: false`): "not tracked", never idle, never a title."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span
from oxytrack.activity.rollups import rebuild_rollups
from oxytrack.conftest import EnrolledDevice
from oxytrack.ingest.tests.payloads import batch, post_batch, span

PARIS = ZoneInfo("Europe/Paris")


def morning() -> datetime:
    """09:00 yesterday, Paris time (one local day, whatever the hour the test runs)."""
    day = timezone.now().astimezone(PARIS).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=PARIS)


def paused(start: datetime, seconds: float, **kw: object) -> dict[str, object]:
    out = span(start, seconds, app="", title="", active=False, keys=0, clicks=0)
    out.update(tracked=False, **kw)
    return out


def upload_day(client: Client, device: EnrolledDevice) -> datetime:
    start = morning()
    spans = [
        span(start, 600, app="soffice.bin", title="Tournées.ods", keys=50, clicks=5),
        # A pause, even one an agent sent with a title and counts: neither is kept.
        paused(start + timedelta(seconds=600), 900, app="firefox", title="Mutuelle - relevé"),
        span(
            start + timedelta(seconds=1500),
            300,
            app="soffice.bin",
            title="Tournées.ods",
            active=False,
            keys=0,
            clicks=0,
        ),
    ]
    response = post_batch(client, device.token, batch(spans))
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 3
    return start


def test_a_pause_is_not_tracked_time_never_idle_never_a_title(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = upload_day(client, enrolled_device)
    total = DailyTotal.objects.get(day=start.date())
    assert (total.active_ms, total.idle_ms, total.untracked_ms) == (600_000, 300_000, 900_000)
    assert (total.keys, total.clicks) == (50, 5)
    # Only the spreadsheet has a usage row: the pause is no window's time.
    assert list(DailyUsage.objects.values_list("window__app", "window__title")) == [
        ("soffice.bin", "Tournées.ods")
    ]
    pause = Span.objects.get(tracked=False)
    assert (pause.window.app, pause.window.title) == ("", "")
    assert (pause.active, pause.keys, pause.clicks, pause.duration_ms) == (False, 0, 0, 900_000)
    assert not Span.objects.filter(window__title__contains="Mutuelle").exists()


def test_rebuilt_rollups_keep_the_pause_apart(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = upload_day(client, enrolled_device)
    before = DailyTotal.objects.values().get(day=start.date())
    rebuild_rollups()
    assert DailyTotal.objects.values().get(day=start.date()) | {"id": 0} == before | {"id": 0}
    assert DailyUsage.objects.count() == 1


def test_a_pause_may_not_overlap_tracked_time(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = morning()
    spans = [span(start, 600), paused(start + timedelta(seconds=300), 600)]
    response = post_batch(client, enrolled_device.token, batch(spans))
    assert response.status_code == 422
    assert response.json()["code"] == "overlap"
    assert not Span.objects.exists()


def test_an_old_agent_without_the_flag_is_tracked(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = morning()
    assert post_batch(client, enrolled_device.token, batch([span(start, 60)])).status_code == 200
    assert Span.objects.get().tracked is True
    assert DailyTotal.objects.get().untracked_ms == 0


def test_the_employee_page_shows_not_tracked_apart_from_idle(
    client: Client, enrolled_device: EnrolledDevice, superadmin: User
) -> None:
    start = upload_day(client, enrolled_device)
    client.force_login(superadmin)
    employee = enrolled_device.device.employee
    day = start.date().isoformat()
    response = client.get(
        reverse("dashboard:employee", args=[employee.public_id]),
        {"start": day, "end": day, "day": day},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Non suivi (pause)" in body
    untracked = body.split('id="total-untracked">')[1].split("<")[0]
    idle = body.split('id="total-idle">')[1].split("<")[0]
    screen = body.split('id="total-screen">')[1].split("<")[0]
    assert "15" in untracked and "5" in idle and "15" in screen  # 15 min paused, 5 idle, 15 screen
    assert "Mutuelle" not in body
