"""Retention per kind of data: the cut-offs of the settings and what a purge would delete.

The settings (days, from the environment: settings.py) are:

- OXYTRACK_SPAN_RETENTION_DAYS: raw spans (the one-day timeline), by local day;
- OXYTRACK_ROLLUP_RETENTION_DAYS: daily and hourly rollups (every range page), by local day;
- OXYTRACK_AUDIT_RETENTION_DAYS: audit entries;
- OXYTRACK_DEPARTED_AFTER_DAYS: an employee without activity for this long is
  deleted with all their data.

`do_purge_activity` (actions.py) deletes with the same cut-offs that
`purge_preview` counts, so the settings page tells what the next purge does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span
from oxytrack.audit.models import Entry
from oxytrack.org.models import Device, Employee

# A span lasts at most a day and its `day` is local (UTC-12 to UTC+14): a
# rollup row whose last span ends after a moment has a day at most two
# days before that moment's UTC date. Narrows the index range searched.
_DAY_SLACK = timedelta(days=2)


@dataclass(frozen=True)
class Retention:
    """The retention settings, in days."""

    span_days: int
    rollup_days: int
    audit_days: int
    departed_days: int


@dataclass(frozen=True)
class Cutoffs:
    """What a purge deletes: local days before `spans_before` and `rollups_before`,
    audit entries before `audit_before`, employees without activity since `departed_before`."""

    spans_before: date
    rollups_before: date
    audit_before: datetime
    departed_before: datetime


@dataclass(frozen=True)
class PurgeCounts:
    """Rows the next purge would delete, per kind.

    Departed employees go with all their data: `departed_devices` are their
    machines, `departed_spans` and `departed_days` (DailyTotal rows) those of
    their spans and days that the retention of all spans and rollups keeps,
    so that they add up with `spans` and `daily_totals`.
    """

    spans: int
    daily_usage: int
    daily_totals: int
    audit_entries: int
    departed_employees: int
    hourly_totals: int = 0
    departed_devices: int = 0
    departed_spans: int = 0
    departed_days: int = 0


def retention() -> Retention:
    """The retention settings in force."""
    return Retention(
        span_days=settings.OXYTRACK_SPAN_RETENTION_DAYS,
        rollup_days=settings.OXYTRACK_ROLLUP_RETENTION_DAYS,
        audit_days=settings.OXYTRACK_AUDIT_RETENTION_DAYS,
        departed_days=settings.OXYTRACK_DEPARTED_AFTER_DAYS,
    )


def retention_cutoffs(now: datetime | None = None, *, before: date | None = None) -> Cutoffs:
    """The cut-offs of the settings at `now`; `before` replaces those of spans and rollups.

    Spans and rollups go by whole local days (a day's rollup never outlives
    half of its spans): with 30 days, a span of 29 days ago stays, one of 31
    goes, and today's date minus 30 is the first day kept.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    kept = retention()
    cutoffs = Cutoffs(
        spans_before=today - timedelta(days=kept.span_days),
        rollups_before=today - timedelta(days=kept.rollup_days),
        audit_before=now - timedelta(days=kept.audit_days),
        departed_before=now - timedelta(days=kept.departed_days),
    )
    if before is not None:
        cutoffs = replace(cutoffs, spans_before=before, rollups_before=before)
    return cutoffs


def departed_employees(since: datetime) -> QuerySet[Employee]:
    """Employees without any activity since `since`.

    Activity is any contact of one of their agents (`Device.last_seen_at`,
    set by every upload and policy read), a device enrolled, or time in
    their rollups (`DailyTotal.last_end`; every span is in one). An employee
    that never had any, e.g. created by hand and never enrolled, counts from
    the creation of their record: they too are deleted once it is that old.
    """
    recent_device = Device.objects.filter(
        Q(last_seen_at__gte=since) | Q(enrolled_at__gte=since), employee=OuterRef("pk")
    )
    recent_day = DailyTotal.objects.filter(
        employee=OuterRef("pk"),
        day__gte=(since - _DAY_SLACK).date(),
        last_end__gte=since,
    )
    return Employee.objects.filter(created_at__lt=since).exclude(
        Exists(recent_device) | Exists(recent_day)
    )


def purge_preview(cutoffs: Cutoffs | None = None) -> PurgeCounts:
    """What `do_purge_activity(cutoffs)` would delete now: one COUNT per kind.

    Windows that no rollup uses any more are not counted: which ones depends
    on the rollups the purge deletes first.
    """
    cutoffs = cutoffs or retention_cutoffs()
    departed = departed_employees(cutoffs.departed_before)
    # DailyUsage and HourlyTotal have no index on `day` alone: "every employee" spelt
    # out lets their (employee, day, …) index serve a range per employee.
    everyone = Employee.objects.values("pk")
    return PurgeCounts(
        spans=Span.objects.filter(day__lt=cutoffs.spans_before).count(),
        daily_usage=DailyUsage.objects.filter(
            employee__in=everyone, day__lt=cutoffs.rollups_before
        ).count(),
        daily_totals=DailyTotal.objects.filter(day__lt=cutoffs.rollups_before).count(),
        audit_entries=Entry.objects.filter(at__lt=cutoffs.audit_before).count(),
        departed_employees=departed.count(),
        hourly_totals=HourlyTotal.objects.filter(
            employee__in=everyone, day__lt=cutoffs.rollups_before
        ).count(),
        # The purge deletes the older ones first, for everyone (do_purge_activity).
        departed_devices=Device.objects.filter(employee__in=departed).count(),
        departed_spans=Span.objects.filter(
            employee__in=departed, day__gte=cutoffs.spans_before
        ).count(),
        departed_days=DailyTotal.objects.filter(
            employee__in=departed, day__gte=cutoffs.rollups_before
        ).count(),
    )
