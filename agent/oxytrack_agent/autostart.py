"""Start at logon: XDG autostart (Linux), HKCU Run (Windows), LaunchAgent (macOS).

Two entries per OS, per user (no admin rights needed): the agent (`run`, the
measured process) and its pause control (`tray`, tray.py), a process of its
own so the agent never loads the tray's libraries. Only the Linux entries are
exercised by the project's tests; the Windows and macOS writers are covered
for their content.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

from oxytrack_agent.config import agent_command, executable_command

DESKTOP_NAME = "oxytrack-agent.desktop"
LAUNCH_AGENT_LABEL = "fr.oxytrack.agent"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "OxyTrackAgent"

#: The pause control's entries, next to the agent's.
TRAY_DESKTOP_NAME = "oxytrack-agent-tray.desktop"
TRAY_LAUNCH_AGENT_LABEL = "fr.oxytrack.agent.tray"
TRAY_RUN_VALUE = "OxyTrackPause"


def tray_command() -> list[str]:
    """How to start the pause control with this installation."""
    return agent_command("tray")


def tray_run_command(command: list[str] | None = None) -> str:
    """The Windows Run value's command line for the pause control (HKCU here; HKLM for an MSI)."""
    return windows_run_command(command or tray_command())


def _xdg_autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def desktop_entry(
    command: list[str],
    *,
    name: str = "OxyTrack agent",
    comment: str = "Mesure du temps passé sur les applications (voir oxytrack-agent status)",
) -> str:
    """The XDG autostart entry (freedesktop Desktop Entry spec, quoted Exec)."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={name}\n"
        f"Comment={comment}\n"
        f"Exec={shlex.join(command)}\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def tray_desktop_entry(command: list[str]) -> str:
    """The pause control's XDG autostart entry."""
    return desktop_entry(
        command,
        name="OxyTrack pause",
        comment="Pause privée d'OxyTrack (icône de la zone de notification)",
    )


def launch_agent_plist(
    command: list[str], *, label: str = LAUNCH_AGENT_LABEL, process_type: str = "Background"
) -> bytes:
    """The macOS LaunchAgent that runs `command` at logon and restarts it if it dies."""
    return plistlib.dumps(
        {
            "Label": label,
            "ProgramArguments": command,
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            # The tray is a menu-bar item the user clicks: Interactive, not throttled.
            "ProcessType": process_type,
        }
    )


def windows_run_command(command: list[str]) -> str:
    """The HKCU Run value: pythonw (no console window) with quoted arguments."""
    exe = command[0]
    if exe.lower().endswith("python.exe"):
        exe = exe[:-10] + "pythonw.exe"
    return subprocess.list2cmdline([exe, *command[1:]])


def autostart_path() -> Path | None:
    """Where the agent's entry lives on this OS (None on Windows: it is a registry value)."""
    return _entry_path(DESKTOP_NAME, LAUNCH_AGENT_LABEL)


def tray_autostart_path() -> Path | None:
    """Where the pause control's entry lives on this OS (None on Windows)."""
    return _entry_path(TRAY_DESKTOP_NAME, TRAY_LAUNCH_AGENT_LABEL)


def _entry_path(desktop_name: str, label: str) -> Path | None:
    if sys.platform == "win32":
        return None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "LaunchAgents" / f"{label}.plist"
    return _xdg_autostart_dir() / desktop_name


def _write_run_value(value_name: str, command_line: str) -> str:
    if sys.platform != "win32":
        raise OSError("the Run key exists on Windows only")
    import winreg

    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        winreg.SetValueEx(key, value_name, 0, winreg.REG_SZ, command_line)
    return f"HKCU\\{RUN_KEY}\\{value_name}"


def _delete_run_value(value_name: str) -> bool:
    if sys.platform != "win32":
        return False
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, value_name)
    except FileNotFoundError:
        return False
    return True


def _has_run_value(value_name: str) -> bool:
    if sys.platform != "win32":
        return False
    import winreg

    # HKCU: `install-autostart`; HKLM (64-bit view): the MSI's per-machine entry,
    # under the same names, which starts the agent in every session too.
    places = (
        (winreg.HKEY_CURRENT_USER, winreg.KEY_READ),
        (winreg.HKEY_LOCAL_MACHINE, winreg.KEY_READ | winreg.KEY_WOW64_64KEY),
    )
    for hive, access in places:
        try:
            with winreg.OpenKey(hive, RUN_KEY, 0, access) as key:
                winreg.QueryValueEx(key, value_name)
        except FileNotFoundError:
            continue
        return True
    return False


def install(command: list[str] | None = None) -> str:
    """Install the agent's per-user logon entry; return where it went."""
    command = command or executable_command()
    if sys.platform == "win32":
        return _write_run_value(RUN_VALUE, windows_run_command(command))
    path = autostart_path()
    assert path is not None  # noqa: S101 (only Windows has none)
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        path.write_bytes(launch_agent_plist(command))
    else:
        path.write_text(desktop_entry(command), encoding="utf-8")
    return str(path)


def install_tray(command: list[str] | None = None) -> str:
    """Install the pause control's per-user logon entry; return where it went."""
    command = command or tray_command()
    if sys.platform == "win32":
        return _write_run_value(TRAY_RUN_VALUE, tray_run_command(command))
    path = tray_autostart_path()
    assert path is not None  # noqa: S101 (only Windows has none)
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        path.write_bytes(
            launch_agent_plist(command, label=TRAY_LAUNCH_AGENT_LABEL, process_type="Interactive")
        )
    else:
        path.write_text(tray_desktop_entry(command), encoding="utf-8")
    return str(path)


def _remove(path: Path | None) -> bool:
    if path is None or not path.exists():
        return False
    path.unlink()
    return True


def uninstall() -> bool:
    """Remove both logon entries (agent and pause control); True if there was one."""
    if sys.platform == "win32":
        agent = _delete_run_value(RUN_VALUE)
        tray = _delete_run_value(TRAY_RUN_VALUE)
        return agent or tray
    agent = _remove(autostart_path())
    tray = _remove(tray_autostart_path())
    return agent or tray


def installed() -> bool:
    """True when the agent's logon entry exists."""
    if sys.platform == "win32":
        return _has_run_value(RUN_VALUE)
    path = autostart_path()
    return path is not None and path.exists()


def tray_installed() -> bool:
    """True when the pause control's logon entry exists."""
    if sys.platform == "win32":
        return _has_run_value(TRAY_RUN_VALUE)
    path = tray_autostart_path()
    return path is not None and path.exists()
