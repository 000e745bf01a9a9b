"""Fixtures for tests that cross components: a real X11 session and a live server.

- `x_session`: Xvfb on a display it picks itself (-displayfd) with openbox, a
  real EWMH window manager, plus helpers to open Tk windows with known titles
  and drive them with xdotool.
- `oxytrack_server` (one per session): the real Django app under gunicorn on a
  free port, with its own database (a SQLite file in a temp dir, or a database
  of its own on the PostgreSQL run), migrated, with agencies and services,
  and its enrollment key. It can be stopped and restarted on the same port
  (offline tests). Tests share it: each looks at its own time range.
- `agent_factory`: `oxytrack-agent` installations with their own XDG dirs.

Every process is stopped by its handle in teardown, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
import requests

from oxytrack.conftest import (  # noqa: F401 (an autouse fixture, imported to apply here)
    _forget_process_state,
)
from oxytrack.ingest.tests.live import collected_static_root

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


def stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 5) -> None:
    """Terminate, then kill, one process we started."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


# --- X11 ---------------------------------------------------------------------------


@dataclass
class XSession:
    """A display with a window manager, and the windows a test opened on it."""

    display: str
    windows: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a process that runs in this session."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        env["XDG_SESSION_TYPE"] = "x11"
        return env

    def xdotool(self, *args: str) -> str:
        """Run xdotool on this display; its output, stripped."""
        out = subprocess.run(
            ["xdotool", *args], env=self.env, check=True, capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip()

    def open_window(self, class_name: str, title: str) -> str:
        """Open a Tk window (WM_CLASS `class_name`, `title`); return its X window id."""
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "tkwindow.py"), class_name, title], env=self.env
        )
        self.windows.append(proc)
        return self.find_window(class_name)

    def find_window(self, class_name: str) -> str:
        """The id of the visible window of WM_CLASS `class_name` (waits for it)."""
        for attempt in range(5):
            try:
                # --sync waits until it is mapped; ASCII class names only (TESTING.md).
                ids = self.xdotool(
                    "search", "--sync", "--onlyvisible", "--class", f"^{class_name}$"
                )
                return ids.splitlines()[0]
            except subprocess.CalledProcessError:
                # A window of an earlier test vanishing mid-search makes xdotool fail.
                if attempt == 4:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def activate(self, window_id: str) -> None:
        """Give focus to a window through the window manager and wait for it."""
        self.xdotool("windowactivate", "--sync", window_id)

    def close_windows(self) -> None:
        """Close every window this test opened."""
        for proc in self.windows:
            stop_process(proc)
        self.windows.clear()


def _wait_for_wm(display: str, timeout: float = 15) -> None:
    from Xlib import display as xdisplay

    deadline = time.monotonic() + timeout
    d = xdisplay.Display(display)
    try:
        atom = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
        while time.monotonic() < deadline:
            if d.screen().root.get_full_property(atom, 0) is not None:
                return
            time.sleep(0.05)
    finally:
        d.close()
    raise RuntimeError("openbox did not start")


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on a display it picks itself (-displayfd); (process, ":N")."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        stop_process(xvfb)
        raise RuntimeError("Xvfb did not report a display")
    return xvfb, f":{number}"


def start_openbox(display: str) -> subprocess.Popen[bytes]:
    """openbox on `display`, once it has announced itself (_NET_SUPPORTING_WM_CHECK)."""
    env = {**os.environ, "DISPLAY": display}
    openbox = subprocess.Popen(
        ["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_wm(display)
    except BaseException:
        stop_process(openbox)
        raise
    return openbox


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """Xvfb with openbox, for one test module."""
    xvfb, display = start_xvfb()
    openbox = None
    try:
        openbox = start_openbox(display)
        yield display
    finally:
        stop_process(openbox)
        stop_process(xvfb)


@pytest.fixture
def x_session(x_display: str) -> Iterator[XSession]:
    """The module's display; windows opened by the test are closed after it."""
    session = XSession(x_display)
    yield session
    session.close_windows()


# --- live server -------------------------------------------------------------------


@dataclass
class LiveServer:
    """The real server in a subprocess, restartable on the same port."""

    var_dir: Path
    port: int
    env: dict[str, str]
    key: str = ""
    proc: subprocess.Popen[bytes] | None = None
    sock: socket.socket | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        """Run an `oxytrack` management command against this server's database."""
        out = subprocess.run(
            [str(BIN / "oxytrack"), *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return out.stdout

    def shell(self, code: str) -> Any:
        """Run Python in `oxytrack shell`; the JSON it prints, parsed."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> None:
        """Start gunicorn on the fixed port and wait until the API answers."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.set_inheritable(True)
        self.sock = sock
        log = open(self.var_dir / "gunicorn.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "oxytrack.wsgi",
                "--bind",
                f"fd://{sock.fileno()}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
                "--graceful-timeout",
                "2",
            ],
            env=self.env,
            pass_fds=(sock.fileno(),),
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited: {(self.var_dir / 'gunicorn.log').read_text()}"
                )
            try:
                if requests.get(f"{self.url}/api/agent/v1/openapi.json", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("the live server did not answer")

    def stop(self) -> None:
        """Stop gunicorn and close the port (clients then get connection refused)."""
        stop_process(self.proc)
        self.proc = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def kill9(self) -> None:
        """SIGKILL gunicorn's master and workers at once (a crash), then close the port."""
        assert self.proc is not None
        master = psutil.Process(self.proc.pid)
        procs = [master, *master.children(recursive=True)]
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(procs, timeout=10)
        self.proc.wait(10)
        self.proc = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def spans(self, device_id: str, since: float) -> list[dict[str, Any]]:
        """The spans the server stored for one device from `since` on, oldest first.

        The server recognises the same user on the same host as the same
        device across enrollments, so each test looks at its own time only.
        """
        return self.shell(
            "import json\n"
            "from datetime import UTC, datetime\n"
            "from oxytrack.activity.models import Span\n"
            "rows = Span.objects.select_related('window').filter("
            f"device__public_id='{device_id}', start__gte=datetime.fromtimestamp({since}, tz=UTC))"
            ".order_by('start')\n"
            "print(json.dumps([{'start': s.start.timestamp(), 'duration_s': s.duration_ms / 1000,"
            " 'app': s.window.app, 'title': s.window.title, 'active': s.active,"
            " 'keys': s.keys, 'clicks': s.clicks} for s in rows]))"
        )

    def device(self, device_id: str) -> dict[str, Any]:
        """What the server knows of one device and its employee."""
        return self.shell(
            "import json\n"
            "from oxytrack.org.models import Device\n"
            f"d = Device.objects.select_related('employee__agency', 'employee__service').get("
            f"public_id='{device_id}')\n"
            "e = d.employee\n"
            "print(json.dumps({'hostname': d.hostname, 'time_zone': d.time_zone,"
            " 'agency': e.agency.name if e.agency else None,"
            " 'service': e.service.name if e.service else None}))"
        )


@pytest.fixture(scope="session")
def oxytrack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real Django app under gunicorn, own database, agencies and services set up."""
    var_dir = tmp_path_factory.mktemp("server-var")
    env = dict(os.environ)
    env.update(
        {
            "OXYTRACK_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "oxytrack.settings",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OXYTRACK_STATIC_ROOT": str(collected_static_root()),
        }
    )
    # On the suite's SQLite run: its own SQLite file. On the PostgreSQL run: a
    # database of its own on the same cluster, so the agent's uploads go
    # through the PostgreSQL ingest path too.
    pg_url = env.get("DATABASE_URL", "")
    pg_name = None
    if pg_url.startswith(("postgres://", "postgresql://")):
        pg_name = f"oxytrack_e2e_{secrets.token_hex(4)}"
        _postgres_admin(pg_url, f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = urlunsplit(urlsplit(pg_url)._replace(path=f"/{pg_name}"))
        env["SECRET_KEY"] = secrets.token_urlsafe(64)
    else:
        env.pop("DATABASE_URL", None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = LiveServer(var_dir=var_dir, port=port, env=env)
    server.manage("migrate", "--no-input", "-v", "0")
    server.shell(
        "from oxytrack.org.models import Agency, Service\n"
        "[Agency.objects.get_or_create(name=n) for n in ('Nice', 'Fort-de-France')]\n"
        "[Service.objects.get_or_create(name=n) for n in ('Facturation', 'Ressources humaines')]\n"
        "print('null')"
    )
    server.key = server.manage("enrollment_key").strip().splitlines()[-1]
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if pg_name is not None:
            _postgres_admin(pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


def _postgres_admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


# --- the agent as a user runs it ------------------------------------------------------


@dataclass
class Agent:
    """One installation of the agent: its own XDG dirs, run as a subprocess."""

    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        """The agent's log."""
        return self.home / "data" / "oxytrack-agent" / "agent.log"

    @property
    def device_id(self) -> str:
        """The device id saved at enrollment."""
        import tomllib

        config = self.home / "config" / "oxytrack-agent" / "config.toml"
        return str(tomllib.loads(config.read_text())["device_id"])

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run one `oxytrack-agent` command to completion."""
        return subprocess.run(
            [str(BIN / "oxytrack-agent"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> None:
        """Start `oxytrack-agent run` and wait until it samples with input counting on."""
        start_at = self.log_file.stat().st_size if self.log_file.exists() else 0
        self.proc = subprocess.Popen(
            [str(BIN / "oxytrack-agent"), "run", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited {self.proc.returncode}: {self.log_text()}")
            if self.log_file.exists():
                with open(self.log_file, encoding="utf-8") as f:
                    f.seek(start_at)
                    if "input counting on" in f.read():
                        return
            time.sleep(0.1)
        raise RuntimeError(f"agent did not start: {self.log_text()}")

    def stop(self, timeout: float = 15) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took to exit)."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.terminate()
        code = self.proc.wait(timeout)
        self.proc = None
        return code, time.monotonic() - began

    def kill9(self) -> None:
        """SIGKILL: no chance to store or upload anything."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def log_text(self) -> str:
        """The whole log (for failure messages)."""
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""


@pytest.fixture
def agent_factory(tmp_path: Path, x_display: str) -> Iterator[Any]:
    """Make agents living in the test's temp dir on the module's display."""
    made: list[Agent] = []

    def make(name: str = "agent") -> Agent:
        home = tmp_path / name
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(
            {
                "DISPLAY": x_display,
                "XDG_SESSION_TYPE": "x11",
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_DATA_HOME": str(home / "data"),
                "TZ": "Europe/Paris",
                # French, the agent's default, whatever this machine's locale.
                "LANGUAGE": "fr",
            }
        )
        agent = Agent(home, env)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        stop_process(agent.proc)
