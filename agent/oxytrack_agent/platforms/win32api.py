"""The Win32 functions the Windows backend calls, with explicit ctypes prototypes.

Loaded once, on Windows only (`win32()` raises elsewhere). Every function gets
its argument and result types: ctypes' default `int` would truncate 64-bit
handles and pointers (HWND, LPARAM, LRESULT). `use_last_error` keeps each
call's GetLastError for the log.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from ctypes import wintypes
from typing import Any

#: LRESULT and LONG_PTR are pointer-sized signed integers.
LRESULT = ctypes.c_ssize_t

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
NOTIFY_FOR_THIS_SESSION = 0
DEVICE_NOTIFY_WINDOW_HANDLE = 0
WS_EX_TOOLWINDOW = 0x00000080
WS_OVERLAPPED = 0x00000000
EVENT_SYSTEM_FOREGROUND = 0x0003
EVENT_OBJECT_NAMECHANGE = 0x800C
WINEVENT_OUTOFCONTEXT = 0x0000
OBJID_WINDOW = 0
CHILDID_SELF = 0
WM_QUIT = 0x0012
HC_ACTION = 0


class LASTINPUTINFO(ctypes.Structure):
    """GetLastInputInfo's result: the tick of the session's last input."""

    _fields_ = [("cbSize", wintypes.UINT), ("dwTime", wintypes.DWORD)]


class HOOKSTRUCT_TIME(ctypes.Structure):
    """The head of KBDLLHOOKSTRUCT (vkCode, scanCode, flags, time).

    Declared so `time` can be read; the key code is in memory Windows gave us
    and is never read by the agent.
    """

    _fields_ = [
        ("_code", wintypes.DWORD),
        ("_scan", wintypes.DWORD),
        ("flags", wintypes.DWORD),
        ("time", wintypes.DWORD),
    ]


class MSLLHOOKSTRUCT(ctypes.Structure):
    """The mouse hook's event (the position is not read)."""

    _fields_ = [
        ("_pt", wintypes.POINT),
        ("mouseData", wintypes.DWORD),
        ("flags", wintypes.DWORD),
        ("time", wintypes.DWORD),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class Win32:
    """user32, kernel32, wtsapi32 and secur32 with prototypes, and callback types."""

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise RuntimeError("the Win32 API only exists on Windows")
        h, d, u_int = wintypes.HWND, wintypes.DWORD, wintypes.UINT
        wp, lp, b = wintypes.WPARAM, wintypes.LPARAM, wintypes.BOOL
        self.WNDPROC: Any = ctypes.WINFUNCTYPE(LRESULT, h, u_int, wp, lp)
        self.WNDENUMPROC: Any = ctypes.WINFUNCTYPE(b, h, lp)
        self.HOOKPROC: Any = ctypes.WINFUNCTYPE(LRESULT, ctypes.c_int, wp, lp)
        self.WINEVENTPROC: Any = ctypes.WINFUNCTYPE(
            None, wintypes.HANDLE, d, h, wintypes.LONG, wintypes.LONG, d, d
        )
        self.WNDCLASSEXW: Any = type(
            "WNDCLASSEXW",
            (ctypes.Structure,),
            {
                "_fields_": [
                    ("cbSize", u_int),
                    ("style", u_int),
                    ("lpfnWndProc", self.WNDPROC),
                    ("cbClsExtra", ctypes.c_int),
                    ("cbWndExtra", ctypes.c_int),
                    ("hInstance", wintypes.HINSTANCE),
                    ("hIcon", wintypes.HICON),
                    ("hCursor", wintypes.HANDLE),
                    ("hbrBackground", wintypes.HBRUSH),
                    ("lpszMenuName", wintypes.LPCWSTR),
                    ("lpszClassName", wintypes.LPCWSTR),
                    ("hIconSm", wintypes.HICON),
                ]
            },
        )

        self.user32: Any = ctypes.WinDLL("user32", use_last_error=True)
        self.kernel32: Any = ctypes.WinDLL("kernel32", use_last_error=True)
        self.wtsapi32: Any = ctypes.WinDLL("wtsapi32", use_last_error=True)
        self.secur32: Any = ctypes.WinDLL("secur32", use_last_error=True)
        u, k = self.user32, self.kernel32

        def proto(fn: Any, restype: Any, *argtypes: Any) -> None:
            fn.restype = restype
            fn.argtypes = list(argtypes)

        # Windows and their processes.
        proto(u.GetForegroundWindow, h)
        proto(u.GetWindowThreadProcessId, d, h, ctypes.POINTER(d))
        proto(u.GetWindowTextLengthW, ctypes.c_int, h)
        proto(u.GetWindowTextW, ctypes.c_int, h, wintypes.LPWSTR, ctypes.c_int)
        proto(u.GetClassNameW, ctypes.c_int, h, wintypes.LPWSTR, ctypes.c_int)
        proto(u.EnumChildWindows, b, h, self.WNDENUMPROC, lp)
        proto(k.OpenProcess, wintypes.HANDLE, d, b, d)
        proto(
            k.QueryFullProcessImageNameW, b, wintypes.HANDLE, d, wintypes.LPWSTR, ctypes.POINTER(d)
        )
        proto(k.CloseHandle, b, wintypes.HANDLE)
        # Idle time.
        proto(u.GetLastInputInfo, b, ctypes.POINTER(LASTINPUTINFO))
        proto(k.GetTickCount, d)
        proto(k.GetTickCount64, ctypes.c_ulonglong)
        # The input desktop (the lock fallback when session notifications fail).
        proto(u.OpenInputDesktop, wintypes.HANDLE, d, b, d)
        proto(
            u.GetUserObjectInformationW,
            b,
            wintypes.HANDLE,
            ctypes.c_int,
            ctypes.c_void_p,
            d,
            ctypes.POINTER(d),
        )
        proto(u.CloseDesktop, b, wintypes.HANDLE)
        # The hidden window and its message loop.
        proto(k.GetModuleHandleW, wintypes.HMODULE, wintypes.LPCWSTR)
        proto(k.GetCurrentThreadId, d)
        proto(u.RegisterClassExW, wintypes.ATOM, ctypes.c_void_p)
        proto(u.UnregisterClassW, b, wintypes.LPCWSTR, wintypes.HINSTANCE)
        proto(
            u.CreateWindowExW,
            h,
            d,
            wintypes.LPCWSTR,
            wintypes.LPCWSTR,
            d,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            h,
            wintypes.HMENU,
            wintypes.HINSTANCE,
            wintypes.LPVOID,
        )
        proto(u.DestroyWindow, b, h)
        proto(u.DefWindowProcW, LRESULT, h, u_int, wp, lp)
        proto(u.GetMessageW, b, ctypes.POINTER(wintypes.MSG), h, u_int, u_int)
        proto(u.TranslateMessage, b, ctypes.POINTER(wintypes.MSG))
        proto(u.DispatchMessageW, LRESULT, ctypes.POINTER(wintypes.MSG))
        proto(u.PostMessageW, b, h, u_int, wp, lp)
        proto(u.SendMessageW, LRESULT, h, u_int, wp, lp)
        proto(u.PostThreadMessageW, b, d, u_int, wp, lp)
        proto(u.PostQuitMessage, None, ctypes.c_int)
        # Session notifications (lock, unlock, fast user switching, RDP).
        proto(self.wtsapi32.WTSRegisterSessionNotification, b, h, d)
        proto(self.wtsapi32.WTSUnRegisterSessionNotification, b, h)
        # Sleep and resume on Modern Standby PCs too (Windows 8 and later).
        proto(u.RegisterSuspendResumeNotification, wintypes.HANDLE, wintypes.HANDLE, d)
        proto(u.UnregisterSuspendResumeNotification, b, wintypes.HANDLE)
        # Foreground and title changes.
        proto(
            u.SetWinEventHook,
            wintypes.HANDLE,
            d,
            d,
            wintypes.HMODULE,
            self.WINEVENTPROC,
            d,
            d,
            d,
        )
        proto(u.UnhookWinEvent, b, wintypes.HANDLE)
        # Low-level input hooks (counts only).
        proto(
            u.SetWindowsHookExW, wintypes.HHOOK, ctypes.c_int, self.HOOKPROC, wintypes.HINSTANCE, d
        )
        proto(u.CallNextHookEx, LRESULT, wintypes.HHOOK, ctypes.c_int, wp, lp)
        proto(u.UnhookWindowsHookEx, b, wintypes.HHOOK)
        # The user's display name (secext.h).
        proto(
            self.secur32.GetUserNameExW,
            wintypes.BOOLEAN,
            ctypes.c_int,
            wintypes.LPWSTR,
            ctypes.POINTER(wintypes.ULONG),
        )

    def last_error(self) -> int:
        """GetLastError of this thread's last call through these prototypes."""
        if sys.platform == "win32":
            return ctypes.get_last_error()
        return 0


@functools.cache
def win32() -> Win32:
    """The loaded API (one per process); RuntimeError off Windows."""
    return Win32()
