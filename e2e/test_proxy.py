"""The shipped nginx front (deploy/nginx/) in front of `oxytrack serve`, for real.

Bare gunicorn is starved by as many slow uploads as it has threads
(test_server_faults.py, a strict xfail). Production runs behind the proxy
deploy/nginx/ ships; these tests run that proxy's settings as shipped
(`oxytrack-proxy.conf`, included in a plain-HTTP server block on a free port)
against a small real server (1 worker, 2 threads), and check the site file
itself with `nginx -t`. Debian's nginx-light (scripts/test.sh installs it).
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oxytrack.ingest.tests.live import LiveServer, enroll_devices, live_server
from oxytrack.ingest.tests.payloads import batch, span

pytestmark = [pytest.mark.once, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ROOT / "deploy" / "nginx" / "oxytrack-proxy.conf"
SITE = ROOT / "deploy" / "nginx" / "oxytrack.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKERS, THREADS = 1, 2
BATCHES = "/api/agent/v1/batches"
BODY_TIMEOUT_S = 10  # client_body_timeout in the snippet


@dataclass
class Front:
    """nginx on `port` in front of `server`, and a device token."""

    port: int
    server: LiveServer
    token: str

    def call(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 10
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return response.status, dict(response.getheaders()), payload


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nginx_conf(tmp: Path, body: str) -> Path:
    """A whole nginx.conf around `body` (inside `http`), everything under `tmp`."""
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        # One process, as the user running the tests: nothing under /var or /run.
        "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log info;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"  access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/client_body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n"
        f"  scgi_temp_path {tmp}/scgi;\n"
        f"{body}\n}}\n"
    )
    return conf


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    var_dir = tmp_path_factory.mktemp("proxy-var")
    small = {
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OXYTRACK_WORKERS": str(WORKERS),
        "OXYTRACK_THREADS": str(THREADS),
        "OXYTRACK_TRUSTED_PROXIES": "127.0.0.1",
    }
    with live_server(var_dir, serve=True, extra_env=small) as server:
        token = enroll_devices(server, 1, "proxied")[0]["device_token"]
        port = _free_port()
        tmp = tmp_path_factory.mktemp("nginx")
        conf = _nginx_conf(
            tmp,
            f"  upstream oxytrack {{ server 127.0.0.1:{server.port}; keepalive 4; }}\n"
            f"  server {{\n    listen 127.0.0.1:{port};\n    include {SNIPPET};\n  }}",
        )
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if nginx.poll() is not None or time.monotonic() > deadline:
                        err = nginx.stderr.read().decode() if nginx.stderr else ""
                        raise RuntimeError(f"nginx did not start: {err}") from None
                    time.sleep(0.05)
            yield Front(port, server, token)
        finally:
            nginx.terminate()
            nginx.wait(10)


def _batch() -> bytes:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    return json.dumps(batch([span(start, 30.0)], time_zone="Europe/Paris")).encode()


def _slow_upload(front: Front, stop: threading.Event, out: list[bytes], quiet_after: int) -> None:
    """An upload's headers, then one byte a second; silent after `quiet_after` bytes."""
    head = (
        f"POST {BATCHES} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {front.token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000\r\n\r\n{"
    ).encode()
    received = b""
    sent = 0
    with socket.create_connection(("127.0.0.1", front.port), timeout=1) as sock:
        sock.sendall(head)
        while not stop.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if sent < quiet_after:
                    try:
                        sock.sendall(b" ")  # never the whole body
                    except OSError:
                        break
                    sent += 1
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    out.append(received)


def test_slow_uploads_behind_the_proxy_never_hold_a_gunicorn_thread(front: Front) -> None:
    # Ten times as many as the server has threads: bare, none of the others is answered.
    slow = 10 * WORKERS * THREADS
    stop = threading.Event()
    replies: list[bytes] = []
    threads = [
        threading.Thread(target=_slow_upload, args=(front, stop, replies, 10**6), daemon=True)
        for _ in range(slow)
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(2)  # every slow client is dribbling its body
        began = time.monotonic()
        status, _, _ = front.call("GET", "/api/agent/v1/openapi.json", timeout=3)
        waited = time.monotonic() - began
        assert status == 200 and waited < 1.5, waited
        # A real upload meanwhile is stored at once.
        status, _, reply = front.call("POST", BATCHES, _batch(), timeout=5)
        assert status == 200 and reply["accepted"] == 1, reply
        assert all(t.is_alive() for t in threads)  # still dribbling
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    # None of them ever reached the server: only the real upload is stored.
    stored = front.server.manage(
        "shell", "-c", "from oxytrack.ingest.models import Batch; print(Batch.objects.count())"
    )
    assert stored.splitlines()[-1] == "1"


def test_an_upload_gone_quiet_is_answered_408_by_the_proxy(front: Front) -> None:
    stop = threading.Event()
    replies: list[bytes] = []
    began = time.monotonic()
    _slow_upload(front, stop, replies, quiet_after=2)  # returns once nginx closes
    took = time.monotonic() - began
    assert BODY_TIMEOUT_S <= took < BODY_TIMEOUT_S + 5, took
    assert replies[0] == b"" or replies[0].startswith(b"HTTP/1.1 408"), replies[0][:200]


def test_an_oversized_upload_gets_the_apis_json_413_from_the_proxy(front: Front) -> None:
    status, _, reply = front.call("POST", BATCHES, b" " * (9 * 1024 * 1024), timeout=30)
    assert status == 413
    assert reply == {"code": "too_large", "message": "Request body too large."}


def test_the_site_file_as_shipped_is_valid_nginx(tmp_path: Path) -> None:
    key, cert = tmp_path / "site.key", tmp_path / "site.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=oxytrack.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = SITE.read_text()
    # Only what an installer changes: where the certificate and the snippet are.
    site = site.replace("/etc/ssl/certs/oxytrack.example.com.pem", str(cert))
    site = site.replace("/etc/ssl/private/oxytrack.example.com.key", str(key))
    site = site.replace("/etc/nginx/snippets/oxytrack-proxy.conf", str(SNIPPET))
    (tmp_path / "site.conf").write_text(site)
    conf = _nginx_conf(tmp_path, f"  include {tmp_path}/site.conf;")
    done = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
