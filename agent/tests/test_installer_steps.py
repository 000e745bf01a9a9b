"""What the MSI runs: stopping the agents of every session, removing users' data, and
the user-only ACL of the token (its pure parts; icacls itself runs on Windows only)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from oxytrack_agent.acl import icacls_command, sid_from_whoami
from oxytrack_agent.installer import PROFILE_DATA, own_lineage, purge_users_data, stop_agents


@pytest.fixture
def agent_named(tmp_path: Path) -> tuple[str, list[str]]:
    """A program that waits a minute, under a name of its own, and how to start it.

    A copy of sleep (POSIX) or ping (Windows), so that stopping "every process of
    that name" can only hit this test's own; at most 15 characters, Linux's limit.
    """
    name = f"oxt-{secrets.token_hex(4)}"
    if sys.platform == "win32":
        name += ".exe"
        program = tmp_path / name
        shutil.copy(Path(os.environ["SYSTEMROOT"]) / "System32" / "PING.EXE", program)
        return name, [str(program), "-n", "60", "127.0.0.1"]
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    return name, [str(program), "60"]


def test_stop_agents_ends_every_process_of_that_name(
    agent_named: tuple[str, list[str]],
) -> None:
    name, command = agent_named
    # Two "sessions" and one process of another name that must survive.
    agents = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(2)]
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            running = [p for p in psutil.process_iter(["name"]) if p.info["name"] == name]
            if len(running) == 2:
                break
            time.sleep(0.05)
        assert stop_agents(name, wait_s=5) == 2
        for agent in agents:
            assert agent.wait(5) is not None
        assert bystander.poll() is None
        assert stop_agents(name, wait_s=1) == 0  # none left: nothing to do, no failure
    finally:
        for process in (*agents, bystander):
            process.kill()
            process.wait(5)


def test_stop_agents_spares_its_own_process_and_parents(
    agent_named: tuple[str, list[str]],
) -> None:
    name, command = agent_named
    agent = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not any(p.info["name"] == name for p in psutil.process_iter(["name"])):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert stop_agents(name, spare={agent.pid}, wait_s=1) == 0
        assert agent.poll() is None
    finally:
        agent.kill()
        agent.wait(5)
    lineage = own_lineage()
    assert psutil.Process().pid in lineage and psutil.Process().ppid() in lineage


def test_purge_removes_the_agent_folder_of_every_profile_and_nothing_else(
    tmp_path: Path,
) -> None:
    profiles = [tmp_path / "Users" / user for user in ("jean", "aïcha", "sans-agent")]
    for profile in profiles[:2]:
        data = profile / PROFILE_DATA
        data.mkdir(parents=True)
        (data / "queue.sqlite3").write_bytes(b"spans")
        (data / "token").write_text("oxd_x")
    neighbour = profiles[0] / "AppData" / "Local" / "other-app"
    neighbour.mkdir(parents=True)
    profiles[2].mkdir(parents=True)

    removed = purge_users_data(profiles)

    assert removed == [p / PROFILE_DATA for p in profiles[:2]]
    assert not any((p / PROFILE_DATA).exists() for p in profiles)
    assert neighbour.is_dir() and profiles[2].is_dir()


def test_the_profile_folder_is_where_platformdirs_puts_the_agent_on_windows() -> None:
    assert PROFILE_DATA.as_posix() == "AppData/Local/oxytrack-agent"


def test_the_sid_is_read_from_whoami() -> None:
    output = '"desktop-7q2\\\\jean.dupont","S-1-5-21-1004336348-1177238915-682003330-1001"\r\n'
    assert sid_from_whoami(output) == "S-1-5-21-1004336348-1177238915-682003330-1001"
    with pytest.raises(ValueError):
        sid_from_whoami("ERROR: access denied\r\n")


def test_icacls_leaves_only_the_user() -> None:
    sid = "S-1-5-21-1004336348-1177238915-682003330-1001"
    command = icacls_command(Path("C:/Users/jean/AppData/Local/oxytrack-agent/token.tmp"), sid)
    assert command[0] == "icacls"
    # Inherited entries (SYSTEM, Administrators) removed; one grant, by SID.
    assert command[2:5] == ["/inheritance:r", "/grant:r", f"*{sid}:(F)"]
    with pytest.raises(ValueError):
        icacls_command(Path("token"), "Everyone")  # a name is never granted


def test_the_acl_step_makes_the_file_user_only_on_windows_and_nothing_elsewhere(
    tmp_path: Path,
) -> None:
    from oxytrack_agent.acl import restrict_to_current_user

    token = tmp_path / "token"
    token.write_text("oxd_x")
    if sys.platform != "win32":
        assert restrict_to_current_user(token) is False  # 0600 already does it
        return
    assert restrict_to_current_user(token) is True
    shown = subprocess.run(["icacls", str(token)], capture_output=True, text=True).stdout
    entries = [line for line in shown.splitlines()[:-2] if line.strip()]
    assert len(entries) == 1 and "(F)" in entries[0], shown
    assert token.read_text() == "oxd_x"  # still the user's own
