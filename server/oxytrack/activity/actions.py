"""Changes to stored activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.ingest.models import Batch


@dataclass(frozen=True)
class PurgeResult:
    before: date
    spans: int
    daily_usage: int
    daily_totals: int
    batches: int
    windows: int


def retention_cutoff(today: date | None = None) -> date:
    """The first day still kept under the retention setting."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.OXYTRACK_RETENTION_DAYS)


@transaction.atomic
def do_purge_activity(before: date, *, actor: User | None) -> PurgeResult:
    """Delete spans and rollups of local days before `before`, and what only they used.

    Whole days go, so rollups never describe spans that are gone.
    """
    spans, _ = Span.objects.filter(day__lt=before).delete()
    usage, _ = DailyUsage.objects.filter(day__lt=before).delete()
    totals, _ = DailyTotal.objects.filter(day__lt=before).delete()
    # A replay of a purged batch would carry spans older than retention: refused anyway.
    cutoff = timezone.make_aware(datetime.combine(before, time(0)))
    batches, _ = Batch.objects.filter(received_at__lt=cutoff).delete()
    # A window in use has DailyUsage rows (every span has the row of its
    # day and window), found by their indexed window column.
    windows, _ = (
        Window.objects.annotate(used=Exists(DailyUsage.objects.filter(window=OuterRef("pk"))))
        .filter(used=False)
        .delete()
    )
    result = PurgeResult(before, spans, usage, totals, batches, windows)
    record(
        Action.PURGE,
        actor=actor,
        target_label=f"before {before.isoformat()}",
        detail={"spans": spans, "daily_usage": usage, "daily_totals": totals, "batches": batches},
    )
    return result
