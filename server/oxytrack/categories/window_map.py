"""Categories in SQL: sums of DailyUsage per category without reading every row into Python.

classify.py applies the rules at read time, window by window, in Python: right for
one employee's page, but a whole organisation over a year is millions of DailyUsage
rows, which took minutes to read just to be summed. Here each window's category is
also written down, in WindowCategory, with the Revision token of the rules applied
(WindowCategoryState), so a page can `GROUP BY` category in the database.

The map is brought up to date by whoever sums (`refresh`, on a cache miss of a
team page): all windows again when the rules changed (a few seconds for 100,000
windows, once per rule edit), else only the windows created since (those with a
larger id than the newest mapped one; for the rollup's readers, every window
without a map row). Rules edited after the fact therefore still re-categorise
history: the map follows the token. What the map still lacks when the sum runs (a
window an upload created meanwhile) is classified in Python, and so is everything
when the map cannot be brought up to date (the database busy with a long write):
slower, never wrong.

Every change to the map moves the time of the windows it changes in CategoryDay, the
per (employee, day, category) rollup (rollup.py), in the same transaction; a rule
edit moves only the windows whose category it changes. `sum_days_by_category` reads
that rollup.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Sum

from oxytrack.activity.models import DailyUsage, Window
from oxytrack.categories import rollup
from oxytrack.categories.classify import (
    UNCATEGORISED,
    Category,
    current_categories,
    current_rules,
    window_categories,
)
from oxytrack.categories.models import CategoryDay, Revision, WindowCategory, WindowCategoryState

log = logging.getLogger(__name__)

#: WindowCategory.category of "Non classé" (a NULL there means "not mapped").
UNCATEGORISED_ID = 0
#: Rows written per statement.
_BATCH = 2000


def _insert(rows: list[tuple[int, int]], *, skip_existing: bool) -> None:
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(WindowCategory._meta.db_table)} "  # noqa: S608 (our own names)  # nosec B608  # our models' table and column names, quoted; the values bound as %s
        f"({q('window_id')}, {q('category')}) VALUES (%s, %s)"
    )
    if skip_existing:
        sql += f" ON CONFLICT ({q('window_id')}) DO NOTHING"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(sql, rows[start : start + _BATCH])


def _classified(
    windows: Iterable[tuple[int, str, str]], match: Callable[[str, str], Category]
) -> list[tuple[int, int]]:
    return [(pk, match(app, title).id or UNCATEGORISED_ID) for pk, app, title in windows]


def _locked_state() -> WindowCategoryState:
    # select_for_update serialises refreshers on PostgreSQL; on SQLite the
    # IMMEDIATE transaction already holds the write lock.
    state, _created = WindowCategoryState.objects.select_for_update().get_or_create(pk=1)
    return state


def _rules_still(token: str) -> bool:
    # Read again, not through current_token(), which trusts its copy for a request.
    return Revision.objects.filter(pk=1, token=token).exists()


def _rebuild(token: str, match: Callable[[str, str], Category]) -> bool:
    rows = _classified(
        Window.objects.values_list("pk", "app", "title").iterator(chunk_size=5000), match
    )
    with transaction.atomic():
        state = _locked_state()
        if state.token == token:
            return True  # another process rebuilt it meanwhile
        if not _rules_still(token):
            return False  # the rules changed again while we classified
        rollup.lock_usage()
        if not state.token:
            # Never built (or reset by a migration): the rollup is built whole.
            WindowCategory.objects.all().delete()
            _insert(rows, skip_existing=False)
            rollup.rebuild()
            moved = len(rows)
        else:
            moved = _move(dict(rows))
        state.token = token
        state.save(update_fields=["token"])
    log.info("window categories rebuilt: %d windows, %d changed category", len(rows), moved)
    return True


def _move(categories: dict[int, int]) -> int:
    """Bring the map to `categories` (window id -> category), moving the rollup's time of
    the windows whose category changes only: a rule edit touches the history of the
    windows it re-categorises, not the whole of DailyUsage."""
    before = dict(WindowCategory.objects.values_list("window_id", "category"))
    changed = [pk for pk, category in categories.items() if before.get(pk) != category]
    # Out of the rollup under their old row: the windows changing category, and those
    # mapped but not classified here (purged since, with no DailyUsage row left; or
    # created after our read and mapped meanwhile: mapped again by the next refresh).
    out = [pk for pk in changed if pk in before] + [pk for pk in before if pk not in categories]
    rollup.move_windows(out, -1)
    for start in range(0, len(out), _BATCH):
        WindowCategory.objects.filter(pk__in=out[start : start + _BATCH]).delete()
    _insert([(pk, categories[pk]) for pk in changed], skip_existing=False)
    rollup.move_windows(changed, 1)
    if out:
        rollup.drop_empty_rows()
    return len(changed)


def _add_missing(token: str, match: Callable[[str, str], Category], *, every: bool) -> None:
    if every:
        # Every window without a map row, also one committed late with a smaller id than
        # the newest mapped (PostgreSQL hands ids out before commit): the rollup must
        # have its time. An anti-join over the windows (90 ms for 100,000 on SQLite).
        missing = Window.objects.exclude(
            Exists(WindowCategory.objects.filter(window=OuterRef("pk")))
        ).values_list("pk", "app", "title")
    else:
        # Those newer than the newest mapped one: two index probes when there are none
        # (callers classify in Python what the map still lacks).
        newest = WindowCategory.objects.aggregate(n=Max("window_id"))["n"] or 0
        missing = Window.objects.filter(pk__gt=newest).values_list("pk", "app", "title")
    rows = _classified(missing.iterator(chunk_size=5000), match)
    if not rows:
        return
    with transaction.atomic():
        if _locked_state().token != token:
            return  # rebuilt under other rules meanwhile: these rows would be wrong
        rollup.lock_usage()
        # Map writers queue on the state row: only a rebuild can have mapped them since.
        mapped = set(
            WindowCategory.objects.filter(pk__in=[pk for pk, _c in rows]).values_list(
                "pk", flat=True
            )
        )
        rows = [row for row in rows if row[0] not in mapped]
        _insert(rows, skip_existing=False)
        rollup.move_windows([pk for pk, _c in rows], 1)


def _refresh(*, every: bool) -> tuple[bool, bool]:
    """(the map reflects the rules in force, and it maps every window that exists (with
    `every`) or those up to the newest)."""
    token, match = current_rules()
    state = WindowCategoryState.objects.filter(pk=1).values_list("token", flat=True).first()
    try:
        if state != token and not _rebuild(token, match):
            return False, False
        _add_missing(token, match, every=every)
    except OperationalError as exc:  # SQLite busy past its timeout: try next time
        log.warning("window categories not refreshed: %s", exc)
        return state == token, False
    return True, True


def refresh() -> bool:
    """Bring WindowCategory (and CategoryDay with it) up to the rules in force. True when
    it reflects them (windows created since may still be missing), False when it could
    not (callers then classify in Python)."""
    return _refresh(every=False)[0]


@dataclass(frozen=True)
class CategorySum:
    """Active time of one group (the values of the requested fields) in one category."""

    group: tuple[Any, ...]
    category: Category
    active_ms: int
    idle_ms: int = 0  # summed only when asked (sum_by_category's `idle`)


def _aliases(group: dict[str, Any]) -> dict[str, Any]:
    # values() refuses an alias equal to a field name ("day"): number them.
    return {f"g{i}": F(v) if isinstance(v, str) else v for i, v in enumerate(group.values())}


def _summed(qs: QuerySet[DailyUsage, Any], idle: bool) -> QuerySet[DailyUsage, dict[str, Any]]:
    if idle:
        return qs.annotate(active=Sum("active_ms"), idle=Sum("idle_ms")).filter(
            Q(active__gt=0) | Q(idle__gt=0)
        )
    return qs.annotate(active=Sum("active_ms")).filter(active__gt=0)


def _in_python(
    usage: QuerySet[DailyUsage], group: dict[str, Any], idle: bool
) -> dict[tuple[tuple[Any, ...], Category], list[int]]:
    aliases = _aliases(group)
    rows = list(_summed(usage.values(**aliases, w=F("window")), idle).order_by())
    categories = window_categories({r["w"] for r in rows})
    sums: dict[tuple[tuple[Any, ...], Category], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        key = tuple(row[a] for a in aliases)
        pair = sums[(key, categories.get(row["w"], UNCATEGORISED))]
        pair[0] += int(row["active"])
        pair[1] += int(row["idle"]) if idle else 0
    return sums


def _listed(sums: dict[tuple[tuple[Any, ...], Category], list[int]]) -> list[CategorySum]:
    return [CategorySum(key, category, a, i) for (key, category), (a, i) in sums.items()]


def sum_by_category(
    usage: QuerySet[DailyUsage], group: dict[str, Any], *, idle: bool = False
) -> list[CategorySum]:
    """Active milliseconds of `usage` summed per group and category (groups with time only).

    `group` names what to group by, each a DailyUsage field path ("day",
    "employee__agency") or an expression (MondayOf("day")); `CategorySum.group`
    holds their values in that order. Categories are the rules in force. With
    `idle`, idle time is summed too, and groups with idle time only are kept.
    """
    if not refresh():
        return _listed(_in_python(usage, group, idle))
    by_id = {c.id or UNCATEGORISED_ID: c for c in current_categories()}
    aliases = _aliases(group)
    sums: dict[tuple[tuple[Any, ...], Category], list[int]] = defaultdict(lambda: [0, 0])
    unmapped = False
    for row in _summed(
        usage.values(**aliases, c=F("window__category_map__category")), idle
    ).order_by():
        if row["c"] is None:
            unmapped = True
            continue
        pair = sums[(tuple(row[a] for a in aliases), by_id.get(row["c"], UNCATEGORISED))]
        pair[0] += int(row["active"])
        pair[1] += int(row["idle"]) if idle else 0
    if unmapped:  # windows created since the refresh
        extra = _in_python(usage.filter(window__category_map__isnull=True), group, idle)
        for key, (active, idle_ms) in extra.items():
            sums[key][0] += active
            sums[key][1] += idle_ms
    return _listed(sums)


def sum_days_by_category(
    employees: QuerySet[Any], start: date, end: date, group: dict[str, Any], *, idle: bool = False
) -> list[CategorySum]:
    """What `sum_by_category` gives for the DailyUsage of `employees` (a queryset of
    Employee or of their ids) from `start` to `end`, read from the CategoryDay rollup.

    `group` names CategoryDay fields or expressions ("day", "employee__agency",
    MondayOf("day")), as DailyUsage's. A few rows per employee and day instead of one
    per window. When the map cannot be trusted whole (rules changed and the rebuild
    failed, or a window could not be mapped), sums DailyUsage instead: slower, never
    wrong.
    """
    current, complete = _refresh(every=True)
    usage = DailyUsage.objects.filter(employee__in=employees, day__range=(start, end))
    if not (current and complete):
        return sum_by_category(usage, group, idle=idle)
    by_id = {c.id or UNCATEGORISED_ID: c for c in current_categories()}
    aliases = _aliases(group)
    rows = CategoryDay.objects.filter(employee__in=employees, day__range=(start, end))
    summed: QuerySet[CategoryDay, Any] = rows.values(**aliases, c=F("category"))
    if idle:
        summed = summed.annotate(active=Sum("active_ms"), idle=Sum("idle_ms")).filter(
            Q(active__gt=0) | Q(idle__gt=0)
        )
    else:
        summed = summed.annotate(active=Sum("active_ms")).filter(active__gt=0)
    sums: dict[tuple[tuple[Any, ...], Category], list[int]] = defaultdict(lambda: [0, 0])
    for row in summed.order_by():
        pair = sums[(tuple(row[a] for a in aliases), by_id.get(row["c"], UNCATEGORISED))]
        pair[0] += int(row["active"])
        pair[1] += int(row["idle"]) if idle else 0
    return _listed(sums)
