"""The server SIGKILLed with an upload in flight: the batch is stored once or not at all.

A real agent on X11 uploads through a TCP proxy in front of the real gunicorn.
The proxy lets every request through until the test arms it; the next batch
upload is then held at one of three moments, gunicorn's master and workers are
SIGKILLed together (a crash, an OOM kill, a power cut of the server), the agent's
connection drops, and the server comes back on the same database:

- `body`: the last byte of the body is held back, so the server never has the
  whole batch: it must store none of it;
- `working`: the whole request goes through and the kill follows at once, while
  the server is reading, validating or writing it: whatever it had done is kept
  whole or not at all;
- `answer`: the server has answered (so it has committed the batch) but the
  answer is held back: the agent never hears it, sends the batch again, and the
  server must recognise it (`duplicate`) instead of storing it twice.

Afterwards the spans tile the recorded time with no gap and no overlap: nothing
lost, nothing twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
import socket
import threading
import time
from typing import Any

import pytest

from .conftest import LiveServer, XSession
from .test_agent_x11 import start_enrolled_agent, switch_and_type

pytestmark = [pytest.mark.x11, pytest.mark.slow]

BATCHES_PATH = b"/api/agent/v1/batches"


class UploadProxy:
    """A TCP proxy that can hold the next batch upload at a chosen moment.

    The agent sends each request on its own connection (`Connection: close`),
    so one connection carries one request: its head, then `Content-Length`
    bytes of body.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.hold: str | None = None
        #: Set once the armed upload is held at its moment.
        self.held = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """What the agent is enrolled with."""
        return f"http://127.0.0.1:{self.port}"

    def arm(self, hold: str) -> None:
        """Hold the next batch upload at `hold` ("body", "working" or "answer")."""
        self.held.clear()
        self.hold = hold

    def drop_all(self) -> None:
        """Close every open connection (what the server's death does to them)."""
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Stop accepting and drop what is open."""
        self.listener.close()
        self.drop_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()  # the server is down: as a refused connection
            return
        with self._lock:
            self._open += [client, upstream]
        try:
            head, body = _read_request(client)
            hold = self.hold if head.split(b" ", 2)[:2] == [b"POST", BATCHES_PATH] else None
            if hold is not None:
                self.hold = None  # this upload only
            if hold == "body":
                upstream.sendall(head + body[:-1])
                self.held.set()
                return  # the last byte never comes
            upstream.sendall(head + body)
            if hold == "working":
                self.held.set()
                return
            answer = _read_all(upstream)
            if hold == "answer":
                self.held.set()
                return  # the agent never hears it
            client.sendall(answer)
        except OSError:
            pass
        finally:
            if hold is None:
                client.close()
                upstream.close()


def _read_request(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("closed before the end of the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("closed before the end of the body")
        body += chunk
    return head + b"\r\n\r\n", body


def _read_all(conn: socket.socket) -> bytes:
    out = b""
    while chunk := conn.recv(65536):
        out += chunk
    return out


def batch_count(server: LiveServer, device_id: str) -> int:
    """How many batches the server stored for the device (read from its database)."""
    return int(
        server.shell(
            "from oxytrack.ingest.models import Batch\n"
            f"print(Batch.objects.filter(device__public_id='{device_id}').count())"
        )
    )


@pytest.fixture
def proxy(oxytrack_server: LiveServer) -> Any:
    """A proxy in front of the live server."""
    p = UploadProxy(oxytrack_server.port)
    yield p
    p.close()


# `working` is where the database's own atomicity is tested: on both passes. The
# other two are the agent's and the protocol's business: once.
@pytest.mark.parametrize(
    "hold",
    [pytest.param("body", marks=pytest.mark.once), "working",
     pytest.param("answer", marks=pytest.mark.once)],
)  # fmt: skip
def test_the_server_killed_with_an_upload_in_flight_stores_it_once_or_not_at_all(
    x_session: XSession,
    oxytrack_server: LiveServer,
    proxy: UploadProxy,
    agent_factory: Any,
    hold: str,
) -> None:
    served = dataclasses.replace(oxytrack_server, port=proxy.port)  # the agent's view
    agent, wins, started, began = start_enrolled_agent(
        x_session, served, agent_factory, upload_interval="2"
    )
    try:
        switch_and_type(x_session, wins, 3, "ab")  # some uploads go through
        before = batch_count(oxytrack_server, agent.device_id)
        assert before >= 1, agent.log_text()
        proxy.arm(hold)
        deadline = time.monotonic() + 20
        while not proxy.held.is_set() and time.monotonic() < deadline:
            x_session.xdotool("key", "k")
            time.sleep(0.3)
        assert proxy.held.is_set(), "no upload reached the proxy"
        oxytrack_server.kill9()
        proxy.drop_all()
        stored = batch_count(oxytrack_server, agent.device_id)
        if hold == "body":
            assert stored == before  # it never had the whole batch
        elif hold == "answer":
            assert stored == before + 1  # committed, and the agent does not know
        else:
            assert stored in (before, before + 1)
        switch_and_type(x_session, wins, 2, "cd")  # uploads fail meanwhile
    finally:
        if oxytrack_server.proc is None:
            oxytrack_server.start()
    switch_and_type(x_session, wins, 2, "ef")
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0, agent.log_text()
    spans = oxytrack_server.spans(agent.device_id, since=started)
    # No gap and no duplicate: each span starts where the previous one ended.
    for a, b in itertools.pairwise(spans):
        assert b["start"] == pytest.approx(a["start"] + a["duration_s"], abs=0.005), (a, b)
    covered = sum(s["duration_s"] for s in spans)
    assert covered == pytest.approx(ended - began, abs=3)
    assert "En attente d'envoi : rien." in agent.cli("status").stdout
    if hold == "answer":
        # Sent again, recognised by its id rather than stored a second time; and
        # nothing else sent twice (a stop during a backoff once raced the final upload).
        log_text = agent.log_text()
        duplicates = [int(n) for n in re.findall(r"duplicates=(\d+)", log_text)]
        assert sum(duplicates) == 1, log_text
