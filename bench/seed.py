"""Seeding throughput: `oxytrack seed_demo` vs. a raw sqlite3.executemany of its spans.

Run alone with `.venv/bin/python bench/seed.py` (about half a minute). In a
temporary directory with its own SQLite file (OXYTRACK_VAR_DIR), it migrates,
then times `seed_demo --employees 200 --days 30` in a subprocess, exactly as
an operator runs it. The command reports its own in-process rate (spans
written per second, generation, Django, rollups and commits included; Python
start-up excluded).

Then, as the floor of the storage cost, the same span rows (read back from the
seeded file) are inserted with `sqlite3.executemany` into a fresh file with
the same table definition and the same two indexes (WAL, synchronous=NORMAL
as the server sets it, one commit per chunk of about the size the seed
commits). Foreign keys are not enforced there: the referenced tables do not
exist in that file.

Ends with one line:

    RESULT seed oxytrack_spans_s=N raw_spans_s=N vs_raw=R

Options: --employees N (default 200), --days N (default 30).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-31T15:00:00+02:00"  # fixed: every run writes the same data


def oxytrack(var_dir: Path, *args: str) -> str:
    """Run an `oxytrack` management command on the temporary SQLite database."""
    env = {
        **os.environ,
        "OXYTRACK_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "oxytrack.settings",
    }
    env.pop("DATABASE_URL", None)  # always the embedded SQLite file
    env.pop("SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"oxytrack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def bench_seed(var_dir: Path, employees: int, days: int) -> tuple[int, float, float]:
    """(spans, in-process seconds, wall seconds) of one seed_demo run."""
    oxytrack(var_dir, "migrate", "--noinput", "-v0")
    started = time.perf_counter()
    out = oxytrack(
        var_dir, "seed_demo", "--employees", str(employees), "--days", str(days), "--now", NOW
    )
    wall = time.perf_counter() - started
    match = re.search(r"([\d,]+) spans sur \d+ jours en ([\d.]+) s", out)
    if match is None:
        sys.exit(f"unexpected seed_demo output:\n{out}")
    return int(match.group(1).replace(",", "")), float(match.group(2)), wall


def bench_raw(seeded: Path, work_dir: Path, commit_every: int) -> tuple[int, float]:
    """(rows, seconds) of executemany of the seeded spans into an equivalent table."""
    source = sqlite3.connect(seeded)
    table_sql = source.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'activity_span'"
    ).fetchone()[0]
    index_sql = [
        row[0]
        for row in source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activity_span' "
            "AND sql IS NOT NULL"
        )
    ]
    columns = "employee_id, device_id, start, duration_ms, day, window_id, active, keys, clicks"
    rows = source.execute(f"SELECT {columns} FROM activity_span ORDER BY id").fetchall()  # noqa: S608  # nosec B608  # a literal column list
    source.close()

    target = sqlite3.connect(work_dir / "raw.sqlite3", isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    target.execute(table_sql)
    for sql in index_sql:
        target.execute(sql)
    insert = f"INSERT INTO activity_span ({columns}) VALUES ({', '.join('?' * 9)})"  # noqa: S608  # nosec B608  # literal columns and placeholders
    started = time.perf_counter()
    for begin in range(0, len(rows), commit_every):
        target.execute("BEGIN IMMEDIATE")
        target.executemany(insert, rows[begin : begin + commit_every])
        target.execute("COMMIT")
    seconds = time.perf_counter() - started
    (count,) = target.execute("SELECT count(*) FROM activity_span").fetchone()
    target.close()
    assert count == len(rows)
    return len(rows), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="oxytrack-bench-seed-") as tmp:
        var_dir = Path(tmp) / "var"
        print(f"== oxytrack seed_demo --employees {args.employees} --days {args.days} (SQLite)")
        spans, seconds, wall = bench_seed(var_dir, args.employees, args.days)
        ox = spans / seconds
        print(f"  {spans:,} spans in {seconds:.1f} s: {ox:,.0f} spans/s ({wall:.1f} s wall)")

        # The seed commits once per chunk of employees (about 20 chunks).
        commit_every = max(1000, spans // 20)
        print(f"== raw sqlite3.executemany (WAL, {commit_every:,} rows per transaction)")
        rows, raw_seconds = bench_raw(var_dir / "oxytrack.sqlite3", Path(tmp), commit_every)
        raw = rows / raw_seconds
        print(f"  {rows:,} rows in {raw_seconds:.1f} s: {raw:,.0f} rows/s")

    vs_raw = ox / raw if raw else 0.0
    print(f"OxyTrack seed / raw insert = {vs_raw:.2f}")
    print(f"RESULT seed oxytrack_spans_s={ox:.0f} raw_spans_s={raw:.0f} vs_raw={vs_raw:.2f}")


if __name__ == "__main__":
    main()
