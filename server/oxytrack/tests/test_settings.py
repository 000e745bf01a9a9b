"""Settings as a deployment sees them: each case runs `oxytrack` in a subprocess
with a clean environment, as gunicorn or an admin's shell would."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

# `once`: each case runs in a subprocess without the suite's DATABASE_URL (see
# `oxytrack()` below), so the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.once

PRODUCTION = {
    "DATABASE_URL": "postgres://oxytrack:pw@db.internal:5432/oxytrack",
    "ALLOWED_HOSTS": "oxytrack.example.com",
    "OXYTRACK_HTTPS": "true",
}


def oxytrack(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "OXYTRACK_", "SECRET_KEY", "DEBUG"))
        and k not in {"ALLOWED_HOSTS"}
    }
    base["OXYTRACK_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_embedded_mode_generates_a_private_secret_key_once(tmp_path: Path) -> None:
    first = oxytrack(tmp_path, "check")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert oxytrack(tmp_path, "check").returncode == 0
    assert key_file.read_text() == key


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = oxytrack(tmp_path, "check", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    result = oxytrack(tmp_path, "check", SECRET_KEY="short", **PRODUCTION)
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(64)
    # As `oxytrack serve` does before gunicorn: check --deploy refuses uncollected files.
    collected = oxytrack(
        tmp_path, "collectstatic", "--noinput", "-v0", SECRET_KEY=secret, **PRODUCTION
    )
    assert collected.returncode == 0, collected.stderr
    result = oxytrack(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secret,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_bad_variable_stops_start_up_with_its_name(tmp_path: Path) -> None:
    result = oxytrack(tmp_path, "check", DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr
    result = oxytrack(tmp_path, "check", OXYTRACK_TIME_ZONE="Mars/Olympus")
    assert "OXYTRACK_TIME_ZONE='Mars/Olympus' is not a known time zone" in result.stderr


def test_only_sqlite_and_postgresql_are_accepted(tmp_path: Path) -> None:
    result = oxytrack(
        tmp_path, "check", DATABASE_URL="mysql://u:p@h/db", SECRET_KEY=secrets.token_urlsafe(64)
    )
    assert result.returncode != 0
    assert "SQLite or PostgreSQL" in result.stderr


def test_embedded_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path: Path) -> None:
    assert oxytrack(tmp_path, "migrate", "-v0").returncode == 0
    script = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n"
        "print(connection.settings_dict['OPTIONS']['transaction_mode'])\n"
    )
    result = oxytrack(tmp_path, "shell", "-v0", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "5000", "IMMEDIATE"]
    assert (tmp_path / "oxytrack.sqlite3").exists()


@pytest.mark.parametrize("hasher", ["Argon2PasswordHasher"])
def test_passwords_are_hashed_with_argon2(hasher: str) -> None:
    # The production module: the test settings swap in a fast hasher.
    from oxytrack import settings

    assert settings.PASSWORD_HASHERS[0].endswith(hasher)
