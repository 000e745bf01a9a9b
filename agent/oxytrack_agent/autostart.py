"""Start the agent at logon: XDG autostart (Linux), HKCU Run (Windows), LaunchAgent (macOS).

Per user, no admin rights needed. Only the Linux entry is exercised by the
project's tests; the Windows and macOS writers are covered for their content.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

from oxytrack_agent.config import executable_command

DESKTOP_NAME = "oxytrack-agent.desktop"
LAUNCH_AGENT_LABEL = "fr.oxytrack.agent"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "OxyTrackAgent"


def _xdg_autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def desktop_entry(command: list[str]) -> str:
    """The XDG autostart entry (freedesktop Desktop Entry spec, quoted Exec)."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=OxyTrack agent\n"
        "Comment=Mesure du temps passé sur les applications (voir oxytrack-agent status)\n"
        f"Exec={shlex.join(command)}\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def launch_agent_plist(command: list[str]) -> bytes:
    """The macOS LaunchAgent that runs the agent at logon and restarts it if it dies."""
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": command,
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ProcessType": "Background",
        }
    )


def windows_run_command(command: list[str]) -> str:
    """The HKCU Run value: pythonw (no console window) with quoted arguments."""
    exe = command[0]
    if exe.lower().endswith("python.exe"):
        exe = exe[:-10] + "pythonw.exe"
    return subprocess.list2cmdline([exe, *command[1:]])


def autostart_path() -> Path | None:
    """Where the entry lives on this OS (None on Windows: it is a registry value)."""
    if sys.platform == "win32":
        return None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    return _xdg_autostart_dir() / DESKTOP_NAME


def install(command: list[str] | None = None) -> str:
    """Install the per-user logon entry; return where it went."""
    command = command or executable_command()
    if sys.platform == "win32":
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, windows_run_command(command))
        return f"HKCU\\{RUN_KEY}\\{RUN_VALUE}"
    path = autostart_path()
    assert path is not None  # noqa: S101 (only Windows has none)
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        path.write_bytes(launch_agent_plist(command))
    else:
        path.write_text(desktop_entry(command), encoding="utf-8")
    return str(path)


def uninstall() -> bool:
    """Remove the logon entry; True if there was one."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        return True
    path = autostart_path()
    if path is None or not path.exists():
        return False
    path.unlink()
    return True


def installed() -> bool:
    """True when the logon entry exists."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        return True
    path = autostart_path()
    return path is not None and path.exists()
