"""The `oxytrack-agent` commands as an installer and an employee use them."""

from __future__ import annotations

import json
import os
import sys
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent import autostart
from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths, load_config
from oxytrack_agent.health import Health, state_path
from oxytrack_agent.localzone import local_zone
from oxytrack_agent.lock import SingleInstance, is_running
from oxytrack_agent.policy import load_policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span

from .conftest import CONFIG_HOME, KEY, TOKEN, FakeServer, Reply, assert_user_only

NOW_TZ = ZoneInfo("Europe/Paris")


def enroll(server: FakeServer, *extra: str) -> int:
    return main(["enroll", "--server", server.url, "--key", KEY, *extra])


def run_value(name: str) -> str:
    """A value of this user's Run key (Windows' per-user logon entries)."""
    if sys.platform != "win32":
        raise AssertionError("Windows only")
    import winreg

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, autostart.RUN_KEY) as key:
        return str(winreg.QueryValueEx(key, name)[0])


def test_silent_enrollment_saves_config_token_and_policy(
    xdg: Paths, fake_server: FakeServer
) -> None:
    fake_server.policy = {**fake_server.policy, "version": "3", "exclude_apps": ["keepass"]}
    assert enroll(fake_server, "--agency", "Nice", "--service", "Facturation") == 0
    (body,) = fake_server.enrollments
    assert (body["agency"], body["service"]) == ("Nice", "Facturation")
    assert body["time_zone"] and body["hostname"] and body["username"]
    config = load_config(xdg)
    assert config.server == fake_server.url
    assert str(xdg.config_file).startswith(os.environ[CONFIG_HOME])
    assert xdg.token_file.read_text() == TOKEN
    assert_user_only(xdg.token_file)
    assert load_policy(xdg.policy_file).exclude_apps == ("keepass",)


def test_a_conflict_prints_the_servers_message_as_is(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    message = (
        "Cet utilisateur est déjà rattaché à Nice / RH : demandez un transfert au super-admin."
    )
    fake_server.enroll_replies = [Reply(409, {"code": "already_assigned", "message": message})]
    assert enroll(fake_server, "--agency", "Fort-de-France", "--service", "RH") == 4
    assert capsys.readouterr().err.strip() == message
    assert not xdg.config_file.exists()
    assert not xdg.token_file.exists()


def test_status_says_in_french_what_is_collected_and_what_waits(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.policy = {
        **fake_server.policy,
        "input_counts": False,
        "exclude_apps": ["keepass"],
        "idle_threshold_s": 300,
    }
    enroll(fake_server, "--agency", "Nice", "--service", "RH")
    capsys.readouterr()
    queue = Queue(xdg.queue_file)
    from datetime import datetime

    # 09:00 on this machine's clock, which `status` shows: under pytest-django
    # Linux runs in Django's zone (it sets TZ), Windows in its own (no tzset there).
    local = local_zone()
    nine = datetime.now(tz=local).replace(hour=9, minute=0, second=0, microsecond=0)
    t = nine.timestamp()
    queue.store(
        [
            Span(t, t + 3900, "firefox", "Banque — relevé", True),
            Span(t + 3900, t + 4020, "firefox", "Banque — relevé", False),
            Span(t + 4020, t + 4080, "gedit", "notes.txt", True),
        ],
        [],
        local,
    )
    queue.close()
    health = Health(state_path(xdg.data_dir))
    health.update(upload_kind="network", upload_since=t + 1800, upload_message="réseau : refused")
    health.close()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Agent : arrêté, rien n'est mesuré." in out
    assert "pas de comptage des touches ni des clics" in out
    assert "inactif après 5 min sans clavier ni souris" in out
    assert "applications privées (temps compté, nom et titre cachés) : keepass" in out
    # Titles as the server will store them, most active first, with their time.
    assert "  1 h 05 min actif, 2 min inactif : firefox — Banque — relevé\n" in out
    assert "  1 min actif, 0 s inactif : gedit — notes.txt\n" in out
    assert out.index("firefox — Banque") < out.index("gedit — notes.txt")
    assert "En attente d'envoi : 1 h 08 min mesurées depuis 09:00." in out
    assert "- serveur injoignable depuis 09:30 : nouvel essai automatique." in out
    assert "refused" not in out  # the raw error stays in the log
    assert "Dernier envoi réussi : jamais." in out


def test_status_says_whether_an_agent_runs_from_the_lock(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(fake_server, "--agency", "Nice", "--service", "RH")
    capsys.readouterr()
    held = SingleInstance(xdg.lock_file)
    try:
        main(["status"])
        assert "Agent : en marche." in capsys.readouterr().out
        assert is_running(xdg.lock_file)
    finally:
        held.release()
    main(["status"])
    assert "Agent : arrêté" in capsys.readouterr().out
    # Asking did not take the lock: an agent starts right after.
    SingleInstance(xdg.lock_file).release()


def test_status_before_enrollment_says_so(xdg: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    assert "Agent non inscrit" in capsys.readouterr().out


def test_a_second_run_is_refused_while_one_holds_the_lock(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(fake_server, "--agency", "Nice", "--service", "RH")
    held = SingleInstance(xdg.lock_file)
    try:
        assert main(["run"]) == 3
        assert "un agent tourne déjà" in capsys.readouterr().err
    finally:
        held.release()


def test_autostart_installs_the_logon_entry_and_removes_it(xdg: Paths) -> None:
    assert main(["install-autostart"]) == 0
    assert autostart.installed()
    entry = autostart.autostart_path()
    if sys.platform == "win32":
        # The user's Run value (conftest's `xdg` puts the runner's back afterwards).
        assert entry is None
        command = run_value(autostart.RUN_VALUE)
        assert command.endswith("-m oxytrack_agent run")
        assert "pythonw.exe" in command  # no console window at logon
    else:
        assert entry is not None
        assert str(entry).startswith(os.environ["XDG_CONFIG_HOME"])
        text = entry.read_text()
        assert "Exec=" in text and "-m oxytrack_agent run" in text
    assert main(["uninstall-autostart"]) == 0
    assert not autostart.installed()
    assert entry is None or not entry.exists()


def test_uninstall_uploads_what_is_left_then_removes_everything(
    xdg: Paths, fake_server: FakeServer
) -> None:
    enroll(fake_server, "--agency", "Nice", "--service", "RH")
    main(["install-autostart"])
    queue = Queue(xdg.queue_file)
    queue.store([Span(1_780_000_000, 1_780_000_060, "gedit", "notes", True, 4, 1)], [], NOW_TZ)
    queue.close()
    assert main(["uninstall"]) == 0
    (batch,) = fake_server.batches
    assert batch["spans"][0]["keys"] == 4
    assert not xdg.config_dir.exists()
    assert not xdg.data_dir.exists()
    assert not autostart.installed()


def test_the_other_autostart_formats() -> None:
    command = ["C:\\Python\\python.exe", "-m", "oxytrack_agent", "run"]
    assert autostart.windows_run_command(command) == "C:\\Python\\pythonw.exe -m oxytrack_agent run"
    import plistlib

    plist = plistlib.loads(autostart.launch_agent_plist(["/usr/bin/python3", "-m", "x"]))
    assert plist["RunAtLoad"] is True
    assert plist["ProgramArguments"] == ["/usr/bin/python3", "-m", "x"]
    assert json.dumps(plist)  # plain types only
