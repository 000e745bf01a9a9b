"""The team overview's cache key: see `oxytrack.dashboard.past_totals`."""

from __future__ import annotations

from django.db import models


class PastTotalsVersion(models.Model):
    """One row whose `token` the database changes at every write to a DailyTotal row
    of a past day (triggers: `past_totals.install_triggers`).

    Absent until the first such write. A random token, not a counter: a test's
    rolled-back write or a flushed table never brings an old token back.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    token = models.BigIntegerField()

    def __str__(self) -> str:
        return f"past totals {self.token}"
