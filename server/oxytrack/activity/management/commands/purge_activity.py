from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.retention import purge_preview, retention, retention_cutoffs


class Command(BaseCommand):
    # Names every kind of row do_purge_activity deletes (PurgeResult's fields):
    # test_purge_activity.py checks it against what a purge deletes.
    help = (
        "Apply the retention settings: delete the raw spans older than "
        "OXYTRACK_SPAN_RETENTION_DAYS and the batch records of the uploads received before "
        "them (kept to answer an agent's replay); the daily rollups (per window and per "
        "employee) and the hourly rollups older than OXYTRACK_ROLLUP_RETENTION_DAYS; the "
        "windows (application and title) that no rollup uses any more; the audit entries "
        "older than OXYTRACK_AUDIT_RETENTION_DAYS; and the employees without activity for "
        "OXYTRACK_DEPARTED_AFTER_DAYS with all their data (devices, spans, rollups). Works in "
        "short batches: uploads go on meanwhile. Run it daily (cron or a systemd timer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            help="first day of spans and rollups to keep, YYYY-MM-DD (instead of their settings)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
        )

    def handle(self, *args: Any, before: str | None, dry_run: bool, **options: Any) -> None:
        first_kept = None
        if before:
            try:
                first_kept = date.fromisoformat(before)
            except ValueError:
                raise CommandError(f"--before {before!r} is not a date (YYYY-MM-DD)") from None
        cutoffs = retention_cutoffs(before=first_kept)
        if dry_run:
            kept, counts = retention(), purge_preview(cutoffs)
            rollup_rows = counts.daily_usage + counts.daily_totals + counts.hourly_totals
            self.stdout.write(
                f"Would delete: {counts.spans} spans (before {cutoffs.spans_before}, "
                f"{kept.span_days} days), {rollup_rows} rollup rows "
                f"(before {cutoffs.rollups_before}, {kept.rollup_days} days), "
                f"{counts.audit_entries} audit entries ({kept.audit_days} days), "
                f"{counts.departed_employees} departed employees "
                f"(no activity for {kept.departed_days} days) with {counts.departed_devices} "
                f"devices, {counts.departed_spans} more spans and {counts.departed_days} more days."
            )
            return
        result = do_purge_activity(cutoffs, actor=None)
        self.stdout.write(
            f"Purged spans before {cutoffs.spans_before}: {result.spans} spans, "
            f"{result.daily_usage + result.daily_totals + result.hourly_totals} rollup rows "
            f"(before {cutoffs.rollups_before}), {result.batches} batches, "
            f"{result.windows} unused windows, {result.audit_entries} audit entries, "
            f"{result.employees} departed employees with {result.departed_devices} devices, "
            f"{result.departed_spans} more spans and {result.departed_days} more days."
        )
