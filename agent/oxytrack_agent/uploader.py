"""The uploader: its own thread drains the outbox to the server.

Retries are tenacity's (exponential backoff with full jitter, capped at 10
minutes, `Retry-After` honoured); the sleep is an Event wait so shutdown never
waits for a backoff. tenacity is imported at the first failed upload only:
with its dataclasses, inspect and concurrent.futures it costs ~0.5 MiB, which a
healthy agent never pays (docs/architecture.md, memory). 401 stops uploading
until re-enrollment; any other 4xx sets the batch aside with the server's
message and the rest goes on.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from oxytrack_agent.config import Config, FatalError
from oxytrack_agent.health import Health
from oxytrack_agent.http import BadCaBundle, Response, TransportError, request, tls_context
from oxytrack_agent.i18n import N_, _
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
REENROLL_MESSAGE = N_(
    "Le serveur ne reconnaît plus cet appareil (401) : l'envoi est arrêté. "
    "Réinscrivez l'agent avec « oxytrack-agent enroll »."
)


class TransientError(Exception):
    """Worth retrying later: network down, timeout, 429, 503, 5xx.

    `kind` is "network" (the server could not be reached) or "server" (it
    answered, but not now), for `status`.
    """

    def __init__(
        self, message: str, retry_after: float | None = None, *, kind: str = "server"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind


class ReenrollRequired(FatalError):
    """401: the token is unknown or revoked; only a new enrollment helps."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(tz=UTC))).total_seconds())


def error_message(response: Response) -> str:
    """The server's `{code, message}` as one line, or the raw status."""
    try:
        data = response.json()
        return f"{response.status} {data.get('code', '')}: {data.get('message', '')}"
    except (ValueError, AttributeError):
        return f"{response.status} {response.reason}"


class PolicyHolder:
    """The policy in force, shared by the sampler and the uploader threads."""

    def __init__(self, policy: Policy, on_change: Callable[[Policy], None] | None = None) -> None:
        self._policy = policy
        self._lock = threading.Lock()
        self._on_change = on_change

    def get(self) -> Policy:
        """The current policy."""
        with self._lock:
            return self._policy

    def set(self, policy: Policy) -> None:
        """Replace the policy (and persist it through the callback)."""
        with self._lock:
            self._policy = policy
        if self._on_change is not None:
            self._on_change(policy)


@dataclass
class UploadResult:
    """What one pass sent."""

    sent_batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


class Client:
    """HTTP calls of the agent API with the device token (TLS verified)."""

    def __init__(self, config: Config, token: str, *, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        try:
            self._context = tls_context(config.verify)
        except BadCaBundle as exc:
            raise FatalError(
                _("Certificats de l'autorité interne illisibles : {error}").format(error=exc)
            ) from None
        self._auth = {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        """Nothing pooled: each call opens its own connection (one per upload interval)."""

    def _call(
        self,
        method: str,
        path: str,
        timeout: float | None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        try:
            response = request(
                method,
                f"{self.config.api}/{path}",
                headers={**self._auth, **(headers or {})},
                data=data,
                timeout=timeout or self.timeout,
                context=self._context,
            )
        except TransportError as exc:
            # Network down, refused, timeout, or a TLS problem the admin may fix
            # on the server: all worth retrying with backoff.
            raise TransientError(f"réseau : {exc}", kind="network") from exc
        status = response.status
        if status == 401:
            raise ReenrollRequired(_(REENROLL_MESSAGE))
        if status in (408, 429) or status >= 500:
            raise TransientError(
                error_message(response), parse_retry_after(response.headers.get("Retry-After"))
            )
        return response

    def post_batch(self, body: bytes, timeout: float | None = None) -> Response:
        """POST one sealed batch, gzip-compressed (mtime 0: same bytes on every retry)."""
        return self._call(
            "POST",
            "batches",
            timeout,
            data=gzip.compress(body, mtime=0),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    def get_policy(self, timeout: float | None = None) -> Policy:
        """GET the policy in force for this device."""
        response = self._call("GET", "policy", timeout)
        if response.status != 200:
            raise TransientError(error_message(response))
        return Policy.from_json(response.json())


class Uploader:
    """Seal and send the queue; run() is the thread's body."""

    def __init__(
        self,
        queue: Queue,
        client: Client,
        policy: PolicyHolder,
        *,
        time_zone: Callable[[], str],
        local_ips: Callable[[], list[str]] = list,
        interval: Callable[[], float],
        health: Health | None = None,
    ) -> None:
        self.queue = queue
        self.health = health
        self.client = client
        self.policy = policy
        self.time_zone = time_zone
        self.local_ips = local_ips
        self.interval = interval
        self.stopped_for_reenroll = False
        self._local_failures = 0

    def upload_once(
        self, timeout: float | None = None, stop: threading.Event | None = None
    ) -> UploadResult:
        """Seal waiting spans and send every pending batch in order.

        Raises TransientError at the first batch that could not be delivered
        (the later ones wait behind it), ReenrollRequired on 401. Once `stop`
        is set no further batch is begun: the rest is the final upload's.
        """
        self.queue.seal(time_zone=self.time_zone(), local_ips=self.local_ips())
        result = UploadResult()
        for batch in self.queue.pending():
            if stop is not None and stop.is_set():
                break
            self.queue.note_attempt(batch.batch_id)
            try:
                response = self.client.post_batch(batch.body, timeout)
            except TransientError as exc:
                self._trouble(exc.kind, str(exc))
                self.queue.note_error(str(exc))
                raise
            result.sent_batches += 1
            if response.status in (200, 201):
                reply = response.json()
                if self.health is not None:
                    self.health.update(
                        upload_kind=None, upload_since=None, upload_message="",
                        last_success=time.time(),
                    )  # fmt: skip
                self.queue.ack(batch.batch_id)
                result.accepted += int(reply.get("accepted", 0))
                result.duplicates += int(bool(reply.get("duplicate", False)))
                self._maybe_refresh_policy(reply.get("policy_version"), timeout)
            else:
                # A 4xx we cannot fix by retrying: a bug on one side. Keep the
                # batch aside (status shows it) and let the others through.
                message = error_message(response)
                log.error("batch %s refused by the server: %r", batch.batch_id, message)
                self.queue.reject(batch.batch_id, message)
                result.rejected += 1
        return result

    def _trouble(self, kind: str, message: str) -> None:
        """Tell `status` that uploads fail, keeping since when."""
        if self.health is None:
            return
        state = self.health.state
        since = state.upload_since if state.upload_kind == kind else None
        self.health.update(
            upload_kind=kind, upload_since=since or time.time(), upload_message=message
        )

    def _maybe_refresh_policy(self, version: Any, timeout: float | None) -> None:
        if version is None or version == self.policy.get().version:
            return
        try:
            self.policy.set(self.client.get_policy(timeout))
            log.info("policy updated to version %s", self.policy.get().version)
        except TransientError as exc:
            log.warning("could not refresh the policy: %s", exc)

    def _upload_logged(self, stop: threading.Event) -> None:
        result = self.upload_once(stop=stop)
        if result.sent_batches:
            log.info("uploaded %s", result)

    def _wait(self, state: RetryCallState) -> float:
        from tenacity import wait_random_exponential

        backoff = wait_random_exponential(multiplier=1, max=MAX_BACKOFF_S)(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(max(backoff, exc.retry_after), MAX_BACKOFF_S * 6)
        return backoff

    def _upload_with_retries(self, stop: threading.Event) -> None:
        """`upload_once` until it succeeds; TransientError only once `stop` is set."""
        try:
            self._upload_logged(stop)
            return
        except TransientError as exc:
            if stop.is_set():
                raise
            failed: list[TransientError] = [exc]
        from tenacity import Retrying, retry_if_exception_type

        def attempt() -> None:
            # tenacity's first attempt is the failure already seen, so its
            # backoff (and Retry-After) comes before the next real try.
            if failed:
                raise failed.pop()
            if stop.is_set():
                # Shutdown cut the backoff short: the last attempt is the
                # caller's (final_upload), not a second one racing it.
                raise TransientError("arrêt de l'agent")
            self._upload_logged(stop)

        def sleep(seconds: float) -> None:
            stop.wait(seconds)  # a backoff sleep that shutdown interrupts at once

        for retry in Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=self._wait,
            sleep=sleep,
            stop=lambda _state: stop.is_set(),
            reraise=True,
            before_sleep=lambda s: log.warning(
                "upload failed (%s), retrying", s.outcome.exception() if s.outcome else ""
            ),
        ):
            with retry:
                attempt()

    def run(self, stop: threading.Event, wake: threading.Event) -> None:
        """Upload every `interval()` seconds (or when woken) until `stop` is set."""
        while not stop.is_set():
            wake.wait(self.interval())
            wake.clear()
            if stop.is_set():
                return
            try:
                self._upload_with_retries(stop)
            except TransientError:
                return  # stopping: the final attempt is the caller's
            except ReenrollRequired as exc:
                log.error("%s", exc)
                self._trouble("reenroll", str(exc))
                self.stopped_for_reenroll = True
                try:
                    self.queue.note_error(str(exc))
                    self.queue.set_meta("needs_reenroll", "1")
                except (sqlite3.Error, OSError):
                    log.warning("re-enrollment needed, not written to the queue (disk)")
                return
            except (sqlite3.Error, OSError) as exc:
                # The local queue refuses (full disk): the sampler holds spans in
                # memory and status says so; uploads resume with the disk.
                self._local_failures += 1
                if self._local_failures % 30 == 1:
                    log.warning("upload round skipped, local queue unavailable: %s", exc)
            except Exception:
                # Never let the thread die silently: log, and try again next round.
                log.exception("unexpected error in the uploader")
                self._trouble("internal", "erreur interne de l'envoi (voir le journal)")
                with contextlib.suppress(sqlite3.Error, OSError):
                    self.queue.note_error("erreur interne de l'envoi (voir le journal)")


def batch_spans(body: bytes) -> list[dict[str, Any]]:
    """The spans of a sealed batch body (for tests and diagnostics)."""
    spans: list[dict[str, Any]] = json.loads(body)["spans"]
    return spans
