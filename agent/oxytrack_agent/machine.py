"""Machine settings: what the installer (the MSI's public properties) left for every user.

On Windows the MSI writes SERVER, ENROLLMENT_KEY, AGENCY and SERVICE to
HKLM\\Software\\OxyTrack\\Agent; each user's agent reads them at logon to enroll
that user (firstlogon.py). The reader takes its source as a function so that
its rules are tested on any OS; only `registry_source()` touches the registry.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

#: Where the MSI writes the settings (64-bit view).
MACHINE_KEY = r"Software\OxyTrack\Agent"

#: A source answers a value name (e.g. "Server") with its text, or None when absent.
Source = Callable[[str], str | None]


@dataclass(frozen=True)
class MachineSettings:
    """What an administrator set for every user of this PC."""

    server: str
    enrollment_key: str
    agency: str | None = None
    service: str | None = None

    @property
    def silent(self) -> bool:
        """True when nothing is left to ask: agency and service are given."""
        return bool(self.agency and self.service)


def _value(source: Source, name: str) -> str | None:
    text = source(name)
    if text is None:
        return None
    # The MSI writes an empty string for a property not given on its command line.
    return text.strip() or None


def read_machine_settings(source: Source | None = None) -> MachineSettings | None:
    """The machine settings, or None when the server or the key is missing.

    Without `source`, the registry on Windows and nothing elsewhere (an agent
    installed by a user enrolls with `oxytrack-agent enroll`).
    """
    if source is None:
        if sys.platform != "win32":
            return None
        source = registry_source()
    server = _value(source, "Server")
    key = _value(source, "EnrollmentKey")
    if not server or not key:
        return None
    return MachineSettings(
        server=server,
        enrollment_key=key,
        agency=_value(source, "Agency"),
        service=_value(source, "Service"),
    )


def registry_source(key: str = MACHINE_KEY, hive: int | None = None) -> Source:
    """Values of HKLM\\Software\\OxyTrack\\Agent (or `key` of `hive`), read each time
    (an upgrade may change them)."""
    if sys.platform != "win32":
        raise OSError("the registry exists on Windows only")
    import winreg

    root = winreg.HKEY_LOCAL_MACHINE if hive is None else hive

    def read(name: str) -> str | None:
        try:
            # KEY_WOW64_64KEY: the MSI is x64 and so writes the 64-bit view, whatever
            # the bitness of the process reading.
            with winreg.OpenKey(root, key, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as opened:
                value, kind = winreg.QueryValueEx(opened, name)
        except OSError:
            return None
        return str(value) if kind in (winreg.REG_SZ, winreg.REG_EXPAND_SZ) else None

    return read
