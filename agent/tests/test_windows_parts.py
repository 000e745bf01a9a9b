"""What the Windows backend decides, tested here without Windows.

Window messages and their meaning, the lock state after real sequences of
session notifications (fast user switching, Remote Desktop, sleep), which app
a foreground window is (UWP frames, elevated processes, the desktop), input
moments, and the end of a session flushed through a real sampler and queue.
The Win32 calls themselves run in agent/tests/windows/ on the Windows CI job.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent import cli
from oxytrack_agent.config import Config, Paths, save_config, save_token
from oxytrack_agent.platforms import DESKTOP_APP, Changes, Window
from oxytrack_agent.platforms.fake import FakeClock, FakePlatform
from oxytrack_agent.platforms.windows_events import (
    PBT_APMRESUMEAUTOMATIC,
    PBT_APMRESUMESUSPEND,
    PBT_APMSUSPEND,
    WH_KEYBOARD_LL,
    WH_MOUSE_LL,
    WM_ENDSESSION,
    WM_KEYDOWN,
    WM_LBUTTONDOWN,
    WM_MOUSEWHEEL,
    WM_POWERBROADCAST,
    WM_QUERYENDSESSION,
    WM_RBUTTONDOWN,
    WM_SYSKEYDOWN,
    WM_WTSSESSION_CHANGE,
    WM_XBUTTONDOWN,
    WTS_CONSOLE_CONNECT,
    WTS_CONSOLE_DISCONNECT,
    WTS_REMOTE_CONNECT,
    WTS_REMOTE_DISCONNECT,
    WTS_SESSION_LOCK,
    WTS_SESSION_LOGOFF,
    WTS_SESSION_UNLOCK,
    EndOfSession,
    SessionEvents,
    SessionState,
    decode_message,
    event_moment,
    input_kind,
    read_window,
)
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import NoCounter, Sampler, SessionEnd
from oxytrack_agent.uploader import PolicyHolder

from .conftest import TOKEN, FakeServer

TZ = ZoneInfo("Europe/Paris")
WM_KEYUP = 0x0101
WM_LBUTTONUP = 0x0202


def session(code: int) -> str | None:
    return decode_message(WM_WTSSESSION_CHANGE, code)


def power(code: int) -> str | None:
    return decode_message(WM_POWERBROADCAST, code)


# --- messages and the lock state --------------------------------------------------


def test_window_messages_decode_to_session_events() -> None:
    assert session(WTS_SESSION_LOCK) == "lock"
    assert session(WTS_SESSION_UNLOCK) == "unlock"
    assert session(WTS_CONSOLE_DISCONNECT) == session(WTS_REMOTE_DISCONNECT) == "away"
    assert session(WTS_CONSOLE_CONNECT) == session(WTS_REMOTE_CONNECT) == "back"
    assert session(WTS_SESSION_LOGOFF) == "logoff"
    assert session(0x9) is None  # WTS_SESSION_REMOTE_CONTROL: nothing for us
    assert power(PBT_APMSUSPEND) == "suspend"
    assert power(PBT_APMRESUMEAUTOMATIC) == power(PBT_APMRESUMESUSPEND) == "resume"
    assert power(0x8013) is None  # PBT_POWERSETTINGCHANGE
    assert decode_message(WM_QUERYENDSESSION, 0) == "query-end"
    assert decode_message(WM_ENDSESSION, 1) == "end"
    # Another app refused the logoff: the session goes on.
    assert decode_message(WM_ENDSESSION, 0) == "end-cancelled"
    # taskkill without /F, the Restart Manager: the agent is asked to quit.
    assert decode_message(0x0010, 0) == "close"
    assert decode_message(0x000F, 0) is None  # WM_PAINT


def replay(state: SessionState, *events: str) -> list[tuple[str | None, bool]]:
    return [(state.apply(e), state.locked) for e in events]


def test_fast_user_switching_comes_back_to_a_locked_session() -> None:
    # Switch user locks, then the console goes to the other user; coming
    # back connects the session while its lock screen still shows.
    assert replay(SessionState(), "lock", "away", "back", "unlock") == [
        ("lock", True),
        (None, True),
        (None, True),
        ("unlock", False),
    ]


def test_a_remote_desktop_session_counts_while_its_client_is_connected() -> None:
    assert replay(SessionState(), "away", "back") == [("lock", True), ("unlock", False)]


def test_a_wake_on_a_timer_keeps_the_locked_session_locked() -> None:
    # Windows locks at sleep; a timer wakes the PC at night with nobody there.
    state = SessionState()
    assert replay(state, "suspend", "lock", "resume") == [
        ("lock", True),
        (None, True),
        (None, True),
    ]
    assert state.apply("unlock") == "unlock"
    # And sleep without a lock (no password on wake) ends at the resume.
    assert replay(SessionState(), "suspend", "resume", "resume") == [
        ("lock", True),
        ("unlock", False),
        (None, False),
    ]


def test_a_session_locked_at_start_counts_after_its_unlock() -> None:
    state = SessionState(locked=True)
    assert state.locked
    assert state.apply("logoff") is None
    assert state.apply("unlock") is None  # logged off stays off
    assert state.locked


def test_session_events_give_the_sampler_lock_moments() -> None:
    events = SessionEvents()
    events.handle(session(WTS_SESSION_LOCK), 10.2)
    events.handle(session(WTS_SESSION_LOCK), 10.3)  # a repeat changes nothing
    events.handle(session(WTS_SESSION_UNLOCK), 10.6)
    events.handle(session(WTS_SESSION_LOCK), 10.8)
    events.note_focus(10.9, Window("notepad", "a.txt", 4))
    changes = events.changes(10.0, 11.0)
    assert (changes.lock, changes.unlock, changes.focus) == (10.2, 10.6, 10.9)
    assert events.locked
    # The sampler never asks for what it has passed.
    assert events.changes(11.0, 12.0) == Changes()


def test_a_focus_change_noted_after_its_sample_goes_to_the_next_one() -> None:
    events = SessionEvents()
    assert events.changes(10.0, 11.0) == Changes()
    # Seen at 10.9, noted once its window was read, after the sample at 11.0.
    events.note_focus(10.9, Window("notepad", "a.txt", 4))
    changes = events.changes(11.0, 12.0)
    assert changes.focus is not None and 11.0 < changes.focus < 11.001
    assert [w for _, w in changes.windows] == [Window("notepad", "a.txt", 4)]


# --- windows and apps ---------------------------------------------------------------


@dataclass
class ScriptedWindows:
    """A WindowReader over a scripted set of windows and processes."""

    #: hwnd -> (pid, class name, title, child window pids)
    windows: dict[int, tuple[int, str, str, list[int]]]
    #: pid -> exe; a pid missing here cannot be opened (elevated, protected)
    exes: dict[int, str]
    opened: list[int] = field(default_factory=list)

    def pid_of(self, hwnd: int) -> int:
        return self.windows[hwnd][0] if hwnd in self.windows else 0

    def exe_of(self, pid: int) -> str | None:
        self.opened.append(pid)
        return self.exes.get(pid)

    def title_of(self, hwnd: int) -> str:
        return self.windows[hwnd][2]

    def class_of(self, hwnd: int) -> str:
        return self.windows[hwnd][1]

    def child_pids(self, hwnd: int) -> Iterable[int]:
        return self.windows[hwnd][3]


def test_an_elevated_window_keeps_its_title_under_an_unknown_app() -> None:
    reader = ScriptedWindows({7: (900, "MMCMainFrame", "Gestion de l'ordinateur", [])}, {})
    assert read_window(reader, 7) == Window("unknown", "Gestion de l'ordinateur", 900)


def test_a_uwp_frame_is_named_after_the_app_in_its_child_window() -> None:
    frame = (100, "ApplicationFrameWindow", "Calculatrice", [100, 100, 200, 300])
    reader = ScriptedWindows(
        {5: frame}, {100: "ApplicationFrameHost.exe", 200: "CalculatorApp.exe", 300: "other.exe"}
    )
    assert read_window(reader, 5) == Window("CalculatorApp", "Calculatrice", 200)
    assert reader.opened == [100, 200]  # the first other process is the app: no more opened


def test_a_uwp_frame_whose_app_cannot_be_opened_is_unknown_not_the_host() -> None:
    reader = ScriptedWindows(
        {5: (100, "ApplicationFrameWindow", "Paramètres", [200])}, {100: "ApplicationFrameHost.exe"}
    )
    assert read_window(reader, 5) == Window("unknown", "Paramètres", 200)


def test_a_suspended_uwp_app_leaves_only_its_host() -> None:
    reader = ScriptedWindows(
        {5: (100, "ApplicationFrameWindow", "Photos", [100])}, {100: "ApplicationFrameHost.exe"}
    )
    assert read_window(reader, 5) == Window("ApplicationFrameHost", "Photos", 100)


def test_the_lock_screen_no_window_and_a_closed_window_count_no_time() -> None:
    reader = ScriptedWindows(
        {3: (40, "Windows.UI.Core.CoreWindow", "Écran de verrouillage", [])}, {40: "LockApp.exe"}
    )
    assert read_window(reader, 3) is None
    assert read_window(reader, 0) is None  # no foreground window (secure desktop)
    assert read_window(reader, 99) is None  # gone between two calls: pid 0


def test_the_desktop_and_taskbar_are_the_desktop_a_folder_is_explorer() -> None:
    reader = ScriptedWindows(
        {
            1: (60, "Progman", "Program Manager", []),
            2: (60, "Shell_TrayWnd", "", []),
            3: (60, "CabinetWClass", "Documents", []),
        },
        {60: "explorer.exe"},
    )
    assert read_window(reader, 1) == Window(DESKTOP_APP, "", 60)
    assert read_window(reader, 2) == Window(DESKTOP_APP, "", 60)
    assert read_window(reader, 3) == Window("explorer", "Documents", 60)


# --- input ------------------------------------------------------------------------------


def test_only_key_and_button_presses_count() -> None:
    assert input_kind(WH_KEYBOARD_LL, WM_KEYDOWN) == "key"
    assert input_kind(WH_KEYBOARD_LL, WM_SYSKEYDOWN) == "key"  # Alt+Tab, F10
    assert input_kind(WH_KEYBOARD_LL, WM_KEYUP) is None
    for button in (WM_LBUTTONDOWN, WM_RBUTTONDOWN, WM_XBUTTONDOWN):
        assert input_kind(WH_MOUSE_LL, button) == "click"
    assert input_kind(WH_MOUSE_LL, WM_LBUTTONUP) is None
    assert input_kind(WH_MOUSE_LL, WM_MOUSEWHEEL) is None  # a scroll is no click
    assert input_kind(WH_MOUSE_LL, WM_KEYDOWN) is None


def test_an_event_is_placed_at_its_own_time_stamp() -> None:
    assert event_moment(500.0, 10_000, 9_750) == pytest.approx(499.75)
    # Across the 32-bit tick wrap.
    assert event_moment(500.0, 100, 2**32 - 150) == pytest.approx(499.75)
    # A stamp a little ahead (read order) or absurdly old counts as now.
    assert event_moment(500.0, 10_000, 10_020) == 500.0
    assert event_moment(500.0, 10_000, 1_000) == 500.0


# --- the sampler fed by session notifications ------------------------------------------


class TimedCounter:
    """Input at moments the test chooses (the hooks stamp each event)."""

    def __init__(self) -> None:
        self.keys: list[float] = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def take(self, until: float) -> tuple[list[float], list[float]]:
        now = [t for t in self.keys if t <= until]
        self.keys = [t for t in self.keys if t > until]
        return now, []


@dataclass
class NotifiedPlatform(FakePlatform):
    """The fake platform with its lock state from Windows messages, as WindowsPlatform."""

    session: SessionEvents = field(default_factory=SessionEvents)

    def message(self, msg: int, wparam: int, at: float) -> None:
        self.session.handle(decode_message(msg, wparam), at)

    def session_locked(self) -> bool:
        return self.session.locked

    def changes(self, after: float, until: float) -> Changes:
        return self.session.changes(after, until)


def spans_of(queue: Queue) -> list[tuple[float, float, str, int]]:
    rows = queue._db.execute("SELECT start, end, app, keys FROM spans ORDER BY start").fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def notified_sampler(
    paths: Paths,
) -> tuple[Sampler, NotifiedPlatform, FakeClock, Queue, TimedCounter]:
    clock = FakeClock()
    platform = NotifiedPlatform(clock, window=Window("WINWORD", "Rapport.docx", 8))
    counter = TimedCounter()
    queue = Queue(paths.queue_file)
    sampler = Sampler(
        platform,
        queue,
        PolicyHolder(Policy()),
        tz=TZ,
        clock=clock,
        counter_factory=lambda: counter,
        cut_every=lambda: 3600,
    )
    return sampler, platform, clock, queue, counter


def test_sleep_counts_nothing_from_the_suspend_message_on(paths: Paths) -> None:
    sampler, platform, clock, queue, counter = notified_sampler(paths)
    start = clock.wall
    for _ in range(4):
        platform.input()
        sampler.tick()
        clock.advance(1)
    # PBT_APMSUSPEND 0.4 s after the last sample (at 3.4 s); a key typed
    # after it (the lid closing) is no work. Windows then sleeps an hour: both clocks jump.
    platform.message(WM_POWERBROADCAST, PBT_APMSUSPEND, clock.mono - 0.6)
    counter.keys = [clock.mono - 0.7, clock.mono - 0.3]
    sampler.tick()
    clock.advance(3600)
    platform.message(WM_POWERBROADCAST, PBT_APMRESUMEAUTOMATIC, clock.mono - 0.5)
    for _ in range(4):
        platform.input()
        sampler.tick()
        clock.advance(1)
    sampler.finish()
    spans = spans_of(queue)
    before = [s for s in spans if s[0] < start + 100]
    after = [s for s in spans if s[0] >= start + 100]
    # Up to the suspend moment, with the key typed before it only.
    assert before[-1][1] - start == pytest.approx(3.4, abs=0.01)
    assert sum(s[3] for s in before) == 1
    # Nothing during the hour asleep; time counts again after the resume.
    assert after[0][0] - start >= 3604
    assert sum(s[1] - s[0] for s in after) == pytest.approx(3.5, abs=0.6)


def test_a_lock_notification_stops_time_at_its_moment(paths: Paths) -> None:
    sampler, platform, clock, queue, counter = notified_sampler(paths)
    start = clock.wall
    for _ in range(3):
        platform.input()
        sampler.tick()
        clock.advance(1)
    platform.message(WM_WTSSESSION_CHANGE, WTS_SESSION_LOCK, clock.mono - 0.75)
    sampler.tick()
    for _ in range(4):
        clock.advance(1)
        sampler.tick()
    clock.advance(1)
    # Unlocked at 7.5 s, half a second before the next sample.
    platform.message(WM_WTSSESSION_CHANGE, WTS_SESSION_UNLOCK, clock.mono - 0.5)
    counter.keys = [clock.mono - 0.2]  # typed just after the unlock: counted
    platform.input()
    sampler.tick()
    clock.advance(1)
    platform.input()
    sampler.tick()
    sampler.finish()
    spans = spans_of(queue)
    assert spans[0][1] - start == pytest.approx(2.25, abs=0.01)
    assert spans[-1][0] - start == pytest.approx(7.5, abs=0.01)
    assert sum(s[3] for s in spans) == 1


# --- the end of the session, through a running sampler ------------------------------------


def copy_of(path: Path, to: Path) -> Path:
    """The queue file as a process killed right now would leave it."""
    source, copy = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return to


@pytest.mark.slow
def test_a_logoff_stores_the_open_span_before_windows_ends_the_agent(
    paths: Paths, tmp_path: Path
) -> None:
    # The real clocks and run loop; the scripted window is never idle.
    platform = FakePlatform(FakeClock(), window=Window("EXCEL", "Budget 2027.xlsx", 12))
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
    end = SessionEnd(sampler, stop, timeout=4)

    def run_loop() -> None:  # as cli._run: sample until stopped, then finish
        sampler.run(stop)
        sampler.finish()

    runner = threading.Thread(target=run_loop)
    runner.start()
    try:
        time.sleep(2.2)
        asked = time.monotonic()
        end.query()  # WM_QUERYENDSESSION, on the window's thread
        waited = time.monotonic() - asked
        # Killed right after its reply: the next start keeps the open span
        # (the regular checkpoint would have waited 10 s).
        killed = Queue(copy_of(paths.queue_file, tmp_path / "killed.sqlite3"))
        assert killed.recover(TZ) == 1
        kept = spans_of(killed)
        assert kept[0][2] == "EXCEL"
        assert kept[0][1] - kept[0][0] >= 1.5
        # At once, between two ticks: Windows asks the apps one after the other.
        assert waited < 0.5
        assert runner.is_alive()  # the logoff may still be cancelled: sampling goes on
        end.end()  # WM_ENDSESSION(TRUE): stop, and return once stored
        assert sampler.finished.is_set()
        runner.join(timeout=2)
        assert not runner.is_alive()
        # Finished, not just a checkpoint: nothing is left for a recovery.
        after = Queue(copy_of(paths.queue_file, tmp_path / "ended.sqlite3"))
        assert after.recover(TZ) == 0
        assert [s[2] for s in spans_of(after)] == ["EXCEL"]
        assert spans_of(after)[0][1] - spans_of(after)[0][0] >= 2.0
    finally:
        stop.set()
        runner.join(timeout=5)
        queue.close()


def test_logoff_shutdown_and_close_requests_reach_the_run_loop_handler() -> None:
    calls: list[str] = []

    class Recording:
        def query(self) -> None:
            calls.append("query")

        def end(self) -> None:
            calls.append("end")

    events = SessionEvents()
    for msg, wparam in ((WM_QUERYENDSESSION, 0), (WM_ENDSESSION, 0), (WM_ENDSESSION, 1)):
        events.handle(decode_message(msg, wparam), 1.0)  # nothing before it is registered
    events.end_handler = Recording()
    events.handle(decode_message(WM_QUERYENDSESSION, 0), 2.0)
    events.handle(decode_message(WM_ENDSESSION, 0), 3.0)  # cancelled by another app
    events.handle(decode_message(WM_ENDSESSION, 1), 4.0)
    events.handle(decode_message(0x0010, 0), 5.0)  # WM_CLOSE
    assert calls == ["query", "end", "end"]
    assert not events.locked


def test_an_end_of_session_handler_that_fails_does_not_reach_windows() -> None:
    class Broken:
        def query(self) -> None:
            raise OSError("disk gone")

        def end(self) -> None:
            raise OSError("disk gone")

    events = SessionEvents()
    events.end_handler = Broken()
    events.handle(decode_message(WM_QUERYENDSESSION, 0), 1.0)
    events.handle(decode_message(WM_ENDSESSION, 1), 2.0)
    assert not events.locked


def test_a_logoff_after_the_agent_stopped_sampling_does_not_wait(paths: Paths) -> None:
    platform = FakePlatform(FakeClock(), window=Window("EXCEL", "Budget.xlsx", 12))
    queue = Queue(paths.queue_file)
    sampler = Sampler(platform, queue, PolicyHolder(Policy()), tz=TZ, counter_factory=NoCounter)
    sampler.tick()
    sampler.finish()  # stopped (a signal, a broken display) before Windows asked
    end = SessionEnd(sampler, threading.Event(), timeout=3)
    asked = time.monotonic()
    end.query()
    end.end()
    assert time.monotonic() - asked < 0.5
    queue.close()


@pytest.mark.slow
def test_run_stops_at_the_end_of_the_session_and_uploads_what_it_measured(
    tmp_path: Path, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`oxytrack-agent run` with a platform that hears the logoff, as Windows' does."""
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    save_config(paths, Config(server=fake_server.url, device_id="6f1c1c1e-1111-4222-8333-9444"))
    save_token(paths, TOKEN)
    replies: list[tuple[str, float]] = []

    class ConnectionClosedError(Exception):
        """What ends `run` like a lost display (so a missing registration cannot hang)."""

    @dataclass
    class EndingPlatform(FakePlatform):
        """Its "window thread" sends the logoff 2.5 s after the run loop registers."""

        registered: bool = False

        def session_locked(self) -> bool:
            if not self.registered and time.monotonic() - started > 6:
                raise ConnectionClosedError
            return False

        def on_session_end(self, handler: EndOfSession) -> bool:
            self.registered = True

            def logoff() -> None:
                time.sleep(2.5)
                for name, call in (("query", handler.query), ("end", handler.end)):
                    asked = time.monotonic()
                    call()
                    replies.append((name, time.monotonic() - asked))

            threading.Thread(target=logoff, daemon=True).start()
            return True

    started = time.monotonic()
    platform = EndingPlatform(FakeClock(), window=Window("WINWORD", "Contrat.docx"))
    monkeypatch.setattr(cli, "current_platform", lambda: platform)
    monkeypatch.setattr(Paths, "default", classmethod(lambda cls: paths))
    assert cli.main(["run", "--log-level", "WARNING"]) == 0  # returns: the logoff ended it
    assert time.monotonic() - started < 10
    assert [name for name, _ in replies] == ["query", "end"]
    assert all(waited < 1.0 for _, waited in replies)
    # Stored before WM_ENDSESSION returned, then sent by the last upload.
    spans = [span for batch in fake_server.stored for span in batch["spans"]]
    assert {span["app"] for span in spans} == {"WINWORD"}
    assert sum(span["duration_s"] for span in spans) >= 2.0
