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


def test_status_sees_the_msis_per_machine_logon_entries() -> None:
    # The MSI writes HKLM Run values, not HKCU ones: status must not say "non".
    # (The runner's account is an administrator, as the MSI's install is.)
    import winreg

    from oxytrack_agent import autostart

    access = winreg.KEY_SET_VALUE | winreg.KEY_WOW64_64KEY
    if autostart.installed():
        raise AssertionError("the runner already has an OxyTrack logon entry")
    with winreg.CreateKeyEx(winreg.HKEY_LOCAL_MACHINE, autostart.RUN_KEY, 0, access) as key:
        winreg.SetValueEx(key, autostart.RUN_VALUE, 0, winreg.REG_SZ, '"C:\\x.exe" logon')
        try:
            assert autostart.installed()
            assert not autostart.tray_installed()
        finally:
            winreg.DeleteValue(key, autostart.RUN_VALUE)
    assert not autostart.installed()
