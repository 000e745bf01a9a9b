"""The uploader against a real local HTTP server speaking the agent protocol."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent.config import Config, Paths
from oxytrack_agent.policy import Policy, load_policy, save_policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span
from oxytrack_agent.uploader import (
    Client,
    PolicyHolder,
    ReenrollRequired,
    TransientError,
    Uploader,
    parse_retry_after,
)

from .conftest import TOKEN, FakeServer, Reply

TZ = ZoneInfo("Europe/Paris")
T0 = 1_780_000_000.0


def fill(queue: Queue, n: int, start: float = T0) -> None:
    spans = [
        Span(start + i * 2, start + i * 2 + 2, "gedit", f"doc {i} é😀", i % 3 != 0, i, 1)
        for i in range(n)
    ]
    queue.store(spans, [], TZ)


def make(paths: Paths, config: Config, token: str = TOKEN) -> tuple[Queue, Uploader]:
    queue = Queue(paths.queue_file)
    holder = PolicyHolder(
        Policy(version="1"), on_change=lambda p: save_policy(paths.policy_file, p)
    )
    uploader = Uploader(
        queue,
        Client(config, token, timeout=5),
        holder,
        time_zone=lambda: "Europe/Paris",
        local_ips=lambda: ["10.1.2.3"],
        interval=lambda: 0.05,
    )
    return queue, uploader


def start_run(uploader: Uploader) -> tuple[threading.Thread, threading.Event, threading.Event]:
    """`uploader.run` in its thread, as the agent runs it; (thread, stop, wake)."""
    stop, wake = threading.Event(), threading.Event()
    thread = threading.Thread(target=uploader.run, args=(stop, wake))
    thread.start()
    return thread, stop, wake


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_it_uploads_gzip_batches_with_the_token_and_empties_the_queue(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 3)
    result = uploader.upload_once()
    assert result.accepted == 3
    (batch,) = fake_server.batches
    assert fake_server.batch_headers[0]["Content-Encoding"] == "gzip"
    assert batch["time_zone"] == "Europe/Paris"
    assert batch["local_ips"] == ["10.1.2.3"]
    assert [s["title"] for s in batch["spans"]] == ["doc 0 é😀", "doc 1 é😀", "doc 2 é😀"]
    assert batch["spans"][1] == {
        "start": datetime.fromtimestamp(T0 + 2, tz=UTC).isoformat(timespec="milliseconds"),
        "duration_s": 2.0,
        "app": "gedit",
        "title": "doc 1 é😀",
        "active": True,
        "keys": 1,
        "clicks": 1,
    }
    stats = queue.stats()
    assert stats.waiting_spans == 0
    assert stats.last_success is not None


def test_it_cuts_batches_at_5000_spans(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 5001)
    uploader.upload_once()
    assert [len(b["spans"]) for b in fake_server.batches] == [5000, 1]


def test_a_retry_resends_exactly_the_same_batch(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 4)
    fake_server.batch_replies = [Reply(503, {"code": "busy", "message": "storage busy"})]
    with pytest.raises(TransientError):
        uploader.upload_once()
    fill(queue, 2, start=T0 + 100)  # new spans meanwhile go to a new batch
    uploader.upload_once()
    first, retry, second = fake_server.batches
    assert retry == first
    assert second["batch_id"] != first["batch_id"]
    assert len(fake_server.stored) == 2
    assert queue.stats().waiting_spans == 0


def test_a_refused_batch_is_kept_aside_and_the_rest_goes_on(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 2)
    queue.seal(time_zone="Europe/Paris")
    fill(queue, 2, start=T0 + 100)
    fake_server.batch_replies = [
        Reply(422, {"code": "span_in_future", "message": "span 0 starts in the future"})
    ]
    result = uploader.upload_once()
    assert (result.rejected, result.accepted) == (1, 2)
    stats = queue.stats()
    assert stats.rejected_batches == 1
    assert stats.last_error == "422 span_in_future: span 0 starts in the future"
    # Set aside for good: the next pass does not send it again.
    uploader.upload_once()
    assert len(fake_server.batches) == 2


def test_401_stops_uploading_and_asks_to_reenroll(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config, token="oxd_revoked")
    fill(queue, 2)
    with pytest.raises(ReenrollRequired):
        uploader.upload_once()
    thread, _stop, _wake = start_run(uploader)
    thread.join(5)
    assert not thread.is_alive()  # stopped by itself
    assert uploader.stopped_for_reenroll
    assert queue.meta("needs_reenroll") == "1"
    assert "Réinscrivez" in (queue.stats().last_error or "")
    assert queue.stats().waiting_spans == 2  # nothing dropped


def test_429_waits_at_least_retry_after_then_delivers(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 1)
    fake_server.batch_replies = [
        Reply(429, {"code": "slow_down", "message": "slow"}, {"Retry-After": "1"})
    ]
    times: list[float] = []
    original = uploader.client.post_batch

    def timed(body: bytes, timeout: float | None = None):  # type: ignore[no-untyped-def]
        times.append(time.monotonic())
        return original(body, timeout)

    uploader.client.post_batch = timed  # type: ignore[method-assign]
    thread, stop, wake = start_run(uploader)
    wait_until(lambda: len(fake_server.stored) >= 1)
    stop.set()
    wake.set()
    thread.join(5)
    assert len(fake_server.stored) == 1
    assert times[1] - times[0] >= 1.0


def test_a_stop_during_the_backoff_ends_the_thread_without_another_attempt(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    # Shutdown cuts a long backoff short; the final upload (run's caller) is the
    # one last try. A second one from this thread would race it with the same batch.
    queue, uploader = make(paths, config)
    fill(queue, 1)
    fake_server.batch_replies = [
        Reply(503, {"code": "busy", "message": "busy"}, {"Retry-After": "30"})
    ]
    thread, stop, wake = start_run(uploader)
    wake.set()
    wait_until(lambda: bool(fake_server.batches))
    time.sleep(0.2)  # into the backoff
    stopped = time.monotonic()
    stop.set()
    wake.set()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 2
    assert len(fake_server.batches) == 1  # the refused one only
    assert queue.stats().pending_batches == 1  # kept for the final upload


def test_a_stop_while_sending_begins_no_further_batch(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fill(queue, 5001)  # two batches
    stop = threading.Event()
    original = uploader.client.post_batch

    def stopping(body: bytes, timeout: float | None = None):  # type: ignore[no-untyped-def]
        stop.set()  # SIGTERM while the first batch is on the wire
        return original(body, timeout)

    uploader.client.post_batch = stopping  # type: ignore[method-assign]
    result = uploader.upload_once(stop=stop)
    assert result.sent_batches == 1
    assert len(fake_server.stored) == 1
    assert queue.stats().pending_batches == 1


def test_connection_errors_keep_the_data_until_the_server_is_back(
    paths: Paths, fake_server: FakeServer
) -> None:
    # A port nobody listens on: connection refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    down = Config(server=f"http://127.0.0.1:{dead}", device_id="x")
    queue, uploader = make(paths, down)
    fill(queue, 3)
    with pytest.raises(TransientError):
        uploader.upload_once()
    with pytest.raises(TransientError):
        uploader.upload_once()
    assert queue.stats().waiting_spans == 3
    assert "réseau" in (queue.stats().last_error or "")
    _, back = make(paths, Config(server=fake_server.url, device_id="x"))
    back.upload_once()
    assert len(fake_server.stored) == 1
    assert len(fake_server.batches) == 1


def test_a_new_policy_version_is_fetched_and_saved(
    paths: Paths, config: Config, fake_server: FakeServer
) -> None:
    queue, uploader = make(paths, config)
    fake_server.policy = {**fake_server.policy, "version": "7", "titles": "app_only"}
    fill(queue, 1)
    uploader.upload_once()
    assert fake_server.policy_gets == 1
    assert uploader.policy.get().titles == "app_only"
    assert load_policy(paths.policy_file).version == "7"
    fill(queue, 1, start=T0 + 50)
    uploader.upload_once()
    assert fake_server.policy_gets == 1  # same version: no refetch


def test_sealed_bodies_are_plain_json_and_gzip_is_stable(paths: Paths) -> None:
    queue = Queue(paths.queue_file)
    fill(queue, 2)
    queue.seal(time_zone="UTC")
    (batch,) = queue.pending()
    assert json.loads(batch.body)["batch_id"] == batch.batch_id
    assert gzip.compress(batch.body, mtime=0) == gzip.compress(batch.body, mtime=0)


def test_backoff_doubles_with_full_jitter_up_to_ten_minutes(paths: Paths, config: Config) -> None:
    from tenacity import RetryCallState

    _, uploader = make(paths, config)

    def wait(attempt: int, retry_after: float | None = None) -> float:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        error = TransientError("503", retry_after)
        state.set_exception((TransientError, error, None))
        return uploader._wait(state)

    for failures, high in ((1, 1.0), (2, 2.0), (5, 16.0), (10, 512.0), (11, 600.0), (500, 600.0)):
        waits = [wait(failures) for _ in range(400)]
        assert all(0 <= w <= high for w in waits)
        # Jitter over the whole range: agents that lost the server together spread out.
        assert min(waits) < high * 0.1 and max(waits) > high * 0.9
    assert all(wait(1, retry_after=30) >= 30 for _ in range(50))
    assert wait(3, retry_after=86_400) == 3600  # a silly Retry-After is capped


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_last_upload_at_shutdown_never_outlasts_its_deadline(paths: Paths) -> None:
    from oxytrack_agent.cli import final_upload

    # A server that accepts connections and never answers (a black hole).
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        config = Config(server=f"http://127.0.0.1:{hole.getsockname()[1]}", device_id="x")
        queue = Queue(paths.queue_file)
        fill(queue, 2)
        began = time.monotonic()
        sent = final_upload(
            queue, config, TOKEN, PolicyHolder(Policy()), "UTC", deadline=began + 1.5
        )
        took = time.monotonic() - began
    assert sent is False
    assert took < 2.0
    assert queue.stats().waiting_spans == 2  # kept for the next run
