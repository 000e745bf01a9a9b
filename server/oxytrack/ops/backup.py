"""Online backups and restores of OxyTrack's database (`oxytrack backup` / `oxytrack restore`).

SQLite: the sqlite3 backup API copies the pages under one read transaction
(`pages=-1`, a single step), so the copy is the database as of one commit
while uploads go on writing to the write-ahead log; a batch is in it
entirely or not at all. The copy is switched out of WAL mode, so it is one
self-contained file. A restore copies the file back into the live database
through the same API: one write transaction, so a crash half-way leaves the
old database as it was.

PostgreSQL: `pg_dump -Fc` (one repeatable-read snapshot) and
`pg_restore --clean --if-exists --no-owner --single-transaction`. The
connection comes from Django's DATABASES setting; the password goes to the
child in PGPASSWORD, never on its command line (which `ps` shows to every
user of the machine).

A backup holds personal data: it is written 0600 under a 0700 directory,
first under a temporary name, then linked to its name (an existing file is
never overwritten).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"

# Counted after a restore and before overwriting a database: what an
# operator recognises (app label, model name).
MAIN_TABLES = (
    ("accounts", "User"),
    ("org", "Employee"),
    ("org", "Device"),
    ("ingest", "Batch"),
    ("activity", "Span"),
    ("activity", "DailyUsage"),
    ("activity", "DailyTotal"),
    ("audit", "Entry"),
)

SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
KIND_NAMES = {"sqlite": "an SQLite database", "postgresql": "a PostgreSQL dump (pg_dump -Fc)"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did and what the checks found."""

    kind: str
    counts: dict[str, int]
    checks: list[str] = field(default_factory=list)


def vendor_of(settings_dict: Mapping[str, Any]) -> str:
    """ "sqlite" or "postgresql" for a DATABASES entry."""
    engine = str(settings_dict["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def file_kind(path: Path) -> str | None:
    """ "sqlite" or "postgresql" from the file's first bytes, None for anything else."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def default_output(var_dir: Path, kind: str, now: datetime | None = None) -> Path:
    """VAR_DIR/backups/oxytrack-<UTC timestamp>.<kind's suffix>; the directory made 0700."""
    directory = var_dir / "backups"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask and ignored for an existing directory.
    os.chmod(directory, 0o700)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"oxytrack-{stamp}{SUFFIX[kind]}"


def backup(settings_dict: Mapping[str, Any], output: Path) -> int:
    """Back the database of `settings_dict` up into `output` (must not exist); its size."""
    kind = vendor_of(settings_dict)
    output = Path(output)
    if output.exists() or output.is_symlink():
        raise BackupError(f"{output} already exists: choose another --output or remove it")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a directory")
    with _private_temp(output) as temp:
        if kind == "sqlite":
            backup_sqlite(Path(settings_dict["NAME"]), temp)
        else:
            backup_postgresql(settings_dict, temp)
        try:
            # A hard link, not a rename: it fails rather than replace a file
            # created meanwhile under that name.
            os.link(temp, output)
        except FileExistsError:
            raise BackupError(f"{output} already exists: choose another --output") from None
    return output.stat().st_size


@contextlib.contextmanager
def _private_temp(output: Path) -> Iterator[Path]:
    """An empty 0600 file beside `output`, removed on exit."""
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.close(fd)  # mkstemp creates it 0600
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def backup_sqlite(database: Path, target: Path) -> None:
    """Copy a live SQLite database (WAL mode, being written to) into `target`, consistently."""
    if not database.is_file():
        raise BackupError(f"no SQLite database at {database}")
    source = sqlite3.connect(database, timeout=30)
    try:
        dest = sqlite3.connect(target)
        try:
            # One step (-1): every page under one read transaction, the
            # database as of one commit; writers go on meanwhile (WAL).
            source.backup(dest, pages=-1)
            # A self-contained file: no -wal beside it to forget.
            dest.execute("PRAGMA journal_mode=DELETE")
            problems = _sqlite_problems(dest, quick=True)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from None
    finally:
        source.close()
    if problems:
        raise BackupError("the copy fails its integrity check: " + "; ".join(problems[:5]))
    with open(target, "rb") as f:
        os.fsync(f.fileno())


def _pg_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools of the "
            "server's major version (Debian: postgresql-client)"
        )
    return path


def pg_connection(settings_dict: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore connection options and the environment that carries the secrets.

    The password and the TLS settings go in PG* variables (libpq reads them),
    so no secret is on a command line.
    """
    args: list[str] = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        value = settings_dict.get(key)
        if value:
            args.append(f"{option}={value}")
    args.append(f"--dbname={settings_dict['NAME']}")
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for key, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ):
        if options.get(key):
            env[variable] = str(options[key])
    return args, env


def _run_pg(name: str, argv: list[str], env: dict[str, str]) -> None:
    # --no-password: a cron job must fail, not wait for a password prompt.
    done = subprocess.run(  # noqa: S603  (an argument list, no shell)
        [_pg_program(name), "--no-password", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise BackupError(f"{name} failed: {message}")


def backup_postgresql(settings_dict: Mapping[str, Any], target: Path) -> None:
    """pg_dump in custom format (-Fc) into `target`."""
    args, env = pg_connection(settings_dict)
    _run_pg("pg_dump", ["--format=custom", f"--file={target}", *args], env)


# --- restore ---------------------------------------------------------------------------


def check_kind(path: Path, settings_dict: Mapping[str, Any]) -> str:
    """The backup's kind, refused when it is not a backup of the configured database's kind."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    kind = file_kind(path)
    vendor = vendor_of(settings_dict)
    if kind is None:
        raise BackupError(
            f"{path} is not an OxyTrack backup: neither an SQLite database nor a "
            "PostgreSQL dump (pg_dump -Fc)"
        )
    if kind != vendor:
        raise BackupError(
            f"{path} is {KIND_NAMES[kind]}, but the configured database is "
            f"{'SQLite' if vendor == 'sqlite' else 'PostgreSQL'}: restore it into a "
            f"{'SQLite' if kind == 'sqlite' else 'PostgreSQL'} database (DATABASE_URL), or "
            "move the data over with dumpdata/loaddata"
        )
    return kind


def count_rows(cursor: Any, existing: set[str]) -> dict[str, int]:
    """Rows of each main table that exists, by "app.Model" (any DB-API cursor)."""
    from django.apps import apps

    counts = {}
    for app_label, model_name in MAIN_TABLES:
        table = apps.get_model(app_label, model_name)._meta.db_table
        if table in existing:
            query = f'SELECT COUNT(*) FROM "{table}"'  # noqa: S608  # nosec B608  # our models' table names, no input
            cursor.execute(query)
            counts[f"{app_label}.{model_name}"] = int(cursor.fetchone()[0])
    return counts


def sqlite_counts(database: Path) -> dict[str, int]:
    """count_rows on an SQLite file ({} when it does not exist)."""
    if not database.exists():
        return {}
    conn = sqlite3.connect(database, timeout=30)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return count_rows(cursor, {row[0] for row in cursor.fetchall()})
    finally:
        conn.close()


def _sqlite_problems(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    """What PRAGMA integrity_check (or quick_check) and foreign_key_check report; [] if sound."""
    rows = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()[:5]:
        problems.append(f"{table} row {rowid} points to a missing {parent}")
    return problems


def sqlite_users(database: Path) -> list[int]:
    """Ids of the other processes that have this SQLite database open (Linux; else [])."""
    # Every connection to a WAL database holds a shared POSIX lock on the
    # "DMS" byte of its -shm file (SQLite's unix VFS: offset 128) for as long
    # as it is open, and the kernel drops it when the process ends: no stale
    # state. F_GETLK reports the process that holds it, ignoring our own.
    shm = Path(f"{database}-shm")
    if sys.platform != "linux" or not shm.exists():
        return []
    import fcntl

    fd = os.open(shm, os.O_RDONLY)
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0)
        kind, _, _, _, pid = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return [] if kind == fcntl.F_UNLCK else [pid]


def restore_sqlite(backup_file: Path, database: Path) -> list[str]:
    """Write an SQLite backup into the live database file; the checks' findings ([] = sound).

    The server must be stopped: refused when another process has the
    database open. The copy is one write transaction of the live database
    (a crash leaves the old one), which keeps its WAL mode.
    """
    users = sqlite_users(database)
    if users:
        raise BackupError(
            f"the database is in use by process {', '.join(map(str, users))} (the server?): "
            "stop the server (and so the agents' uploads) before restoring"
        )
    source = sqlite3.connect(f"{Path(backup_file).resolve().as_uri()}?mode=ro", uri=True)
    try:
        problems = _sqlite_problems(source, quick=True)
        if problems:
            raise BackupError(f"{backup_file} is damaged: " + "; ".join(problems[:5]))
        if not database.exists():
            database.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        dest = sqlite3.connect(database, timeout=30)
        try:
            source.backup(dest, pages=-1)
            return _sqlite_problems(dest)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite restore failed: {exc}") from None
    finally:
        source.close()


def restore_postgresql(backup_file: Path, settings_dict: Mapping[str, Any]) -> None:
    """pg_restore --clean --if-exists --no-owner, all or nothing (--single-transaction)."""
    args, env = pg_connection(settings_dict)
    _run_pg(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(backup_file)],
        env,
    )


def describe_counts(counts: Mapping[str, int]) -> str:
    """ "12 accounts.User, 3,400 activity.Span, …" (every table given)."""
    return ", ".join(f"{n:,} {label}" for label, n in counts.items())


# --- on the configured database (Django's connections) -------------------------------


def database_counts(using: str = "default") -> dict[str, int]:
    """Rows of the main tables of a configured database ({} for one not migrated)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor == "sqlite":
        return sqlite_counts(Path(conn.settings_dict["NAME"]))
    with conn.cursor() as cursor:
        return count_rows(cursor, set(conn.introspection.table_names(cursor)))


def postgresql_sessions(using: str = "default") -> list[str]:
    """The other sessions on this PostgreSQL database ("application (address)")."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(NULLIF(application_name, ''), 'a client'), "
            "COALESCE(host(client_addr), 'local socket') FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [f"{name} ({address})" for name, address in cursor.fetchall()]


def restore_database(backup_file: Path, *, replace: bool, using: str = "default") -> RestoreResult:
    """Restore a backup into a configured database; refuse what would go wrong.

    Refused: a file of the other kind, a database that holds data unless
    `replace`, a database in use by the server. The result carries the
    checks' findings (empty when sound) and the restored counts.
    """
    from django.core.cache import cache
    from django.db import connections

    conn = connections[using]
    settings_dict = conn.settings_dict
    kind = check_kind(backup_file, settings_dict)
    present = {label: n for label, n in database_counts(using).items() if n}
    if present and not replace:
        raise BackupError(
            f"the database already holds data: {describe_counts(present)}. Restoring "
            "replaces all of it with the backup's. Back it up first (`oxytrack backup`), "
            "stop the server, then run again with --yes."
        )
    if kind == "postgresql":
        sessions = postgresql_sessions(using)
        if sessions:
            raise BackupError(
                f"{len(sessions)} other session(s) use the database ({', '.join(sessions[:5])}): "
                "stop the server (and so the agents' uploads) and other clients before restoring"
            )
    # No connection of ours is left open across the swap.
    connections.close_all()
    if kind == "sqlite":
        checks = restore_sqlite(Path(backup_file), Path(settings_dict["NAME"]))
    else:
        restore_postgresql(Path(backup_file), settings_dict)
        checks = []
        with conn.cursor() as cursor:
            # pg_restore brings no planner statistics: without them the first
            # pages plan their queries blind.
            cursor.execute("ANALYZE")
    # The cache outlives the server's processes (settings.CACHES, in files): the
    # restored database starts from an empty one, without a sum of the one it replaced.
    cache.clear()
    return RestoreResult(kind=kind, counts=database_counts(using), checks=checks)
