"""Windows backend: ctypes over user32, kernel32, wtsapi32 and secur32.

No WMI polling (it costs CPU), no pywin32. What decides each result is plain
Python in `windows_events.py`, tested on every OS; the calls here, the hidden
window (`windows_watch.py`) and the input hooks (`windows_input.py`) only run
on Windows, in the Windows CI job's tests (agent/tests/windows/). See
docs/architecture.md for what has and has not run on a real Windows.
"""

from __future__ import annotations

import ctypes
import logging
import ntpath
import sys
from ctypes import wintypes
from typing import TYPE_CHECKING

from oxytrack_agent.platforms import Changes, Window
from oxytrack_agent.platforms.win32api import LASTINPUTINFO, PROCESS_QUERY_LIMITED_INFORMATION
from oxytrack_agent.platforms.windows_events import (
    LOCK_APPS,
    UWP_HOST,
    EndOfSession,
    SessionEvents,
    app_name,
    idle_ms_from_ticks,
    read_window,
    resolve_uwp_app,
)

if TYPE_CHECKING:
    from oxytrack_agent.platforms.win32api import Win32
    from oxytrack_agent.platforms.windows_input import Win32InputCounter
    from oxytrack_agent.platforms.windows_watch import SessionWatcher

__all__ = [
    "LOCK_APPS",
    "UWP_HOST",
    "Win32Windows",
    "WindowsPlatform",
    "app_name",
    "full_user_name",
    "idle_ms_from_ticks",
    "resolve_uwp_app",
]

log = logging.getLogger(__name__)

#: EXTENDED_NAME_FORMAT NameDisplay: the account's "full name" (secext.h).
_NAME_DISPLAY = 3
#: GetUserObjectInformationW's UOI_NAME; OpenInputDesktop's DESKTOP_READOBJECTS.
_UOI_NAME = 2
_DESKTOP_READOBJECTS = 0x0001


def full_user_name() -> str:
    """The account's display name (secur32 GetUserNameExW NameDisplay), or ''.

    A local account outside a domain often has none (ERROR_NONE_MAPPED): then ''.
    """
    if sys.platform != "win32":
        return ""
    try:
        from oxytrack_agent.platforms.win32api import win32

        get_name = win32().secur32.GetUserNameExW
        size = wintypes.ULONG(0)
        # The first call fails with ERROR_MORE_DATA and says how long the name is.
        get_name(_NAME_DISPLAY, None, ctypes.byref(size))
        if not size.value:
            return ""
        buf = ctypes.create_unicode_buffer(size.value + 1)
        size = wintypes.ULONG(size.value + 1)
        if not get_name(_NAME_DISPLAY, buf, ctypes.byref(size)):
            return ""
        return str(buf.value).strip()
    except Exception:
        return ""


class Win32Windows:
    """`windows_events.WindowReader` over user32 and kernel32."""

    def __init__(self, api: Win32) -> None:
        self._api = api

    def foreground(self) -> int:
        """The foreground window's handle, 0 when there is none."""
        return int(self._api.user32.GetForegroundWindow() or 0)

    def pid_of(self, hwnd: int) -> int:
        """The process owning `hwnd` (0 when the window is gone)."""
        pid = wintypes.DWORD()
        self._api.user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        return int(pid.value)

    def exe_of(self, pid: int) -> str | None:
        """The executable's file name, or None when the process cannot be opened.

        PROCESS_QUERY_LIMITED_INFORMATION is the least right there is, granted
        for most elevated processes too; a protected process or one of another
        session still refuses it.
        """
        k = self._api.kernel32
        handle = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            buf = ctypes.create_unicode_buffer(32768)  # the longest NT path
            size = wintypes.DWORD(len(buf))
            if not k.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                return None
            return ntpath.basename(buf.value) or None
        finally:
            k.CloseHandle(handle)

    def title_of(self, hwnd: int) -> str:
        """The window's title (another process's window is read without a message)."""
        u = self._api.user32
        length = int(u.GetWindowTextLengthW(hwnd))
        if length <= 0:
            return ""
        buf = ctypes.create_unicode_buffer(length + 1)
        u.GetWindowTextW(hwnd, buf, length + 1)
        return str(buf.value)

    def class_of(self, hwnd: int) -> str:
        """The window's class name (256 characters is the documented maximum)."""
        buf = ctypes.create_unicode_buffer(257)
        self._api.user32.GetClassNameW(hwnd, buf, len(buf))
        return str(buf.value)

    def child_pids(self, hwnd: int) -> list[int]:
        """The processes of `hwnd`'s child windows (a UWP frame holds its app's)."""
        found: list[int] = []

        def visit(child: int, _lparam: int) -> bool:
            found.append(self.pid_of(child))
            return True

        self._api.user32.EnumChildWindows(hwnd, self._api.WNDENUMPROC(visit), 0)
        return found


class WindowsPlatform:
    """The foreground window, idle time and session state of this Windows session.

    `watch=False` skips the hidden window (then locks are read from the input
    desktop each sample, as before, and changes are placed at the sample).
    """

    name = "windows"
    # Declared here: off Windows, mypy sees the body after the guard as unreachable.
    _api: Win32
    windows: Win32Windows
    session: SessionEvents
    watcher: SessionWatcher | None

    def __init__(self, *, watch: bool = True) -> None:
        if sys.platform != "win32":
            raise RuntimeError("WindowsPlatform only runs on Windows")
        from oxytrack_agent.platforms.win32api import win32

        self._api = win32()
        self.windows = Win32Windows(self._api)
        self.session = SessionEvents(locked=self._input_desktop_locked())
        self.watcher: SessionWatcher | None = None
        if watch:
            from oxytrack_agent.platforms.windows_watch import SessionWatcher

            try:
                self.watcher = SessionWatcher(self._api, self.session, self.focused_window)
            except Exception as exc:  # without it: locks polled, changes at the sample
                log.warning("Windows session window unavailable: %s", exc)

    def input_counter(self) -> Win32InputCounter:
        """A key and click counter on low-level hooks (see windows_input.py).

        The sampler prefers it to pynput, whose Windows listener breaks dead keys.
        """
        from oxytrack_agent.platforms.windows_input import Win32InputCounter

        return Win32InputCounter(self._api)

    def on_session_end(self, handler: EndOfSession) -> bool:
        """Call `handler` on logoff and shutdown; False when they cannot be heard."""
        self.session.end_handler = handler
        return self.watcher is not None and self.watcher.running

    def close(self) -> None:
        """Destroy the hidden window and stop its thread."""
        if self.watcher is not None:
            self.watcher.close()

    def changes(self, after: float, until: float) -> Changes:
        """Foreground and title changes, locks and unlocks in (after, until] (monotonic)."""
        return self.session.changes(after, until)

    def focused_window(self) -> Window | None:
        """The foreground window; None when none may count (lock screen, UAC prompt)."""
        return read_window(self.windows, self.windows.foreground())

    def idle_seconds(self) -> float:
        """Seconds since the last input, right across the 49.7-day tick wrap."""
        info = LASTINPUTINFO()
        info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        if not self._api.user32.GetLastInputInfo(ctypes.byref(info)):
            return 0.0
        now = int(self._api.kernel32.GetTickCount64()) & 0xFFFFFFFF
        return idle_ms_from_ticks(now, int(info.dwTime)) / 1000.0

    def session_locked(self) -> bool:
        """Locked, switched away, asleep or logged off, as the session notifications say.

        Without them (the hidden window or WTSRegisterSessionNotification
        failed), the input desktop is asked each sample.
        """
        watcher = self.watcher
        if watcher is not None and watcher.notifications and watcher.running:
            return self.session.locked
        # Power messages still come to the window when it runs: asleep is asleep.
        return self._input_desktop_locked() or self.session.has("asleep")

    def _input_desktop_locked(self) -> bool:
        """Locked when the input desktop is not "Default" (Winlogon, secure desktop)."""
        u = self._api.user32
        desktop = u.OpenInputDesktop(0, False, _DESKTOP_READOBJECTS)
        if not desktop:
            # Access denied to the input desktop happens exactly while it is Winlogon.
            return True
        try:
            name = ctypes.create_unicode_buffer(256)
            needed = wintypes.DWORD()
            ok = u.GetUserObjectInformationW(
                desktop, _UOI_NAME, name, ctypes.sizeof(name), ctypes.byref(needed)
            )
            return bool(ok) and name.value.lower() != "default"
        finally:
            u.CloseDesktop(desktop)
