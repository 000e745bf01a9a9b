"""The X11 key and click counter (RECORD) against a real X server driven by xdotool."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from oxytrack_agent.platforms.x11 import X11Platform
from oxytrack_agent.platforms.x11_input import XRecordCounter

from .conftest import XSession, stop_process

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.once]


def wait_counts(counter: XRecordCounter, keys: int, clicks: int) -> tuple[list[float], list[float]]:
    """Everything the counter holds once it has (at least) `keys` and `clicks`, or after 5 s."""
    seen: tuple[list[float], list[float]] = ([], [])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        k, c = counter.take(time.monotonic())
        seen[0].extend(k)
        seen[1].extend(c)
        if len(seen[0]) >= keys and len(seen[1]) >= clicks:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # anything extra would have arrived by now
    k, c = counter.take(time.monotonic())
    return seen[0] + k, seen[1] + c


def test_keys_and_clicks_are_counted_exactly_and_scrolls_are_not(x_session: XSession) -> None:
    win = x_session.open_window("Oxycount", "compteur")
    x_session.activate(win)
    platform = X11Platform(x_session.display, watch=False)
    counter = platform.input_counter()
    counter.start()
    try:
        before = time.monotonic()
        x_session.xdotool("type", "--delay", "30", "bonjour é")  # 9 characters
        x_session.xdotool("key", "ctrl+a")  # two presses: ctrl, a
        x_session.xdotool("mousemove", "--window", win, "40", "40", "click", "1")
        x_session.xdotool("click", "3")
        # The wheel in all four directions: scrolls, not clicks.
        for button in ("4", "5", "6", "7"):
            x_session.xdotool("click", button)
        x_session.xdotool("click", "2")
        after = time.monotonic()
        keys, clicks = wait_counts(counter, 11, 3)
        assert (len(keys), len(clicks)) == (11, 3)
        # Each is stamped with the monotonic moment it happened, oldest first.
        assert all(before <= t <= after + 0.5 for t in keys + clicks)
        assert keys == sorted(keys) and clicks == sorted(clicks)
        assert max(keys) <= min(clicks) + 0.05  # typed before clicking
    finally:
        counter.stop()
        platform.close()


def test_take_leaves_later_events_for_the_next_call(x_session: XSession) -> None:
    platform = X11Platform(x_session.display, watch=False)
    counter = platform.input_counter()
    counter.start()
    try:
        x_session.xdotool("key", "a")
        wait_until = time.monotonic() + 5
        while time.monotonic() < wait_until and not counter._keys:
            time.sleep(0.02)
        cut = time.monotonic()
        x_session.xdotool("key", "b", "c")
        keys, _ = counter.take(cut)
        assert len(keys) == 1
        later, _ = wait_counts(counter, 2, 0)
        assert len(later) == 2 and min(later) > cut
    finally:
        counter.stop()
        platform.close()


def test_stop_ends_the_thread_and_counting(x_session: XSession) -> None:
    platform = X11Platform(x_session.display, watch=False)
    counter = platform.input_counter()
    counter.start()
    counter.stop()
    try:
        assert counter._thread is not None and not counter._thread.is_alive()
        x_session.xdotool("key", "a")
        time.sleep(0.3)
        assert counter.take(time.monotonic()) == ([], [])
        # Stopping twice, or after the platform closed, is harmless (shutdown order).
        counter.stop()
    finally:
        platform.close()


def test_a_server_without_record_refuses_to_start_rather_than_count_zero() -> None:
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-extension", "RECORD", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = f":{pipe.readline().strip()}"
    try:
        platform = X11Platform(display, watch=False)
        try:
            with pytest.raises(RuntimeError, match="RECORD"):
                platform.input_counter().start()
        finally:
            platform.close()
    finally:
        stop_process(xvfb)
