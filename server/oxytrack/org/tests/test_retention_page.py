"""The retention page: the settings in force and what the next purge would delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import HourlyTotal
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.org.models import Employee

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
    assert _row(html, "retention-departed").endswith("1 utilisateur")
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


def test_it_is_in_english_too(client: Client, superadmin: User) -> None:
    client.force_login(superadmin)
    response = client.get(URL, headers={"Accept-Language": "en"})
    html = response.content.decode()
    assert "Data retention" in html
    assert _row(html, "retention-spans").endswith("0 spans")
    assert _row(html, "retention-rollups").endswith("0 hourly rows")


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
