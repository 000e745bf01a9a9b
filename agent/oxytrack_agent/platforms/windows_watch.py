"""The Windows backend's hidden window: session, power and end-of-session messages.

One thread of its own creates a hidden *top-level* window and runs its
message loop. Top-level, not message-only (HWND_MESSAGE): message-only
windows get no broadcast, and WM_QUERYENDSESSION, WM_ENDSESSION and
WM_POWERBROADCAST are sent to top-level windows only. A windowless process
(the frozen agent, pythonw) has no other way to hear of a logoff; a console
process that loads user32 no longer gets CTRL_LOGOFF_EVENT either
(SetConsoleCtrlHandler's documentation says to use such a window).

- `WTSRegisterSessionNotification` sends it WM_WTSSESSION_CHANGE: lock,
  unlock, fast user switching and Remote Desktop (dis)connections, instead
  of polling the input desktop each second.
- WM_POWERBROADCAST: suspend and resume (also registered with
  RegisterSuspendResumeNotification, which Modern Standby PCs need).
- WM_QUERYENDSESSION / WM_ENDSESSION: the run loop's `EndOfSession` stores
  the open span before Windows ends the process; WM_CLOSE (taskkill without
  /F, the Restart Manager of an MSI upgrade) stops the agent the same way.
- A WinEvent hook (out of context, delivered through this same loop) stamps
  foreground changes, and one on the foreground window's process its title
  changes, so input is placed on the right side of a switch (as X11's
  change watcher does). No polling: an idle session costs no wake-up.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

from oxytrack_agent.platforms import Window
from oxytrack_agent.platforms.win32api import (
    CHILDID_SELF,
    DEVICE_NOTIFY_WINDOW_HANDLE,
    EVENT_OBJECT_NAMECHANGE,
    EVENT_SYSTEM_FOREGROUND,
    NOTIFY_FOR_THIS_SESSION,
    OBJID_WINDOW,
    WINEVENT_OUTOFCONTEXT,
    WS_EX_TOOLWINDOW,
    WS_OVERLAPPED,
    Win32,
)
from oxytrack_agent.platforms.windows_events import (
    WM_AGENT_CLOSE,
    WM_CLOSE,
    WM_DESTROY,
    WM_ENDSESSION,
    WM_POWERBROADCAST,
    WM_QUERYENDSESSION,
    SessionEvents,
    decode_message,
    event_moment,
)

log = logging.getLogger(__name__)

#: How long start-up may take before the backend falls back to polling.
START_TIMEOUT_S = 5.0


class SessionWatcher:
    """The hidden window and its thread; `hwnd` is the window (tests send it messages)."""

    def __init__(
        self, api: Win32, events: SessionEvents, read_foreground: Callable[[], Window | None]
    ) -> None:
        self._api = api
        self._events = events
        self._read_foreground = read_foreground
        self.hwnd = 0
        #: True once WTSRegisterSessionNotification succeeded (else locks are polled).
        self.notifications = False
        self._error = ""
        self._ready = threading.Event()
        # A class name of its own: a second platform in one process (tests)
        # must not reuse a class whose procedure belonged to the first.
        self._class_name = f"OxyTrackAgentSession-{id(self):x}"
        # The callbacks must outlive the window: ctypes frees them with the object.
        self._wndproc: Any = api.WNDPROC(self._window_proc)
        self._winevent: Any = api.WINEVENTPROC(self._on_winevent)
        self._hooks: list[int] = []
        self._power = 0
        self._title_hook = 0
        self._watched = 0
        self._thread = threading.Thread(target=self._run, name="windows-session", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or not self.hwnd:
            raise RuntimeError(self._error or "the hidden window did not start")

    @property
    def sleep_notifications(self) -> bool:
        """True when RegisterSuspendResumeNotification took this window."""
        return bool(self._power)

    @property
    def running(self) -> bool:
        """True while the message loop runs."""
        return self._thread.is_alive()

    def close(self) -> None:
        """Destroy the window (its thread then leaves the loop) and wait for the thread."""
        if self.hwnd and self._thread.is_alive():
            self._api.user32.PostMessageW(self.hwnd, WM_AGENT_CLOSE, 0, 0)
            self._thread.join(timeout=2)

    # --- the window's thread ------------------------------------------------------------

    def _run(self) -> None:
        api, u = self._api, self._api.user32
        instance = api.kernel32.GetModuleHandleW(None)
        wc = api.WNDCLASSEXW()
        wc.cbSize = ctypes.sizeof(api.WNDCLASSEXW)
        wc.lpfnWndProc = self._wndproc
        wc.hInstance = instance
        wc.lpszClassName = self._class_name
        if not u.RegisterClassExW(ctypes.byref(wc)):
            self._fail("RegisterClassExW")
            return
        # Never shown; a tool window would stay out of the taskbar and Alt+Tab anyway.
        hwnd = u.CreateWindowExW(
            WS_EX_TOOLWINDOW,
            self._class_name,
            "OxyTrack",
            WS_OVERLAPPED,
            0,
            0,
            0,
            0,
            None,
            None,
            instance,
            None,
        )
        if not hwnd:
            self._fail("CreateWindowExW")
            u.UnregisterClassW(self._class_name, instance)
            return
        self.notifications = bool(
            api.wtsapi32.WTSRegisterSessionNotification(hwnd, NOTIFY_FOR_THIS_SESSION)
        )
        if not self.notifications:
            # Early at logon the session service may not answer yet: poll instead.
            log.warning("session notifications unavailable (error %d)", api.last_error())
        # Top-level windows get the classic sleep's broadcast; on a Modern
        # Standby PC the suspend and resume come to registered windows.
        self._power = u.RegisterSuspendResumeNotification(hwnd, DEVICE_NOTIFY_WINDOW_HANDLE) or 0
        hook = u.SetWinEventHook(
            EVENT_SYSTEM_FOREGROUND,
            EVENT_SYSTEM_FOREGROUND,
            None,
            self._winevent,
            0,
            0,
            WINEVENT_OUTOFCONTEXT,
        )
        if hook:
            self._hooks.append(hook)
        self._watch_titles(u.GetForegroundWindow() or 0)
        self.hwnd = int(hwnd)
        self._ready.set()
        try:
            msg = wintypes.MSG()
            while u.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                u.TranslateMessage(ctypes.byref(msg))
                u.DispatchMessageW(ctypes.byref(msg))
        finally:
            for hook in [*self._hooks, self._title_hook]:
                if hook:
                    u.UnhookWinEvent(hook)
            u.UnregisterClassW(self._class_name, instance)

    def _fail(self, call: str) -> None:
        self._error = f"{call} failed (error {self._api.last_error()})"
        self._ready.set()

    def _window_proc(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        u = self._api.user32
        try:
            self._events.handle(decode_message(msg, wparam), time.monotonic())
            if msg in (WM_QUERYENDSESSION, WM_POWERBROADCAST):
                return 1  # TRUE: the logoff may go on; the power event is handled
            if msg == WM_ENDSESSION:
                return 0
            if msg == WM_CLOSE and self._events.end_handler is not None:
                return 0  # the run loop stops and then closes this window itself
            if msg in (WM_CLOSE, WM_AGENT_CLOSE):
                u.DestroyWindow(hwnd)
                return 0
            if msg == WM_DESTROY:
                if self.notifications:
                    self._api.wtsapi32.WTSUnRegisterSessionNotification(hwnd)
                if self._power:
                    u.UnregisterSuspendResumeNotification(self._power)
                    self._power = 0
                u.PostQuitMessage(0)
                return 0
        except Exception:
            # An exception must not cross into Windows' dispatch: log, then default.
            log.exception("session window: message 0x%04x", msg)
        return int(u.DefWindowProcW(hwnd, msg, wparam, lparam))

    def _on_winevent(
        self,
        _hook: int,
        event: int,
        hwnd: int | None,
        id_object: int,
        id_child: int,
        _thread: int,
        event_ms: int,
    ) -> None:
        try:
            hwnd = hwnd or 0
            at = event_moment(
                time.monotonic(), int(self._api.kernel32.GetTickCount()), int(event_ms)
            )
            if event == EVENT_SYSTEM_FOREGROUND:
                self._watch_titles(hwnd)
            elif not (
                event == EVENT_OBJECT_NAMECHANGE
                and hwnd == self._watched
                and id_object == OBJID_WINDOW
                and id_child == CHILDID_SELF
            ):
                return  # another object of that process (a control, a tab) was renamed
            self._events.note_focus(at, self._read_foreground())
        except Exception:
            log.exception("session window: foreground change")

    def _watch_titles(self, hwnd: int) -> None:
        """Follow the title of the foreground window (and forget the previous one's)."""
        u = self._api.user32
        if self._title_hook:
            u.UnhookWinEvent(self._title_hook)
            self._title_hook = 0
        self._watched = hwnd
        if not hwnd:
            return
        pid = wintypes.DWORD()
        thread = u.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        if not thread:
            return
        # Only that process's name changes reach this thread, not every
        # object's in the session (a progress bar renames itself constantly).
        self._title_hook = (
            u.SetWinEventHook(
                EVENT_OBJECT_NAMECHANGE,
                EVENT_OBJECT_NAMECHANGE,
                None,
                self._winevent,
                pid.value,
                thread,
                WINEVENT_OUTOFCONTEXT,
            )
            or 0
        )
