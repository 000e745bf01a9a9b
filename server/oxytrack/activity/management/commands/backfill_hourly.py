from typing import Any

from django.core.cache import cache
from django.core.management.base import BaseCommand

from oxytrack.activity.models import Span
from oxytrack.activity.rollups import backfill_hourly


class Command(BaseCommand):
    help = (
        "Fill the hourly rollups (the heatmap's) from the stored spans, one employee at a "
        "time: needed once after upgrading to a version that has them, for the days "
        "uploaded before. Idempotent: each day with spans gets its hours recomputed, "
        "not added to; uploads go on meanwhile. Days whose spans are already purged "
        "(OXYTRACK_SPAN_RETENTION_DAYS) cannot be filled."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        employees = list(
            Span.objects.order_by("employee_id").values_list("employee_id", flat=True).distinct()
        )
        total_days = total_rows = 0
        for number, employee_id in enumerate(employees, start=1):
            days, rows = backfill_hourly(employee_id)
            total_days += days
            total_rows += rows
            # Ids only: names are personal data and this goes to logs.
            self.stdout.write(
                f"[{number}/{len(employees)}] employee {employee_id}: "
                f"{days} days, {rows} hourly rows"
            )
        # The teams' cached sums of past days hold their hours, and no trigger sees
        # an hourly row change (past_totals watches DailyTotal): drop them all.
        cache.clear()
        self.stdout.write(
            f"Backfilled {len(employees)} employees: {total_days} days, {total_rows} hourly rows."
        )
