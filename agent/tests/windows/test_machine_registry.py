"""Machine settings and user profiles read from the real registry (Windows only)."""

from __future__ import annotations

import secrets
from pathlib import Path

from oxytrack_agent.installer import windows_profiles
from oxytrack_agent.machine import MachineSettings, read_machine_settings, registry_source


def test_the_registry_source_reads_what_the_msi_writes() -> None:
    # HKCU rather than HKLM: the same reader, no rights needed, nothing left behind.
    import winreg

    key = rf"Software\OxyTrackTest-{secrets.token_hex(4)}"
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as created:
        for name, value in (
            ("Server", "https://oxytrack.example.com"),
            ("EnrollmentKey", "oxe_test"),
            ("Agency", ""),  # a property not given: the MSI writes it empty
            ("Service", "Facturation"),
        ):
            winreg.SetValueEx(created, name, 0, winreg.REG_SZ, value)
    try:
        source = registry_source(key, hive=winreg.HKEY_CURRENT_USER)
        assert read_machine_settings(source) == MachineSettings(
            "https://oxytrack.example.com", "oxe_test", agency=None, service="Facturation"
        )
        missing = registry_source(key + "-absent", hive=winreg.HKEY_CURRENT_USER)
        assert read_machine_settings(missing) is None
    finally:
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)


def test_the_profiles_include_this_users() -> None:
    profiles = {path.resolve() for path in windows_profiles()}
    assert Path.home().resolve() in profiles
