"""Proxies as urllib's, and redirects that never take the token elsewhere.

Linux's own trust (the system's hashed CA directory, read lazily) is tested in
test_tls_trust_linux.py; Windows' (its certificate store) in tests/windows/.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator

import pytest

from oxytrack_agent.config import Config
from oxytrack_agent.http import request
from oxytrack_agent.uploader import Client

from .conftest import TOKEN, FakeServer, TlsFiles

AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --- proxies -------------------------------------------------------------------------


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT), and notes what it was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://user:s3cret@127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.requests.append(head.decode("latin-1"))
            host, port = head.split(b" ")[1].decode().rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                ends = [client, upstream]
                while True:
                    ready, _, _ = select.select(ends, [], [], 10)
                    if not ready:
                        return
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is client else client).sendall(data)

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy()
    yield p
    p.close()


def test_https_goes_through_the_proxy_of_the_environment(
    tls_server: FakeServer,
    tls_files: TlsFiles,
    proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("no_proxy", "NO_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", proxy.url)
    client = Client(Config(tls_server.url, "x", ca_bundle=str(tls_files.ca)), TOKEN, timeout=10)
    assert client.get_policy().version == tls_server.policy["version"]
    (asked,) = proxy.requests
    port = tls_server.url.rsplit(":", 1)[1]
    assert asked.startswith(f"CONNECT 127.0.0.1:{port} HTTP/1.")
    assert "Proxy-Authorization: Basic dXNlcjpzM2NyZXQ=" in asked  # user:s3cret
    assert TOKEN not in asked  # the device token only crosses inside TLS


def test_no_proxy_bypasses_it(
    tls_server: FakeServer,
    tls_files: TlsFiles,
    proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    client = Client(Config(tls_server.url, "x", ca_bundle=str(tls_files.ca)), TOKEN, timeout=10)
    assert client.get_policy().version == tls_server.policy["version"]
    assert proxy.requests == []


# --- redirects -------------------------------------------------------------------------


@pytest.fixture
def redirecting() -> Iterator[str]:
    """/moved answers 302 to /here on the same server, /away to another origin."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/here":
                body = self.headers.get("Authorization", "").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(302)
            target = "/here" if self.path == "/moved" else "http://example.invalid/here"
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_get_follows_a_redirect_on_the_same_server_only(redirecting: str) -> None:
    moved = request("GET", f"{redirecting}/moved", headers=AUTH)
    assert (moved.status, moved.body) == (200, AUTH["Authorization"].encode())
    # Elsewhere: the token is not sent to another origin; the answer comes back as it is.
    away = request("GET", f"{redirecting}/away", headers=AUTH)
    assert away.status == 302
    assert away.headers["Location"] == "http://example.invalid/here"
