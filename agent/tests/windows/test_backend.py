"""The Windows backend on a real Windows desktop (the windows-latest CI job).

Real windows of this process brought to the foreground, input injected with
SendInput, and messages sent to the backend's hidden window as Windows sends
them at a lock, a sleep and a logoff. Each test says what it needs of the
desktop and fails with that, rather than skipping.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil
import pytest

from oxytrack_agent.config import Paths
from oxytrack_agent.enroll import local_time_zone
from oxytrack_agent.platforms import Window, current_platform
from oxytrack_agent.platforms.win32api import win32
from oxytrack_agent.platforms.windows import WindowsPlatform, full_user_name
from oxytrack_agent.platforms.windows_events import (
    ENDSESSION_LOGOFF,
    PBT_APMRESUMEAUTOMATIC,
    PBT_APMSUSPEND,
    WM_CLOSE,
    WM_ENDSESSION,
    WM_POWERBROADCAST,
    WM_QUERYENDSESSION,
    WM_WTSSESSION_CHANGE,
    WTS_SESSION_LOCK,
    WTS_SESSION_UNLOCK,
)
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import NoCounter, Sampler, SessionEnd
from oxytrack_agent.uploader import PolicyHolder

from . import desktop

TITLE = "OxyTrack — fenêtre de test (é, ß, 😀)"
TZ = ZoneInfo("Europe/Paris")
#: This interpreter's executable as the backend names apps (a venv's
#: python.exe starts the base interpreter: ask the process, not sys.executable).
OWN_APP = Path(psutil.Process(os.getpid()).exe()).stem


def eventually(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    """True once `check()` is, polled every 50 ms up to `timeout` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def platform() -> Iterator[WindowsPlatform]:
    plat = WindowsPlatform()
    try:
        assert plat.watcher is not None, "the hidden session window did not start"
        # Read from the input desktop at start: locked means no interactive desktop.
        assert not plat.session_locked(), "the session reads as locked: no interactive desktop?"
        yield plat
    finally:
        plat.close()


@pytest.fixture
def window() -> Iterator[desktop.TestWindow]:
    win = desktop.TestWindow(TITLE)
    try:
        win.foreground()
        yield win
    finally:
        win.close()


def test_the_platform_of_this_os_is_the_windows_backend() -> None:
    plat = current_platform()
    try:
        assert isinstance(plat, WindowsPlatform)
    finally:
        plat.close()


def test_the_foreground_window_is_read_back_with_its_app_title_and_pid(
    platform: WindowsPlatform, window: desktop.TestWindow
) -> None:
    assert platform.focused_window() == Window(OWN_APP, TITLE, os.getpid())

    def focused() -> bool:  # the hook follows the new foreground window's titles from here
        return any(w is not None and w.title == TITLE for _, w in platform.changes(0, 1e12).windows)

    assert eventually(focused), "no foreground change came from the WinEvent hook"
    before = time.monotonic()
    window.rename("Rapport annuel — 2026.docx")
    assert platform.focused_window() == Window(OWN_APP, "Rapport annuel — 2026.docx", os.getpid())

    def renamed() -> bool:  # the title hook on the foreground window's process saw it
        changes = platform.changes(before, time.monotonic())
        return any(w is not None and w.title.startswith("Rapport") for _, w in changes.windows)

    assert eventually(renamed), "no title change came from the WinEvent hook"


def test_a_switch_between_windows_is_seen_at_its_moment(
    platform: WindowsPlatform, window: desktop.TestWindow
) -> None:
    before = time.monotonic()
    # Opening a visible window may already give it the foreground.
    other = desktop.TestWindow("Deuxième fenêtre")
    try:
        other.foreground()
        after = time.monotonic()

        def moments() -> list[float]:
            changes = platform.changes(before, time.monotonic())
            return [t for t, w in changes.windows if w and w.title == "Deuxième fenêtre"]

        assert eventually(lambda: bool(moments())), "no foreground change from the WinEvent hook"
        # Stamped with the event's own time (GetTickCount: 16 ms steps), not
        # when the sampler asks.
        assert before - 0.05 <= moments()[0] <= after + 0.1
    finally:
        other.close()


def test_a_process_that_cannot_be_opened_has_no_exe_and_no_crash(
    platform: WindowsPlatform,
) -> None:
    # pid 0 (the idle process) refuses OpenProcess to everyone.
    assert platform.windows.exe_of(0) is None
    assert str(platform.windows.exe_of(os.getpid())).lower() == f"{OWN_APP}.exe".lower()


def test_injected_keys_and_clicks_are_counted_and_reset_idle_time(
    platform: WindowsPlatform, window: desktop.TestWindow
) -> None:
    counter = platform.input_counter()
    counter.start()
    try:
        time.sleep(0.3)
        counter.take(time.monotonic())  # whatever came before
        assert eventually(lambda: platform.idle_seconds() >= 1.0), "someone is typing"
        window.point_inside()
        start = time.monotonic()
        desktop.keys(5)
        desktop.clicks(3)
        desktop.scroll()  # a scroll is no click
        assert platform.idle_seconds() < 1.0
        keys: list[float] = []
        clicks: list[float] = []

        def counted() -> bool:
            k, c = counter.take(time.monotonic())
            keys.extend(k)
            clicks.extend(c)
            return len(keys) >= 5 and len(clicks) >= 3

        assert eventually(counted), f"{len(keys)} keys, {len(clicks)} clicks seen"
        time.sleep(0.5)
        counted()
        assert (len(keys), len(clicks)) == (5, 3)
        # Placed at their own moments, between the start and now.
        assert all(start - 0.1 <= t <= time.monotonic() for t in keys + clicks)
        time.sleep(1.6)
        assert platform.idle_seconds() >= 1.5
    finally:
        counter.stop()


def test_a_posted_lock_notification_locks_the_session_at_its_moment(
    platform: WindowsPlatform,
) -> None:
    assert platform.watcher is not None
    assert platform.watcher.notifications, "WTSRegisterSessionNotification failed"
    assert platform.watcher.sleep_notifications, "RegisterSuspendResumeNotification failed"
    user32 = win32().user32
    before = time.monotonic()
    user32.PostMessageW(platform.watcher.hwnd, WM_WTSSESSION_CHANGE, WTS_SESSION_LOCK, 0)
    assert eventually(platform.session_locked)
    lock = platform.changes(before, time.monotonic()).lock
    assert lock is not None and lock >= before
    user32.PostMessageW(platform.watcher.hwnd, WM_WTSSESSION_CHANGE, WTS_SESSION_UNLOCK, 0)
    assert eventually(lambda: not platform.session_locked())
    # Sleep counts as locked until the resume.
    user32.PostMessageW(platform.watcher.hwnd, WM_POWERBROADCAST, PBT_APMSUSPEND, 0)
    assert eventually(platform.session_locked)
    user32.PostMessageW(platform.watcher.hwnd, WM_POWERBROADCAST, PBT_APMRESUMEAUTOMATIC, 0)
    assert eventually(lambda: not platform.session_locked())


def copy_of(path: Path, to: Path) -> Path:
    """The queue file as a process killed right now would leave it."""
    source, copy = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return to


@dataclass
class Running:
    """A sampler running as `cli._run` runs it, on the real backend."""

    sampler: Sampler
    queue_file: Path
    runner: threading.Thread
    hwnd: int


@pytest.fixture
def running(platform: WindowsPlatform, tmp_path: Path) -> Iterator[Running]:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    queue = Queue(paths.queue_file)
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(Policy()),
        tz=TZ,
        counter_factory=NoCounter,
        cut_every=lambda: 3600,
    )
    stop = threading.Event()
    assert platform.on_session_end(SessionEnd(sampler, stop))

    def run_loop() -> None:  # as cli._run: sample until stopped, then finish
        sampler.run(stop)
        sampler.finish()

    runner = threading.Thread(target=run_loop)
    runner.start()
    assert platform.watcher is not None
    try:
        yield Running(sampler, paths.queue_file, runner, platform.watcher.hwnd)
    finally:
        stop.set()
        runner.join(timeout=5)
        queue.close()


def seconds_on(queue: Queue, app: str, title: str) -> float:
    """The time a queue holds on one window (the runner's console had the front before)."""
    row = queue._db.execute(
        "SELECT SUM(end - start) FROM spans WHERE app = ? AND title = ?", (app, title)
    ).fetchone()
    return float(row[0] or 0.0)


def test_a_logoff_message_stores_the_open_span(
    window: desktop.TestWindow, running: Running, tmp_path: Path
) -> None:
    user32 = win32().user32
    time.sleep(2.5)
    # What Windows sends at a logoff: the reply is TRUE (let it happen).
    assert user32.SendMessageW(running.hwnd, WM_QUERYENDSESSION, 0, ENDSESSION_LOGOFF) == 1
    killed = Queue(copy_of(running.queue_file, tmp_path / "killed.sqlite3"))
    assert killed.recover(TZ) >= 1
    assert seconds_on(killed, OWN_APP, TITLE) >= 1.5
    assert running.runner.is_alive()  # the logoff may still be cancelled
    user32.SendMessageW(running.hwnd, WM_ENDSESSION, 1, ENDSESSION_LOGOFF)
    # WM_ENDSESSION returned: Windows may end the process now, all is stored.
    assert running.sampler.finished.is_set()
    running.runner.join(timeout=3)
    assert not running.runner.is_alive()


def test_a_close_request_stops_the_agent_after_storing(
    window: desktop.TestWindow, running: Running, tmp_path: Path
) -> None:
    time.sleep(2.5)
    # What `taskkill` without /F and the Restart Manager post to each top-level window.
    win32().user32.PostMessageW(running.hwnd, WM_CLOSE, 0, 0)
    running.runner.join(timeout=5)
    assert not running.runner.is_alive()
    assert running.sampler.finished.is_set()
    stopped = Queue(copy_of(running.queue_file, tmp_path / "stopped.sqlite3"))
    assert stopped.recover(TZ) == 0  # finished spans, not a checkpoint
    assert seconds_on(stopped, OWN_APP, TITLE) >= 2.0


def test_the_full_name_is_read_without_crashing_the_process() -> None:
    # A local account may have no display name (''); a wrong ctypes prototype
    # would crash the interpreter here rather than return.
    name = full_user_name()
    assert isinstance(name, str)
    assert "\x00" not in name


def test_the_time_zone_is_an_iana_name_python_can_load() -> None:
    name = local_time_zone()
    assert name == "UTC" or "/" in name
    ZoneInfo(name)  # tzdata comes with tzlocal on Windows
