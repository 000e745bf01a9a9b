"""Enrollment: the installer's Tk dialog on real X11, and silent mass installs."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
import requests

from .conftest import BIN, Agent, LiveServer, XSession, stop_process

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.once]


def open_dialog(agent: Agent, server: LiveServer, x: XSession) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(BIN / "oxytrack-agent"), "enroll", "--server", server.url, "--key", server.key],
        env=agent.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    window = x.find_window("OxytrackEnroll")
    x.activate(window)
    return proc, window


def keys(x: XSession, *names: str) -> None:
    for name in names:
        x.xdotool("key", name)
        time.sleep(0.3)


def test_the_dialog_requires_both_choices_then_enrolls_with_them(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    agent: Agent = agent_factory()
    proc, _window = open_dialog(agent, oxytrack_server, x_session)
    try:
        keys(x_session, "Return")  # Valider with nothing chosen: refused, stays open
        time.sleep(0.5)
        assert proc.poll() is None
        assert not (agent.home / "config" / "oxytrack-agent" / "config.toml").exists()
        # Agency list (sorted): Fort-de-France, Nice. Take the second.
        keys(x_session, "Down", "Down", "Return")
        keys(x_session, "Return")  # still no service: refused again
        assert proc.poll() is None
        keys(x_session, "Tab", "Down", "Return", "Return")
        _out, err = proc.communicate(timeout=30)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, err
    assert err.count("Choisissez une agence et un service avant de valider.") == 2
    device = oxytrack_server.device(agent.device_id)
    assert (device["agency"], device["service"]) == ("Nice", "Facturation")
    token = agent.home / "config" / "oxytrack-agent" / "token"
    assert token.stat().st_mode & 0o777 == 0o600


def test_a_409_shows_the_servers_message_as_is(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    first: Agent = agent_factory("first")
    result = first.cli(
        "enroll", "--server", oxytrack_server.url, "--key", oxytrack_server.key,
        "--agency", "Nice", "--service", "Facturation",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # What the server says to an installer who picks another agency.
    from oxytrack_agent.enroll import machine_identity

    reply = requests.post(
        f"{oxytrack_server.url}/api/agent/v1/enroll",
        json={**machine_identity(), "agency": "Fort-de-France", "service": "Facturation"},
        headers={"X-Enrollment-Key": oxytrack_server.key},
        timeout=10,
    )
    assert reply.status_code == 409
    message = reply.json()["message"]

    # Silent install: printed as is, distinct exit code.
    silent = first.cli(
        "enroll", "--server", oxytrack_server.url, "--key", oxytrack_server.key,
        "--agency", "Fort-de-France", "--service", "Facturation",
    )  # fmt: skip
    assert silent.returncode == 4
    assert silent.stderr.strip() == message

    # The dialog: the message is shown and the dialog stays open for another choice.
    second: Agent = agent_factory("second")
    proc, window = open_dialog(second, oxytrack_server, x_session)
    try:
        keys(x_session, "Down", "Return", "Tab", "Down", "Return", "Return")  # Fort-de-France
        time.sleep(1)
        assert proc.poll() is None
        x_session.xdotool("windowclose", window)
        _, err = proc.communicate(timeout=30)
    finally:
        stop_process(proc)
    assert message in err
    assert proc.returncode == 1
    assert not (second.home / "config" / "oxytrack-agent" / "config.toml").exists()
