"""Faults on the server's side (issue 13), against `oxytrack serve` (the production gunicorn).

Each test does what a bad client or a stuck database does to a running
server and checks what an operator would notice: a connection closed or a
4xx rather than a hang, a 503 the agent retries rather than a 500, another
client still answered meanwhile. Measured results: docs/reliability.md.

The module starts its own server: the production command with short
timeouts (OXYTRACK_TIMEOUT_S, OXYTRACK_SQLITE_TIMEOUT_S) and a small thread
pool, so that running out of threads is cheap to provoke. It runs on its own
SQLite file whatever DATABASE_URL says (marked `once`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oxytrack.ingest.tests.live import enroll_devices, live_server
from oxytrack.ingest.tests.payloads import batch, span

pytestmark = pytest.mark.once

WORKERS = 1
THREADS = 2
TIMEOUT_S = 5
SQLITE_TIMEOUT_S = 1
BATCHES = "/api/agent/v1/batches"


@dataclass
class Served:
    """`oxytrack serve` in a subprocess, its port, a device token and its log."""

    port: int
    var_dir: Path
    token: str
    log: list[str] = field(default_factory=list)

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], Any]:
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return response.status, dict(response.getheaders()), payload

    def post_batch(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        return self.call(
            "POST",
            BATCHES,
            json.dumps(payload).encode(),
            {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    var_dir = tmp_path_factory.mktemp("faults-var")
    small = {
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OXYTRACK_LOG_LEVEL": "INFO",
        "OXYTRACK_WORKERS": str(WORKERS),
        "OXYTRACK_THREADS": str(THREADS),
        "OXYTRACK_TIMEOUT_S": str(TIMEOUT_S),
        "OXYTRACK_SQLITE_TIMEOUT_S": str(SQLITE_TIMEOUT_S),
    }
    with live_server(var_dir, serve=True, extra_env=small) as live:
        token = enroll_devices(live, 1, "slowpoke")[0]["device_token"]
        yield Served(live.port, var_dir, token, live.log)


def _batch(minutes_ago: int) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return batch([span(start, 30.0, keys=12, clicks=3)], time_zone="Europe/Paris")


def _quick_get(server: Served, timeout: float = 3) -> float:
    """Seconds a normal client waits for the API's schema (fails past `timeout`)."""
    began = time.monotonic()
    status, _, _ = server.call("GET", "/api/agent/v1/openapi.json", timeout=timeout)
    assert status == 200
    return time.monotonic() - began


def _raw(server: Served, data: bytes, timeout: float = 15) -> bytes:
    """Send raw bytes; everything the server answers until it closes (or b'' on a reset)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        # Closed while we were still sending: the answer may be in the buffer.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def _status(reply: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", reply)
    return int(match.group(1)) if match else None


# --- 1. slow bodies ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="bare gunicorn (docs/reliability.md): its gthread worker reads a body with no "
    "deadline and --timeout only watches the worker's main loop, so workers x threads slow "
    "uploads hold every thread; the shipped nginx front takes them (e2e/test_proxy.py)",
)
def test_slow_bodies_are_cut_off_and_do_not_starve_other_clients(served: Served) -> None:
    """More slow uploads than the server has threads: each is closed, others answered."""
    slow = WORKERS * THREADS + 2
    headers = (
        f"POST {BATCHES} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {served.token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000\r\n\r\n"
    ).encode()
    closed_after: list[float | None] = [None] * slow
    replies: list[bytes] = [b""] * slow
    stop = threading.Event()

    def slowloris(i: int) -> None:
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", served.port), timeout=1) as sock:
            sock.sendall(headers + b"{")
            received = b""
            while not stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    try:
                        sock.sendall(b" ")  # one byte a second, never the whole body
                    except OSError:
                        break
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
            replies[i] = received
            if not stop.is_set():
                closed_after[i] = time.monotonic() - began

    threads = [threading.Thread(target=slowloris, args=(i,), daemon=True) for i in range(slow)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # every slow client has sent its headers and started dribbling
    waited: float | None = None
    starved: Exception | None = None
    try:
        waited = _quick_get(served, timeout=3)
    except (TimeoutError, OSError) as exc:
        starved = exc
    deadline = time.monotonic() + TIMEOUT_S + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(5)
    seen = f"normal request: {waited or starved!r}; slow uploads closed after (s): {closed_after}"
    assert waited is not None and waited < 2, seen
    assert all(c is not None for c in closed_after), seen
    for reply in replies:
        assert _status(reply) in (None, 400, 408, 413), reply[:200]


# --- 2. huge headers --------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"GET /api/agent/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n",
            id="100kB-header",
        ),
        pytest.param(
            b"GET /api/agent/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(500))
            + b"\r\n",
            id="500-headers",
        ),
        pytest.param(
            b"GET /api/agent/v1/openapi.json?q=" + b"a" * 100_000 + b" HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\n\r\n",
            id="100kB-url",
        ),
    ],
)
def test_huge_headers_get_a_4xx_or_a_closed_connection_at_once(
    served: Served, request_bytes: bytes
) -> None:
    began = time.monotonic()
    reply = _raw(served, request_bytes)
    took = time.monotonic() - began
    status = _status(reply)
    assert status is None or 400 <= status < 500, reply[:300]
    assert took < 3
    assert _quick_get(served) < 2


# --- 3. the database locked by a long write transaction -----------------------------


def test_a_locked_database_gives_503_retry_after_then_the_batch_is_stored_once(
    served: Served,
) -> None:
    payload = _batch(minutes_ago=30)
    holder = sqlite3.connect(served.var_dir / "oxytrack.sqlite3", timeout=5, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        began = time.monotonic()
        status, headers, body = served.post_batch(payload)
        busy_for = time.monotonic() - began
        # Pages that only read still work meanwhile (WAL).
        assert _quick_get(served) < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 503, body
    assert int(headers["Retry-After"]) > 0
    assert set(body) >= {"code", "message"} and body["code"] and body["message"], body
    assert busy_for < 15

    status, _, body = served.post_batch(payload)
    assert status in (200, 201), body
    assert body.get("duplicate") is False, body
    status, _, body = served.post_batch(payload)
    assert status in (200, 201), body
    assert body.get("duplicate") is True, body
    with sqlite3.connect(served.var_dir / "oxytrack.sqlite3") as db:
        (stored,) = db.execute(
            "SELECT count(*) FROM ingest_batch WHERE batch_id = ?",
            (uuid.UUID(payload["batch_id"]).hex,),
        ).fetchone()
    assert stored == 1
