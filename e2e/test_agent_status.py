"""`oxytrack-agent status` as the employee reads it, from the real agent under Xvfb.

Whether the agent runs (from its single-instance lock), today's titles as the
server stores them, and the language of the session (English under
LANG=en_US.UTF-8, French otherwise).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import Agent, LiveServer, XSession
from .test_agent_x11 import TITLES, enroll, switch_and_type

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]


def english(agent: Agent) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        agent.env.pop(var, None)
    agent.env["LANG"] = "en_US.UTF-8"


def test_status_in_english_says_running_then_not_running_and_lists_the_titles_sent(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    wins = [x_session.open_window(cls, title) for cls, title in TITLES.items()]
    agent: Agent = agent_factory()
    english(agent)
    enroll(agent, oxytrack_server)
    before = agent.cli("status")
    assert before.returncode == 0, before.stderr
    assert "Agent: not running, nothing is measured." in before.stdout
    x_session.activate(wins[0])
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "60")
    switch_and_type(x_session, wins, 6, "ab")
    running = agent.cli("status")
    assert running.returncode == 0, running.stderr
    out = running.stdout
    assert "Agent: running since " in out
    assert "What is collected (server rules, version" in out
    assert "Today (" in out and "as the server will receive it:" in out
    # Every title, as the server stored it (hostile text included), with its time.
    stored = {s["title"] for s in oxytrack_server.spans(agent.device_id, since=started)}
    for cls, title in TITLES.items():
        if title in stored:
            assert f": {cls} — {title}\n" in out
    assert stored & set(TITLES.values())
    assert "Last successful upload: " in out
    assert "Last successful upload: never" not in out
    assert "Attention" not in out and "Agence" not in out  # nothing left in French
    code, _ = agent.stop()
    assert code == 0
    after = agent.cli("status")
    assert "Agent: not running" in after.stdout
    assert "Waiting to be sent: nothing." in after.stdout


def test_status_in_french_by_default_says_arrete_and_en_marche(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    wins = [x_session.open_window(cls, title) for cls, title in TITLES.items()]
    agent: Agent = agent_factory()
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        agent.env.pop(var, None)
    agent.env["LANG"] = "de_DE.UTF-8"  # neither French nor English: French
    enroll(agent, oxytrack_server)
    assert "Agent : arrêté, rien n'est mesuré." in agent.cli("status").stdout
    x_session.activate(wins[0])
    agent.start("--upload-interval", "2", "--idle-threshold", "60")
    switch_and_type(x_session, wins, 2, "a")
    out = agent.cli("status").stdout
    assert "Agent : en marche depuis " in out
    assert "utilisation : oxytrack-agent" in agent.cli("--help").stdout
    code, _ = agent.stop()
    assert code == 0
    assert "Agent : arrêté" in agent.cli("status").stdout
