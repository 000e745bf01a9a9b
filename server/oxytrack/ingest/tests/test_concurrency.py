"""The real server (gunicorn, 2 workers) under concurrent uploads, and a busy database.

These tests run their own server process on their own database: a SQLite
file in a temporary directory in the SQLite pass, a fresh database on the
cluster in the PostgreSQL pass (live.suite_server).
"""

# The fixture comes from live.py (shared with the purge test): imported here, then
# named as a test argument, which ruff reads as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oxytrack.ingest.tests.live import (  # noqa: F401
    LiveServer,
    enroll_devices,
    fresh_postgres_database,
    live_server,
    suite_backend,
    suite_server,
)
from oxytrack.ingest.tests.live import request as http

pytestmark = pytest.mark.slow

THREADS = 32
BATCHES_PER_THREAD = 2
SPANS_PER_BATCH = 50
DEVICES = 8  # four threads share each device, on disjoint time slots

COUNT_SCRIPT = """
import json
from django.db.models import Sum
from oxytrack.activity.models import DailyTotal, Span
from oxytrack.ingest.models import Batch
print(json.dumps({
    "batches": Batch.objects.count(),
    "spans": Span.objects.count(),
    "span_ms": Span.objects.aggregate(s=Sum("duration_ms"))["s"] or 0,
    "rollup_ms": DailyTotal.objects.aggregate(s=Sum("active_ms"))["s"] or 0,
    "keys": Span.objects.aggregate(s=Sum("keys"))["s"] or 0,
    "rollup_keys": DailyTotal.objects.aggregate(s=Sum("keys"))["s"] or 0,
}))
"""


def _enroll(server: LiveServer, n: int) -> list[str]:
    return [reply["device_token"] for reply in enroll_devices(server, n)]


def _batch(slot: int, number: int) -> dict[str, Any]:
    """Spans of 10 s in a time slot of their own (no overlap between threads)."""
    origin = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    start = origin + timedelta(seconds=10 * SPANS_PER_BATCH * (slot * BATCHES_PER_THREAD + number))
    return {
        "batch_id": str(uuid.uuid4()),
        "sent_at": datetime.now(UTC).isoformat(),
        "time_zone": "Europe/Paris",
        "spans": [
            {
                "start": (start + timedelta(seconds=10 * i)).isoformat(),
                "duration_s": 10,
                "app": "app.exe",
                "title": f"Document {slot % 7} — « {i % 5} »",
                "active": True,
                "keys": 3,
                "clicks": 1,
            }
            for i in range(SPANS_PER_BATCH)
        ],
    }


def _post(conn: Any, token: str, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return http(
        conn,
        "POST",
        "/api/agent/v1/batches",
        gzip.compress(json.dumps(payload).encode()),
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )


def test_concurrent_uploads_are_each_stored_exactly_once(suite_server: LiveServer) -> None:
    server = suite_server
    tokens = _enroll(server, DEVICES)
    payloads = [[_batch(t, b) for b in range(BATCHES_PER_THREAD)] for t in range(THREADS)]
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def upload(thread: int) -> None:
        conn = server.connection()
        token = tokens[thread % DEVICES]
        barrier.wait()
        try:
            for payload in payloads[thread]:
                status, _, reply = _post(conn, token, payload)
                # An agent retries a 503 with the same batch; so does this one.
                while status == 503:
                    time.sleep(0.1)
                    status, _, reply = _post(conn, token, payload)
                with lock:
                    results.append((status, reply))
            # And a replay of the first batch, racing with the others.
            status, _, reply = _post(conn, token, payloads[thread][0])
            with lock:
                results.append((status, reply))
        finally:
            conn.close()

    threads = [threading.Thread(target=upload, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)

    statuses = sorted({status for status, _ in results})
    assert statuses == [200], [r for r in results if r[0] != 200][:3]
    fresh = [reply for _, reply in results if not reply["duplicate"]]
    replays = [reply for _, reply in results if reply["duplicate"]]
    assert len(fresh) == THREADS * BATCHES_PER_THREAD
    assert len(replays) == THREADS
    counts = json.loads(server.manage("shell", "-c", COUNT_SCRIPT).splitlines()[-1])
    sent = THREADS * BATCHES_PER_THREAD * SPANS_PER_BATCH
    assert counts["batches"] == THREADS * BATCHES_PER_THREAD
    # Spans of 10 s may be cut at midnight: count milliseconds, not rows.
    assert counts["span_ms"] == sent * 10_000 == counts["rollup_ms"]
    assert counts["keys"] == sent * 3 == counts["rollup_keys"]


@contextmanager
def _held_write_lock(live: LiveServer, var_dir: Path, backend: str) -> Iterator[None]:
    """Another session holding the write lock an upload needs, until the block ends."""
    if backend == "sqlite":
        holder = sqlite3.connect(var_dir / "oxytrack.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import psycopg

    with psycopg.connect(live.env["DATABASE_URL"]) as pg_holder:
        # A long maintenance transaction: every write to the batch table waits.
        pg_holder.execute("LOCK TABLE ingest_batch IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            pg_holder.rollback()


def test_a_locked_database_answers_503_with_retry_after(tmp_path: Path) -> None:
    # Both backends: SQLite's single writer lock, a PostgreSQL table lock (without a
    # lock timeout the upload waited for as long as the lock was held: forever).
    # Waits of 1 s keep it short (production: 5 s per attempt).
    backend = suite_backend()
    timeouts = {"OXYTRACK_SQLITE_TIMEOUT_S": "1", "OXYTRACK_DB_LOCK_TIMEOUT_S": "1"}
    with ExitStack() as stack:
        url = stack.enter_context(fresh_postgres_database()) if backend != "sqlite" else None
        live = stack.enter_context(live_server(tmp_path, database_url=url, extra_env=timeouts))
        (token,) = _enroll(live, 1)
        conn = live.connection()
        stack.callback(conn.close)
        payload = _batch(0, 0)
        with _held_write_lock(live, tmp_path, backend):
            began = time.monotonic()
            status, headers, reply = _post(conn, token, payload)
            waited = time.monotonic() - began
            assert status == 503, reply
            assert reply["code"] == "busy"
            assert int(headers["Retry-After"]) > 0
            assert waited < 10  # three tries of 1 s, not as long as the lock is held
        # The agent retries the same batch later: stored once.
        status, _, reply = _post(conn, token, payload)
        assert status == 200 and reply["duplicate"] is False
        status, _, reply = _post(conn, token, payload)
        assert status == 200 and reply["duplicate"] is True
        counts = json.loads(live.manage("shell", "-c", COUNT_SCRIPT).splitlines()[-1])
        assert counts["batches"] == 1
        assert counts["span_ms"] == SPANS_PER_BATCH * 10_000 == counts["rollup_ms"]
