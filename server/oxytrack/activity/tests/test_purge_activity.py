"""The purge_activity command: retention of raw spans and rollups."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from oxytrack.activity.actions import PurgeResult, do_purge_activity
from oxytrack.activity.management.commands.purge_activity import Command
from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, rollup_snapshot, store_spans
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice
from oxytrack.ingest.models import Batch
from oxytrack.org.models import Device, Employee


def noon(day: date) -> datetime:
    return datetime.combine(day, time(11, 0), tzinfo=UTC)  # 12:00 or 13:00 in Nice


@pytest.fixture
def history(enrolled_device: EnrolledDevice) -> dict[str, date]:
    """Activity on four days: today, 10, 11 and 40 days ago; one window only in the oldest."""
    device = enrolled_device.device
    today = timezone.localdate()
    days = {
        "today": today,
        "d10": today - timedelta(days=10),
        "d11": today - timedelta(days=11),
        "d40": today - timedelta(days=40),
    }
    for name, day in days.items():
        # Late evening spans stay on their day in Nice (UTC+1/+2), even in summer.
        raw = [RawSpan(noon(day), 60_000, keys=3), RawSpan(noon(day), 1_000, title=f"only {name}")]
        add_to_rollups(store_spans(device, raw))
    return days


def _kept_days() -> set[date]:
    return set(Span.objects.values_list("day", flat=True))


def test_the_default_cutoff_is_the_retention_setting(
    history: dict[str, date], settings: Settings
) -> None:
    settings.OXYTRACK_SPAN_RETENTION_DAYS = 10
    settings.OXYTRACK_ROLLUP_RETENTION_DAYS = 10
    kept_rollups = _rollups_of([history["today"], history["d10"]])
    out = StringIO()
    call_command("purge_activity", stdout=out)
    assert _kept_days() == {history["today"], history["d10"]}
    assert set(DailyTotal.objects.values_list("day", flat=True)) == _kept_days()
    assert set(DailyUsage.objects.values_list("day", flat=True)) == _kept_days()
    assert _rollups_of([history["today"], history["d10"]]) == kept_rollups
    assert f"before {history['d10']}" in out.getvalue()


def test_before_a_date_keeps_that_day(history: dict[str, date]) -> None:
    call_command("purge_activity", "--before", history["d11"].isoformat(), stdout=StringIO())
    assert _kept_days() == {history["today"], history["d10"], history["d11"]}


def test_an_invalid_date_is_refused_and_nothing_is_deleted(history: dict[str, date]) -> None:
    before = (Span.objects.count(), rollup_snapshot(), Window.objects.count())
    for bad in ("2026-13-01", "yesterday", "01/02/2026"):
        with pytest.raises(CommandError, match="not a date"):
            call_command("purge_activity", "--before", bad, stdout=StringIO())
    assert (Span.objects.count(), rollup_snapshot(), Window.objects.count()) == before
    assert not Entry.objects.filter(action=Action.PURGE).exists()


def test_the_purge_is_written_to_the_audit_log(history: dict[str, date]) -> None:
    call_command("purge_activity", "--before", history["d10"].isoformat(), stdout=StringIO())
    entry = Entry.objects.get(action=Action.PURGE)
    assert entry.actor is None
    assert entry.actor_label == "système"
    assert entry.target_label == f"before {history['d10'].isoformat()}"
    assert entry.detail["spans"] == 4  # two spans on each of the two purged days
    assert entry.detail["daily_totals"] == 2


def test_windows_no_longer_used_are_removed(history: dict[str, date]) -> None:
    call_command("purge_activity", "--before", history["d10"].isoformat(), stdout=StringIO())
    titles = set(Window.objects.values_list("title", flat=True))
    # The shared window stays; those only the purged days used are gone.
    assert titles == {"Budget 2026 - Excel", "only today", "only d10"}


def test_old_batches_go_with_the_old_days(
    history: dict[str, date], enrolled_device: EnrolledDevice
) -> None:
    device = enrolled_device.device
    old = Batch.objects.create(
        batch_id="00000000-0000-4000-8000-000000000001",
        employee=device.employee,
        device=device,
        received_at=noon(history["d40"]),
        span_count=2,
    )
    recent = Batch.objects.create(
        batch_id="00000000-0000-4000-8000-000000000002",
        employee=device.employee,
        device=device,
        received_at=noon(history["today"]),
        span_count=2,
    )
    call_command("purge_activity", "--before", history["d10"].isoformat(), stdout=StringIO())
    assert list(Batch.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Batch.objects.filter(pk=old.pk).exists()


def _rollups_of(days: list[date]) -> tuple[object, object]:
    usage = list(
        DailyUsage.objects.filter(day__in=days)
        .order_by("day", "window__title")
        .values("day", "window__title", "active_ms", "keys", "first_start", "last_end")
    )
    totals = list(
        DailyTotal.objects.filter(day__in=days)
        .order_by("day")
        .values("day", "active_ms", "keys", "first_start", "last_end", "pk")
    )
    return usage, totals


# How the help names each kind of row the purge deletes (PurgeResult's counts).
HELP_NAMES = {
    "spans": "raw spans",
    "daily_usage": "daily rollups (per window",
    "daily_totals": "daily rollups (per window and per employee)",
    "hourly_totals": "hourly rollups",
    "batches": "batch records",
    "windows": "windows (application and title) that no rollup uses",
    "audit_entries": "audit entries",
    "employees": "employees without activity",
    "departed_devices": "with all their data (devices",
    "departed_spans": "with all their data (devices, spans",
    "departed_days": "with all their data (devices, spans, rollups)",
}


def test_its_help_names_every_kind_of_row_the_purge_deletes(
    history: dict[str, date], enrolled_device: EnrolledDevice
) -> None:
    # One row of each kind to purge: old days (with a window only they use), an
    # old batch, an old audit entry and an employee gone for a week with a PC and
    # spans (the purge's cut-off for departed employees moved to 5 days ago).
    device = enrolled_device.device
    Batch.objects.create(
        batch_id="00000000-0000-4000-8000-000000000001",
        employee=device.employee,
        device=device,
        received_at=noon(history["d40"]),
        span_count=2,
    )
    Entry.objects.create(action=Action.LOGIN, actor_label="x", at=timezone.now() - timedelta(400))
    long_ago = timezone.now() - timedelta(days=7)
    gone = Employee.objects.create(username="gone")
    Employee.objects.filter(pk=gone.pk).update(created_at=long_ago)
    pc = Device.objects.create(
        employee=gone, hostname="PC-GONE", last_seen_at=long_ago, enrolled_at=long_ago
    )
    add_to_rollups(store_spans(pc, [RawSpan(long_ago, 60_000)]))
    cutoffs = dataclasses.replace(
        retention_cutoffs(before=history["d10"]),
        departed_before=timezone.now() - timedelta(days=5),
    )
    help_text = " ".join(
        Command().create_parser("oxytrack", "purge_activity").format_help().split()
    )
    result = do_purge_activity(cutoffs, actor=None, batch_rows=100, pause_s=0)
    counts = {f.name: getattr(result, f.name) for f in dataclasses.fields(PurgeResult)}
    del counts["cutoffs"]
    # A count the purge gained must be named in the help (and given a name here).
    assert set(counts) == set(HELP_NAMES)
    for kind, count in counts.items():
        assert count > 0, kind  # the purge did delete rows of this kind
        assert HELP_NAMES[kind] in help_text, (kind, help_text)
    assert "with all their data (devices, spans, rollups)" in help_text
