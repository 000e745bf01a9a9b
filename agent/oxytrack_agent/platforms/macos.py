"""macOS backend: pyobjc (NSWorkspace, the Quartz window list, CGEventSource).

The window-list parsing is a plain function tested everywhere; the pyobjc calls
only run on a Mac and have not been run by the project's CI (see the docs).
Window titles of other apps need the Screen Recording permission since macOS
10.15: without it `kCGWindowName` is absent and only the app name is recorded.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from oxytrack_agent.platforms import DESKTOP_APP, Window

# kCGEventSourceStateCombinedSessionState, kCGAnyInputEventType (~0 as uint32).
_COMBINED_SESSION_STATE = 0
_ANY_INPUT_EVENT = 0xFFFFFFFF


def front_window_title(windows: Iterable[Mapping[str, Any]], pid: int) -> str:
    """The title of the frontmost normal window of `pid` in a Quartz window list.

    The list is ordered front to back; layer 0 holds normal windows (menus,
    the dock and overlays live on other layers).
    """
    for info in windows:
        if int(info.get("kCGWindowOwnerPID", -1)) != pid:
            continue
        if int(info.get("kCGWindowLayer", 0)) != 0:
            continue
        return str(info.get("kCGWindowName") or "")
    return ""


def full_user_name() -> str:
    """The account's full name (Foundation's NSFullUserName, else `id -F`), or ''."""
    if sys.platform != "darwin":
        return ""
    import importlib

    try:
        foundation: Any = importlib.import_module("Foundation")
        return str(foundation.NSFullUserName() or "").strip()
    except Exception:
        # pyobjc missing or broken: the `id` command knows the same name.
        return _id_full_name()


def _id_full_name() -> str:
    import subprocess

    try:
        result = subprocess.run(
            ["/usr/bin/id", "-F"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


class MacPlatform:
    """The frontmost app and idle time of the logged-in macOS session."""

    name = "macos"

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise RuntimeError("MacPlatform only runs on macOS")
        import importlib

        # importlib: pyobjc has no stubs and is not installed off macOS.
        self._appkit: Any = importlib.import_module("AppKit")
        self._quartz: Any = importlib.import_module("Quartz")

    def close(self) -> None:
        """Nothing to release."""

    def focused_window(self) -> Window | None:
        """The frontmost application and its front window's title."""
        app = self._appkit.NSWorkspace.sharedWorkspace().frontmostApplication()
        if app is None:
            return Window(DESKTOP_APP, "")
        pid = int(app.processIdentifier())
        name = str(app.localizedName() or "unknown")
        q = self._quartz
        windows = q.CGWindowListCopyWindowInfo(
            q.kCGWindowListOptionOnScreenOnly | q.kCGWindowListExcludeDesktopElements,
            q.kCGNullWindowID,
        )
        return Window(name, front_window_title(windows or [], pid), pid)

    def idle_seconds(self) -> float:
        """Seconds since any input event in this login session."""
        return float(
            self._quartz.CGEventSourceSecondsSinceLastEventType(
                _COMBINED_SESSION_STATE, _ANY_INPUT_EVENT
            )
        )

    def session_locked(self) -> bool:
        """Locked when the session dictionary says the screen is locked."""
        session = self._quartz.CGSessionCopyCurrentDictionary()
        return bool(session and session.get("CGSSessionScreenIsLocked", False))
