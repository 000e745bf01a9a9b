"""The pure parts of the Windows and macOS backends, and platform selection.

The X11 backend's parts and Linux's choice of backend: test_platform_parts_linux.py.

The ctypes and pyobjc calls themselves cannot run here (see the docs for what
has been run on a real system); what decides their results is tested here.
"""

from __future__ import annotations

import sys

import pytest

from oxytrack_agent.platforms import wayland_without_x11
from oxytrack_agent.platforms.macos import MacPlatform, front_window_title
from oxytrack_agent.platforms.windows import (
    UWP_HOST,
    WindowsPlatform,
    app_name,
    idle_ms_from_ticks,
    resolve_uwp_app,
)


def test_idle_survives_the_49_day_tick_wrap() -> None:
    assert idle_ms_from_ticks(5_000, 2_000) == 3_000
    # Last input just before the 32-bit wrap, now just after it.
    assert idle_ms_from_ticks(1_000, 2**32 - 500) == 1_500
    assert idle_ms_from_ticks((2**32 + 1_000) & 0xFFFFFFFF, 2**32 - 500) == 1_500


def test_uwp_frames_resolve_to_the_hosted_app() -> None:
    children = [(100, "ApplicationFrameHost.exe"), (200, "CalculatorApp.exe")]
    assert resolve_uwp_app(100, children) == (200, "CalculatorApp.exe")
    # The app is suspended or still starting: the host is all we know.
    assert resolve_uwp_app(100, [(100, "ApplicationFrameHost.exe")]) == (100, UWP_HOST)
    assert app_name("WINWORD.EXE") == "WINWORD"
    assert app_name("firefox") == "firefox"


def test_the_mac_title_is_the_front_normal_window_of_the_app() -> None:
    windows = [
        {"kCGWindowOwnerPID": 7, "kCGWindowLayer": 25, "kCGWindowName": "menu"},
        {"kCGWindowOwnerPID": 9, "kCGWindowLayer": 0, "kCGWindowName": "other app"},
        {"kCGWindowOwnerPID": 7, "kCGWindowLayer": 0, "kCGWindowName": "Rapport 2026.docx"},
        {"kCGWindowOwnerPID": 7, "kCGWindowLayer": 0, "kCGWindowName": "behind"},
    ]
    assert front_window_title(windows, 7) == "Rapport 2026.docx"
    # Without the Screen Recording permission macOS leaves the name out.
    assert front_window_title([{"kCGWindowOwnerPID": 7, "kCGWindowLayer": 0}], 7) == ""


def test_wayland_without_x11_is_detected() -> None:
    assert wayland_without_x11({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"})
    assert wayland_without_x11({"WAYLAND_DISPLAY": "wayland-0"})
    assert not wayland_without_x11({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"})


#: The backends of the other OSes (on Windows, only macOS's is foreign).
FOREIGN_BACKENDS = [
    backend
    for os_name, backend in (("win32", WindowsPlatform), ("darwin", MacPlatform))
    if sys.platform != os_name
]


@pytest.mark.parametrize("backend", FOREIGN_BACKENDS, ids=lambda b: b.__name__)
def test_foreign_backends_refuse_to_start_instead_of_guessing(backend: type) -> None:
    with pytest.raises(RuntimeError):
        backend()
