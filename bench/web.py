"""Server time of the managers' pages on a generated organisation of 1,700 employees
x 365 days, on SQLite (the embedded default) and on PostgreSQL, each beside a direct
SQL `GROUP BY` over the same rollups computing the same figures.

Run alone with `.venv/bin/python bench/web.py` (both databases), or
`--database sqlite|postgres` for one. The base is built here, not by the demo
seeder (about 20 minutes at this size): the organisation comes from the demo's
planner (names, agencies, services, devices), then the rollups are written
directly (Window, DailyUsage, DailyTotal, and HourlyTotal when the schema has
it): about 20 distinct windows per employee and working day out of a shared
pool of about 100,000 windows, weekends mostly empty, a few days off. No spans
are written, so the day timeline is empty; every range page reads rollups only.
The SQLite base is kept under var/bench-web/ for the next runs (built again when
a migration changes); PostgreSQL runs on a throwaway cluster
(scripts/with-postgres.sh), so it is built on every run.

Requests go through Django's test client in this process, so the times are the
server's (routing, access checks, queries, audit entry, templates), without the
network or the browser. Each page is requested once (reported as "first": the cost
of a cold cache), then --requests times, each followed by its reference (for the
pages whose reference takes seconds, three of them are): one or a few plain SQL
statements over the same rollups giving the page's figures (its totals, and the
rows of the table page shown), with no access check, audit, ORM or template. The
ratio page / reference (p50) says what the application adds over the database's own
work, and holds better than the raw times on a loaded machine. Target: p95 <= 100 ms
for every page.

Adding a page is one line in `pages()`; pages whose URL is not in this tree
(features still to come) are listed as skipped.

Ends with one line:

    RESULT web sqlite_worst_p95_ms=N postgres_worst_p95_ms=N (target 100) [name_db_p95_ms=N ...]

Options: --employees N (default 1700), --days N (default 365), --requests N
(default 20), --database sqlite|postgres|both (default both).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-31T15:00:00+02:00"  # fixed: every run measures the same data
SEED = 2026
WINDOW_POOL = 100_000
WINDOWS_PER_DAY = (15, 25)  # distinct windows of one employee on a working day
TAIL_PER_EMPLOYEE = 600  # the employee's share of the pool (cases, web pages, files)
TARGET_MS = 100.0
BUILD_VERSION = 4  # raise when build() changes: the kept SQLite base is built again


def _schema_digest() -> str:
    """A digest of every migration: a base built under other ones is built again."""
    digest = hashlib.sha256(f"build {BUILD_VERSION}".encode())
    for path in sorted((REPO / "server" / "oxytrack").glob("*/migrations/*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- Building the base ----------------------------------------------------------------------


def _pool_windows(rng: random.Random) -> list[tuple[str, str]]:
    """The shared pool's long tail: case files, letters, sheets, PDFs and web pages."""
    from oxytrack.demo import data

    families: list[Callable[[int], tuple[str, str]]] = [
        lambda n: (
            data.CHROME,
            f"Dossier patient {n:06d} \N{EN DASH} {rng.choice(data.LAST_NAMES)} "
            "\N{EN DASH} Intranet OxyTrack - Google Chrome",
        ),
        lambda n: (data.WORD, f"Courrier {rng.choice(data.LAST_NAMES)} n°{n}.docx - Word"),
        lambda n: (data.EXCEL, f"Tournée {n} {rng.choice(data.LAST_NAMES)}.xlsx - Excel"),
        lambda n: (data.ACROBAT, f"Ordonnance {n:06d}.pdf - Adobe Acrobat"),
        lambda n: (data.OUTLOOK, f"RE: Dossier {n:06d} - Message (HTML)"),
        lambda n: (data.CHROME, f"{rng.choice(data.NEWS_TITLES)} ({n})"),
        lambda n: (data.EXPLORER, f"\\\\srv-fichiers\\dossiers\\{n:06d}"),
    ]
    return [families[n % len(families)](n) for n in range(WINDOW_POOL)]


class _Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        from django.db import connection

        self.connection = connection
        q = connection.ops.quote_name
        self.postgres = connection.vendor == "postgresql"
        cols = ", ".join(q(c) for c in columns)
        self.copy_sql = f"COPY {q(table)} ({cols}) FROM STDIN"
        self.insert_sql = (
            f"INSERT INTO {q(table)} ({cols}) VALUES ({', '.join(['?'] * len(columns))})"  # noqa: S608  # nosec B608  # quoted names; the values bound as ?
        )
        self.rows: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with self.connection.cursor() as wrapper:
            raw = wrapper.cursor
            if self.postgres:
                with raw.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                raw.executemany(self.insert_sql, self.rows)
        self.rows = []


def build(employees: int, days: int) -> None:
    """Write the organisation and a year of rollups into the (migrated, empty) database."""
    from django.db import connection, transaction

    from oxytrack.accounts.models import Role, Scope, User
    from oxytrack.activity import models as activity_models
    from oxytrack.activity.models import DailyTotal, DailyUsage, Window, window_digest
    from oxytrack.demo import simulator
    from oxytrack.org.models import Agency, Device, Employee, Service

    began = time.perf_counter()
    end = date.fromisoformat(NOW[:10])
    first = end - timedelta(days=days - 1)
    now = datetime.fromisoformat(NOW)
    org = simulator.plan_organisation(SEED, employees, first, end)
    rng = random.Random(f"bench-web:{SEED}")
    postgres = connection.vendor == "postgresql"
    ops = connection.ops

    def moment(value: datetime) -> Any:
        return value if postgres else ops.adapt_datetimefield_value(value)

    def day_value(value: date) -> Any:
        return value if postgres else ops.adapt_datefield_value(value)

    if not postgres:
        with connection.cursor() as cursor:
            # The whole build is one transaction: held in memory, written once.
            cursor.execute("PRAGMA cache_size = -3000000")
    with transaction.atomic():
        if postgres:
            # Foreign keys are checked by triggers: off while loading rows we made consistent.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        agencies = {
            a.name: a
            for a in Agency.objects.bulk_create(
                [Agency(name=a.name, time_zone=a.time_zone) for a in org.agencies]
            )
        }
        services = {
            s.name: s
            for s in Service.objects.bulk_create([Service(name=name) for name in org.services])
        }
        people = Employee.objects.bulk_create(
            [
                Employee(
                    public_id=p.public_id,
                    username=p.username,
                    domain=simulator.DOMAIN,
                    display_name=p.display_name,
                    agency=agencies[p.agency.name],
                    service=services[p.service],
                )
                for p in org.employees
            ],
            batch_size=500,
        )
        Device.objects.bulk_create(
            [
                Device(
                    public_id=plan.public_id,
                    employee=employee,
                    hostname=plan.hostname,
                    os=plan.os,
                    agent_version=plan.agent_version,
                    time_zone=plan.time_zone,
                    last_ip=plan.last_ip,
                    local_ips=plan.local_ips,
                    last_seen_at=now - timedelta(minutes=rng.randint(1, 600)),
                )
                for person, employee in zip(org.employees, people, strict=True)
                for plan in person.devices[:1]
            ],
            batch_size=500,
        )
        User.objects.create_user("bench.super@oxytrack.demo", None, role=Role.SUPERADMIN)
        admin = User.objects.create_user("bench.admin@oxytrack.demo", None, role=Role.ADMIN)
        # About 100 employees in the admin's scopes, made of whole (agency, service) pairs.
        pairs: dict[tuple[str, str], int] = {}
        for p in org.employees:
            pairs[(p.agency.name, p.service)] = pairs.get((p.agency.name, p.service), 0) + 1
        total = 0
        for (agency, service), count in sorted(pairs.items(), key=lambda kv: -kv[1]):
            if total >= 100:
                break
            if total + count <= 110:
                Scope.objects.create(user=admin, agency=agencies[agency], service=services[service])
                total += count

        # Windows: each person's usual ones (inbox, main sheets) and the shared tail.
        window_ids: dict[tuple[str, str], int] = {}
        window_writer = _Writer(Window._meta.db_table, ["id", "app", "title", "digest"])

        def intern(pair: tuple[str, str]) -> int:
            found = window_ids.get(pair)
            if found is None:
                found = window_ids[pair] = len(window_ids) + 1
                window_writer.add((found, pair[0], pair[1], window_digest(*pair)))
            return found

        habits: list[tuple[list[int], list[float]]] = []
        for person in org.employees:
            pairs_, weights = simulator.employee_windows(person, rng)
            habits.append(([intern(p) for p in pairs_], weights))
        pool = [intern(p) for p in _pool_windows(rng)]
        window_writer.flush()
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [Window._meta.db_table, len(window_ids)],
                )

        # The index on DailyUsage.window is filled in random order: built after the rows.
        usage_table = DailyUsage._meta.db_table
        with connection.cursor() as cursor:
            window_indexes = [
                name
                for name, info in connection.introspection.get_constraints(
                    cursor, usage_table
                ).items()
                if info["index"] and not info["unique"] and info["columns"] == ["window_id"]
            ]
            for name in window_indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        hourly_model = getattr(activity_models, "HourlyTotal", None)
        usage = _Writer(
            DailyUsage._meta.db_table,
            [
                "employee_id",
                "day",
                "window_id",
                "active_ms",
                "idle_ms",
                "keys",
                "clicks",
                "first_start",
                "last_end",
            ],
        )
        totals = _Writer(
            DailyTotal._meta.db_table,
            [
                "employee_id",
                "day",
                "active_ms",
                "idle_ms",
                "keys",
                "clicks",
                "first_start",
                "last_end",
                "untracked_ms",
            ],
        )
        hourly = None
        hourly_extra: list[Any] = []
        if hourly_model is not None:
            known = ["employee_id", "day", "hour", "active_ms", "idle_ms"]
            others = [
                f
                for f in hourly_model._meta.concrete_fields
                if f.column not in known and not f.primary_key
            ]
            hourly_extra = [f.get_default() for f in others]
            hourly = _Writer(hourly_model._meta.db_table, known + [f.column for f in others])

        # Times in 5-minute steps from 08:00 local (0..120: until 18:00), adapted once
        # per time zone: stamps[zone][day_index * STEPS + step].
        calendar = [first + timedelta(days=n) for n in range(days)]
        day_values = [day_value(d) for d in calendar]
        steps = 121
        stamps: dict[str, list[Any]] = {}
        for zone in {p.devices[0].time_zone for p in org.employees}:
            stamps[zone] = [
                moment(
                    datetime(d.year, d.month, d.day, 8, tzinfo=ZoneInfo(zone)).astimezone(UTC)
                    + timedelta(minutes=5 * step)
                )
                for d in calendar
                for step in range(steps)
            ]
        weekday = np.array([d.weekday() for d in calendar])
        hours = np.arange(8, 18)
        hour_cum = np.cumsum(np.where(hours == 12, 0.4, 1.0))
        hour_cum /= hour_cum[-1]
        gen = np.random.default_rng(SEED)
        rows = 0
        for person, employee, (usual, usual_weights) in zip(
            org.employees, people, habits, strict=True
        ):
            zone_stamps = stamps[person.devices[0].time_zone]
            # The windows this person can meet: their usual ones (heavy) and a share of the
            # pool (a long tail); each day draws distinct ones by weight (Gumbel top-k).
            tail = gen.choice(len(pool), TAIL_PER_EMPLOYEE, replace=False)
            windows = np.concatenate([np.array(usual), np.array(pool)[tail]])
            weights = np.concatenate(
                [
                    np.array(usual_weights) / sum(usual_weights) * 0.6,
                    0.4 / (np.arange(TAIL_PER_EMPLOYEE) + 1) ** 0.8 / 50,
                ]
            )
            weekend = weekday >= 5
            worked = np.where(
                weekend,
                gen.random(days) < 0.03,
                (gen.random(days) >= 0.08)
                & (weekday != (person.day_off if person.day_off is not None else -1)),
            )
            day_index = np.flatnonzero(worked)
            n_days = len(day_index)
            if not n_days:
                continue
            counts = np.where(
                weekend[day_index],
                gen.integers(2, 6, n_days),
                gen.integers(WINDOWS_PER_DAY[0], WINDOWS_PER_DAY[1] + 1, n_days),
            )
            width = int(counts.max())
            keys = np.log(weights) + gen.gumbel(size=(n_days, len(windows)))
            picked = np.argpartition(-keys, width - 1, axis=1)[:, :width]
            slot = np.arange(width) < counts[:, None]  # (day, slot) in use
            day_active = (
                np.where(
                    weekend[day_index],
                    gen.uniform(0.3, 2, n_days),
                    np.maximum(1.0, gen.normal(6.5, 1.0, n_days)),
                )
                * 3_600_000
            )
            day_active = day_active.astype(np.int64)
            day_idle = (day_active * gen.uniform(0.08, 0.3, n_days)).astype(np.int64)
            # Exact integer shares: differences of the rounded cumulative sums.
            shares = gen.exponential(1.0, (n_days, width)) * slot
            cum = np.cumsum(shares, axis=1) / shares.sum(axis=1, keepdims=True)

            def split(total: Any, cum: Any = cum) -> Any:
                edges = np.floor(cum * total[:, None]).astype(np.int64)
                return np.diff(edges, axis=1, prepend=0)

            active, idle = split(day_active), split(day_idle)
            opened = gen.integers(0, 108, (n_days, width))
            closed = np.minimum(
                120, opened + 1 + (active + idle) // 300_000 + gen.integers(0, 12, (n_days, width))
            )
            first_step = np.where(slot, opened, 999).min(axis=1)
            last_step = np.where(slot, closed, -1).max(axis=1)
            base = day_index * steps
            employee_id = employee.pk
            act, idl, win = active.tolist(), idle.tolist(), windows[picked].tolist()
            op, cl = (opened + base[:, None]).tolist(), (closed + base[:, None]).tolist()
            for d, (index, count) in enumerate(
                zip(day_index.tolist(), counts.tolist(), strict=True)
            ):
                value = day_values[index]
                for k in range(count):
                    usage.add(
                        (
                            employee_id,
                            value,
                            win[d][k],
                            act[d][k],
                            idl[d][k],
                            act[d][k] // 2_000,
                            act[d][k] // 9_000,
                            zone_stamps[op[d][k]],
                            zone_stamps[cl[d][k]],
                        )
                    )
                rows += count
            keys_sum = (active // 2_000 * slot).sum(axis=1).tolist()
            clicks_sum = (active // 9_000 * slot).sum(axis=1).tolist()
            firsts = (first_step + base).tolist()
            lasts = (last_step + base).tolist()
            for d, index in enumerate(day_index.tolist()):
                totals.add(
                    (
                        employee_id,
                        day_values[index],
                        int(day_active[d]),
                        int(day_idle[d]),
                        keys_sum[d],
                        clicks_sum[d],
                        zone_stamps[firsts[d]],
                        zone_stamps[lasts[d]],
                        0,
                    )
                )
            if hourly is not None:
                # 08:00-18:00 local, less at lunch; the hours add up to the day exactly.
                h_act = np.diff(
                    np.floor(hour_cum * day_active[:, None]).astype(np.int64), axis=1, prepend=0
                ).tolist()
                h_idl = np.diff(
                    np.floor(hour_cum * day_idle[:, None]).astype(np.int64), axis=1, prepend=0
                ).tolist()
                for d, index in enumerate(day_index.tolist()):
                    value = day_values[index]
                    for h in range(len(hours)):
                        hourly.add(
                            (employee_id, value, 8 + h, h_act[d][h], h_idl[d][h], *hourly_extra)
                        )
        usage.flush()
        totals.flush()
        if hourly is not None:
            hourly.flush()
        with connection.cursor() as cursor:
            q = connection.ops.quote_name
            for name in window_indexes:
                cursor.execute(f"CREATE INDEX {q(name)} ON {q(usage_table)} ({q('window_id')})")
    built = time.perf_counter()
    print(
        f"built {employees} employees x {days} days: {len(window_ids):,} windows, "
        f"{rows:,} DailyUsage rows{', HourlyTotal' if hourly is not None else ''} "
        f"in {built - began:.0f} s",
        flush=True,
    )
    try:
        from oxytrack.categories.window_map import refresh
    except ImportError:  # a tree from before the window map
        pass
    else:
        # As a running server has them (its readers keep them up to date): the window
        # map, and the per (employee, day, category) rollup when the tree has one.
        refresh()
        print(f"window map (and its rollup) built in {time.perf_counter() - built:.0f} s")
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def prepare(database: str, employees: int, days: int) -> None:
    """Set Django up on the bench base, building it if needed (SQLite: kept in var/)."""
    var_dir = REPO / "var" / "bench-web"
    os.environ["OXYTRACK_VAR_DIR"] = str(var_dir)
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("SECRET_KEY", None)
    elif not os.environ.get("DATABASE_URL"):
        raise SystemExit("--database postgres runs under scripts/with-postgres.sh")
    # The test settings serve static files from the packages: no collectstatic needed.
    os.environ["DJANGO_SETTINGS_MODULE"] = "oxytrack.settings_test"
    marker = var_dir / f"built-{employees}x{days}-{_schema_digest()}"
    fresh = database == "postgres" or not marker.exists()
    if database == "sqlite" and fresh:
        var_dir.mkdir(parents=True, exist_ok=True)
        for old in [
            *var_dir.glob("oxytrack.sqlite3*"),
            *var_dir.glob("seeded-*"),
            *var_dir.glob("built-*"),
        ]:
            old.unlink()
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        build(employees, days)
        if database == "sqlite":
            marker.touch()


# --- Pages and their references --------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page to time: who asks, its URL, and the SQL giving the same figures."""

    name: str
    client: str  # "admin" (about 100 employees) or "super" (everyone)
    url: str | None  # None: not in this tree
    params: dict[str, str]
    reference: Callable[[], Any]
    method: str = "get"
    # How many times the reference runs: 0, after every request; pages whose reference
    # takes seconds run it this many times, spread over their --requests samples (each
    # page is still measured --requests times: three samples made a p95 of the slowest).
    references: int = 0


def _sql(statements: Sequence[tuple[str, Sequence[Any]]]) -> Callable[[], Any]:
    """A reference: run each statement and fetch all its rows."""
    from django.db import connection

    def run() -> Any:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, list(params))
                cursor.fetchall()

    return run


def pages(days: int) -> list[Page]:
    """Every page measured, one line each (with its reference SQL)."""
    from django.urls import NoReverseMatch, reverse

    from oxytrack.accounts.models import Scope, User
    from oxytrack.activity import models as activity_models
    from oxytrack.activity.models import DailyTotal, DailyUsage, Window
    from oxytrack.org.models import Employee

    t_total, t_usage, t_window = (
        DailyTotal._meta.db_table,
        DailyUsage._meta.db_table,
        Window._meta.db_table,
    )
    t_employee = Employee._meta.db_table
    hourly = getattr(activity_models, "HourlyTotal", None)
    t_hourly = hourly._meta.db_table if hourly is not None else t_total
    admin = User.objects.get(email="bench.admin@oxytrack.demo")
    employee = Employee.objects.visible_to(admin).order_by("pk").first()
    assert employee is not None
    end = date.fromisoformat(NOW[:10])
    start = end - timedelta(days=days - 1)
    span = {"start": start.isoformat(), "end": end.isoformat()}
    pairs = list(Scope.objects.filter(user=admin).values_list("agency_id", "service_id"))
    in_scope = " OR ".join(
        f"(e.agency_id = {int(a)} AND e.service_id = {int(s)})" for a, s in pairs
    )
    e_id = employee.pk

    def url(name: str, *args: Any) -> str | None:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return None

    # The figures of one employee's range: per-day totals, top titles and apps, a table page.
    def titles(order: str, offset: int) -> tuple[str, list[Any]]:
        return (
            f"SELECT u.window_id, w.app, w.title, SUM(u.active_ms), SUM(u.idle_ms), "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
            f"MIN(u.first_start) FROM {t_usage} u JOIN {t_window} w ON w.id = u.window_id "
            f"WHERE u.employee_id = %s AND u.day BETWEEN %s AND %s "
            f"GROUP BY u.window_id, w.app, w.title ORDER BY {order} LIMIT 25 OFFSET {offset}",
            [e_id, start, end],
        )

    by_day = (
        f"SELECT day, active_ms, idle_ms, keys, clicks FROM {t_total} "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        "WHERE employee_id = %s AND day BETWEEN %s AND %s",
        [e_id, start, end],
    )
    top_apps = (
        f"SELECT w.app, SUM(u.active_ms) FROM {t_usage} u JOIN {t_window} w "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        "ON w.id = u.window_id WHERE u.employee_id = %s AND u.day BETWEEN %s AND %s "
        "GROUP BY w.app ORDER BY 2 DESC LIMIT 7",
        [e_id, start, end],
    )
    detail_ref = [by_day, titles("4 DESC", 0), top_apps]
    # The team table's figures per employee (grouped into teams by the caller: the
    # same work as the page's); a JOIN on employees grouped by team in SQL, with a
    # COUNT(DISTINCT), took 13 s on SQLite for the year.
    team = (
        f"SELECT employee_id, SUM(active_ms), SUM(idle_ms), "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        f"SUM(CASE WHEN active_ms > 0 THEN 1 ELSE 0 END) FROM {t_total} "
        "WHERE day BETWEEN %s AND %s GROUP BY employee_id",
        [start, end],
    )
    employees_page = (
        f"SELECT e.id, e.sort_name, t.active_ms, t.idle_ms FROM {t_employee} e "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        f"LEFT JOIN {t_total} t ON t.employee_id = e.id AND t.day = %s "
        f"WHERE {{where}} ORDER BY e.sort_name LIMIT 25"
    )
    home_ref = [
        (f"SELECT COUNT(*) FROM {t_employee} e WHERE {in_scope}", []),  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        (employees_page.format(where=in_scope), [end]),
    ]
    search_ref = [
        (f"SELECT COUNT(*) FROM {t_employee} e WHERE e.search_name LIKE %s", ["%mar%"]),  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        (employees_page.format(where="e.search_name LIKE %s"), [end, "%mar%"]),
    ]
    twelve_weeks = end - timedelta(days=7 * 12 - 1)

    def by_window(since: date, employee_id: int | None) -> tuple[str, list[Any]]:
        """Active time per window from `since` to the end (one employee's, or everyone's)."""
        # Everyone spelt out, as the pages do: the (employee, day, window) index then
        # serves the range per employee, where `day` alone scans every row.
        who = (
            f"AND employee_id IN (SELECT id FROM {t_employee})"  # noqa: S608 (our names)  # nosec B608  # a model's table name; no input
            if employee_id is None
            else f"AND employee_id = {int(employee_id)}"
        )
        return (
            f"SELECT window_id, SUM(active_ms) FROM {t_usage} "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
            f"WHERE day BETWEEN %s AND %s {who} GROUP BY window_id",
            [since, end],
        )

    team_by_employee = (
        f"SELECT employee_id, SUM(active_ms), SUM(idle_ms) FROM {t_total} "  # noqa: S608  # nosec B608  # model table names, literal clauses, int() ids; the values bound
        "WHERE day BETWEEN %s AND %s GROUP BY employee_id",
        [start, end],
    )
    try:
        from oxytrack.categories.models import CategoryDay

        t_category_day: str | None = CategoryDay._meta.db_table
    except ImportError:  # a tree from before the rollup: the pages read DailyUsage
        t_category_day = None
    everyone = f"employee_id IN (SELECT id FROM {t_employee})"  # noqa: S608  # nosec B608  # as the pages spell it

    def team_summary(since: date) -> list[tuple[str, Sequence[Any]]]:
        """The overview's summary from `since` to the end, as the page sums it cold."""
        if t_category_day is None:
            return [by_window(since, None)]
        return [
            (
                f"SELECT day, SUM(active_ms), SUM(CASE WHEN active_ms > 0 THEN 1 ELSE 0 END) "  # noqa: S608  # nosec B608  # model table names, literal clauses; the values bound
                f"FROM {t_total} WHERE day BETWEEN %s AND %s AND {everyone} GROUP BY day",
                [since, end],
            ),
            (
                f"SELECT day, category, SUM(active_ms) FROM {t_category_day} "  # noqa: S608  # nosec B608  # model table names, literal clauses; the values bound
                f"WHERE day BETWEEN %s AND %s AND {everyone} GROUP BY day, category",
                [since, end],
            ),
            (
                f"SELECT e.agency_id, e.service_id, c.category, SUM(c.active_ms) "  # noqa: S608  # nosec B608  # model table names, literal clauses; the values bound
                f"FROM {t_category_day} c JOIN {t_employee} e ON e.id = c.employee_id "
                "WHERE c.day BETWEEN %s AND %s GROUP BY e.agency_id, e.service_id, c.category",
                [since, end],
            ),
            (
                f"SELECT day, hour, SUM(active_ms) FROM {t_hourly} "  # noqa: S608  # nosec B608  # model table names, literal clauses; the values bound
                f"WHERE day BETWEEN %s AND %s AND {everyone} GROUP BY day, hour",
                [since, end],
            ),
        ]

    def weekly_categories(since: date) -> tuple[str, list[Any]]:
        """Team trends: active time per (day, category) over the weeks (to weeks in Python)."""
        if t_category_day is None:
            return by_window(since, None)
        return (
            f"SELECT day, category, SUM(active_ms) FROM {t_category_day} "  # noqa: S608  # nosec B608  # model table names, literal clauses; the values bound
            f"WHERE day BETWEEN %s AND %s AND {everyone} GROUP BY day, category",
            [since, end],
        )

    detail_url = url("dashboard:employee", employee.public_id)
    titles_url = url("dashboard:employee_titles", employee.public_id)
    team_url = url("dashboard:team")
    return [
        Page("home", "admin", url("dashboard:home"), {}, _sql(home_ref)),
        Page("search", "super", url("dashboard:search"), {"name": "mar"}, _sql(search_ref)),
        Page("detail", "admin", detail_url, span, _sql(detail_ref)),
        Page(
            "titles_p2_title",
            "admin",
            titles_url,
            {**span, "sort": "title", "page": "2"},
            _sql([titles("w.title", 25)]),
        ),
        Page(
            "titles_p3_active",
            "admin",
            titles_url,
            {**span, "sort": "-active", "page": "3"},
            _sql([titles("4 DESC", 50)]),
        ),
        Page(
            "titles_filter",
            "admin",
            titles_url,
            {**span, "q": "dossier"},
            _sql([titles("4 DESC", 0)]),
        ),
        Page("team", "super", team_url, span, _sql([team])),
        Page("team_sort_active", "super", team_url, {**span, "sort": "-active_ms"}, _sql([team])),
        Page(
            "team_p2_service",
            "super",
            team_url,
            {**span, "sort": "service", "page": "2"},
            _sql([team]),
        ),
        # The analytics pages of issue 12 (those not routed yet are skipped).
        Page(
            "analytics_team",
            "super",
            url("analytics:team_overview"),
            span,
            _sql([team_by_employee, *team_summary(start)]),
            references=3,
        ),
        Page(
            "analytics_team_p2",
            "super",
            url("analytics:team_overview"),
            {**span, "page": "2"},
            _sql([team_by_employee, *team_summary(start)]),
            references=3,
        ),
        # The heatmaps have no page of their own: they are drawn on the detail page and
        # the team overview, and measured there.
        Page(
            "trends_team",
            "super",
            url("analytics:team_trends"),
            {"week": end.isoformat()},
            _sql([weekly_categories(twelve_weeks)]),
            references=3,
        ),
        Page(
            "trends_employee",
            "admin",
            url("analytics:employee_trends", employee.public_id),
            {"week": end.isoformat()},
            _sql([by_window(twelve_weeks, e_id)]),
        ),
        Page(
            "rule_preview",
            "super",
            url("categories:preview"),
            {"title_pattern": "dossier"},
            _sql([by_window(end - timedelta(days=6), None)]),
            method="post",
        ),
    ]


def _timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of `call` (CPU: this process only)."""
    began, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000


def measure(database: str, days: int, requests: int) -> dict[str, float]:
    """Time every page and its reference, print a table; p95 per page (ms).

    The CPU columns count this process only: on SQLite that is all the work (the
    database is in the process) and holds on a loaded machine; on PostgreSQL the
    server's share is missing from them.
    """
    from django.test import Client

    from oxytrack.accounts.models import User
    from oxytrack.accounts.tests.otp import verify_session
    from oxytrack.ingest.tests.load import percentile  # nearest rank: p95 of 20 is the 19th
    from oxytrack.org.models import Employee

    try:  # the server's processes tune the garbage collector (wsgi.py): so does the bench
        from oxytrack.ops import gc_tuning

        gc_tuning.tune()
    except ImportError:  # a tree from before it
        pass
    clients = {}
    for name in ("admin", "super"):
        email = f"bench.{name}@oxytrack.demo"
        # Outside the test runner ALLOWED_HOSTS does not list "testserver".
        clients[name] = Client(SERVER_NAME="localhost")
        user = User.objects.get(email=email)
        clients[name].force_login(user)
        # The super-admin's session must pass the second factor (an authenticator is
        # given to the bench's super-admin the first time).
        verify_session(clients[name], user)
    print(
        f"== {database}: {Employee.objects.count()} employees, {days} days; "
        f"{requests} requests per page after one, each followed by its reference SQL "
        "(heavy references 3 times, spread over the requests); ms",
        flush=True,
    )
    print(
        f"{'page':18s} {'first':>7s} {'p50':>7s} {'p95':>7s} {'sql p50':>8s} {'sql p95':>8s} "
        f"{'ratio':>6s} {'cpu p50':>8s} {'sql cpu':>8s} {'cpu ratio':>9s}",
        flush=True,
    )
    result: dict[str, float] = {}
    for page in pages(days):
        if page.url is None:
            print(f"{page.name:18s} skipped (no such page in this tree)", flush=True)
            continue
        client = clients[page.client]

        def get(page: Page = page, client: Any = client) -> None:
            send = client.post if page.method == "post" else client.get
            response = send(page.url, page.params)
            assert response.status_code == 200, (page.name, response.status_code)

        first, _cpu = _timed(get)
        every = max(1, requests // page.references) if page.references else 1
        runs, ref_runs = [], []
        for i in range(requests):
            runs.append(_timed(get))
            if i % every == 0 and len(ref_runs) < (page.references or requests):
                ref_runs.append(_timed(page.reference))
        samples = [wall for wall, _c in runs]
        refs = [wall for wall, _c in ref_runs]
        cpu = statistics.median(c for _w, c in runs)
        ref_cpu = statistics.median(c for _w, c in ref_runs)
        p50, p95 = statistics.median(samples), percentile(samples, 95)
        ref50 = statistics.median(refs)
        result[page.name] = p95
        print(
            f"{page.name:18s} {first:7.1f} {p50:7.1f} {p95:7.1f} {ref50:8.1f} "
            f"{percentile(refs, 95):8.1f} {p50 / ref50:6.1f} {cpu:8.1f} {ref_cpu:8.1f} "
            f"{cpu / ref_cpu if ref_cpu else 0:9.1f}",
            flush=True,
        )
    return result


def explain(days: int) -> None:
    """How the database runs the titles table's query for a year: the scans of its plan."""
    from django.db import connection
    from django.db.models import Sum

    from oxytrack.accounts.models import User
    from oxytrack.activity.models import DailyUsage
    from oxytrack.activity.queries import title_rows
    from oxytrack.org.models import Employee

    admin = User.objects.get(email="bench.admin@oxytrack.demo")
    employee = Employee.objects.visible_to(admin).order_by("pk").first()
    end = date.fromisoformat(NOW[:10])
    start = end - timedelta(days=days - 1)
    joined = (  # the shape before: grouped by the window's columns, joined first
        DailyUsage.objects.filter(employee=employee, day__range=(start, end))
        .values("window_id", "window__app", "window__title")
        .annotate(active=Sum("active_ms"))
        .order_by("-active", "window_id")
    )
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    for label, qs in (
        ("titles, joined first", joined[:25]),
        ("titles", title_rows(employee, start, end)[:25]),
    ):
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
        print(f"plan of {label}:", flush=True)
        for line in plan:
            if "Scan" in line or "SCAN" in line or "SEARCH" in line or "Execution" in line:
                print(f"    {line.strip()}", flush=True)


def run_one(database: str, options: argparse.Namespace) -> int:
    prepare(database, options.employees, options.days)
    explain(options.days)
    result = measure(database, options.days, options.requests)
    worst = max(result.values())
    print(
        f"RESULT web_{database} worst_p95_ms={worst:.0f} "
        + " ".join(f"{name}_p95_ms={value:.0f}" for name, value in result.items()),
        flush=True,
    )
    return 0


def _stream(command: list[str]) -> Iterator[str]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stdout is not None
    yield from proc.stdout
    if proc.wait() != 0:
        print(f"exit {proc.returncode}: {' '.join(command[:3])}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=1700)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    options = parser.parse_args()
    if options.database != "both":
        return run_one(options.database, options)
    # Each database in its own process (Django is set up once per process).
    common = [
        "--employees",
        str(options.employees),
        "--days",
        str(options.days),
        "--requests",
        str(options.requests),
    ]
    results: dict[str, dict[str, str]] = {}
    for database in ("sqlite", "postgres"):
        command = [sys.executable, __file__, "--database", database, *common]
        if database == "postgres":
            command = [str(REPO / "scripts" / "with-postgres.sh"), *command]
        for line in _stream(command):
            print(line, end="", flush=True)
            if line.startswith(f"RESULT web_{database} "):
                results[database] = dict(re.findall(r"(\w+)=([0-9.]+)", line))
    if "sqlite" not in results:
        return 1
    fields = [f"{db}_worst_p95_ms={values['worst_p95_ms']}" for db, values in results.items()] + [
        f"{name.removesuffix('_p95_ms')}_{db}_p95_ms={value}"
        for db, values in results.items()
        for name, value in values.items()
        if name != "worst_p95_ms"
    ]
    print(f"RESULT web {' '.join(fields)} (target {TARGET_MS:.0f})")
    return 0 if len(results) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
