"""Per-employee sums of DailyTotal over a range, with the past days cached across requests.

The team overview sums a whole scope over its range: a year of 1,700 employees is
some 440,000 DailyTotal rows, summed again on every sort or page change. Days older
than LIVE_DAYS rarely change (a late upload, a purge, an erasure): their sums per
employee are kept in Django's cache (files shared by the server's processes,
settings.CACHES), keyed by the range and by
`PastTotalsVersion.token`, which database triggers change in the same transaction as
any write to such a day, whatever writes it (ingest, purge, a migration, a test's
fixture) and in whichever gunicorn worker. A reader that sees the new rows sees the
new token, so an entry summed before is never read again. The recent days are summed
on every request (a few thousand rows at most).

Per employee, not per team: a transfer or a scope change regroups at the next
request, with nothing to invalidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from oxytrack.activity.models import DailyTotal, PastTotalsVersion
from oxytrack.org.models import Employee

#: Days up to this many days before today (UTC) are summed on every request. The
#: triggers fire for days up to 2 days before the database's today: one day of margin,
#: so a writer whose clock (or time zone) is a day ahead still changes the token.
LIVE_DAYS = 3
#: An entry leaves the cache after this long (the file cache also drops a third of
#: its entries, at random, past MAX_ENTRIES).
CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Sums:
    """One employee's DailyTotal sums over a range; `worked_days` have active time."""

    active_ms: int = 0
    idle_ms: int = 0
    worked_days: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.active_ms + other.active_ms,
            self.idle_ms + other.idle_ms,
            self.worked_days + other.worked_days,
        )


def _sums(start: date, end: date, employees: QuerySet[Employee] | None) -> dict[int, Sums]:
    """One GROUP BY employee over DailyTotal (no join: the employees' groups are
    applied in Python by the caller)."""
    rows = DailyTotal.objects.filter(day__range=(start, end))
    if employees is not None:
        rows = rows.filter(employee__in=employees)
    return {
        row["employee_id"]: Sums(int(row["active"]), int(row["idle"]), int(row["worked"]))
        for row in rows.values("employee_id")
        .annotate(
            active=Sum("active_ms"),
            idle=Sum("idle_ms"),
            worked=Count("pk", filter=Q(active_ms__gt=0)),
        )
        .order_by()
    }


def past_token() -> int | None:
    """The token that changes with every write to a past day's DailyTotal (None: none yet)."""
    return PastTotalsVersion.objects.filter(pk=1).values_list("token", flat=True).first()


def last_past_day() -> date:
    """The last day whose rollups only change along with the token (LIVE_DAYS ago)."""
    return timezone.now().astimezone(UTC).date() - timedelta(days=LIVE_DAYS)


def range_sums(start: date, end: date, employees: QuerySet[Employee]) -> dict[int, Sums]:
    """Per employee id, their DailyTotal sums from `start` to `end`: every one of
    `employees` with a row in the range, and maybe others (look yours up).

    The past part is summed for every employee once (shared by every user and
    scope), then read from the cache; the recent days for `employees` only.
    """
    last_past = last_past_day()
    result: dict[int, Sums] = {}
    if start <= last_past:
        past_end = min(end, last_past)
        key = f"oxytrack:past-totals:{start}:{past_end}:{past_token()}"
        past: dict[int, Sums] | None = cache.get(key)
        if past is None:
            past = _sums(start, past_end, None)
            cache.set(key, past, CACHE_SECONDS)
        result = dict(past)
    live_start = max(start, last_past + timedelta(days=1))
    if live_start <= end:
        for pk, sums in _sums(live_start, end, employees).items():
            result[pk] = result.get(pk, Sums()) + sums
    return result


# --- The triggers --------------------------------------------------------------------

_NAMES = ("insert", "update", "delete")


def _trigger_sql(db: BaseDatabaseWrapper) -> list[str]:
    vendor, q = db.vendor, db.ops.quote_name
    table, version = q(DailyTotal._meta.db_table), q(PastTotalsVersion._meta.db_table)
    if vendor == "sqlite":
        past = "date('now', '-1 day')"  # DateField is 'YYYY-MM-DD' text: compared as text
        bump = (
            f"INSERT INTO {version} (id, token) VALUES (1, random()) "  # noqa: S608 (our names)  # nosec B608  # our own table's quoted name; no input at all
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token;"
        )
        when = {
            "insert": f"WHEN NEW.day < {past}",
            "update": f"WHEN NEW.day < {past} OR OLD.day < {past}",
            "delete": "",  # rare (purge, erasure): any
        }
        return [
            f"CREATE TRIGGER IF NOT EXISTS oxytrack_past_totals_{name} AFTER {name.upper()} "
            f"ON {table} {when[name]} BEGIN {bump} END"
            for name in _NAMES
        ]
    if vendor == "postgresql":
        past = "CURRENT_DATE - 1"
        sql = [
            "CREATE OR REPLACE FUNCTION oxytrack_past_totals_bump() RETURNS trigger "  # noqa: S608  # nosec B608  # our own table's quoted name; no input at all
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {version} (id, token) VALUES (1, floor(random() * 9e18)::bigint) "
            "ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token; RETURN NULL; END $$"
        ]
        when = {
            "insert": f"FOR EACH ROW WHEN (NEW.day < {past})",
            "update": f"FOR EACH ROW WHEN (NEW.day < {past} OR OLD.day < {past})",
            "delete": "FOR EACH STATEMENT",  # rare (purge, erasure): any
        }
        for name in _NAMES:
            sql += [
                f"DROP TRIGGER IF EXISTS oxytrack_past_totals_{name} ON {table}",
                f"CREATE TRIGGER oxytrack_past_totals_{name} AFTER {name.upper()} ON {table} "
                f"{when[name]} EXECUTE FUNCTION oxytrack_past_totals_bump()",
            ]
        return sql
    raise NotImplementedError(vendor)


def install_triggers(using: str = "default", **kwargs: Any) -> None:
    """Create (again) the triggers that change the token: a post_migrate receiver."""
    from django.db import connections

    db = connections[using]
    tables = db.introspection.table_names()
    if DailyTotal._meta.db_table not in tables or PastTotalsVersion._meta.db_table not in tables:
        return  # migrating backwards, or a partial migrate
    with db.cursor() as cursor:
        for statement in _trigger_sql(db):
            cursor.execute(statement)
