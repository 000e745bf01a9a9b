"""What the Windows backend decides, without calling Windows.

The ctypes calls live in `windows.py`, `windows_watch.py` and
`windows_input.py` and only run on Windows; everything here is plain Python,
imported and tested on every OS: which window message means what, whether the
session counts as locked after a sequence of notifications, which app a
foreground window belongs to (UWP frames, elevated processes, the desktop),
and when an input event happened.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from oxytrack_agent.platforms import DESKTOP_APP, Changes, Window, changes_of

log = logging.getLogger(__name__)

# --- window messages (WinUser.h, WtsApi32.h) ------------------------------------------

WM_DESTROY = 0x0002
WM_CLOSE = 0x0010
WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
WM_POWERBROADCAST = 0x0218
WM_WTSSESSION_CHANGE = 0x02B1
#: The backend's own message to its window: destroy yourself (`close()`).
#: WM_CLOSE is left to others: `taskkill` without /F and the Restart Manager
#: (an MSI upgrade replacing the agent's files) send it to ask the app to quit.
WM_AGENT_CLOSE = 0x8000 + 1  # WM_APP + 1

# wParam of WM_WTSSESSION_CHANGE.
WTS_CONSOLE_CONNECT = 0x1
WTS_CONSOLE_DISCONNECT = 0x2
WTS_REMOTE_CONNECT = 0x3
WTS_REMOTE_DISCONNECT = 0x4
WTS_SESSION_LOGON = 0x5
WTS_SESSION_LOGOFF = 0x6
WTS_SESSION_LOCK = 0x7
WTS_SESSION_UNLOCK = 0x8

# wParam of WM_POWERBROADCAST.
PBT_APMSUSPEND = 0x4
PBT_APMRESUMESUSPEND = 0x7
PBT_APMRESUMEAUTOMATIC = 0x12

#: lParam bit of WM_QUERYENDSESSION/WM_ENDSESSION: a logoff (0 is a shutdown or restart).
ENDSESSION_LOGOFF = 0x80000000

_SESSION_CHANGES = {
    WTS_SESSION_LOCK: "lock",
    WTS_SESSION_UNLOCK: "unlock",
    # Fast user switching and Remote Desktop: the session leaves the screen
    # (another user's session, or the RDP client went away) and comes back.
    WTS_CONSOLE_DISCONNECT: "away",
    WTS_REMOTE_DISCONNECT: "away",
    WTS_CONSOLE_CONNECT: "back",
    WTS_REMOTE_CONNECT: "back",
    WTS_SESSION_LOGOFF: "logoff",
}
_POWER_CHANGES = {
    PBT_APMSUSPEND: "suspend",
    # RESUMEAUTOMATIC comes on every wake, RESUMESUSPEND only when a user is
    # there too (after it): either ends the sleep.
    PBT_APMRESUMEAUTOMATIC: "resume",
    PBT_APMRESUMESUSPEND: "resume",
}


def decode_message(msg: int, wparam: int) -> str | None:
    """The session event a message of the agent's hidden window means, or None.

    "lock", "unlock", "away", "back", "logoff" (session notifications),
    "suspend", "resume" (power), "query-end", "end", "end-cancelled"
    (logoff and shutdown: WM_ENDSESSION's wParam says whether it happens),
    "close" (someone asks the agent to quit: taskkill, the Restart Manager).
    """
    if msg == WM_WTSSESSION_CHANGE:
        return _SESSION_CHANGES.get(wparam)
    if msg == WM_POWERBROADCAST:
        return _POWER_CHANGES.get(wparam)
    if msg == WM_QUERYENDSESSION:
        return "query-end"
    if msg == WM_ENDSESSION:
        return "end" if wparam else "end-cancelled"
    if msg == WM_CLOSE:
        return "close"
    return None


# --- lock state -------------------------------------------------------------------------

#: The events that start a reason for counting no time, and the ones that end it.
_REASON_STARTS = {"lock": "locked", "away": "away", "suspend": "asleep", "logoff": "ended"}
_REASON_ENDS = {"unlock": "locked", "back": "away", "resume": "asleep"}


class SessionState:
    """Whether the session counts as locked, from the notifications seen so far.

    Locked, switched away (another user's session, a closed RDP client),
    asleep and logged off are separate reasons: the session counts again only
    once none is left. Returning to a session after fast user switching
    reconnects it while its lock screen still shows; a wake on a timer
    resumes while the session is still locked.
    """

    def __init__(self, *, locked: bool = False) -> None:
        self.reasons: set[str] = {"locked"} if locked else set()

    @property
    def locked(self) -> bool:
        """True while any reason to count no time is left."""
        return bool(self.reasons)

    def apply(self, event: str) -> str | None:
        """Take one event; "lock" or "unlock" when the state changed because of it."""
        was = self.locked
        if event in _REASON_STARTS:
            self.reasons.add(_REASON_STARTS[event])
        elif event in _REASON_ENDS:
            self.reasons.discard(_REASON_ENDS[event])
        else:
            return None
        if was == self.locked:
            return None
        return "lock" if self.locked else "unlock"


class EndOfSession(Protocol):
    """What the agent does when Windows ends the session (see sampler.SessionEnd)."""

    def query(self) -> None:
        """WM_QUERYENDSESSION: store everything now (the logoff may still be cancelled)."""
        ...

    def end(self) -> None:
        """WM_ENDSESSION(TRUE): stop and store; return once it is stored."""
        ...


class SessionEvents:
    """The backend's record of session events, fed by its hidden window's thread.

    Lock and unlock moments go to the sampler through `changes()` (as the
    X11 change watcher's do), the lock state through `locked`; logoff and
    shutdown go to the `EndOfSession` handler the run loop registered.
    """

    def __init__(self, *, locked: bool = False) -> None:
        self.state = SessionState(locked=locked)
        self.end_handler: EndOfSession | None = None
        self._events: deque[tuple[float, str, Window | None]] = deque(maxlen=4096)
        self._lock = threading.Lock()
        #: The latest `until` asked for: a change noted later is placed after it.
        self._asked_until = float("-inf")

    @property
    def locked(self) -> bool:
        """True while the session is locked, switched away, asleep or logged off."""
        with self._lock:
            return self.state.locked

    def has(self, reason: str) -> bool:
        """True while `reason` ("locked", "away", "asleep", "ended") holds."""
        with self._lock:
            return reason in self.state.reasons

    def handle(self, event: str | None, at: float) -> None:
        """Take a decoded message (`decode_message`) seen at monotonic time `at`."""
        if event is None:
            return
        if event in ("query-end", "end", "close"):
            handler = self.end_handler
            if handler is None:
                return
            try:
                # On this (the window's) thread: Windows waits for the reply,
                # and ends the process soon after WM_ENDSESSION returns. A
                # close request stops the agent the same way (it is not
                # restarted before the next logon).
                handler.query() if event == "query-end" else handler.end()
            except Exception:  # never let the logoff see an exception in a window procedure
                log.exception("end of session: store failed")
            return
        with self._lock:
            change = self.state.apply(event)
            if change is not None:
                self._append(at, change, None)

    def note_focus(self, at: float, window: Window | None) -> None:
        """A foreground or title change seen at `at`, with the window read just after."""
        with self._lock:
            self._append(at, "focus", window)

    def _append(self, at: float, kind: str, window: Window | None) -> None:
        # Noted after the sampler read past its moment (the window is read
        # before it is noted): at the earliest moment still open, rather than
        # dropped with what the sampler has passed.
        last = self._events[-1][0] if self._events else at
        self._events.append((max(at, self._asked_until + 1e-6, last), kind, window))

    def changes(self, after: float, until: float) -> Changes:
        """Focus changes, locks and unlocks in (after, until] (monotonic)."""
        with self._lock:
            self._asked_until = max(self._asked_until, until)
            # Older events can never be asked for again: the sampler moves on.
            while self._events and self._events[0][0] <= after:
                self._events.popleft()
            events = list(self._events)
        return changes_of(events, after, until)


# --- windows and their apps --------------------------------------------------------------

#: UWP apps (Calculator, Settings, Store apps) live in a frame owned by this
#: host; the real app is the process of one of its child windows.
UWP_HOST = "applicationframehost.exe"
#: What a locked workstation or the secure desktop (UAC prompt) focuses.
LOCK_APPS = frozenset({"lockapp.exe", "logonui.exe"})
#: Window classes of explorer.exe that are the desktop, not a folder window:
#: the desktop itself (Progman, WorkerW behind the wallpaper) and the taskbars.
DESKTOP_CLASSES = frozenset({"progman", "workerw", "shell_traywnd", "shell_secondarytraywnd"})
#: The app name of a window whose process cannot be opened (elevated, protected).
UNKNOWN_APP = "unknown"


class WindowReader(Protocol):
    """The few reads `read_window` needs (Win32 in windows.py, scripted in tests)."""

    def pid_of(self, hwnd: int) -> int:
        """The process id owning `hwnd` (0 when the window is gone)."""
        ...

    def exe_of(self, pid: int) -> str | None:
        """The executable's file name; None when the process cannot be opened."""
        ...

    def title_of(self, hwnd: int) -> str:
        """The window's title."""
        ...

    def class_of(self, hwnd: int) -> str:
        """The window's class name."""
        ...

    def child_pids(self, hwnd: int) -> Iterable[int]:
        """The process ids of the window's child windows, in Z order."""
        ...


def idle_ms_from_ticks(now_tick: int, last_input_tick: int) -> int:
    """Milliseconds since the last input from two 32-bit tick counts.

    `GetLastInputInfo` returns a 32-bit `GetTickCount` value that wraps every
    49.7 days; comparing it with the low 32 bits of `GetTickCount64` modulo 2**32
    stays right across the wrap.
    """
    return (now_tick - last_input_tick) & 0xFFFFFFFF


def event_moment(
    now_mono: float, now_tick: int, event_tick: int, *, max_age_s: float = 5.0
) -> float:
    """The monotonic moment of an event stamped `event_tick` (ms, GetTickCount's clock).

    Hooks and WinEvents carry the tick of the event, read `now_tick` at
    `now_mono`: the event happened their difference earlier. A stamp from the
    future (read order) or older than `max_age_s` (a bogus stamp) counts as now.
    """
    age_ms = idle_ms_from_ticks(now_tick, event_tick)
    age = age_ms / 1000.0
    return now_mono - age if age <= max_age_s else now_mono


def resolve_uwp_app(
    host_pid: int, children: Iterable[tuple[int, str]], host_name: str = UWP_HOST
) -> tuple[int, str]:
    """The (pid, exe name) of the real app hosted by ApplicationFrameHost.

    `children` are the (pid, exe name) of the frame's child windows; the first
    one whose process is not the host is the app. With none (the app is still
    starting or suspended) the host itself is kept.
    """
    for pid, name in children:
        if pid != host_pid and name.lower() != host_name:
            return pid, name
    return host_pid, host_name


def app_name(exe: str) -> str:
    """The app name shown to managers: the executable's name without `.exe`."""
    return exe[:-4] if exe.lower().endswith(".exe") else exe


def read_window(reader: WindowReader, hwnd: int) -> Window | None:
    """The focused window `hwnd` as the employee sees it; None when no time may count.

    None for no foreground window (a window losing activation, the secure
    desktop) and for the lock screen. An elevated or protected process that
    cannot be opened keeps its title under the app "unknown". A UWP frame is
    named after the app in its child window (as ActivityWatch's window
    watcher does), and the desktop and taskbar are the desktop.
    """
    if not hwnd:
        return None
    pid = reader.pid_of(hwnd)
    if not pid:
        return None  # the window closed between two calls: this sample counts nothing
    exe = reader.exe_of(pid)
    if exe is not None and exe.lower() == UWP_HOST:
        children: list[tuple[int, str]] = []
        for child in dict.fromkeys(reader.child_pids(hwnd)):
            if child != pid:
                children.append((child, reader.exe_of(child) or UNKNOWN_APP))
                break  # the first other process is the app: no need to open the rest
        app_pid, app_exe = resolve_uwp_app(pid, children)
        if app_pid != pid:  # else the host keeps its own name as Windows spells it
            pid, exe = app_pid, app_exe
    if exe is not None and exe.lower() in LOCK_APPS:
        return None
    title = reader.title_of(hwnd)
    if exe is None:
        return Window(UNKNOWN_APP, title, pid)
    if exe.lower() == "explorer.exe" and reader.class_of(hwnd).lower() in DESKTOP_CLASSES:
        return Window(DESKTOP_APP, "", pid)
    return Window(app_name(exe), title, pid)


# --- input --------------------------------------------------------------------------------

WH_KEYBOARD_LL = 13
WH_MOUSE_LL = 14
WM_KEYDOWN = 0x0100
WM_SYSKEYDOWN = 0x0104
WM_LBUTTONDOWN = 0x0201
WM_RBUTTONDOWN = 0x0204
WM_MBUTTONDOWN = 0x0207
WM_MOUSEWHEEL = 0x020A
WM_XBUTTONDOWN = 0x020B
WM_MOUSEHWHEEL = 0x020E

_KEY_PRESSES = frozenset({WM_KEYDOWN, WM_SYSKEYDOWN})
#: Button presses; the wheel (WM_MOUSEWHEEL, WM_MOUSEHWHEEL) scrolls, it does not click.
_CLICKS = frozenset({WM_LBUTTONDOWN, WM_RBUTTONDOWN, WM_MBUTTONDOWN, WM_XBUTTONDOWN})


def input_kind(hook: int, message: int) -> str | None:
    """ "key", "click" or None for a low-level hook's message (wParam).

    Only the message is looked at: which key or button, and where, never are.
    Alt combinations come as WM_SYSKEYDOWN; a held key repeats its WM_KEYDOWN.
    """
    if hook == WH_KEYBOARD_LL and message in _KEY_PRESSES:
        return "key"
    if hook == WH_MOUSE_LL and message in _CLICKS:
        return "click"
    return None
