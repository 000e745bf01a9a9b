"""The few HTTP calls the agent makes, on the standard library's http.client.

Not requests (with charset_normalizer, idna, urllib3: ~9 MB of resident
memory) and not urllib.request either: its handlers, tempfile, shutil (bz2,
lzma) and hashlib cost ~1.7 MiB in a process that runs all day on every PC,
for three things we do here in a few lines: proxies (urllib.request is
imported only when the environment names one, or on Windows and macOS where
the system's proxy settings live), GET redirects on the same origin, and
turning a connection into a response. Retries are not here: the uploader's
backoff loop does them.

TLS is always verified, against the internal CA bundle given at enrollment,
or else the operating system's trust store (`tls_context`).
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import os
import re
import ssl
import sys
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from oxytrack_agent import __version__

USER_AGENT = f"oxytrack-agent/{__version__}"

#: As urllib.request: a GET follows at most this many redirects.
MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class TransportError(Exception):
    """No HTTP answer: DNS, refused, reset, timeout, TLS failure."""


class Response:
    """Status, headers and body of an answer (any status)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body)

    @property
    def reason(self) -> str:
        """A short text for the status."""
        try:
            from http import HTTPStatus

            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


class BadCaBundle(Exception):
    """The configured CA bundle cannot be read."""


# --- trust ---------------------------------------------------------------------------


def tls_context(verify: str | bool) -> ssl.SSLContext:
    """Verified TLS: `verify` as a CA bundle path (that CA only), or the system store.

    The system store is the operating system's, so a company CA installed there
    is trusted: on Windows the certificate store and on macOS the keychains,
    through truststore (the OS verifies the chain itself, as a browser does:
    roots Windows fetches on demand, enterprise and group-policy CAs); on Linux
    the distribution's CA directory (`system_trust_context`).
    """
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise BadCaBundle(f"{verify}: {exc}") from None
    return _system_store_context()


@functools.cache
def _system_store_context() -> ssl.SSLContext:
    # One context per process, shared by the start-up check, the uploader thread
    # and the last upload. A CA bundle (usually one CA) is read each time, so a
    # bundle removed after enrollment is still noticed.
    if sys.platform == "win32" or sys.platform == "darwin":
        import truststore

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return context
    return system_trust_context()


_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def hashed_ca_dir(path: str | None) -> bool:
    """True when `path` is an OpenSSL CA directory (`c_rehash` names: 8 hex digits.N)."""
    if not path:
        return False
    try:
        with os.scandir(path) as entries:
            return any(_HASHED_NAME.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


def system_trust_context() -> ssl.SSLContext:
    """The Linux system store, its certificates read only when a chain needs them.

    Debian, Ubuntu, Arch and openSUSE keep the store as a hashed directory too
    (update-ca-certificates, `trust extract-compat`): OpenSSL then looks a CA up
    by its subject's hash during the handshake and reads that one file, instead
    of parsing the whole bundle (~140 CAs, ~1.3 MiB resident all day). Where
    there is no such directory (Fedora, RHEL) or SSL_CERT_FILE names a bundle,
    the bundle is loaded as the standard library does. A chain the directory
    cannot verify is tried once more against the whole store (`request`), so a
    CA appended by hand to the bundle only is still trusted.
    """
    paths = ssl.get_default_verify_paths()
    if not os.environ.get(paths.openssl_cafile_env) and hashed_ca_dir(paths.capath):
        context = ssl.create_default_context(capath=paths.capath)
        _lazy_contexts.append(context)
        return context
    return ssl.create_default_context()


#: Contexts made by `system_trust_context` from the CA directory alone.
_lazy_contexts: list[ssl.SSLContext] = []


@functools.cache
def _whole_store_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _whole_store_instead(context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """The whole system store in place of a CA-directory context (None if not one)."""
    if not any(context is lazy for lazy in _lazy_contexts):
        return None
    whole = _whole_store_context()
    # Where the bundle is the directory's twin, nothing is worth a second try.
    return whole if whole.cert_store_stats()["x509_ca"] else None


# --- proxies ---------------------------------------------------------------------------


def proxy_for(scheme: str, host: str) -> str | None:
    """The proxy URL for a request to `host` by `scheme`, as urllib.request would pick it.

    From the environment (https_proxy, http_proxy, no_proxy, any case) and, on
    Windows and macOS, the system's proxy settings. urllib.request is only
    imported when there may be one (it costs ~1.7 MiB).
    """
    if sys.platform not in ("win32", "darwin") and not any(
        key.lower() in (f"{scheme}_proxy", "no_proxy") for key in os.environ
    ):
        return None
    import urllib.request

    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _connection(
    target: SplitResult, timeout: float, context: ssl.SSLContext | None
) -> tuple[http.client.HTTPConnection, bool, dict[str, str]]:
    """A connection for `target`; whether it is to an HTTP proxy; headers for that proxy."""
    scheme = target.scheme.lower()
    if scheme not in ("http", "https") or not target.hostname:
        raise TransportError(f"ValueError: not an http(s) address: {target.geturl()}")
    proxy = proxy_for(scheme, target.hostname)
    if proxy is None:
        if scheme == "https":
            return (
                http.client.HTTPSConnection(
                    target.hostname, target.port, timeout=timeout, context=context
                ),
                False,
                {},
            )
        return http.client.HTTPConnection(target.hostname, target.port, timeout=timeout), False, {}
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    auth: dict[str, str] = {}
    if via.username is not None:
        pair = f"{via.username}:{via.password or ''}".encode()
        auth["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    if scheme == "https":
        # CONNECT through the proxy, then TLS with the server itself.
        conn = http.client.HTTPSConnection(
            via.hostname or "", via.port or 80, timeout=timeout, context=context
        )
        conn.set_tunnel(target.hostname, target.port, headers=auth)
        return conn, False, {}
    return (
        http.client.HTTPConnection(via.hostname or "", via.port or 80, timeout=timeout),
        True,
        auth,
    )


def _once(
    method: str,
    url: str,
    headers: dict[str, str],
    data: bytes | None,
    timeout: float,
    context: ssl.SSLContext | None,
) -> Response:
    target = urlsplit(url)
    try:
        conn, through_proxy, proxy_headers = _connection(target, timeout, context)
    except ValueError as exc:  # a port that is not a number
        raise TransportError(f"ValueError: {exc}") from None
    path = target.path or "/"
    if target.query:
        path += f"?{target.query}"
    try:
        conn.request(
            method,
            url if through_proxy else path,
            body=data,
            headers={**headers, **proxy_headers, "Connection": "close"},
        )
        answer = conn.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        conn.close()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    json_body: Any = None,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> Response:
    """One HTTP request; any status comes back as a Response, no answer raises.

    A GET follows redirects to the same scheme, host and port (the device
    token is never sent elsewhere, nor downgraded to http); any other redirect
    comes back as it is.
    """
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        all_headers["Content-Type"] = "application/json"
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            try:
                response = _once(method, url, all_headers, data, timeout, context)
            except ssl.SSLCertVerificationError:
                whole = _whole_store_instead(context)
                if whole is None:
                    raise
                # Nothing was sent: the handshake failed before the request.
                context = whole
                response = _once(method, url, all_headers, data, timeout, context)
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        location = response.headers.get("Location")
        if method not in ("GET", "HEAD") or response.status not in _REDIRECTS or not location:
            return response
        then, now = urlsplit(url), urlsplit(urljoin(url, location))
        if (then.scheme, then.netloc) != (now.scheme, now.netloc):
            return response
        url = now.geturl()
    return response
