"""Changes to stored activity: the retention purge.

The purge deletes a large base while agents keep uploading, so it never
holds the write lock for long: it finds the rows to delete by reading
(outside any write transaction: readers do not block writers on SQLite in
WAL mode nor on PostgreSQL), then deletes them by primary key in small
batches, each its own short transaction, sized to take at most about
`_BATCH_TARGET_S`. On SQLite each batch also queues for the batch writers'
lock like an upload (ingest/writelock.py), so uploads and purge batches take
turns instead of an upload sleeping in SQLite's busy handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span, Window
from oxytrack.activity.retention import Cutoffs, departed_employees
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action, purge_entries_before
from oxytrack.ingest.models import Batch
from oxytrack.ingest.writelock import batch_write_lock, checkpoint_wal
from oxytrack.org.actions import do_delete_employee

# A batch deletes at most this many rows (SQLite: well under its 32,766
# parameters) and aims to hold the write lock for at most _BATCH_TARGET_S.
MAX_BATCH_ROWS = 5000
_MIN_BATCH_ROWS = 100
_BATCH_TARGET_S = 0.05
# Between two batches: time for the uploads queued behind the lock.
_PAUSE_S = 0.005


@dataclass(frozen=True)
class PurgeResult:
    cutoffs: Cutoffs
    spans: int
    daily_usage: int
    daily_totals: int
    batches: int
    windows: int
    audit_entries: int
    employees: int
    hourly_totals: int = 0
    # The departed employees' data (PurgeCounts: not in the counts above).
    departed_devices: int = 0
    departed_spans: int = 0
    departed_days: int = 0


class _Batches:
    """The size of the next batch: grows while batches are quick, halves when slow."""

    def __init__(self, rows: int, pause_s: float) -> None:
        self.largest = max(_MIN_BATCH_ROWS, min(rows, MAX_BATCH_ROWS))
        self.rows = min(self.largest, 1000)  # then grown while batches are quick
        self.pause_s = pause_s
        self.longest_s = 0.0

    def took(self, seconds: float) -> None:
        self.longest_s = max(self.longest_s, seconds)
        if seconds > _BATCH_TARGET_S:
            self.rows = max(_MIN_BATCH_ROWS, self.rows // 2)
        elif seconds < _BATCH_TARGET_S / 2:
            self.rows = min(self.largest, self.rows * 2)
        checkpoint_wal()  # outside the lock, as after an upload (writelock.py)
        time.sleep(self.pause_s)


def _delete_in_batches(
    model: type[models.Model],
    condition: Q,
    sizes: _Batches,
    *,
    recheck: Callable[[models.QuerySet[Any]], models.QuerySet[Any]] | None = None,
) -> int:
    """Delete the rows of `model` matching `condition`, a short transaction per batch.

    Rows are found in primary-key order from where the last batch stopped,
    so the whole search reads the table once. `recheck` narrows each batch
    again inside its transaction (a window an upload started using since).
    """
    deleted = 0
    last = 0
    manager = model._base_manager
    while True:
        ids = list(
            manager.filter(condition, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[: sizes.rows]
        )
        if not ids:
            return deleted
        first, last = last, ids[-1]
        began = time.monotonic()
        try:
            with batch_write_lock(), transaction.atomic():
                # The rows of the range that still match: the same rows as
                # `ids` (new rows get higher keys), but compiled at once,
                # where an IN of thousands of ids took milliseconds with the
                # lock held.
                batch = manager.filter(condition, pk__gt=first, pk__lte=last)
                if recheck is not None:
                    batch = recheck(batch)
                deleted += batch._raw_delete(batch.db)
        except IntegrityError:
            # PostgreSQL: an upload not yet committed started using one of
            # these windows. They stay; the next purge sees them again.
            pass
        sizes.took(time.monotonic() - began)


def _unused(windows: models.QuerySet[Any]) -> models.QuerySet[Any]:
    return windows.exclude(Exists(DailyUsage.objects.filter(window=OuterRef("pk"))))


def _purge_departed(cutoffs: Cutoffs, sizes: _Batches) -> tuple[int, int, int, int]:
    """Delete the employees without activity since the cut-off.

    Returns the counts (employees, devices, spans, days) of what went with them.
    """
    since = cutoffs.departed_before
    employees = devices = spans = days = 0
    for employee_id in list(departed_employees(since).values_list("pk", flat=True)):
        # Their history first, in short batches; only what is older than the
        # cut-off, so an employee who comes back meanwhile loses nothing recent.
        gone = {
            "spans": _delete_in_batches(Span, Q(employee_id=employee_id, start__lt=since), sizes),
            "days": _delete_in_batches(
                DailyTotal, Q(employee_id=employee_id, day__lt=since.date()), sizes
            ),
        }
        _delete_in_batches(DailyUsage, Q(employee_id=employee_id, day__lt=since.date()), sizes)
        _delete_in_batches(HourlyTotal, Q(employee_id=employee_id, day__lt=since.date()), sizes)
        with batch_write_lock(), transaction.atomic():
            # Checked again with the lock held: an upload may have come since.
            employee = departed_employees(since).filter(pk=employee_id).first()
            if employee is None:
                continue
            deleted = do_delete_employee(
                employee,
                actor=None,
                reason="retention",
                already_deleted=gone,
            )
        employees += 1
        devices += int(deleted["devices"])
        spans += int(deleted["spans"])
        days += int(deleted["days"])
    return employees, devices, spans, days


def do_purge_activity(
    cutoffs: Cutoffs,
    *,
    actor: User | None,
    batch_rows: int = MAX_BATCH_ROWS,
    pause_s: float = _PAUSE_S,
) -> PurgeResult:
    """Apply the retention rules of `cutoffs` (retention.retention_cutoffs), in short batches.

    Deletes spans and rollups of local days before their cut-offs (whole
    days); employees without activity since `departed_before`, each with all
    their data through `do_delete_employee` (audited like a deletion by hand);
    batches received before the spans' cut-off (a replay of one would carry
    spans the ingest refuses as too old anyway); windows no rollup uses any
    more (every span has the rollup row of its window: models.py); audit
    entries before `audit_before`. Then writes one audit entry with the counts.
    Uploads go on meanwhile; not one transaction, so an interrupted purge
    leaves whole batches done and is finished by the next run.
    """
    sizes = _Batches(batch_rows, pause_s)
    spans = _delete_in_batches(Span, Q(day__lt=cutoffs.spans_before), sizes)
    usage = _delete_in_batches(DailyUsage, Q(day__lt=cutoffs.rollups_before), sizes)
    totals = _delete_in_batches(DailyTotal, Q(day__lt=cutoffs.rollups_before), sizes)
    hourly = _delete_in_batches(HourlyTotal, Q(day__lt=cutoffs.rollups_before), sizes)
    employees, employee_devices, employee_spans, employee_days = _purge_departed(cutoffs, sizes)
    received_before = timezone.make_aware(datetime.combine(cutoffs.spans_before, clock_time(0)))
    batches = _delete_in_batches(Batch, Q(received_at__lt=received_before), sizes)
    # DailyUsage.window is indexed: each check is one index probe.
    windows = _delete_in_batches(
        Window,
        ~Q(Exists(DailyUsage.objects.filter(window=OuterRef("pk")))),
        sizes,
        recheck=_unused,
    )
    entries = purge_entries_before(cutoffs.audit_before)
    result = PurgeResult(
        cutoffs,
        spans=spans,
        daily_usage=usage,
        daily_totals=totals,
        batches=batches,
        windows=windows,
        audit_entries=entries,
        employees=employees,
        hourly_totals=hourly,
        departed_devices=employee_devices,
        departed_spans=employee_spans,
        departed_days=employee_days,
    )
    with transaction.atomic():
        record(
            Action.PURGE,
            actor=actor,
            target_label=f"before {cutoffs.spans_before.isoformat()}",
            detail={
                "spans": spans,
                "daily_usage": usage,
                "daily_totals": totals,
                "hourly_totals": hourly,
                "batches": batches,
                "windows": windows,
                "audit_entries": entries,
                "departed_employees": employees,
                "departed_devices": employee_devices,
                "departed_spans": employee_spans,
                "departed_days": employee_days,
                "cutoffs": {
                    "spans_before": cutoffs.spans_before.isoformat(),
                    "rollups_before": cutoffs.rollups_before.isoformat(),
                    "audit_before": cutoffs.audit_before.isoformat(),
                    "departed_before": cutoffs.departed_before.isoformat(),
                },
            },
        )
    return result
