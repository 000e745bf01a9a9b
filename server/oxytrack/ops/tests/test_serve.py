"""Production start on a fresh var/ directory, with real gunicorn processes.

Plain gunicorn before `collectstatic` used to answer every page with a 500
(missing manifest entry); it must now refuse to start and say what to run.
`oxytrack serve` is the documented start: migrations checked, static files
collected, gunicorn exec'd.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oxytrack.ops.management.commands.serve import gunicorn_settings

pytestmark = [pytest.mark.once, pytest.mark.slow]

LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+) \((\d+)\)")


def clean_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "SECRET_KEY", "DJANGO_", "OXYTRACK_", "DEBUG"))
    }
    env["OXYTRACK_VAR_DIR"] = str(var_dir)
    return env


def oxytrack(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", *args],
        env=clean_env(var_dir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class Server:
    """A process that should become gunicorn; its output is kept, its port read from it."""

    def __init__(self, var_dir: Path, argv: list[str]) -> None:
        self.lines: list[str] = []
        self.listening = threading.Event()
        self.port = self.master_pid = 0
        self.proc = subprocess.Popen(
            argv,
            env=clean_env(var_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            match = LISTENING.search(line)
            if match and not self.listening.is_set():
                self.port, self.master_pid = int(match.group(1)), int(match.group(2))
                self.listening.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.reader.join(5)
        return self.proc.returncode


def gunicorn_argv() -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", "oxytrack.wsgi", "--bind", "127.0.0.1:0"]
    if "control_socket_disable" in gunicorn_settings():
        argv.append("--no-control-socket")
    return [*argv, "--workers", "1", "--log-level", "info"]


def test_gunicorn_refuses_to_start_without_collected_static_files(tmp_path: Path) -> None:
    assert oxytrack(tmp_path, "migrate", "--noinput", "-v0").returncode == 0
    server = Server(tmp_path, gunicorn_argv())
    answers: list[int] = []
    try:
        assert server.listening.wait(60), server.output
        # Whoever calls while it starts gets no page at all, in particular no 500.
        deadline = time.monotonic() + 60
        while server.proc.poll() is None and not answers and time.monotonic() < deadline:
            try:
                answers.append(server.get("/login/")[0])
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
        assert answers == [], server.output
        returncode = server.proc.poll()
    finally:
        server.stop()
    assert returncode not in (None, 0), server.output
    assert "Worker failed to boot" in server.output
    assert "static files (CSS, JavaScript) are not collected" in server.output
    assert "`oxytrack serve`" in server.output
    assert "oxytrack collectstatic --noinput" in server.output

    # `oxytrack check --deploy` says the same before anyone starts gunicorn.
    checked = oxytrack(tmp_path, "check", "--deploy")
    assert checked.returncode != 0
    assert "oxytrack.E001" in checked.stderr and "oxytrack serve" in checked.stderr


def test_serve_checks_migrations_collects_static_files_and_serves(tmp_path: Path) -> None:
    refused = oxytrack(tmp_path, "serve", "--bind", "127.0.0.1:0")
    assert refused.returncode == 1
    assert "the database is not up to date" in refused.stderr
    assert "`oxytrack migrate`" in refused.stderr
    assert "oxytrack serve --migrate" in refused.stderr
    assert not (tmp_path / "static").exists()

    serve = ["serve", "--migrate", "--bind", "127.0.0.1:0", "--workers", "1", "--threads", "2"]
    server = Server(tmp_path, [sys.executable, "-m", "oxytrack.manage", *serve])
    try:
        assert server.listening.wait(180), server.output
        # exec: the process we started is gunicorn's master, so signals reach it.
        assert server.master_pid == server.proc.pid
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = server.get("/login/")
                break
            except (OSError, http.client.HTTPException):
                assert time.monotonic() < deadline, server.output
                time.sleep(0.2)
        assert status == 200, server.output
        page = body.decode()
        css = re.search(r'href="(/static/oxytrack/app\.[0-9a-f]{12}\.css)"', page)
        assert css, page
        status, headers, body = server.get(css.group(1))
        assert status == 200
        assert b"--accent" in body
        # A hashed name, served by whitenoise as immutable: the manifest is in use.
        assert "immutable" in headers.get("Cache-Control", "")
        assert " 500 " not in server.output
    finally:
        returncode = server.stop()
    assert returncode == 0, server.output
    assert (tmp_path / "static" / "staticfiles.json").exists()
