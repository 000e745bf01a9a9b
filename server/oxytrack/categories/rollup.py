"""CategoryDay, the per (employee, day, category) rollup of DailyUsage through the window map.

The rollup always equals `DailyUsage JOIN WindowCategory` grouped by (employee, day,
category), in every transaction:

- a write to DailyUsage (ingest, a late batch, the purge, an erasure, an employee's
  deletion, `rebuild_rollups`, a restore's fixture) moves the rollup in the writer's
  own transaction, by triggers: whatever writes, nothing to call. A window the map
  lacks adds nothing (it is in neither side of the join);
- a change to WindowCategory (window_map.py, the only writer) moves the time of the
  windows it changes, set-based, in its own transaction (`move_windows`).

DailyUsage rows never change their employee, day or window (the ingest adds to their
sums), so an update only adds its difference.

The triggers' life (they sit on activity's table and read categories' tables):
migration 0004 creates them and its reverse drops them before the tables they read
go; `migrate` drops them first whenever it is about to run a migration of either app
(SQLite checks every trigger when a migration renames a rebuilt table, and drops a
table's triggers with it), then creates them again and rebuilds the rollup whole,
which also takes in whatever was written meanwhile; after a `flush` (every
TransactionTestCase) they are created again if missing. A delete never adds a row,
so a flush that empties the rollup before DailyUsage leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from oxytrack.activity.models import DailyUsage
from oxytrack.categories.models import CategoryDay, WindowCategory

#: Window ids per statement when moving windows (SQLite's default limit is 999 variables).
_CHUNK = 900


def _names(db: BaseDatabaseWrapper) -> tuple[str, str, str]:
    q = db.ops.quote_name
    return (
        q(CategoryDay._meta.db_table),
        q(DailyUsage._meta.db_table),
        q(WindowCategory._meta.db_table),
    )


def _add_sql(db: BaseDatabaseWrapper, values: str, source: str) -> str:
    """An upsert adding `values` (employee, day, category, active, idle) selected from
    `source` (a FROM ... WHERE ... clause) to the rollup."""
    rollup = _names(db)[0]
    return (
        f"INSERT INTO {rollup} (employee_id, day, category, active_ms, idle_ms) "  # nosec B608  # our models' quoted names; no input
        f"SELECT {values} {source} "
        "ON CONFLICT (employee_id, day, category) DO UPDATE SET "
        f"active_ms = {rollup}.active_ms + excluded.active_ms, "
        f"idle_ms = {rollup}.idle_ms + excluded.idle_ms"
    )


def _trigger_sql(db: BaseDatabaseWrapper) -> list[str]:
    rollup, usage, windows = _names(db)
    # WHERE present: SQLite would otherwise read ON CONFLICT as a join's ON.
    mapped = f"FROM {windows} m WHERE m.window_id = {{row}}.window_id"

    def add(row: str, active: str, idle: str) -> str:
        return _add_sql(
            db,
            f"{row}.employee_id, {row}.day, m.category, {active}, {idle}",
            mapped.format(row=row),
        )

    # A delete takes its time out of the row that holds it, and drops the row once
    # empty. An UPDATE, not an upsert: a mapped DailyUsage row's time is always in its
    # rollup row, and where there is none (a flush that emptied the rollup first, in
    # whatever order it takes the tables) there is nothing to take out.
    key = (
        "employee_id = OLD.employee_id AND day = OLD.day AND category = "  # noqa: S608  # nosec B608  # our model's quoted name
        f"(SELECT m.category FROM {windows} m WHERE m.window_id = OLD.window_id)"
    )
    take_out = (
        f"UPDATE {rollup} SET active_ms = active_ms - OLD.active_ms, "  # noqa: S608  # nosec B608  # our models' quoted names; no input
        f"idle_ms = idle_ms - OLD.idle_ms WHERE {key}; "
        f"DELETE FROM {rollup} WHERE {key} AND active_ms = 0 AND idle_ms = 0"
    )
    changed = "NEW.active_ms <> OLD.active_ms OR NEW.idle_ms <> OLD.idle_ms"
    if db.vendor == "sqlite":
        bodies = {
            "insert": ("", add("NEW", "NEW.active_ms", "NEW.idle_ms")),
            "update": (
                f"OF active_ms, idle_ms ON {usage} WHEN {changed}",
                add("NEW", "NEW.active_ms - OLD.active_ms", "NEW.idle_ms - OLD.idle_ms"),
            ),
            "delete": ("", take_out),
        }
        return [
            f"CREATE TRIGGER IF NOT EXISTS oxytrack_category_day_{name} AFTER {name.upper()} "
            f"{head or f'ON {usage}'} BEGIN {body}; END"
            for name, (head, body) in bodies.items()
        ]
    if db.vendor == "postgresql":
        function = (
            "CREATE OR REPLACE FUNCTION oxytrack_category_day() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {add('NEW', 'NEW.active_ms', 'NEW.idle_ms')}; "
            "ELSIF TG_OP = 'UPDATE' THEN "
            f"{add('NEW', 'NEW.active_ms - OLD.active_ms', 'NEW.idle_ms - OLD.idle_ms')}; "
            f"ELSE {take_out}; "
            "END IF; RETURN NULL; END $$"
        )
        sql = [function]
        heads = {
            "insert": f"AFTER INSERT ON {usage} FOR EACH ROW",
            "update": f"AFTER UPDATE OF active_ms, idle_ms ON {usage} FOR EACH ROW "
            f"WHEN ({changed})",
            "delete": f"AFTER DELETE ON {usage} FOR EACH ROW",
        }
        for name, head in heads.items():
            sql += [
                f"DROP TRIGGER IF EXISTS oxytrack_category_day_{name} ON {usage}",
                f"CREATE TRIGGER oxytrack_category_day_{name} {head} "
                "EXECUTE FUNCTION oxytrack_category_day()",
            ]
        return sql
    raise NotImplementedError(db.vendor)


_TRIGGERS = ("insert", "update", "delete")
#: The apps whose migrations may drop, rebuild or rename the tables the triggers use.
_APPS = ("activity", "categories")


def _tables_exist(db: BaseDatabaseWrapper) -> bool:
    tables = db.introspection.table_names()
    return all(m._meta.db_table in tables for m in (CategoryDay, DailyUsage, WindowCategory))


def install_triggers(db: BaseDatabaseWrapper) -> None:
    """Create the triggers that keep CategoryDay true (those missing: idempotent)."""
    if not _tables_exist(db):
        return  # migrating backwards, or a partial migrate
    with db.cursor() as cursor:
        for statement in _trigger_sql(db):
            cursor.execute(statement)


def drop_triggers(db: BaseDatabaseWrapper) -> None:
    """Drop the triggers (before the tables they read go, or are rebuilt)."""
    if DailyUsage._meta.db_table not in db.introspection.table_names():
        return  # and with it its triggers
    on = f" ON {_names(db)[1]}" if db.vendor == "postgresql" else ""
    with db.cursor() as cursor:
        for name in _TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS oxytrack_category_day_{name}{on}")
        if db.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS oxytrack_category_day()")


def _touches_tables(plan: Sequence[tuple[Any, bool]] | None) -> bool:
    return any(migration.app_label in _APPS for migration, _backwards in plan or ())


def before_migrate(
    using: str, plan: Sequence[tuple[Any, bool]] | None = None, **kwargs: Any
) -> None:
    """pre_migrate: drop the triggers when a migration of activity or categories will run."""
    if _touches_tables(plan):
        drop_triggers(connections[using])


def after_migrate(
    using: str, plan: Sequence[tuple[Any, bool]] | None = None, **kwargs: Any
) -> None:
    """post_migrate (after `migrate`, and after `flush`, without a plan): create the
    triggers again; after migrations of activity or categories, also rebuild the rollup,
    which takes in whatever DailyUsage received while the triggers were away."""
    db = connections[using]
    install_triggers(db)
    if _touches_tables(plan) and _tables_exist(db):
        with transaction.atomic(using=using):
            lock_usage(db)
            rebuild(db)


def lock_usage(db: BaseDatabaseWrapper = connection) -> None:
    """Hold DailyUsage's writers off until the end of the transaction (PostgreSQL).

    A writer's trigger reads the map as of its own statement: one that wrote a window's
    row while the map of that window changed would add it under the old category, or
    not at all. SHARE waits for the writers in flight and holds the next ones (they
    queue, then retry past their lock timeout); SQLite's IMMEDIATE transaction already
    holds every writer off.
    """
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_names(db)[1]} IN SHARE MODE")


def move_windows(window_ids: Sequence[int], sign: int) -> None:
    """Add (`sign` 1) or take out (-1) the DailyUsage time of these windows, under their
    current map rows, to or from the rollup. Call with lock_usage() held, and take out
    before changing a window's map row, add back after."""
    _rollup, usage, windows = _names(connection)
    factor = "" if sign > 0 else "-"
    with connection.cursor() as cursor:
        for start in range(0, len(window_ids), _CHUNK):
            chunk = list(window_ids[start : start + _CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                _add_sql(
                    connection,
                    f"u.employee_id, u.day, m.category, {factor}SUM(u.active_ms), "
                    f"{factor}SUM(u.idle_ms)",
                    f"FROM {usage} u JOIN {windows} m ON m.window_id = u.window_id "
                    f"WHERE u.window_id IN ({marks}) GROUP BY u.employee_id, u.day, m.category",
                ),
                chunk,
            )


def drop_empty_rows() -> None:
    """Delete the rollup rows that moving windows out left at zero."""
    rollup = _names(connection)[0]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rollup} WHERE active_ms = 0 AND idle_ms = 0")  # noqa: S608  # nosec B608  # our model's quoted name


def rebuild(db: BaseDatabaseWrapper = connection) -> None:
    """The whole rollup again from DailyUsage and the map (lock_usage() held)."""
    rollup, usage, windows = _names(db)
    with db.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rollup}")  # noqa: S608  # nosec B608  # our model's quoted name
        cursor.execute(
            f"INSERT INTO {rollup} (employee_id, day, category, active_ms, idle_ms) "  # noqa: S608  # nosec B608  # our models' quoted names; no input
            "SELECT u.employee_id, u.day, m.category, SUM(u.active_ms), SUM(u.idle_ms) "
            f"FROM {usage} u JOIN {windows} m ON m.window_id = u.window_id "
            "GROUP BY u.employee_id, u.day, m.category"
        )
