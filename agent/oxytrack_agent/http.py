"""The few HTTP calls the agent makes, on the standard library.

urllib.request rather than requests: the agent runs all day on every PC and
requests (with charset_normalizer, idna, urllib3) costs ~9 MB of resident
memory for nothing we need. Retries are not here: the uploader's tenacity
loop does them. TLS is verified against the system store, or the internal CA
bundle given at enrollment.
"""

from __future__ import annotations

import functools
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from oxytrack_agent import __version__

USER_AGENT = f"oxytrack-agent/{__version__}"


class TransportError(Exception):
    """No HTTP answer: DNS, refused, reset, timeout, TLS failure."""


@dataclass(frozen=True)
class Response:
    """Status, headers and body of an answer (any status)."""

    status: int
    headers: Message
    body: bytes

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


def tls_context(verify: str | bool) -> ssl.SSLContext:
    """Verified TLS: the system store, or `verify` as a CA bundle path."""
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise BadCaBundle(f"{verify}: {exc}") from None
    return _system_store_context()


@functools.cache
def _system_store_context() -> ssl.SSLContext:
    # Loading the system store parses every CA in it (~2 MiB resident each time,
    # not all given back): one context per process, shared by the start-up check,
    # the uploader thread and the last upload. A CA bundle (usually one CA) is
    # read each time, so a bundle removed after enrollment is still noticed.
    return ssl.create_default_context()


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
    """One HTTP request; any status comes back as a Response, no answer raises."""
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:  # noqa: S310
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, exc.headers, exc.read())
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransportError(f"{type(reason).__name__}: {reason}") from exc
