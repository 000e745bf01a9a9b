"""What the super-admin's pages read: the titles a rule being written would match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from oxytrack.activity.models import DailyUsage, Window
from oxytrack.categories.classify import Category, window_categories
from oxytrack.categories.patterns import MATCH_TIMEOUT_S, Pattern
from oxytrack.org.models import Employee

#: The preview looks at this many of the last days' most used windows.
TOP_WINDOWS = 200
PREVIEW_DAYS = 7
#: Seconds the preview reuses the top windows' sums (see _top_sums).
TOP_CACHE_S = 300


@dataclass(frozen=True)
class TopWindow:
    """One of the most used windows of the last days, all employees together."""

    app: str
    title: str
    active_ms: int
    current: Category  # where the saved rules put it today


@dataclass(frozen=True)
class Preview:
    matched: list[TopWindow]
    matched_ms: int
    looked_at: int  # how many top windows were tried
    total_ms: int
    timed_out: bool


def _top_sums(days: int, limit: int) -> list[tuple[int, str, str, int]]:
    """(window id, app, title, active ms) of the top windows, kept a few minutes.

    The preview asks on every pause in typing, and the sum runs over the
    whole organisation's last week: the figures may be minutes old, the
    rules (applied after) never are. Django's cache is the server's, shared by its
    processes.
    """
    since = timezone.localdate() - timedelta(days=days - 1)
    key = f"categories:top:{since.isoformat()}:{days}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    # "Every employee" spelt out: DailyUsage has no index on `day` alone (one more
    # index on the ingest's hottest table), but its (employee, day, window) one
    # serves a range per employee; without it the last week was a scan of every
    # row ever kept (44 s for a year of 1,700 employees on SQLite).
    sums = list(
        DailyUsage.objects.filter(employee__in=Employee.objects.values("pk"), day__gte=since)
        .values("window")
        .annotate(ms=Sum("active_ms"))
        .filter(ms__gt=0)
        .order_by("-ms", "window")[:limit]
    )
    windows = Window.objects.in_bulk([s["window"] for s in sums])
    rows = [
        (w.pk, w.app, w.title, s["ms"]) for s in sums if (w := windows.get(s["window"])) is not None
    ]
    cache.set(key, rows, TOP_CACHE_S)
    return rows


def top_windows(days: int = PREVIEW_DAYS, limit: int = TOP_WINDOWS) -> list[TopWindow]:
    """The `limit` windows with the most active time over the last `days` days.

    Summed over every employee: no person is named, only what the windows are.
    """
    sums = _top_sums(days, limit)
    categories = window_categories(pk for pk, *_rest in sums)
    return [TopWindow(app, title, ms, categories[pk]) for pk, app, title, ms in sums]


def preview(app: Pattern | None, title: Pattern | None, rows: list[TopWindow]) -> Preview:
    """Which of `rows` a rule with these patterns matches (None: any), in their order."""
    matched: list[TopWindow] = []
    timed_out = False
    for row in rows:
        try:
            if (app is None or app.search(row.app, timeout=MATCH_TIMEOUT_S)) and (
                title is None or title.search(row.title, timeout=MATCH_TIMEOUT_S)
            ):
                matched.append(row)
        except TimeoutError:
            timed_out = True
            break
    return Preview(
        matched=matched,
        matched_ms=sum(r.active_ms for r in matched),
        looked_at=len(rows),
        total_ms=sum(r.active_ms for r in rows),
        timed_out=timed_out,
    )
