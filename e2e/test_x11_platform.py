"""The X11 backend against a real X server: EWMH, fallbacks, title encodings, idle."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from oxytrack_agent.platforms import DESKTOP_APP, Window
from oxytrack_agent.platforms.x11 import X11Platform

from .conftest import XSession, start_openbox, start_xvfb, stop_process

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.once]


@pytest.fixture
def bare_x() -> Iterator[XSession]:
    """A display of its own, without a window manager at first."""
    xvfb, display = start_xvfb()
    session = XSession(display)
    try:
        yield session
    finally:
        session.close_windows()
        stop_process(xvfb)


def xprop(x: XSession, *args: str | bytes) -> None:
    # A UTF-8 locale so that xprop converts text to COMPOUND_TEXT itself.
    env = {**x.env, "LC_ALL": "C.UTF-8"}
    subprocess.run(["xprop", *args], env=env, check=True, timeout=10)


def test_ewmh_gives_app_title_pid_and_idle(x_session: XSession) -> None:
    a = x_session.open_window("Oxyone", 'Été 😀 "quoted" <b>')
    b = x_session.open_window("Oxytwo", "plain")
    platform = X11Platform(x_session.display)
    try:
        x_session.activate(a)
        window = platform.focused_window()
        assert window is not None
        assert (window.app, window.title) == ("Oxyone", 'Été 😀 "quoted" <b>')
        assert window.pid == x_session.windows[0].pid  # Tk sets no _NET_WM_PID: X-Resource
        x_session.activate(b)
        assert platform.focused_window().app == "Oxytwo"  # type: ignore[union-attr]
        time.sleep(1.2)
        assert platform.idle_seconds() >= 1.0
        x_session.xdotool("key", "a")
        assert platform.idle_seconds() < 0.5
        assert platform.session_locked() is False
    finally:
        platform.close()


def test_a_focus_change_still_being_read_when_a_sample_asks_is_not_missed(
    x_session: XSession,
) -> None:
    # Reading the new window takes round trips; on a loaded machine a sample
    # asked meanwhile, missed the change and gave the keys typed in the new
    # window to the old one (a red CI once).
    a = x_session.open_window("Oxyone", "avant")
    b = x_session.open_window("Oxytwo", "après")
    x_session.activate(a)
    platform = X11Platform(x_session.display)
    watcher = platform._watcher
    assert watcher is not None
    read = watcher._reader.focused_window

    def read_slowly() -> Window | None:
        time.sleep(0.3)  # the round trips of a loaded machine
        return read()

    watcher._reader.focused_window = read_slowly  # type: ignore[method-assign]
    try:
        before = time.monotonic()
        x_session.activate(b)
        switched = time.monotonic()
        deadline = switched + 5
        while not watcher._handling and time.monotonic() < deadline:
            time.sleep(0.005)
        assert watcher._handling, "the watcher never saw the focus change"
        asked = time.monotonic()
        changes = platform.changes(before, asked)
        # At the change's own moment, not after the sample that asked.
        assert changes.focus is not None and before < changes.focus <= switched
        assert changes.windows[-1][1] is not None and changes.windows[-1][1].title == "après"
    finally:
        platform.close()


def test_wm_name_is_decoded_by_type_when_net_wm_name_is_absent(x_session: XSession) -> None:
    w = x_session.open_window("Oxythree", "placeholder")
    x_session.activate(w)
    platform = X11Platform(x_session.display)
    try:
        xprop(x_session, "-id", w, "-remove", "_NET_WM_NAME")
        # STRING is Latin-1 (ICCCM): the raw byte 0xE9 is "é".
        xprop(x_session, "-id", w, "-f", "WM_NAME", "8s", "-set", "WM_NAME", b"Caf\xe9 latin")
        assert platform.focused_window().title == "Café latin"  # type: ignore[union-attr]
        # COMPOUND_TEXT, as xterm sets it (python-xlib's get_wm_name() gives '').
        xprop(x_session, "-id", w, "-f", "WM_NAME", "8t", "-set", "WM_NAME", "déjà ç 😀")
        shown = subprocess.run(
            ["xprop", "-id", w, "WM_NAME"], env=x_session.env, capture_output=True, text=True
        ).stdout
        assert shown.startswith("WM_NAME(COMPOUND_TEXT)")
        assert platform.focused_window().title == "déjà ç 😀"  # type: ignore[union-attr]
    finally:
        platform.close()


def test_without_a_window_manager_the_input_focus_is_used(bare_x: XSession) -> None:
    w = bare_x.open_window("Oxybare", "Sans gestionnaire — ok")
    platform = X11Platform(bare_x.display)
    try:
        bare_x.xdotool("windowfocus", "--sync", w)
        window = platform.focused_window()
        assert window is not None
        assert (window.app, window.title) == ("Oxybare", "Sans gestionnaire — ok")
        bare_x.xdotool("windowfocus", "--sync", "--", str(_root_id(bare_x)))
        assert platform.focused_window().app == DESKTOP_APP  # type: ignore[union-attr]
    finally:
        platform.close()


def test_a_stale_active_window_left_by_a_dead_wm_is_not_trusted(bare_x: XSession) -> None:
    openbox = start_openbox(bare_x.display)
    try:
        a = bare_x.open_window("Oxyfirst", "first")
        b = bare_x.open_window("Oxysecond", "second")
        bare_x.activate(a)
    finally:
        stop_process(openbox)
    platform = X11Platform(bare_x.display)
    try:
        bare_x.xdotool("windowfocus", "--sync", b)
        assert platform.focused_window().title == "second"  # type: ignore[union-attr]
    finally:
        platform.close()


def _root_id(x: XSession) -> int:
    from Xlib import display

    d = display.Display(x.display)
    try:
        return int(d.screen().root.id)
    finally:
        d.close()
