"""What the MSI runs at uninstall, as SYSTEM: stop every agent, remove users' data.

`oxytrack-agent stop-all` ends the agents of every session (SYSTEM sees them
all) except the process running it and its parents (the frozen exe starts as
a bootloader and a child, both named oxytrack-agent.exe).
`oxytrack-agent purge-all-users` removes each profile's
%LOCALAPPDATA%\\oxytrack-agent: queue, token, configuration, policy, log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

import psutil

from oxytrack_agent.config import APP_NAME

log = logging.getLogger(__name__)

#: The frozen agent's process name on Windows.
EXE_NAME = "oxytrack-agent.exe"
#: Where an agent keeps its files, relative to a Windows profile (platformdirs' choice).
PROFILE_DATA = Path("AppData") / "Local" / APP_NAME


def own_lineage() -> set[int]:
    """This process and its ancestors (never stopped by `stop_agents`)."""
    pids = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        pids.update(parent.pid for parent in psutil.Process().parents())
    return pids


def stop_agents(name: str = EXE_NAME, *, spare: set[int] | None = None, wait_s: float = 5.0) -> int:
    """End every process called `name` but `spare`; return how many were running.

    Terminate first (on Windows TerminateProcess: the agent's checkpoint,
    rewritten every few seconds, is what its queue keeps), then kill whatever
    is still there after `wait_s`.
    """
    spare = own_lineage() if spare is None else spare
    found = []
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").lower() == name.lower() and process.pid not in spare:
            found.append(process)
    for process in found:
        with contextlib.suppress(psutil.Error):  # already gone
            process.terminate()
    _gone, alive = psutil.wait_procs(found, timeout=wait_s)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    log.info("stopped %d agent process(es)", len(found))
    return len(found)


def windows_profiles() -> list[Path]:
    """Every user profile folder this PC knows (ProfileList in HKLM)."""
    if sys.platform != "win32":
        return []
    import winreg

    found: list[Path] = []
    root = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, root) as key:
        index = 0
        while True:
            try:
                sid = winreg.EnumKey(key, index)
            except OSError:
                break
            index += 1
            try:
                with winreg.OpenKey(key, sid) as profile:
                    image, _kind = winreg.QueryValueEx(profile, "ProfileImagePath")
            except OSError:
                continue
            found.append(Path(os.path.expandvars(str(image))))
    return found


def purge_users_data(profiles: Iterable[Path]) -> list[Path]:
    """Remove the agent's folder from each profile; return the folders removed."""
    removed = []
    for profile in profiles:
        folder = profile / PROFILE_DATA
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
            else:
                log.warning("could not remove %s entirely", folder)
    return removed
