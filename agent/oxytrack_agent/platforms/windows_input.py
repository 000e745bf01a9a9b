"""Key and click counting on Windows with low-level hooks, without pynput.

pynput's Windows keyboard listener turns every key into a character with
`ToUnicodeEx`, which changes the kernel's keyboard state: dead keys break in
the employee's apps (the ^ then e of "ê" on a French keyboard; pynput issues
#49, #118). Counting needs no character. This counter installs
WH_KEYBOARD_LL and WH_MOUSE_LL on a thread of its own with a message loop
(low-level hooks are called in the installing thread's loop) and looks only
at each event's message (key down, button down) and its time stamp; the key
code and the pointer position are never read.

Windows removes a low-level hook that keeps the system waiting beyond
LowLevelHooksTimeout, silently: the procedure does nothing but append a
moment under a lock.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from ctypes import wintypes
from typing import Any

from oxytrack_agent.platforms.win32api import (
    HC_ACTION,
    HOOKSTRUCT_TIME,
    MSLLHOOKSTRUCT,
    WM_QUIT,
    Win32,
)
from oxytrack_agent.platforms.windows_events import (
    WH_KEYBOARD_LL,
    WH_MOUSE_LL,
    event_moment,
    input_kind,
)

log = logging.getLogger(__name__)

#: Events kept while nobody takes them (as the sampler's other counters).
MAX_PENDING_EVENTS = 100_000


class Win32InputCounter:
    """Counts key presses and clicks of the session (the sampler's InputCounter)."""

    def __init__(self, api: Win32) -> None:
        self._api = api
        self._keys: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._clicks: deque[float] = deque(maxlen=MAX_PENDING_EVENTS)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_id = 0
        self._started = threading.Event()
        self._error = ""
        #: The last `until` taken: an event arriving later is never stamped before it.
        self._taken_until = 0.0
        # Kept on the object: ctypes frees a callback with its last reference.
        self._key_proc: Any = api.HOOKPROC(self._on_key)
        self._mouse_proc: Any = api.HOOKPROC(self._on_mouse)

    def start(self) -> None:
        """Install both hooks on their thread; raises when Windows refuses them."""
        self._thread = threading.Thread(target=self._run, name="windows-input", daemon=True)
        self._thread.start()
        if not self._started.wait(5) or self._error or not self._thread.is_alive():
            # Counting nothing silently would read as "no input": say so instead.
            raise RuntimeError(self._error or "input hooks did not start")

    def stop(self) -> None:
        """End the thread's loop (which removes the hooks)."""
        if self._thread is not None and self._thread_id:
            self._api.user32.PostThreadMessageW(self._thread_id, WM_QUIT, 0, 0)
            self._thread.join(timeout=2)
        self._thread = None
        self._thread_id = 0

    def take(self, until: float) -> tuple[list[float], list[float]]:
        """Monotonic times of key presses and clicks up to `until`, and forget them."""
        with self._lock:
            self._taken_until = max(self._taken_until, until)
            return _pop_until(self._keys, until), _pop_until(self._clicks, until)

    def _run(self) -> None:
        api, u = self._api, self._api.user32
        self._thread_id = int(api.kernel32.GetCurrentThreadId())
        instance = api.kernel32.GetModuleHandleW(None)
        hooks = [
            u.SetWindowsHookExW(WH_KEYBOARD_LL, self._key_proc, instance, 0),
            u.SetWindowsHookExW(WH_MOUSE_LL, self._mouse_proc, instance, 0),
        ]
        try:
            if not all(hooks):
                self._error = f"SetWindowsHookExW failed (error {api.last_error()})"
                return
            msg = wintypes.MSG()
            # The hooks run inside GetMessageW; nothing is posted but WM_QUIT.
            self._started.set()
            while u.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                u.TranslateMessage(ctypes.byref(msg))
                u.DispatchMessageW(ctypes.byref(msg))
        finally:
            for hook in hooks:
                if hook:
                    u.UnhookWindowsHookEx(hook)
            self._started.set()

    def _on_key(self, code: int, wparam: int, lparam: int) -> int:
        if code == HC_ACTION and input_kind(WH_KEYBOARD_LL, wparam) == "key":
            stamp = ctypes.cast(lparam, ctypes.POINTER(HOOKSTRUCT_TIME)).contents.time
            self._note(self._keys, int(stamp))
        return int(self._api.user32.CallNextHookEx(None, code, wparam, lparam))

    def _on_mouse(self, code: int, wparam: int, lparam: int) -> int:
        if code == HC_ACTION and input_kind(WH_MOUSE_LL, wparam) == "click":
            stamp = ctypes.cast(lparam, ctypes.POINTER(MSLLHOOKSTRUCT)).contents.time
            self._note(self._clicks, int(stamp))
        return int(self._api.user32.CallNextHookEx(None, code, wparam, lparam))

    def _note(self, events: deque[float], stamp: int) -> None:
        try:
            # Under the lock, so an event stamped before the sampler's reading
            # is in the list when the sampler takes it. Its own time stamp
            # places it (the hook may run late when the agent is busy), but
            # never before what the sampler has already taken.
            with self._lock:
                now = time.monotonic()
                tick = int(self._api.kernel32.GetTickCount())
                events.append(max(event_moment(now, tick, stamp), self._taken_until))
        except Exception:  # a hook procedure must never raise into Windows
            log.exception("input hook")


def _pop_until(events: deque[float], until: float) -> list[float]:
    out: list[float] = []
    while events and events[0] <= until:
        out.append(events.popleft())
    return out
