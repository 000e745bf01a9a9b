"""The MSI, built on Linux with wixl around a stand-in exe, read back with msitools.

What Windows Installer will act on is in these tables: where the exe goes,
what starts at logon, the machine settings the agents read, the upgrade and
uninstall entries, the custom actions of the uninstall. The same .wxs is built
with WiX 3 on the Windows runner (.github/workflows/windows.yml), which also
installs it; nothing here runs Windows Installer.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from oxytrack_agent import __version__
from oxytrack_agent.cli import build_parser

# Neither the database nor the server: the same on both passes of make test.
pytestmark = pytest.mark.once

HERE = Path(__file__).resolve().parent.parent
WXS = HERE / "oxytrack-agent.wxs"
UPGRADE_CODE = "{6B0E4C1A-6F2D-4B8E-9C3A-0D7E51A2F4B9}"
WIX_NS = {"w": "http://schemas.microsoft.com/wix/2006/wi"}
HKLM = "2"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
SETTINGS_KEY = "Software\\OxyTrack\\Agent\\"
# Custom action type bits (Windows Installer SDK, "Custom Action Types").
EXE_IN_INSTALLED_FILE = 18
PROPERTY_FROM_FORMATTED = 51
CONTINUE_ON_ERROR = 0x40
DEFERRED = 0x400
NO_IMPERSONATE = 0x800
COMPONENT_64BIT = 0x100
STAND_IN = b"MZ stand-in for the frozen agent\0" * 4


@dataclass
class Msi:
    path: Path
    tables: dict[str, list[dict[str, str]]]

    def rows(self, table: str) -> list[dict[str, str]]:
        return self.tables[table]

    def one(self, table: str, **match: str) -> dict[str, str]:
        found = [r for r in self.tables[table] if all(r[k] == v for k, v in match.items())]
        assert len(found) == 1, f"{table} rows matching {match}: {found}"
        return found[0]

    def sequence(self, action: str) -> int:
        return int(self.one("InstallExecuteSequence", Action=action)["Sequence"])


def export(msi: Path, table: str) -> list[dict[str, str]]:
    """One table as dicts (msiinfo export: names, types, key line, then rows)."""
    text = subprocess.run(
        ["msiinfo", "export", str(msi), table],
        cwd=msi.parent,  # tables with streams (Icon, Binary) are written out next to it
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode("cp1252")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"), strict=True)) for line in lines[3:] if line]


@pytest.fixture(scope="module")
def msi(tmp_path_factory: pytest.TempPathFactory) -> Msi:
    """The MSI of this source, built like build.ps1 builds it (x64, version, payload dir)."""
    work = tmp_path_factory.mktemp("msi")
    payload = work / "payload"
    payload.mkdir()
    (payload / "oxytrack-agent.exe").write_bytes(STAND_IN)
    (payload / "oxytrack-agent.ico").write_bytes((HERE / "oxytrack-agent.ico").read_bytes())
    out = work / "oxytrack-agent.msi"
    subprocess.run(
        ["wixl", "-a", "x64", "-D", f"Version={__version__}", "-D", "PayloadDir=payload",
         "-o", str(out), str(WXS)],
        cwd=work, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    listed = subprocess.run(
        ["msiinfo", "tables", str(out)], check=True, capture_output=True, text=True, timeout=60
    ).stdout.split()
    return Msi(out, {table: export(out, table) for table in listed if not table.startswith("_")})


def test_it_installs_per_machine_under_program_files_64(msi: Msi) -> None:
    assert msi.one("Property", Property="ALLUSERS")["Value"] == "1"
    summary = subprocess.run(
        ["msiinfo", "suminfo", str(msi.path)], check=True, capture_output=True, text=True
    ).stdout
    assert "x64;" in summary  # a 64-bit package: Program Files, the 64-bit registry
    exe = msi.one("File", FileName="oxytrack-agent.exe")
    assert int(exe["FileSize"]) == len(STAND_IN)
    component = msi.one("Component", Component=exe["Component_"])
    assert component["KeyPath"] == exe["File"]
    chain = []
    directory = component["Directory_"]
    while directory:
        row = msi.one("Directory", Directory=directory)
        chain.append(row["DefaultDir"])
        directory = row["Directory_Parent"]
    assert chain[:2] == ["Agent", "OxyTrack"]
    assert msi.one("Directory", DefaultDir="OxyTrack")["Directory_Parent"] == "ProgramFiles64Folder"
    for row in msi.rows("Component"):
        assert int(row["Attributes"]) & COMPONENT_64BIT, row
    # Every component is installed by the one feature, at the default level.
    feature = msi.one("Feature", Feature="Agent")
    assert feature["Level"] == "1"
    assert {r["Component_"] for r in msi.rows("FeatureComponents")} == {
        r["Component"] for r in msi.rows("Component")
    }


def test_the_exe_is_in_the_embedded_cabinet(msi: Msi, tmp_path: Path) -> None:
    assert msi.one("Media", DiskId="1")["Cabinet"].startswith("#")
    subprocess.run(
        ["msiextract", "-C", str(tmp_path), str(msi.path)],
        cwd=tmp_path, check=True, capture_output=True, timeout=60,  # it writes icons to cwd
    )  # fmt: skip
    extracted = list(tmp_path.rglob("oxytrack-agent.exe"))
    assert len(extracted) == 1
    assert extracted[0].read_bytes() == STAND_IN


def test_it_starts_the_agent_and_the_pause_control_in_every_session(msi: Msi) -> None:
    """Per-machine Run values (HKLM): Windows runs them in each user's session at logon."""
    runs = {
        r["Name"]: r["Value"]
        for r in msi.rows("Registry")
        if r["Key"].rstrip("\\") == RUN_KEY and r["Root"] == HKLM
    }
    assert runs == {
        "OxyTrackAgent": '"[INSTALLDIR]oxytrack-agent.exe" logon',
        "OxyTrackPause": '"[INSTALLDIR]oxytrack-agent.exe" tray',
    }
    # Nothing per user: the MSI runs as SYSTEM, its HKCU would be SYSTEM's.
    assert {r["Root"] for r in msi.rows("Registry")} == {HKLM}


def test_the_commands_the_msi_runs_exist_in_the_agent(msi: Msi) -> None:
    parser = build_parser()
    commands = [
        v.split('" ', 1)[1] for v in (r["Value"] for r in msi.rows("Registry")) if '" ' in v
    ]
    commands += [r["Target"] for r in msi.rows("CustomAction") if r["Source"] == "AgentExeFile"]
    assert sorted(commands) == ["logon", "purge-all-users", "stop-all", "tray"]
    for command in commands:
        assert parser.parse_args([command]).func.__name__ == "cmd_" + command.replace("-", "_")


def test_it_writes_the_public_properties_where_the_agent_reads_them(msi: Msi) -> None:
    settings = {r["Name"]: r["Value"] for r in msi.rows("Registry") if r["Key"] == SETTINGS_KEY}
    assert settings == {
        "Server": "[SERVER]",
        "EnrollmentKey": "[ENROLLMENT_KEY]",
        "Agency": "[AGENCY]",
        "Service": "[SERVICE]",
    }
    from oxytrack_agent.machine import MACHINE_KEY

    assert SETTINGS_KEY.rstrip("\\") == MACHINE_KEY
    # The key never reaches msiexec's log.
    assert "ENROLLMENT_KEY" in msi.one("Property", Property="MsiHiddenProperties")["Value"]


def test_public_properties_are_declared_without_a_value() -> None:
    """Declared with no value, so no Property row: checked in the source."""
    root = ET.parse(WXS).getroot()  # noqa: S314 (our own source file)
    declared = {p.get("Id"): p for p in root.iterfind(".//w:Product/w:Property", WIX_NS)}
    for name in ("SERVER", "ENROLLMENT_KEY", "AGENCY", "SERVICE", "REMOVE_LOCAL_DATA"):
        assert name in declared, name
        assert declared[name].get("Value") is None, name
        assert name.isupper()  # public: settable on the msiexec command line
        # Passed to the elevated install (WiX's SecureCustomProperties; wixl ignores it).
        assert declared[name].get("Secure") == "yes", name


def test_no_value_given_keeps_the_installed_settings_on_upgrade(msi: Msi) -> None:
    """AppSearch reads the installed values; a type-51 action uses each when not given."""
    for value, prop in (("Server", "SERVER"), ("EnrollmentKey", "ENROLLMENT_KEY"),
                        ("Agency", "AGENCY"), ("Service", "SERVICE")):  # fmt: skip
        locator = msi.one("RegLocator", Name=value)
        assert (locator["Root"], locator["Key"] + "\\") == (HKLM, SETTINGS_KEY)
        assert int(locator["Type"]) & 0x10  # msidbLocatorType64bit
        saved = msi.one("AppSearch", Signature_=locator["Signature_"])["Property"]
        action = msi.one("CustomAction", Source=prop)
        assert int(action["Type"]) & 0x3F == PROPERTY_FROM_FORMATTED
        assert action["Target"] == f"[{saved}]"
        step = msi.one("InstallExecuteSequence", Action=action["Action"])
        assert step["Condition"] == f"NOT {prop} AND {saved}"
        assert msi.sequence("AppSearch") < int(step["Sequence"]) < msi.sequence("CostFinalize")


def test_major_upgrade_replaces_older_and_refuses_downgrade(msi: Msi) -> None:
    assert msi.one("Property", Property="UpgradeCode")["Value"] == UPGRADE_CODE
    assert msi.one("Property", Property="ProductVersion")["Value"] == __version__
    rows = msi.rows("Upgrade")
    assert {r["UpgradeCode"] for r in rows} == {UPGRADE_CODE}
    older = msi.one("Upgrade", ActionProperty="WIX_UPGRADE_DETECTED")
    assert (older["VersionMin"], older["VersionMax"]) == ("", __version__)
    assert int(older["Attributes"]) & 0x2 == 0  # not detect-only: it is removed
    newer = msi.one("Upgrade", ActionProperty="WIX_DOWNGRADE_DETECTED")
    assert newer["VersionMin"] == __version__ and int(newer["Attributes"]) & 0x2
    assert msi.one("LaunchCondition", Condition="NOT WIX_DOWNGRADE_DETECTED")["Description"]
    removal = msi.sequence("RemoveExistingProducts")
    assert msi.sequence("InstallValidate") < removal < msi.sequence("InstallInitialize")
    # A new ProductCode each build (Id="*"): each version is its own product.
    assert msi.one("Property", Property="ProductCode")["Value"] != UPGRADE_CODE


def test_add_remove_programs_entry(msi: Msi) -> None:
    props = {r["Property"]: r["Value"] for r in msi.rows("Property")}
    assert props["ProductName"] == "OxyTrack Agent"
    assert props["Manufacturer"] == "OxyTrack"
    assert props["ARPNOMODIFY"] == props["ARPNOREPAIR"] == "1"
    assert msi.one("Icon", Name=props["ARPPRODUCTICON"])


def test_uninstall_stops_every_agent_then_removes_data_only_when_asked(msi: Msi) -> None:
    for name, target in (("StopAgents", "stop-all"), ("RemoveLocalData", "purge-all-users")):
        action = msi.one("CustomAction", Action=name)
        kind = int(action["Type"])
        assert kind & 0x3F == EXE_IN_INSTALLED_FILE and action["Source"] == "AgentExeFile"
        # As SYSTEM (sees every session), in the script, an absent agent is no failure.
        assert kind & DEFERRED and kind & NO_IMPERSONATE and kind & CONTINUE_ON_ERROR
        assert action["Target"] == target
        sequence = msi.sequence(name)
        # While the exe is still installed, inside the transaction.
        assert msi.sequence("InstallInitialize") < sequence < msi.sequence("RemoveFiles")
    assert msi.one("InstallExecuteSequence", Action="StopAgents")["Condition"] == 'REMOVE="ALL"'
    condition = msi.one("InstallExecuteSequence", Action="RemoveLocalData")["Condition"]
    assert condition == 'REMOVE="ALL" AND REMOVE_LOCAL_DATA="1" AND NOT UPGRADINGPRODUCTCODE'
    assert msi.sequence("StopAgents") < msi.sequence("RemoveLocalData")
