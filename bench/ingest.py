"""Ingest throughput: OxyTrack's full HTTP path vs. raw SQLite vs. ActivityWatch.

Run alone with `.venv/bin/python bench/ingest.py` (a minute or two: it
builds a throwaway venv for aw-server). Prints spans/s for each and ends
with one line:

    RESULT ingest oxytrack_spans_s=N raw_spans_s=N aw_spans_s=N vs_raw=R vs_aw=R

- oxytrack: the real server (gunicorn, 2 workers of 4 threads as `make
  run` starts it, SQLite in a temp dir); devices enrolled through the API; a
  few client threads upload gzipped batches of 1,000 spans for ~20 s. The
  payloads are built before the clock starts, so the figure is the
  server's, not the client's. Each upload opens its own connection, as an
  agent does (it uploads every few minutes, long after any keep-alive).
  Before the clock starts, each device uploads one batch and the windows
  are mapped to their categories, as after a manager's first page view: the
  hot titles then hit the category rollup's triggers on every upload, as in
  use (unmapped windows, the one-off titles, add nothing to it until mapped).
- raw: `sqlite3.executemany` of the same rows into an equivalent indexed
  table (WAL, one transaction per 1,000 rows): the floor of the storage cost.
- aw: ActivityWatch's Python server (aw-server 0.12.0 from PyPI, in its own
  venv) receiving the same spans as events, 1,000 per POST, a connection
  each too.
- PostgreSQL: the OxyTrack figure again on a throwaway cluster
  (scripts/with-postgres.sh), when the server binaries are installed.

The three run side by side: all set up first, then measured in alternating
short rounds, so a shared machine's changing load hits them alike.

Options: --seconds N (per system, default 20), --threads N (default 4),
--rounds N (default 4), --skip-aw, --skip-pg, --oxytrack-only (used for the
PostgreSQL run).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from oxytrack.ingest.tests.live import live_server, request  # noqa: E402

BATCH = 1000
AW_PINS = ["aw-server==0.12.0", "Flask==2.2.5", "Werkzeug==2.3.8", "peewee==3.19.0"]
APPS = ["excel.exe", "chrome.exe", "outlook.exe", "teams.exe", "code.exe", "explorer.exe"]


def make_spans(
    device: int, batch_index: int
) -> list[tuple[datetime, float, str, str, bool, int, int]]:
    """1,000 back-to-back spans of one device; consecutive batches follow each other.

    Spans of 4 s start 150 days ago, so a device's timeline crosses local
    midnights (split by the server) and never reaches the present.
    """
    rng = random.Random(device * 100_003 + batch_index)
    origin = datetime.now(UTC).replace(microsecond=0) - timedelta(days=150)
    start = origin + timedelta(seconds=4 * BATCH * batch_index)
    spans = []
    for i in range(BATCH):
        app = rng.choice(APPS)
        # A realistic mix: a few hot titles and a long tail of one-offs.
        if rng.random() < 0.8:
            title = f"{app} — document {rng.randrange(40)}.xlsx"
        else:
            title = f"Onglet {rng.randrange(1_000_000)} - « recherche » — {app}"
        spans.append(
            (
                start + timedelta(seconds=4 * i),
                4.0,
                app,
                title,
                rng.random() < 0.85,
                rng.randrange(60),
                rng.randrange(10),
            )
        )
    return spans


def batch_body(spans: list[tuple[datetime, float, str, str, bool, int, int]]) -> bytes:
    payload = {
        "batch_id": str(uuid.uuid4()),
        "sent_at": datetime.now(UTC).isoformat(),
        "time_zone": "Europe/Paris",
        "spans": [
            {
                "start": s.isoformat(),
                "duration_s": d,
                "app": app,
                "title": title,
                "active": active,
                "keys": keys,
                "clicks": clicks,
            }
            for s, d, app, title, active, keys, clicks in spans
        ],
    }
    return gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), 5)


Runner = Callable[[float], tuple[int, float]]


def _run_clients(
    threads: int, seconds: float, send: Callable[[int], int | None]
) -> tuple[int, float, list[str]]:
    """Call `send(thread)` in `threads` threads for `seconds`: spans sent, elapsed, errors.

    `send` returns the spans it sent, or None when its thread has no batch left.
    """
    counts = [0] * threads
    errors: list[str] = []
    barrier = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def work(t: int) -> None:
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            try:
                sent = send(t)
            except Exception as exc:
                errors.append(repr(exc))
                break
            if sent is None:
                break
            counts[t] += sent

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.monotonic()
    barrier.wait()
    for thread in pool:
        thread.join()
    return sum(counts), time.monotonic() - began, errors


def _batches_needed(seconds: float, threads: int, rate: int) -> int:
    # Enough pre-built batches per thread to keep a server busy for `seconds`
    # at `rate` spans/s; a thread that runs out stops (the rate stays right).
    return max(10, int(seconds * rate / BATCH / threads) + 5)


#: Maps every window to its category (what a page view's refresh does).
MAP_WINDOWS = "from oxytrack.categories.window_map import refresh; refresh()"


@contextmanager
def oxytrack_runner(seconds: float, threads: int, database_url: str | None) -> Iterator[Runner]:
    """The real server (gunicorn, 2 workers), devices enrolled, gzipped batches ready."""
    per_thread = _batches_needed(seconds, threads, 30_000)
    print(f"  building {per_thread * threads} batches of {BATCH} spans…", flush=True)
    bodies = [[batch_body(make_spans(t, i)) for i in range(per_thread)] for t in range(threads)]
    with (
        tempfile.TemporaryDirectory(prefix="oxytrack-bench-") as tmp,
        # Spans start 150 days back: kept that long, not refused as too old.
        live_server(
            Path(tmp),
            database_url=database_url,
            extra_env={
                "OXYTRACK_SPAN_RETENTION_DAYS": "400",
                "OXYTRACK_ROLLUP_RETENTION_DAYS": "400",
            },
        ) as server,
    ):
        key = server.manage("enrollment_key")
        tokens = []
        conn = server.connection()
        for t in range(threads):
            enroll = {
                "username": f"bench{t}",
                "domain": "BENCH",
                "hostname": f"PC-BENCH-{t}",
                "os": "Windows 11",
                "agent_version": "bench",
                "time_zone": "Europe/Paris",
            }
            status, _, reply = request(
                conn,
                "POST",
                "/api/agent/v1/enroll",
                json.dumps(enroll).encode(),
                {"X-Enrollment-Key": key, "Content-Type": "application/json"},
            )
            assert status == 201, (status, reply)
            tokens.append(reply["device_token"])
        conn.close()
        connections = [server.connection() for _ in range(threads)]
        position = [0] * threads
        warm_up = True

        def send(t: int) -> int | None:
            if position[t] >= per_thread:
                return None
            body = bodies[t][position[t]]
            position[t] += 1
            status, _, reply = request(
                connections[t],
                "POST",
                "/api/agent/v1/batches",
                body,
                {
                    "Authorization": f"Bearer {tokens[t]}",
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                    "Connection": "close",
                },
            )
            if status != 200 or reply["duplicate"]:
                raise RuntimeError(f"batch refused: {status} {reply}")
            return int(reply["accepted"])

        def run(seconds: float) -> tuple[int, float]:
            nonlocal warm_up
            if warm_up:
                # One batch per device, then the window map, as after a manager's
                # first page view: the hot windows are mapped, so every upload to
                # them also adds to the category rollup (its triggers), as in use.
                for t in range(threads):
                    send(t)
                server.manage("shell", "-c", MAP_WINDOWS)
                warm_up = False
            # No connection outlives an upload (`Connection: close`): http.client
            # opens a new one for each request.
            sent, elapsed, errors = _run_clients(threads, seconds, send)
            if errors:
                raise RuntimeError(f"upload errors: {errors[:3]}")
            return sent, elapsed

        try:
            yield run
        finally:
            for conn in connections:
                conn.close()


@contextmanager
def raw_runner() -> Iterator[Runner]:
    """sqlite3.executemany into an equivalent indexed table (WAL, 1,000 rows per commit)."""
    with tempfile.TemporaryDirectory(prefix="oxytrack-raw-") as tmp:
        db = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE span (id INTEGER PRIMARY KEY, employee_id INTEGER, device_id INTEGER,"
            " start TEXT, duration_ms INTEGER, day TEXT, window_id INTEGER, active INTEGER,"
            " keys INTEGER, clicks INTEGER)"
        )
        db.execute("CREATE INDEX span_employee_start ON span (employee_id, start)")
        db.execute("CREATE INDEX span_device_start ON span (device_id, start)")
        windows: dict[tuple[str, str], int] = {}
        batches = []
        for i in range(40):
            rows = []
            for s, d, app, title, active, keys, clicks in make_spans(0, i):
                window = windows.setdefault((app, title), len(windows) + 1)
                rows.append(
                    (
                        1,
                        1,
                        s.strftime("%Y-%m-%d %H:%M:%S"),
                        int(d * 1000),
                        s.date().isoformat(),
                        window,
                        active,
                        keys,
                        clicks,
                    )
                )
            batches.append(rows)
        sql = (
            "INSERT INTO span (employee_id, device_id, start, duration_ms, day, window_id,"
            " active, keys, clicks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        device = [1]

        def run(seconds: float) -> tuple[int, float]:
            # Only the inserts are timed; each round writes the same rows for
            # another device, so the table and its indexes keep growing.
            sent, elapsed = 0, 0.0
            while elapsed < seconds:
                device[0] += 1
                shifted = [[(e, device[0], *rest) for e, _, *rest in rows] for rows in batches]
                began = time.perf_counter()
                for rows in shifted:
                    db.execute("BEGIN")
                    db.executemany(sql, rows)
                    db.execute("COMMIT")
                    sent += len(rows)
                elapsed += time.perf_counter() - began
            return sent, elapsed

        try:
            yield run
        finally:
            db.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def aw_runner(seconds: float, threads: int) -> Iterator[Runner]:
    """aw-server 0.12.0 (own venv) receiving the same spans as events, 1,000 per POST."""
    with tempfile.TemporaryDirectory(prefix="oxytrack-aw-") as tmp:
        venv = Path(tmp) / "venv"
        print("  installing aw-server in a throwaway venv…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *AW_PINS],
            check=True,
            timeout=600,
            stderr=subprocess.DEVNULL,
        )
        port = _free_port()
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(Path(tmp) / "data"),
            "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
            "XDG_CACHE_HOME": str(Path(tmp) / "cache"),
        }
        log_path = Path(tmp) / "aw.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(venv / "bin" / "aw-server"), "--testing", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            connections: list[http.client.HTTPConnection] = []
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                        status, _, _ = request(conn, "GET", "/api/0/info")
                        conn.close()
                        if status == 200:
                            break
                    except OSError:
                        pass
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("aw-server did not start: " + log_path.read_text())
                    time.sleep(0.2)
                per_thread = _batches_needed(seconds, threads, 20_000)
                bodies = []
                for t in range(threads):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status, _, reply = request(
                        conn,
                        "POST",
                        f"/api/0/buckets/bench-window_{t}",
                        json.dumps(
                            {"client": "bench", "type": "currentwindow", "hostname": f"PC-{t}"}
                        ).encode(),
                        {"Content-Type": "application/json"},
                    )
                    conn.close()
                    assert status in (200, 304), (status, reply)
                    bodies.append(
                        [
                            json.dumps(
                                [
                                    {
                                        "timestamp": s.isoformat(),
                                        "duration": d,
                                        "data": {"app": app, "title": title},
                                    }
                                    for s, d, app, title, *_ in make_spans(t, i)
                                ]
                            ).encode()
                            for i in range(per_thread)
                        ]
                    )
                connections = [
                    http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    for _ in range(threads)
                ]
                position = [0] * threads

                def send(t: int) -> int | None:
                    if position[t] >= per_thread:
                        return None
                    body = bodies[t][position[t]]
                    position[t] += 1
                    status, _, reply = request(
                        connections[t],
                        "POST",
                        f"/api/0/buckets/bench-window_{t}/events",
                        body,
                        {"Content-Type": "application/json", "Connection": "close"},
                    )
                    if status != 200:
                        raise RuntimeError(f"aw refused: {status} {str(reply)[:200]}")
                    return BATCH

                def run(seconds: float) -> tuple[int, float]:
                    sent, elapsed, errors = _run_clients(threads, seconds, send)
                    if errors:
                        raise RuntimeError(f"aw errors: {errors[:3]}")
                    return sent, elapsed

                yield run
            finally:
                for conn in connections:
                    conn.close()
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def bench_postgres(seconds: float, threads: int) -> float | None:
    """The OxyTrack figure on a throwaway PostgreSQL cluster, or None if unavailable."""
    script = REPO / "scripts" / "with-postgres.sh"
    done = subprocess.run(
        [
            str(script),
            sys.executable,
            __file__,
            "--oxytrack-only",
            "--seconds",
            str(seconds),
            "--threads",
            str(threads),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    match = re.search(r"RESULT oxytrack_only spans_s=([0-9.]+)", done.stdout)
    if not match:
        print("  PostgreSQL run failed:", (done.stdout + done.stderr)[-1500:])
        return None
    return float(match.group(1))


def main() -> None:
    """Run the measurements side by side and print the RESULT line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="per system, in total")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the systems")
    parser.add_argument("--skip-aw", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--oxytrack-only", action="store_true")
    args = parser.parse_args()

    if args.oxytrack_only:
        with oxytrack_runner(args.seconds, args.threads, os.environ.get("DATABASE_URL")) as run:
            sent, elapsed = run(args.seconds)
        print(f"RESULT oxytrack_only spans_s={sent / elapsed:.0f}")
        return

    print("== setting up: OxyTrack (gunicorn, 2 workers, SQLite), raw sqlite3, aw-server 0.12.0")
    with ExitStack() as stack:
        runners: dict[str, Runner] = {
            "oxytrack": stack.enter_context(oxytrack_runner(args.seconds, args.threads, None)),
            "raw": stack.enter_context(raw_runner()),
        }
        if not args.skip_aw:
            runners["aw"] = stack.enter_context(aw_runner(args.seconds, args.threads))
        # Alternating short rounds: on a shared machine whose load varies, each
        # system sees the same conditions, so the ratios mean something.
        totals = {name: [0, 0.0] for name in runners}
        for number in range(args.rounds):
            for name, run in runners.items():
                sent, elapsed = run(args.seconds / args.rounds)
                totals[name][0] += sent
                totals[name][1] += elapsed
            print(f"  round {number + 1}/{args.rounds} done", flush=True)
    rates = {name: (sent / elapsed if elapsed else 0.0) for name, (sent, elapsed) in totals.items()}
    ox, raw, aw = rates["oxytrack"], rates["raw"], rates.get("aw", 0.0)
    print(
        f"== OxyTrack over HTTP ({args.threads} clients, gzipped batches of {BATCH}): "
        f"{ox:,.0f} spans/s"
    )
    print(f"== raw sqlite3.executemany (WAL, {BATCH} rows per transaction): {raw:,.0f} rows/s")
    if aw:
        print(f"== aw-server 0.12.0 (POST events, {BATCH} per request): {aw:,.0f} events/s")
    if not args.skip_pg:
        print("== OxyTrack over HTTP on PostgreSQL (throwaway cluster, measured after)")
        pg = bench_postgres(args.seconds, args.threads)
        print(f"  {pg:,.0f} spans/s" if pg else "  (not measured)")
    vs_raw = ox / raw if raw else 0.0
    vs_aw = ox / aw if aw else 0.0
    print(
        f"OxyTrack / raw = {vs_raw:.2f} (target ≥ 0.25); "
        f"OxyTrack / aw-server = {vs_aw:.1f} (target ≥ 3)"
    )
    print(
        f"RESULT ingest oxytrack_spans_s={ox:.0f} raw_spans_s={raw:.0f} aw_spans_s={aw:.0f} "
        f"vs_raw={vs_raw:.2f} vs_aw={vs_aw:.2f}"
    )


if __name__ == "__main__":
    main()
