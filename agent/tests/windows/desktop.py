"""A real window and real input on the Windows desktop, for the backend's tests.

`TestWindow` is a plain Win32 window on a thread of its own that pumps its
messages (the backend reads its title with GetWindowTextW, which sends
WM_GETTEXT to a window of its own process). `foreground()` brings it to the
front the documented way a background process may: after an Alt key press,
which unlocks SetForegroundWindow (LockSetForegroundWindow's remarks).
`keys()` and `clicks()` inject input with SendInput.

Nothing is imported from Windows at module import: this file is imported
(never run) on Linux by test_windows_collection.py.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from ctypes import wintypes
from typing import Any

from oxytrack_agent.platforms.win32api import Win32, win32

WS_OVERLAPPEDWINDOW = 0x00CF0000
WS_VISIBLE = 0x10000000
SW_SHOW = 5
SW_RESTORE = 9
INPUT_MOUSE = 0
INPUT_KEYBOARD = 1
KEYEVENTF_KEYUP = 0x0002
MOUSEEVENTF_LEFTDOWN = 0x0002
MOUSEEVENTF_LEFTUP = 0x0004
MOUSEEVENTF_WHEEL = 0x0800
VK_MENU = 0x12  # Alt
#: A key no app acts on (no keyboard has it), so typing it is harmless.
VK_F24 = 0x87
WM_CLOSE = 0x0010
WM_DESTROY = 0x0002


class MOUSEINPUT(ctypes.Structure):
    _fields_ = [
        ("dx", wintypes.LONG),
        ("dy", wintypes.LONG),
        ("mouseData", wintypes.DWORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class KEYBDINPUT(ctypes.Structure):
    _fields_ = [
        ("wVk", wintypes.WORD),
        ("wScan", wintypes.WORD),
        ("dwFlags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class HARDWAREINPUT(ctypes.Structure):
    _fields_ = [("uMsg", wintypes.DWORD), ("wParamL", wintypes.WORD), ("wParamH", wintypes.WORD)]


class _INPUTUNION(ctypes.Union):
    # The union is as large as its largest member: SendInput checks cbSize.
    _fields_ = [("mi", MOUSEINPUT), ("ki", KEYBDINPUT), ("hi", HARDWAREINPUT)]


class INPUT(ctypes.Structure):
    _fields_ = [("type", wintypes.DWORD), ("u", _INPUTUNION)]


def _api() -> Win32:
    api = win32()
    u = api.user32
    u.ShowWindow.argtypes = [wintypes.HWND, ctypes.c_int]
    u.ShowWindow.restype = wintypes.BOOL
    u.SetForegroundWindow.argtypes = [wintypes.HWND]
    u.SetForegroundWindow.restype = wintypes.BOOL
    u.BringWindowToTop.argtypes = [wintypes.HWND]
    u.BringWindowToTop.restype = wintypes.BOOL
    u.SendInput.argtypes = [wintypes.UINT, ctypes.POINTER(INPUT), ctypes.c_int]
    u.SendInput.restype = wintypes.UINT
    u.SetCursorPos.argtypes = [ctypes.c_int, ctypes.c_int]
    u.SetCursorPos.restype = wintypes.BOOL
    u.GetWindowRect.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.RECT)]
    u.GetWindowRect.restype = wintypes.BOOL
    u.SetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPCWSTR]
    u.SetWindowTextW.restype = wintypes.BOOL
    u.AttachThreadInput.argtypes = [wintypes.DWORD, wintypes.DWORD, wintypes.BOOL]
    u.AttachThreadInput.restype = wintypes.BOOL
    return api


def send(*inputs: INPUT) -> None:
    """Inject `inputs` as if typed; raises when Windows refuses (UIPI, no desktop)."""
    array = (INPUT * len(inputs))(*inputs)
    sent = _api().user32.SendInput(len(inputs), array, ctypes.sizeof(INPUT))
    if sent != len(inputs):
        raise OSError(f"SendInput sent {sent} of {len(inputs)} (error {_api().last_error()})")


def key(vk: int, *, up: bool = False) -> INPUT:
    """One key event (down, or up)."""
    event = INPUT(type=INPUT_KEYBOARD)
    event.u.ki = KEYBDINPUT(wVk=vk, dwFlags=KEYEVENTF_KEYUP if up else 0)
    return event


def mouse(flags: int, data: int = 0) -> INPUT:
    """One mouse event at the pointer (a button or the wheel)."""
    event = INPUT(type=INPUT_MOUSE)
    event.u.mi = MOUSEINPUT(dwFlags=flags, mouseData=data)
    return event


def keys(count: int, vk: int = VK_F24) -> None:
    """Press and release `vk` `count` times."""
    for _ in range(count):
        send(key(vk), key(vk, up=True))


def clicks(count: int) -> None:
    """Left clicks where the pointer is."""
    for _ in range(count):
        send(mouse(MOUSEEVENTF_LEFTDOWN), mouse(MOUSEEVENTF_LEFTUP))


def scroll() -> None:
    """One notch of the wheel (a scroll, not a click)."""
    send(mouse(MOUSEEVENTF_WHEEL, 120))


class TestWindow:
    """A visible top-level window titled `title`, owned by this process."""

    __test__ = False  # not a test class, whatever its name
    # Declared here: off Windows, mypy sees the body after the guard as unreachable.
    title: str
    hwnd: int
    _api: Win32
    _ready: threading.Event
    _class: str
    _proc: Any
    _thread: threading.Thread

    def __init__(self, title: str) -> None:
        if sys.platform != "win32":
            raise RuntimeError("a Win32 window needs Windows")
        self.title = title
        self.hwnd = 0
        self._api = _api()
        self._ready = threading.Event()
        self._class = f"OxyTrackTestWindow-{id(self):x}"
        self._proc = self._api.WNDPROC(self._window_proc)
        self._thread = threading.Thread(target=self._run, name="test-window", daemon=True)
        self._thread.start()
        if not self._ready.wait(5) or not self.hwnd:
            raise RuntimeError(f"the test window did not open (error {self._api.last_error()})")

    def _run(self) -> None:
        api, u = self._api, self._api.user32
        instance = api.kernel32.GetModuleHandleW(None)
        wc = api.WNDCLASSEXW()
        wc.cbSize = ctypes.sizeof(api.WNDCLASSEXW)
        wc.lpfnWndProc = self._proc
        wc.hInstance = instance
        wc.lpszClassName = self._class
        u.RegisterClassExW(ctypes.byref(wc))
        hwnd = u.CreateWindowExW(
            0,
            self._class,
            self.title,
            WS_OVERLAPPEDWINDOW | WS_VISIBLE,
            100,
            100,
            480,
            320,
            None,
            None,
            instance,
            None,
        )
        self.hwnd = int(hwnd or 0)
        self._ready.set()
        if not hwnd:
            return
        msg = wintypes.MSG()
        while u.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
            u.TranslateMessage(ctypes.byref(msg))
            u.DispatchMessageW(ctypes.byref(msg))
        u.UnregisterClassW(self._class, instance)

    def _window_proc(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        u = self._api.user32
        if msg == WM_CLOSE:
            u.DestroyWindow(hwnd)
            return 0
        if msg == WM_DESTROY:
            u.PostQuitMessage(0)
            return 0
        return int(u.DefWindowProcW(hwnd, msg, wparam, lparam))

    def rename(self, title: str) -> None:
        """Change the title (as an editor does when a document is saved under a name)."""
        self.title = title
        self._api.user32.SetWindowTextW(self.hwnd, title)

    def foreground(self, timeout: float = 5.0) -> None:
        """Bring the window to the front; raises if Windows keeps another there."""
        u = self._api.user32
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            u.ShowWindow(self.hwnd, SW_RESTORE)
            if attempt % 2:
                # A background process may take the foreground right after an
                # Alt press (the system's foreground lock lets it through then).
                send(key(VK_MENU))
                try:
                    u.BringWindowToTop(self.hwnd)
                    u.SetForegroundWindow(self.hwnd)
                finally:
                    send(key(VK_MENU, up=True))
            else:
                # Or with this thread's input attached to the foreground window's.
                front = u.GetForegroundWindow()
                theirs = int(u.GetWindowThreadProcessId(front, None)) if front else 0
                mine = int(self._api.kernel32.GetCurrentThreadId())
                attached = bool(theirs) and bool(u.AttachThreadInput(mine, theirs, True))
                try:
                    u.BringWindowToTop(self.hwnd)
                    u.SetForegroundWindow(self.hwnd)
                finally:
                    if attached:
                        u.AttachThreadInput(mine, theirs, False)
            if int(u.GetForegroundWindow() or 0) == self.hwnd:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"window {self.title!r} could not be brought to the foreground "
                    f"(foreground: {u.GetForegroundWindow()})"
                )
            time.sleep(0.2)

    def point_inside(self) -> None:
        """Put the pointer in the middle of the window (clicks then land on it)."""
        rect = wintypes.RECT()
        self._api.user32.GetWindowRect(self.hwnd, ctypes.byref(rect))
        self._api.user32.SetCursorPos((rect.left + rect.right) // 2, (rect.top + rect.bottom) // 2)

    def close(self) -> None:
        """Close the window and end its thread."""
        if self.hwnd:
            self._api.user32.PostMessageW(self.hwnd, WM_CLOSE, 0, 0)
            self._thread.join(timeout=2)
