from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oxytrack.activity.actions import do_purge_activity, retention_cutoff


class Command(BaseCommand):
    help = (
        "Delete activity older than the retention period (OXYTRACK_RETENTION_DAYS), "
        "or before --before DATE. Run it daily (cron or a systemd timer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="first day to keep, YYYY-MM-DD")

    def handle(self, *args: Any, before: str | None, **options: Any) -> None:
        if before:
            try:
                cutoff = date.fromisoformat(before)
            except ValueError:
                raise CommandError(f"--before {before!r} is not a date (YYYY-MM-DD)") from None
        else:
            cutoff = retention_cutoff()
        result = do_purge_activity(cutoff, actor=None)
        self.stdout.write(
            f"Purged activity before {result.before}: {result.spans} spans, "
            f"{result.daily_usage + result.daily_totals} rollup rows, {result.batches} batches, "
            f"{result.windows} unused windows."
        )
