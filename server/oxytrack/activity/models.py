"""Raw spans and the per-day rollups every page reads.

Durations are whole milliseconds: rollups are sums of integers, so they equal
the sum of their spans exactly whatever the order of arrival.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _


def window_digest(app: str, title: str) -> str:
    """The key of an (app, title) pair: unique index on it, not on the 1,024-char text."""
    return hashlib.sha256(f"{app}\x00{title}".encode()).hexdigest()


class Window(models.Model):
    """An (application, title) pair, stored once and referenced by spans and rollups.

    Interned because a btree index on long UTF-8 titles can exceed
    PostgreSQL's entry size limit, and integer keys keep rollup grouping fast.
    """

    app = models.CharField(_("application"), max_length=255)
    title = models.TextField(_("titre"), blank=True)
    digest = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"{self.app}: {self.title}"


class Span(models.Model):
    """A stretch of time on one focused window, never crossing local midnight."""

    # No single-column indexes on employee and device: the (employee, start)
    # and (device, start) indexes serve those lookups, and every index costs
    # a write per span on the ingest's hot path.
    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    device = models.ForeignKey(
        "org.Device", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    start = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    # The local calendar day of `start` in the device's time zone.
    day = models.DateField()
    # Neither indexed nor a database constraint: window ids are scattered,
    # so an index on them dirtied a page per distinct window of every
    # upload (half of an upload's writes). Integrity holds all the same:
    # every span has the DailyUsage row of its (employee, day, window),
    # written in the same transaction, whose window is a checked and
    # indexed foreign key, and windows are deleted only when no DailyUsage
    # row uses them (do_purge_activity).
    window = models.ForeignKey(
        Window, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    active = models.BooleanField()
    keys = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    # False: the employee's private pause, "not tracked" time (never idle):
    # its window is the empty pair, it has no counts and no DailyUsage row,
    # and it adds to DailyTotal.untracked_ms only.
    tracked = models.BooleanField(default=True, db_default=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "start"]),
            models.Index(fields=["device", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S} +{self.duration_ms} ms"


class DailyUsage(models.Model):
    """Per employee, local day and window: time and input counts."""

    # The unique (employee, day, window) index serves employee lookups.
    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="+")
    active_ms = models.BigIntegerField(default=0)
    idle_ms = models.BigIntegerField(default=0)
    keys = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    first_start = models.DateTimeField()
    last_end = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "day", "window"], name="dailyusage_unique_employee_day_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} window {self.window_id}"


class DailyTotal(models.Model):
    """Per employee and local day: the sum of that day's DailyUsage rows."""

    # The unique (employee, day) index serves employee lookups.
    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    active_ms = models.BigIntegerField(default=0)
    idle_ms = models.BigIntegerField(default=0)
    keys = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    first_start = models.DateTimeField()
    last_end = models.DateTimeField()
    # Private pauses: neither active nor idle, and in no DailyUsage row.
    untracked_ms = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "day"], name="dailytotal_unique_employee_day"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} employee {self.employee_id}"


class HourlyTotal(models.Model):
    """Per employee, local day and local wall-clock hour (0-23): active and idle time.

    The hours of a day add up to its DailyTotal's active_ms and idle_ms
    (private pauses are in neither). On a 25-hour DST day the repeated hour
    holds both; on a 23-hour day the skipped hour has no row.
    """

    # The unique (employee, day, hour) index serves employee lookups.
    employee = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    active_ms = models.BigIntegerField(default=0)
    idle_ms = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "day", "hour"], name="hourlytotal_unique_employee_day_hour"
            ),
            models.CheckConstraint(
                condition=models.Q(hour__gte=0, hour__lte=23), name="hourlytotal_hour_0_23"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d} h employee {self.employee_id}"


class PastTotalsVersion(models.Model):
    """One row whose `token` the database changes at every write to a DailyTotal row
    of a past day (triggers: `past_totals.install_triggers`).

    Absent until the first such write. A random token, not a counter: a test's
    rolled-back write or a flushed table never brings an old token back. Its table
    keeps the name it had when the dashboard app held it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    token = models.BigIntegerField()

    class Meta:
        db_table = "dashboard_pasttotalsversion"

    def __str__(self) -> str:
        return f"past totals {self.token}"
