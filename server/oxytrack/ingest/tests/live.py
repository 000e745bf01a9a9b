"""A real OxyTrack server in a subprocess (gunicorn), for concurrency tests and the benchmark.

It runs on its own database, never the test database: a SQLite file in a
temporary directory, or a PostgreSQL URL given by the caller.

`suite_server` is the fixture of the tests that use it (concurrency, purge
under load): one server on the backend of the pass it runs in.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class LiveServer:
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        """Run `oxytrack <args>` against this server's database; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "oxytrack.manage", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout.strip()

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One call on a keep-alive connection: status, headers, decoded JSON (or text)."""
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    raw = response.read()
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    return response.status, dict(response.getheaders()), payload


def enroll_devices(server: LiveServer, n: int, prefix: str = "user") -> list[dict[str, Any]]:
    """Enroll `n` devices as agents do (the enrollment key, then POST /enroll); their replies.

    Each reply holds the device's `device_id` and `device_token`.
    """
    key = server.manage("enrollment_key").splitlines()[-1]
    conn = server.connection()
    replies = []
    try:
        for i in range(n):
            body = {"username": f"{prefix}{i}", "hostname": f"PC-{i}", "time_zone": "Europe/Paris"}
            status, _, reply = request(
                conn,
                "POST",
                "/api/agent/v1/enroll",
                json.dumps(body).encode(),
                {"X-Enrollment-Key": key, "Content-Type": "application/json"},
            )
            assert status == 201, reply
            replies.append(reply)
    finally:
        conn.close()
    return replies


@functools.cache
def collected_static_root() -> Path:
    """Static files collected once per test process, for every gunicorn the tests start.

    Production refuses to start without them (oxytrack.ops.checks); collecting
    them costs seconds and tens of MB, so the servers of a run share one copy.
    """
    root = Path(tempfile.mkdtemp(prefix="oxytrack-static-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "oxytrack.settings",
            "OXYTRACK_VAR_DIR": str(root / "var"),
            "OXYTRACK_STATIC_ROOT": str(root / "static"),
        }
    )
    subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", "collectstatic", "--noinput", "-v0"],
        env=env,
        check=True,
        timeout=300,
    )
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root / "static"


@contextmanager
def live_server(
    var_dir: Path,
    *,
    database_url: str | None = None,
    workers: int = 2,
    threads: int = 4,
    extra_env: dict[str, str] | None = None,
    serve: bool = False,
) -> Iterator[LiveServer]:
    """Migrate a fresh database and serve it with gunicorn on a free port; stop on exit.

    With `serve`, through `oxytrack serve`, the production command (its checks
    and gunicorn settings: timeouts, keep-alive; workers and threads then come
    from OXYTRACK_WORKERS and OXYTRACK_THREADS in `extra_env`).
    """
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "oxytrack.settings",
            "OXYTRACK_VAR_DIR": str(var_dir),
            "OXYTRACK_LOG_LEVEL": "WARNING",
            "OXYTRACK_STATIC_ROOT": str(collected_static_root()),
            **(extra_env or {}),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
        env.setdefault("SECRET_KEY", "x" * 64)
    subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", "migrate", "--noinput", "-v0"],
        env=env,
        check=True,
        timeout=300,
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = (
        [sys.executable, "-m", "oxytrack.manage", "serve", "--bind", "127.0.0.1:0"]
        if serve
        else [
            str(gunicorn),
            "oxytrack.wsgi",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "info",
        ]
    )
    process = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log: list[str] = []
    port_found = threading.Event()
    ports: list[int] = []

    def drain() -> None:
        # Keep reading stderr so the server never blocks on a full pipe.
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            log.append(line)
            match = _LISTENING.search(line)
            if match and not ports:
                ports.append(int(match.group(1)))
                port_found.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if not port_found.wait(60):
            raise RuntimeError("gunicorn did not start:\n" + "\n".join(log))
        server = LiveServer(ports[0], env, process, log)
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)


def _wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = server.connection()
            status, _, _ = request(conn, "GET", "/api/agent/v1/openapi.json")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server not ready:\n" + "\n".join(server.log))
        time.sleep(0.1)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the cluster of DATABASE_URL (its URL), dropped on exit."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"oxytrack_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def suite_backend() -> str:
    """The backend of this pass of the suite: "postgresql" when DATABASE_URL is set."""
    return "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"


@pytest.fixture(params=[suite_backend()])
def suite_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A migrated, empty OxyTrack behind gunicorn (2 workers) on the pass's backend.

    Each backend once: the SQLite pass runs the SQLite server, the PostgreSQL
    pass a fresh database on its cluster (a SQLite server there would only
    repeat the SQLite pass). The parameter names the backend in the test id.
    """
    if request.param == "sqlite":
        with live_server(tmp_path) as live:
            yield live
        return
    with fresh_postgres_database() as url, live_server(tmp_path, database_url=url) as live:
        yield live
