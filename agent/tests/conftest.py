"""Fixtures for the agent's unit tests: temp platform dirs and a fake server.

The fake server is a real HTTP server on a free port that speaks the agent
protocol (DESIGN.md); each test scripts what it answers.

Every test here is marked `once`: none reaches the server's database, so the
PostgreSQL pass of `make test` would only run them a second time (docs/testing.md).

The Windows CI job runs this directory too (`python -m pytest agent`): a test of
behaviour that Windows has as well is written for both (the `xdg` fixture, the
token's ACL); what only Linux has is listed in `collect_ignore`, never skipped.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from oxytrack_agent import i18n
from oxytrack_agent.config import Config, Paths

HERE = Path(__file__).resolve().parent

#: Files of Linux-only behaviour: not collected elsewhere (a skip would fail CI).
#: windows/ and x11/ are kept to their OS by conftests of their own.
LINUX_ONLY = {
    "test_cli_linux.py": "a desktop-less session and Wayland exist on Linux only",
    "test_enroll_name_linux.py": "the passwd database's GECOS field, read by the X11 backend",
    "test_imports.py": "the Linux agent's memory budget, measured under Xvfb with xdotool",
    "test_local_ips_linux.py": "SIOCGIFCONF and /proc/net/if_inet6, in network namespaces",
    "test_locale_catalogues.py": "GNU gettext's msgfmt and xgettext (same files on every OS)",
    "test_localzone.py": "the /etc/localtime link (Windows' zone is tzlocal's: tests/windows)",
    "test_platform_parts_linux.py": "X11 text properties, Wayland and DISPLAY",
    "test_tls_trust_linux.py": "OpenSSL's hashed CA directory (Windows trusts its own store)",
}
collect_ignore = [] if sys.platform.startswith("linux") else sorted(LINUX_ONLY)

# How often the fake servers' loop looks for shutdown(): the default 0.5 s was
# half a second of every test's teardown.
POLL_S = 0.02

TOKEN = "oxd_test-token-0123456789abcdef0123456789abcdef"
KEY = "enrollment-key-for-tests"

#: The variable the `xdg` fixture points the agent's config directory with:
#: XDG on Linux; on Windows platformdirs' override of %LOCALAPPDATA% (it
#: reads the folder from the shell, not from the environment).
CONFIG_HOME = "WIN_PD_OVERRIDE_LOCAL_APPDATA" if sys.platform == "win32" else "XDG_CONFIG_HOME"

#: What a refused certificate chain says: OpenSSL's reason; on Windows, where the
#: system store is verified by Windows (truststore), its own error text follows.
UNTRUSTED = "SSLCertVerificationError" if sys.platform == "win32" else "CERTIFICATE_VERIFY_FAILED"


def assert_user_only(path: Path) -> None:
    """`path` is readable by its user alone: 0600 on POSIX, one ACL entry on Windows."""
    if sys.platform == "win32":
        shown = subprocess.run(
            ["icacls", str(path)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        # "<path> <entry>", one line per further entry, a blank line, then a summary.
        entries = [line for line in shown.splitlines()[:-2] if line.strip()]
        assert len(entries) == 1 and "(F)" in entries[0], shown
    else:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the agent's tests `once` (before `-m` deselects), and only them."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.once)


@pytest.fixture(autouse=True)
def french(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The agent speaks French whatever this machine's locale (tests switch it on purpose)."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANGUAGE", "fr")
    i18n.reset()
    yield
    i18n.reset()


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeServer:
    """What the fake server received, and what it will answer next."""

    url: str = ""
    batches: list[dict[str, Any]] = field(default_factory=list)
    batch_headers: list[dict[str, str]] = field(default_factory=list)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    batch_replies: list[Reply] = field(default_factory=list)
    enroll_replies: list[Reply] = field(default_factory=list)
    policy: dict[str, Any] = field(
        default_factory=lambda: {
            "version": "1",
            "sample_interval_s": 1,
            "upload_interval_s": 600,
            "idle_threshold_s": 180,
            "titles": "full",
            "redact": [],
            "exclude_apps": [],
            "input_counts": True,
        }
    )
    policy_gets: int = 0
    stored_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stored(self) -> list[dict[str, Any]]:
        """Batches the server acknowledged as new (no duplicates)."""
        seen: set[str] = set()
        out = []
        for b in self.batches:
            if b["batch_id"] in self.stored_ids and b["batch_id"] not in seen:
                seen.add(b["batch_id"])
                out.append(b)
        return out


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            data: dict[str, Any] = json.loads(raw)
            return data

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(Reply(401, {"code": "unauthorized", "message": "unknown token"}))
                return False
            return True

        def do_GET(self) -> None:
            if self.path.endswith("/choices"):
                if self.headers.get("X-Enrollment-Key") != KEY:
                    self._send(Reply(401, {"code": "bad_key", "message": "bad key"}))
                    return
                self._send(
                    Reply(
                        200,
                        {"agencies": ["Nice", "Fort-de-France"], "services": ["Facturation", "RH"]},
                    )
                )
            elif self.path.endswith("/policy"):
                if self._authorized():
                    with server.lock:
                        server.policy_gets += 1
                    self._send(Reply(200, server.policy))
            else:
                self._send(Reply(404, {"code": "not_found", "message": "no"}))

        def do_POST(self) -> None:
            if self.path.endswith("/enroll"):
                body = self._body()
                with server.lock:
                    server.enrollments.append(body)
                    reply = server.enroll_replies.pop(0) if server.enroll_replies else None
                self._send(
                    reply
                    or Reply(
                        201,
                        {
                            "device_id": "6f1c1c1e-1111-4222-8333-944444444444",
                            "device_token": TOKEN,
                            "policy": server.policy,
                        },
                    )
                )
            elif self.path.endswith("/batches"):
                if not self._authorized():
                    return
                body = self._body()
                with server.lock:
                    server.batches.append(body)
                    server.batch_headers.append(dict(self.headers))
                    reply = server.batch_replies.pop(0) if server.batch_replies else None
                    if reply is None:
                        duplicate = body["batch_id"] in server.stored_ids
                        server.stored_ids.add(body["batch_id"])
                        reply = Reply(
                            200,
                            {
                                "accepted": len(body["spans"]),
                                "duplicate": duplicate,
                                "policy_version": server.policy["version"],
                            },
                        )
                self._send(reply)
            else:
                self._send(Reply(404, {"code": "not_found", "message": "no"}))

    return Handler


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A protocol-speaking HTTP server on a free port, stopped after the test."""
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@dataclass
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    """A private CA and a certificate it signed for 127.0.0.1 (openssl CLI)."""
    d = tmp_path / "tls"
    d.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=OxyTrack test CA", "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "server.pem")  # fmt: skip
    return TlsFiles(ca=d / "ca.pem", cert=d / "server.pem", key=d / "server.key")


@pytest.fixture
def tls_server(tls_files: TlsFiles) -> Iterator[FakeServer]:
    """The fake server behind HTTPS with a certificate from a private CA."""
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.url = f"https://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """Config and data dirs of their own."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paths]:
    """The agent's default dirs pointing into the test's temp dir (what `main` uses).

    Linux: XDG_CONFIG_HOME and XDG_DATA_HOME. Windows: platformdirs'
    WIN_PD_OVERRIDE_* variables, and the user's Run values (autostart) put back
    as they were after the test, so no test touches the real profile.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    if sys.platform != "win32":
        yield Paths.default()
        return
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("WIN_PD_OVERRIDE_APPDATA", str(tmp_path / "xdg-roaming"))
    paths = Paths.default()
    # An older platformdirs would ignore the override: stop before writing to the profile.
    assert paths.config_dir.is_relative_to(tmp_path), paths
    assert paths.data_dir.is_relative_to(tmp_path), paths
    with _run_values_restored():
        yield paths


@contextlib.contextmanager
def _run_values_restored() -> Iterator[None]:
    """HKCU's Run values of the agent and its tray as they were before (Windows)."""
    if sys.platform != "win32":
        raise AssertionError("Windows only")
    import winreg

    from oxytrack_agent.autostart import RUN_KEY, RUN_VALUE, TRAY_RUN_VALUE

    def read(name: str) -> str | None:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                return str(winreg.QueryValueEx(key, name)[0])
        except FileNotFoundError:
            return None

    before = {name: read(name) for name in (RUN_VALUE, TRAY_RUN_VALUE)}
    try:
        yield
    finally:
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            for name, value in before.items():
                if value is not None:
                    winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)
                elif read(name) is not None:
                    winreg.DeleteValue(key, name)


@pytest.fixture
def config(fake_server: FakeServer) -> Config:
    """A configuration pointing at the fake server."""
    return Config(server=fake_server.url, device_id="6f1c1c1e-1111-4222-8333-944444444444")
