"""`oxytrack backup` and `oxytrack restore` on real files: what they refuse and what they write.

Each test gets a database of its own, migrated by the real `oxytrack migrate`
in a subprocess (never the test database). The end-to-end test under load,
on both backends, is e2e/test_backup.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from oxytrack.ingest.tests.live import live_server
from oxytrack.ingest.tests.live import request as http
from oxytrack.ops.backup import BackupError, backup, file_kind

# None of these reaches the suite's database: SQLite files of their own, or a
# PostgreSQL that does not exist (a stand-in pg_dump).
pytestmark = [pytest.mark.once, pytest.mark.slow]


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "SECRET_KEY", "DJANGO_", "OXYTRACK_", "DEBUG"))
    }
    env["OXYTRACK_VAR_DIR"] = str(var_dir)
    env.update(extra)
    return env


def oxytrack(var_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("oxytrack")), *args],
        env=clean_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated by the real `oxytrack migrate`, once per module (a few seconds)."""
    var_dir = tmp_path_factory.mktemp("template")
    done = oxytrack(var_dir, "migrate", "--no-input", "-v0")
    assert done.returncode == 0, done.stderr
    # The command has exited: its last connection folded the WAL into the file.
    assert not (var_dir / "oxytrack.sqlite3-wal").exists()
    return var_dir / "oxytrack.sqlite3"


@pytest.fixture
def migrated(template: Path) -> Callable[[Path], Path]:
    """Give a var dir a copy of the migrated database; its path."""

    def make(var_dir: Path) -> Path:
        var_dir.mkdir(parents=True)
        database = var_dir / "oxytrack.sqlite3"
        shutil.copyfile(template, database)
        return database

    return make


def add_users(var_dir: Path, *addresses: str) -> None:
    done = oxytrack(
        var_dir,
        "shell",
        "-c",
        "from oxytrack.accounts.models import User\n"
        f"for email in {list(addresses)!r}: User.objects.create(email=email)",
    )
    assert done.returncode == 0, done.stderr


def emails(database: Path) -> list[str]:
    conn = sqlite3.connect(database)
    try:
        return [row[0] for row in conn.execute("SELECT email FROM accounts_user ORDER BY email")]
    finally:
        conn.close()  # an open connection would count as a server using it


def test_backup_writes_a_private_self_contained_file_under_var_backups(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    var = tmp_path / "var"
    migrated(var)
    add_users(var, "dpo@example.org")

    done = oxytrack(var, "backup")

    assert done.returncode == 0, done.stderr
    path_text, size_text = done.stdout.strip().rsplit(" (", 1)
    path = Path(path_text)
    assert path.parent == var / "backups"
    assert path.name.startswith("oxytrack-") and path.suffix == ".sqlite3"
    assert size_text == f"{path.stat().st_size:,} bytes)"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert file_kind(path) == "sqlite"
    # One file, not in WAL mode: nothing beside it to copy along.
    assert path.read_bytes()[18:20] == b"\x01\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert emails(path) == ["dpo@example.org"]


def test_backup_refuses_an_existing_output(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    var = tmp_path / "var"
    migrated(var)
    output = tmp_path / "keep.sqlite3"
    output.write_bytes(b"precious")

    done = oxytrack(var, "backup", "--output", str(output))

    assert done.returncode == 1
    assert f"{output} already exists" in done.stderr
    assert "Traceback" not in done.stderr
    assert output.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.sqlite3", "var"]


def test_restore_refuses_to_replace_data_without_yes_and_says_what_would_be_lost(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    migrated(source)
    add_users(source, "from-backup@example.org")
    backup_file = tmp_path / "b.sqlite3"
    assert oxytrack(source, "backup", "--output", str(backup_file)).returncode == 0
    database = migrated(target)
    add_users(target, "a@example.org", "b@example.org")

    refused = oxytrack(target, "restore", str(backup_file))

    assert refused.returncode == 1
    assert "already holds data: 2 accounts.User" in refused.stderr
    assert "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert emails(database) == ["a@example.org", "b@example.org"]
    # The cache outlives the server (files under the var dir): something of the old data.
    remember = "from django.core.cache import cache; cache.set('sums', 42, 3600)"
    assert oxytrack(target, "shell", "-c", remember).returncode == 0
    recall = "from django.core.cache import cache; print(cache.get('sums'))"
    assert oxytrack(target, "shell", "-c", recall).stdout.split()[-1] == "42"

    done = oxytrack(target, "restore", str(backup_file), "--yes")

    assert done.returncode == 0, done.stderr
    assert oxytrack(target, "shell", "-c", recall).stdout.split()[-1] == "None"
    assert "1 accounts.User, 0 org.Employee" in done.stdout
    assert "Integrity check: ok." in done.stdout
    assert emails(database) == ["from-backup@example.org"]
    # Still the server's WAL database, not the backup's rollback journal.
    assert database.read_bytes()[18:20] == b"\x02\x02"


def test_restore_into_a_fresh_var_dir_needs_no_yes(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    source = tmp_path / "source"
    migrated(source)
    add_users(source, "x@example.org")
    backup_file = tmp_path / "b.sqlite3"
    assert oxytrack(source, "backup", "--output", str(backup_file)).returncode == 0

    done = oxytrack(tmp_path / "fresh", "restore", str(backup_file))

    assert done.returncode == 0, done.stderr
    database = tmp_path / "fresh" / "oxytrack.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert emails(database) == ["x@example.org"]
    # Nothing left to migrate: the backup is of this version.
    assert "migrate" not in done.stdout
    assert "No migrations to apply" in oxytrack(tmp_path / "fresh", "migrate").stdout


def test_restore_refuses_a_file_of_the_other_kind(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    database = migrated(tmp_path / "var")
    before = database.read_bytes()
    dump = tmp_path / "prod.pgdump"
    dump.write_bytes(b"PGDMP\x01\x0f\x00" + b"\x00" * 64)
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")

    refused = oxytrack(tmp_path / "var", "restore", str(dump), "--yes")

    assert refused.returncode == 1
    assert "is a PostgreSQL dump (pg_dump -Fc), but the configured database is SQLite" in (
        refused.stderr
    )
    other = oxytrack(tmp_path / "var", "restore", str(junk), "--yes")
    assert other.returncode == 1
    assert "is not an OxyTrack backup" in other.stderr
    missing = oxytrack(tmp_path / "var", "restore", str(tmp_path / "nope"), "--yes")
    assert missing.returncode == 1 and "no backup file at" in missing.stderr
    assert "Traceback" not in refused.stderr + other.stderr + missing.stderr
    assert database.read_bytes() == before


def test_restore_refuses_while_the_server_has_the_database_open(
    tmp_path: Path, migrated: Callable[[Path], Path]
) -> None:
    source = tmp_path / "source"
    migrated(source)
    backup_file = tmp_path / "b.sqlite3"
    assert oxytrack(source, "backup", "--output", str(backup_file)).returncode == 0
    var = tmp_path / "served"
    with live_server(var, workers=1) as server:
        # One call that reads the database: the worker now holds it open.
        key = server.manage("enrollment_key")
        conn = server.connection()
        status, _, _ = http(conn, "GET", "/api/agent/v1/choices", None, {"X-Enrollment-Key": key})
        conn.close()
        assert status == 200

        refused = oxytrack(var, "restore", str(backup_file), "--yes")

        assert refused.returncode == 1
        assert "in use by process" in refused.stderr
        assert "stop the server" in refused.stderr
    # Stopped: the same restore goes through.
    done = oxytrack(var, "restore", str(backup_file), "--yes")
    assert done.returncode == 0, done.stderr


# --- PostgreSQL's client tools, stood in for ----------------------------------------

FAKE_PG_DUMP = """#!{python}
import json, os, sys
with open({record!r}, "w") as f:
    json.dump({{"argv": sys.argv[1:], "PGPASSWORD": os.environ.get("PGPASSWORD"),
               "PGSSLMODE": os.environ.get("PGSSLMODE")}}, f)
if os.environ.get("FAKE_FAIL"):
    sys.stderr.write('pg_dump: error: connection to server failed: Connection refused\\n')
    sys.exit(1)
target = [a for a in sys.argv if a.startswith("--file=")][0].split("=", 1)[1]
with open(target, "wb") as f:
    f.write(b"PGDMP" + b"\\0" * 100)
"""

PG = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "oxytrack",
    "USER": "oxy",
    "PASSWORD": "s3cret-Pa55",
    "HOST": "db.internal",
    "PORT": 5433,
    "OPTIONS": {"sslmode": "verify-full"},
}


@pytest.fixture
def fake_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "pg_dump.json"
    script = bin_dir / "pg_dump"
    script.write_text(FAKE_PG_DUMP.format(python=sys.executable, record=str(record)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_pg_dump_gets_the_password_in_its_environment_never_on_its_command_line(
    tmp_path: Path, fake_pg_dump: Path
) -> None:
    output = tmp_path / "out.pgdump"

    size = backup(PG, output)

    seen = json.loads(fake_pg_dump.read_text())
    assert seen["PGPASSWORD"] == "s3cret-Pa55"
    assert seen["PGSSLMODE"] == "verify-full"
    assert not any("s3cret" in arg for arg in seen["argv"])
    assert seen["argv"][0] == "--no-password"
    assert "--format=custom" in seen["argv"]
    assert {"--host=db.internal", "--port=5433", "--username=oxy", "--dbname=oxytrack"} <= set(
        seen["argv"]
    )
    assert size == output.stat().st_size and file_kind(output) == "postgresql"
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_a_failing_pg_dump_is_reported_and_leaves_no_file(
    tmp_path: Path, fake_pg_dump: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FAIL", "1")
    output = tmp_path / "out.pgdump"

    with pytest.raises(BackupError, match="pg_dump failed: pg_dump: error: connection to server"):
        backup(PG, output)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "pg_dump.json"]


POSTGRES_ENV = {
    "DATABASE_URL": "postgres://oxy:s3cret-Pa55@127.0.0.1:1/oxytrack",
    "SECRET_KEY": "k" * 64,
}


def test_the_command_names_a_missing_pg_dump(tmp_path: Path) -> None:
    # PATH without the PostgreSQL client tools.
    done = oxytrack(tmp_path, "backup", PATH=str(tmp_path), **POSTGRES_ENV)

    assert done.returncode == 1
    assert "pg_dump not found on PATH" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_reports_pg_dump_failing(tmp_path: Path) -> None:
    # The real pg_dump, against a port where no server listens.
    done = oxytrack(tmp_path, "backup", **POSTGRES_ENV)

    assert done.returncode == 1
    assert "pg_dump failed:" in done.stderr and "127.0.0.1" in done.stderr
    assert "s3cret" not in done.stderr and "Traceback" not in done.stderr
    assert list((tmp_path / "backups").iterdir()) == []
