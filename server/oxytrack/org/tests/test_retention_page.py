"""The retention page: the settings in force and what the next purge would delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import DailyTotal, HourlyTotal, Span
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.org.models import Device, Employee

URL = reverse("org:retention")


def _row(html: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert match, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


@override_settings(OXYTRACK_DEPARTED_AFTER_DAYS=60)
def test_it_shows_each_setting_and_the_next_purges_counts(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice, org: Org
) -> None:
    today = timezone.localdate()
    old = [
        RawSpan(datetime.combine(today - timedelta(days=d), time(11), tzinfo=UTC), 1000)
        for d in (31, 32, 33, 200)
    ]
    add_to_rollups(store_spans(enrolled_device.device, old))
    Entry.objects.create(action=Action.LOGIN, actor_label="x", at=timezone.now() - timedelta(400))
    never = Employee.objects.create(username="never")
    Employee.objects.filter(pk=never.pk).update(created_at=timezone.now() - timedelta(days=61))
    client.force_login(superadmin)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert _row(html, "retention-spans").endswith(
        "30 jours " + f"{today - timedelta(30):%d/%m/%Y}" + " 4 intervalles"
    )
    assert _row(html, "retention-rollups").endswith(
        "180 jours "
        + f"{today - timedelta(180):%d/%m/%Y}"
        + " 1 journée, 1 ligne par fenêtre, 1 ligne par heure"
    )
    assert "365 jours" in _row(html, "retention-audit")
    assert _row(html, "retention-audit").endswith("1 entrée")
    assert "60 jours" in _row(html, "retention-departed")
    assert _row(html, "retention-departed").endswith(
        "1 utilisateur, 0 machines, 0 intervalles, 0 journées"
    )
    # Reading the page deletes nothing.
    assert Employee.objects.filter(pk=never.pk).exists()


def test_the_hourly_rows_it_shows_are_those_the_purge_deletes(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice
) -> None:
    # Spans over several local hours, on days on both sides of the rollup cut-off.
    today = timezone.localdate()
    spans = [
        RawSpan(datetime.combine(today - timedelta(days=d), time(9), tzinfo=UTC), 3 * 3600_000)
        for d in (179, 181, 182, 250)
    ]
    add_to_rollups(store_spans(enrolled_device.device, spans))
    cutoffs = retention_cutoffs()
    expected = HourlyTotal.objects.filter(day__lt=cutoffs.rollups_before).count()
    assert expected > 3  # several hours per purged day
    assert HourlyTotal.objects.filter(day__gte=cutoffs.rollups_before).exists()
    client.force_login(superadmin)
    shown = _row(client.get(URL).content.decode(), "retention-rollups")
    match = re.search(r"(\d+) lignes? par heure$", shown)
    assert match, shown
    result = do_purge_activity(cutoffs, actor=None, batch_rows=100, pause_s=0)
    assert int(match.group(1)) == result.hourly_totals == expected
    assert not HourlyTotal.objects.filter(day__lt=cutoffs.rollups_before).exists()


@override_settings(OXYTRACK_DEPARTED_AFTER_DAYS=20)
def test_the_departed_users_data_it_shows_is_what_the_purge_deletes(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice
) -> None:
    # A user gone for 22 days with two PCs, active 22, 25 and 40 days ago: the
    # span retention (30 days) takes the spans of 40 days ago from everyone,
    # the departed rule the rest of theirs, with their days and their PCs.
    now = timezone.now()
    gone = Employee.objects.create(username="gone")
    Employee.objects.filter(pk=gone.pk).update(created_at=now - timedelta(days=50))
    pcs = [
        Device.objects.create(
            employee=gone, hostname=f"PC-{i}", enrolled_at=now - timedelta(50), last_seen_at=seen
        )
        for i, seen in enumerate((now - timedelta(days=22), None))
    ]
    today = timezone.localdate()
    for pc, ages in ((pcs[0], (22, 40)), (pcs[1], (25,))):
        spans = [
            RawSpan(datetime.combine(today - timedelta(days=d), time(9), tzinfo=UTC), 60_000)
            for d in ages
        ]
        add_to_rollups(store_spans(pc, spans))
    # Someone who stays, active on the same days: none of their rows is counted.
    stays = [
        RawSpan(datetime.combine(today - timedelta(days=d), time(9), tzinfo=UTC), 60_000)
        for d in (0, 22, 25, 40)
    ]
    add_to_rollups(store_spans(enrolled_device.device, stays))
    client.force_login(superadmin)
    html = client.get(URL).content.decode()
    departed = _row(html, "retention-departed")
    match = re.search(
        r"(\d+) utilisateurs?, (\d+) machines?, (\d+) intervalles?, (\d+) journées?$", departed
    )
    assert match, departed
    users, machines, spans_shown, days_shown = map(int, match.groups())
    in_spans_row = re.search(r"(\d+) intervalles?$", _row(html, "retention-spans"))
    assert in_spans_row
    old_spans = int(in_spans_row.group(1))
    before = (Span.objects.count(), DailyTotal.objects.count(), Device.objects.count())
    result = do_purge_activity(retention_cutoffs(), actor=None, batch_rows=100, pause_s=0)
    after = (Span.objects.count(), DailyTotal.objects.count(), Device.objects.count())
    assert (users, machines, spans_shown, days_shown) == (1, 2, 2, 3)
    assert (result.employees, result.departed_devices) == (users, machines)
    assert (result.departed_spans, result.departed_days) == (spans_shown, days_shown)
    # What the page shows adds up to what went: spans of 40 days ago (both
    # employees) in the spans row, the rest of gone's on their row.
    assert old_spans == result.spans == 2
    assert before[0] - after[0] == old_spans + spans_shown
    assert before[1] - after[1] == days_shown
    assert before[2] - after[2] == machines
    assert not Employee.objects.filter(pk=gone.pk).exists()
    assert Span.objects.filter(device=enrolled_device.device).count() == 3


def test_it_is_in_english_too(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    response = client.get(URL, headers={"Accept-Language": "en"})
    html = response.content.decode()
    assert "Data retention" in html
    assert _row(html, "retention-spans").endswith("0 spans")
    assert _row(html, "retention-rollups").endswith("0 hourly rows")
    assert _row(html, "retention-departed").endswith("0 users, 0 machines, 0 spans, 0 days")
    assert "the purge deletes them with the user" in html


def test_it_is_for_the_superadmin_only(client: Client, alice: User) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(alice)
    assert client.get(URL).status_code == 403


def test_it_only_reads(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert client.post(URL).status_code == 405


def test_the_organisation_page_links_to_it(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    assert URL in client.get(reverse("org:settings")).content.decode()
