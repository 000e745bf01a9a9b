"""Load: 2,000 agents uploading every 10 s for 2 minutes, on SQLite and on PostgreSQL.

Run alone with `.venv/bin/python bench/load.py` (about 4 minutes per backend,
most of it enrolling the devices and starting the servers). Issue #13.

- The server: `oxytrack serve` (gunicorn with its production defaults: on a
  2-core machine 5 workers of 4 threads), on a fresh SQLite file, then on a
  throwaway PostgreSQL cluster (scripts/with-postgres.sh, the same way
  `make test` starts one); this script runs itself again under it.
- The agents: one asyncio process (server/oxytrack/ingest/tests/load.py),
  enrolled through the API, 20 at a time; each then uploads every 10 s from
  a random phase a batch of the few spans it recorded since (gzip, its own
  connection, a fixed batch id), with the real agent's retries (timeout
  30 s; network errors, 408/429/5xx: backoff, at least `Retry-After`, the
  same batch resent). Like the agent, it waits 10 s after an upload ends,
  so an overloaded server sees fewer than 200 uploads a second: the
  acknowledged rate is printed. After the run, the agents still holding
  batches retry for up to 90 s; then the server's database is read: every
  batch acknowledged stored exactly once, each device's spans (count and
  milliseconds) those it sent.
- The reference, measured in the same run on the same server just before
  the load: one more agent alone, 40 uploads back to back. It is the
  unloaded latency of the same request (same client, same connection per
  upload); it says nothing of throughput. `p50_vs_alone` = p50 under load /
  p50 alone (1 would be a server that does not notice 2,000 agents).
- Server CPU: user + system seconds of the gunicorn process tree (psutil)
  over the load's wall time, in cores; on PostgreSQL its cluster's
  processes apart. The client shares the machine: its own CPU is printed.

Exits 1 if a batch was lost, stored twice or undelivered, or any 5xx.

    RESULT load agents=N sqlite_p50_ms=N sqlite_p99_ms=N sqlite_p50_vs_alone=R
        sqlite_batches_s=N sqlite_server_cores=C pg_... lost=0 duplicated=0 http_5xx=0

Options: --agents N (2000), --period S (10), --seconds S (120), --drain S (90),
--skip-pg, --backend-only (internal: this backend only, from DATABASE_URL).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from oxytrack.ingest.tests.live import live_server  # noqa: E402
from oxytrack.ingest.tests.load import (  # noqa: E402
    LoadConfig,
    LoadReport,
    raise_open_files_limit,
    run_load,
)


def measure(config: LoadConfig, database_url: str | None) -> LoadReport:
    """One backend: a fresh server, the load, the verification."""
    backend = "PostgreSQL" if database_url else "SQLite"
    raise_open_files_limit()  # before gunicorn starts: it inherits the limit
    with (
        tempfile.TemporaryDirectory(prefix="oxytrack-load-") as tmp,
        live_server(Path(tmp), database_url=database_url, serve=True) as server,
    ):
        return run_load(server, config, backend=backend, database_url=database_url)


def figures(prefix: str, report: LoadReport) -> str:
    """The RESULT fields of one backend."""
    vs_alone = report.p50_s / report.reference_p50_s if report.reference_p50_s else 0.0
    rate = report.acked / report.load_s if report.load_s else 0.0
    return (
        f"{prefix}_p50_ms={report.p50_s * 1000:.0f} {prefix}_p99_ms={report.p99_s * 1000:.0f} "
        f"{prefix}_p50_vs_alone={vs_alone:.1f} {prefix}_batches_s={rate:.0f} "
        f"{prefix}_server_cores={report.server_cores:.2f}"
    )


def failures(report: LoadReport) -> tuple[int, int, int]:
    """Lost (or undelivered), duplicated (or never acknowledged), 5xx."""
    return (
        report.lost + report.undelivered,
        report.extra + len(report.span_mismatches),
        report.stats.count(500, 600),
    )


def run_postgres(args: argparse.Namespace) -> tuple[str, tuple[int, int, int]] | None:
    """This script again under a throwaway cluster; its fields and failures, or None."""
    done = subprocess.run(
        [
            str(REPO / "scripts" / "with-postgres.sh"),
            sys.executable,
            __file__,
            "--backend-only",
            *("--agents", str(args.agents), "--period", str(args.period)),
            *("--seconds", str(args.seconds), "--drain", str(args.drain)),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(done.stdout, end="")
    match = re.search(r"^RESULT load_backend (.*) failures=(\d+),(\d+),(\d+)$", done.stdout, re.M)
    if not match:
        print("  PostgreSQL run failed:", done.stderr[-2000:])
        return None
    return match.group(1), (int(match.group(2)), int(match.group(3)), int(match.group(4)))


def main() -> int:
    """Measure each backend, print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between uploads")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load")
    parser.add_argument("--drain", type=float, default=90.0, help="retries after the load")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--backend-only", action="store_true")
    args = parser.parse_args()
    config = LoadConfig(
        agents=args.agents, period_s=args.period, duration_s=args.seconds, drain_s=args.drain
    )
    load = os.getloadavg()[0]
    print(f"  machine load average before: {load:.1f} on {os.cpu_count()} cores", flush=True)

    if args.backend_only:
        report = measure(config, os.environ.get("DATABASE_URL"))
        print("\n".join(f"  {line}" for line in report.lines()), flush=True)
        counts = ",".join(str(n) for n in failures(report))
        print(f"RESULT load_backend {figures('pg', report)} failures={counts}")
        return 0

    print(f"== SQLite: {args.agents} agents every {args.period:g} s for {args.seconds:g} s")
    sqlite = measure(config, None)
    print("\n".join(f"  {line}" for line in sqlite.lines()), flush=True)
    fields = [figures("sqlite", sqlite)]
    totals = list(failures(sqlite))
    if not args.skip_pg:
        print(f"== PostgreSQL (throwaway cluster): the same {args.agents} agents", flush=True)
        pg = run_postgres(args)
        if pg is None:
            return 1
        fields.append(pg[0])
        totals = [a + b for a, b in zip(totals, pg[1], strict=True)]
    lost, duplicated, http_5xx = totals
    print(
        f"RESULT load agents={args.agents} {' '.join(fields)} "
        f"lost={lost} duplicated={duplicated} http_5xx={http_5xx}"
    )
    return 1 if any(totals) else 0


if __name__ == "__main__":
    sys.exit(main())
