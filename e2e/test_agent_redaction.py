"""Redaction on the PC, end to end: real X11 windows, the real agent, the real server.

Tk windows carry realistic sensitive titles (patient lists, mail subjects,
care software, banks, private windows, password managers, URLs, a social
security number, a birth date). The agent talks to the server through a
recording proxy; the test then reads every byte the agent sent (gzip
decoded) and every byte of its data and config directories (SQLite file,
WAL, log, saved policy) and finds none of the sensitive parts, while the
server holds the redacted titles.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import Agent, LiveServer, XSession

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]

# (WM_CLASS, i.e. the app name the agent reads; title; what the server must store;
# the parts that must never leave the window; not words of the rules themselves,
# which the saved policy holds).
CORPUS = [
    ("Excel", "Liste des patients agence84 2019 - Excel", "Excel", ["patients agence84"]),
    (
        "Outlook",
        "RE: Mme Durand, retour d'hospitalisation - Message (HTML)",
        "Messagerie",
        ["Durand", "hospitalisation"],
    ),
    (
        "Chrome",
        "https://intranet.example.fr/patients/1234?nom=Dupont - Google Chrome",
        "intranet.example.fr - Google Chrome",
        ["Dupont", "patients/1234"],
    ),
    ("Apologic", "Dossier de Mme Lefebvre Jeanne - Apologic", "Logiciel de soins", ["Lefebvre"]),
    (
        "Firefox",
        "Crédit Agricole - Compte de Mme Moreau — Mozilla Firefox",
        "Banque",
        ["Moreau"],
    ),
    (
        "Navigator",
        "Forum Girard — Navigation privée de Mozilla Firefox",
        "Navigation privée",
        ["Girard"],
    ),
    ("Keepassxc", "Rousseau.kdbx - KeePassXC", "Gestionnaire de mots de passe", ["Rousseau"]),
    ("Word", "Attestation Mercier 1 85 05 78 006 084 36 - Word", "Word", ["Mercier", "006 084"]),
    # The whole date, not "1937" alone: four digits also turn up by chance in the
    # queue's bytes (an epoch timestamp such as 1764601937), which is no leak.
    ("Writer", "Courrier Fontaine née le 03/04/1937 - Word", "Writer", ["Fontaine", "03/04/1937"]),
]
# Not sensitive: stored as they are (so the test sees titles do get through).
PLAIN = [("Budget", "Budget 2026 - Excel"), ("Planning", "Planning tournées - Word")]
SENSITIVE = [part for *_, parts in CORPUS for part in parts]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class RecordingProxy:
    """An HTTP proxy in front of the live server that keeps every request body."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.bodies: list[bytes] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.bodies.append(body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                reply = requests.request(
                    self.command, proxy.target + self.path, headers=headers, data=body, timeout=30
                )
                content = reply.content  # decoded by requests
                self.send_response(reply.status_code)
                for key, value in reply.headers.items():
                    if key.lower() not in HOP_BY_HOP | {"content-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the agent sends its requests."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def sent(self) -> bytes:
        """Every request body, each also gzip-decoded when it was compressed."""
        out = []
        for body in self.bodies:
            out.append(body)
            if body[:2] == b"\x1f\x8b":
                out.append(gzip.decompress(body))
        return b"\n".join(out)


@pytest.fixture
def proxy(oxytrack_server: LiveServer) -> Iterator[RecordingProxy]:
    recording = RecordingProxy(oxytrack_server.url)
    recording.thread.start()
    try:
        yield recording
    finally:
        recording.server.shutdown()
        recording.server.server_close()


def every_byte(*dirs: Path) -> bytes:
    """All bytes of every file under `dirs` (the SQLite file, its WAL, logs, policy)."""
    return b"\n".join(
        path.read_bytes() for d in dirs if d.exists() for path in d.rglob("*") if path.is_file()
    )


def leaks(data: bytes) -> list[str]:
    return [part for part in SENSITIVE if part.encode() in data]


def test_sensitive_titles_never_reach_the_disk_the_network_or_the_server(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any, proxy: RecordingProxy
) -> None:
    windows = [x_session.open_window(cls, title) for cls, title, *_ in CORPUS]
    windows += [x_session.open_window(cls, title) for cls, title in PLAIN]
    agent: Agent = agent_factory()
    enrolled = agent.cli(
        "enroll", "--server", proxy.url, "--key", oxytrack_server.key,
        "--agency", "Nice", "--service", "Facturation",
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stderr
    x_session.activate(windows[0])
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "60")
    for window in windows:
        x_session.activate(window)
        x_session.xdotool("type", "--delay", "50", "ok")
        time.sleep(1.6)
    time.sleep(2.5)  # at least one upload while running
    data_dir = agent.home / "data"
    # While it runs: the queue (SQLite + WAL), its checkpoint, the log.
    running = every_byte(data_dir, agent.home / "config")
    code, _ = agent.stop()
    assert code == 0, agent.log_text()
    stopped = every_byte(data_dir, agent.home / "config")

    assert b"SQLite format 3" in stopped  # the queue file was read
    assert leaks(running) == []
    assert leaks(stopped) == []
    sent = proxy.sent()
    assert b'"spans"' in sent  # batches went through the proxy
    assert leaks(sent) == []

    stored = {(s["app"], s["title"]) for s in oxytrack_server.spans(agent.device_id, since=started)}
    assert {(cls, redacted) for cls, _title, redacted, _ in CORPUS} <= stored
    assert set(PLAIN) <= stored
    assert leaks("\n".join(title for _app, title in stored).encode()) == []
    # `status` shows the titles as the server holds them, and none of the originals.
    status = agent.cli("status")
    assert "Messagerie" in status.stdout
    assert leaks(status.stdout.encode()) == []
