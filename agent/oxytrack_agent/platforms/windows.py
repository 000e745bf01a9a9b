"""Windows backend: ctypes over user32/kernel32, process names via psutil.

No WMI polling (it costs CPU). The pure parts (tick wrap-around, the UWP host
resolution) are plain functions tested on every OS; the ctypes calls only run
on Windows and have not been run by the project's CI (see the docs).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Iterable
from ctypes import wintypes
from typing import Any

import psutil

from oxytrack_agent.platforms import DESKTOP_APP, Window

#: UWP apps (Calculator, Settings, Store apps) live in a frame owned by this
#: host; the real app is the process of one of its child windows.
UWP_HOST = "applicationframehost.exe"
#: What a locked workstation or the secure desktop (UAC prompt) focuses.
LOCK_APPS = frozenset({"lockapp.exe", "logonui.exe"})


def idle_ms_from_ticks(now_tick: int, last_input_tick: int) -> int:
    """Milliseconds since the last input from two 32-bit tick counts.

    `GetLastInputInfo` returns a 32-bit `GetTickCount` value that wraps every
    49.7 days; comparing it with the low 32 bits of `GetTickCount64` modulo 2**32
    stays right across the wrap.
    """
    return (now_tick - last_input_tick) & 0xFFFFFFFF


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


#: EXTENDED_NAME_FORMAT NameDisplay: the account's "full name" (secext.h).
_NAME_DISPLAY = 3


def full_user_name() -> str:
    """The account's display name (secur32 GetUserNameExW NameDisplay), or ''.

    A local account outside a domain often has none (ERROR_NONE_MAPPED): then ''.
    """
    windll: Any = getattr(ctypes, "windll", None)
    if windll is None or sys.platform != "win32":
        return ""
    try:
        get_name = windll.secur32.GetUserNameExW
        get_name.argtypes = [ctypes.c_int, wintypes.LPWSTR, ctypes.POINTER(wintypes.ULONG)]
        get_name.restype = wintypes.BOOLEAN
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


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", wintypes.UINT), ("dwTime", wintypes.DWORD)]


class WindowsPlatform:
    """The foreground window and idle time of the interactive Windows session."""

    name = "windows"

    def __init__(self) -> None:
        # getattr: mypy on Linux would see the Windows-only names as unreachable.
        windll: Any = getattr(ctypes, "windll", None)
        if windll is None or sys.platform != "win32":
            raise RuntimeError("WindowsPlatform only runs on Windows")
        self._user32: Any = windll.user32
        self._kernel32: Any = windll.kernel32
        self._kernel32.GetTickCount64.restype = ctypes.c_ulonglong
        # Explicit prototypes: ctypes' default int would truncate 64-bit handles.
        u = self._user32
        u.GetForegroundWindow.restype = wintypes.HWND
        u.GetWindowThreadProcessId.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.DWORD)]
        u.GetWindowThreadProcessId.restype = wintypes.DWORD
        u.GetWindowTextLengthW.argtypes = [wintypes.HWND]
        u.GetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
        u.GetLastInputInfo.argtypes = [ctypes.POINTER(_LastInputInfo)]
        u.OpenInputDesktop.restype = wintypes.HANDLE
        u.GetUserObjectInformationW.argtypes = [
            wintypes.HANDLE,
            ctypes.c_int,
            ctypes.c_void_p,
            wintypes.DWORD,
            ctypes.POINTER(wintypes.DWORD),
        ]
        u.CloseDesktop.argtypes = [wintypes.HANDLE]
        self._enum_proc_type: Any = getattr(ctypes, "WINFUNCTYPE")(  # noqa: B009
            wintypes.BOOL, wintypes.HWND, wintypes.LPARAM
        )

    def close(self) -> None:
        """Nothing to release: ctypes handles are process-wide."""

    def _pid_of(self, hwnd: int) -> int:
        pid = wintypes.DWORD()
        self._user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        return int(pid.value)

    @staticmethod
    def _exe_of(pid: int) -> str:
        try:
            return str(psutil.Process(pid).name())
        except (psutil.Error, OSError):
            # An elevated process denies access to a normal user: never crash.
            return "unknown"

    def _title_of(self, hwnd: int) -> str:
        length = int(self._user32.GetWindowTextLengthW(hwnd))
        buf = ctypes.create_unicode_buffer(length + 1)
        self._user32.GetWindowTextW(hwnd, buf, length + 1)
        return buf.value

    def _children(self, hwnd: int) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []

        def visit(child: int, _lparam: int) -> bool:
            pid = self._pid_of(child)
            found.append((pid, self._exe_of(pid)))
            return True

        callback: Callable[[int, int], bool] = self._enum_proc_type(visit)
        self._user32.EnumChildWindows(hwnd, callback, 0)
        return found

    def focused_window(self) -> Window | None:
        """The foreground window; None for a null one (UAC prompt, lock screen)."""
        hwnd = self._user32.GetForegroundWindow()
        if not hwnd:
            return None
        pid = self._pid_of(hwnd)
        exe = self._exe_of(pid)
        if exe.lower() == UWP_HOST:
            pid, exe = resolve_uwp_app(pid, self._children(hwnd))
        if exe.lower() in LOCK_APPS:
            return None
        title = self._title_of(hwnd)
        if not exe or exe == "unknown":
            return Window(DESKTOP_APP if not title else "unknown", title, pid or None)
        return Window(app_name(exe), title, pid)

    def idle_seconds(self) -> float:
        """Seconds since the last input, right across the 49.7-day tick wrap."""
        info = _LastInputInfo()
        info.cbSize = ctypes.sizeof(_LastInputInfo)
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            return 0.0
        now = int(self._kernel32.GetTickCount64()) & 0xFFFFFFFF
        return idle_ms_from_ticks(now, int(info.dwTime)) / 1000.0

    def session_locked(self) -> bool:
        """Locked when the input desktop is not "Default" (Winlogon, secure desktop)."""
        desktop = self._user32.OpenInputDesktop(0, False, 0x0001)  # DESKTOP_READOBJECTS
        if not desktop:
            # Access denied to the input desktop happens exactly while it is Winlogon.
            return True
        try:
            name = ctypes.create_unicode_buffer(256)
            needed = wintypes.DWORD()
            ok = self._user32.GetUserObjectInformationW(
                desktop, 2, name, ctypes.sizeof(name), ctypes.byref(needed)
            )  # 2 = UOI_NAME
            return bool(ok) and name.value.lower() != "default"
        finally:
            self._user32.CloseDesktop(desktop)
