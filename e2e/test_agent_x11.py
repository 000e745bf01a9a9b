"""The agent on a real X11 session against the real server.

Xvfb + openbox, Tk windows with hostile titles, focus switched by xdotool on
a schedule, keys and clicks sent by xdotool; the agent enrolls against the
live server, uploads, and the server's stored spans must match the schedule.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from typing import Any

import pytest

from .conftest import Agent, LiveServer, XSession

pytestmark = [pytest.mark.x11, pytest.mark.slow]

TITLES = {
    "Oxyalpha": "Café « déjà vu » — 😀 naïve",
    "Oxybeta": "Devis \"urgent\" l'été 'x'",
    "Oxygamma": "<script>alert('x')</script> & co",
}
# Keys land in the span of the sample they happened in: leave a margin of more
# than one 1 s sample after each switch before typing, and before the next one.
SETTLE_S = 1.6


def per_title(spans: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    totals: dict[str, dict[str, float]] = defaultdict(
        lambda: {"active": 0.0, "idle": 0.0, "keys": 0, "clicks": 0}
    )
    for s in spans:
        t = totals[s["title"]]
        t["active" if s["active"] else "idle"] += s["duration_s"]
        t["keys"] += s["keys"]
        t["clicks"] += s["clicks"]
    return totals


def enroll(agent: Agent, server: LiveServer) -> None:
    result = agent.cli(
        "enroll", "--server", server.url, "--key", server.key,
        "--agency", "Nice", "--service", "Facturation",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def type_keys(x: XSession, text: str) -> None:
    x.xdotool("type", "--delay", "60", text)


def start_enrolled_agent(
    x_session: XSession, server: LiveServer, agent_factory: Any, upload_interval: str
) -> tuple[Agent, list[Any], float, float]:
    """Open the three test windows, enroll an agent, focus the first and start it.

    Returns the agent, the windows, and the times just before and after the start.
    """
    wins = [x_session.open_window(cls, title) for cls, title in TITLES.items()]
    agent: Agent = agent_factory()
    enroll(agent, server)
    x_session.activate(wins[0])
    started = time.time()
    agent.start("--upload-interval", upload_interval, "--idle-threshold", "60")
    return agent, wins, started, time.time()


def switch_and_type(x_session: XSession, wins: list[Any], rounds: int, text: str) -> None:
    """Cycle the focus through `wins`, typing `text` in each, 1.5 s apart."""
    for i in range(rounds):
        x_session.activate(wins[i % len(wins)])
        type_keys(x_session, text)
        time.sleep(1.5)


def click(x: XSession, window: str, n: int) -> None:
    for _ in range(n):
        x.xdotool("mousemove", "--window", window, "60", "60", "click", "1")
        time.sleep(0.1)


def test_focus_schedule_input_counts_and_idle_reach_the_server(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    wins = {cls: x_session.open_window(cls, title) for cls, title in TITLES.items()}
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    device = oxytrack_server.device(agent.device_id)
    assert (device["agency"], device["service"], device["time_zone"]) == (
        "Nice",
        "Facturation",
        "Europe/Paris",
    )
    x_session.activate(wins["Oxyalpha"])
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "5")

    # Alpha, 6 s: 5 + 2 keys, 2 clicks, input until just before leaving it.
    t0 = time.time()
    x_session.activate(wins["Oxyalpha"])
    time.sleep(SETTLE_S)
    type_keys(x_session, "hello")
    click(x_session, wins["Oxyalpha"], 2)
    time.sleep(max(0.0, t0 + 6 - SETTLE_S - time.time()))
    type_keys(x_session, "ok")
    time.sleep(max(0.0, t0 + 6 - time.time()))
    # Beta, 6 s: 3 + 4 keys, 1 click.
    t1 = time.time()
    x_session.activate(wins["Oxybeta"])
    time.sleep(SETTLE_S)
    type_keys(x_session, "abc")
    click(x_session, wins["Oxybeta"], 1)
    time.sleep(max(0.0, t1 + 6 - SETTLE_S - time.time()))
    type_keys(x_session, "defg")
    t_beta_last = time.time()
    time.sleep(max(0.0, t1 + 6 - time.time()))
    # Gamma: 9 s without any input. With Beta's last second and a bit, that is
    # over the 5 s threshold, so from Beta's last key on it is all idle; then
    # one key and 3 s of activity.
    t2 = time.time()
    x_session.activate(wins["Oxygamma"])
    time.sleep(max(0.0, t2 + 9 - time.time()))
    t_input = time.time()
    type_keys(x_session, "z")
    time.sleep(max(0.0, t2 + 12 - time.time()))
    # Back to Alpha for 3 s with a key, so Gamma's active tail is closed.
    t3 = time.time()
    x_session.activate(wins["Oxyalpha"])
    time.sleep(SETTLE_S)
    type_keys(x_session, "q")
    time.sleep(max(0.0, t3 + 3 - time.time()))
    t4 = time.time()

    code, took = agent.stop()
    assert code == 0, agent.log_text()
    assert took < 5.5  # close, store and one last upload within 5 s

    spans = oxytrack_server.spans(agent.device_id, since=started)
    got = per_title(spans)
    alpha, beta, gamma = (got[TITLES[c]] for c in ("Oxyalpha", "Oxybeta", "Oxygamma"))
    # Titles arrive intact: accents, emoji, quotes and markup, byte for byte.
    assert set(got) >= set(TITLES.values())
    assert {s["app"] for s in spans if s["title"] in TITLES.values()} == set(TITLES)
    # Active time per title matches the schedule within ±2 s.
    assert alpha["active"] == pytest.approx((t1 - t0) + (t4 - t3), abs=2)
    assert alpha["idle"] == 0
    assert beta["active"] == pytest.approx(t_beta_last - t1, abs=2)
    # The idle stretch starts at the last input, retroactively.
    assert beta["idle"] == pytest.approx(t2 - t_beta_last, abs=2)
    assert gamma["idle"] == pytest.approx(t_input - t2, abs=2)
    assert gamma["active"] == pytest.approx(t3 - t_input, abs=2)
    # Counts are exact and land on the window they were typed in.
    assert (alpha["keys"], alpha["clicks"]) == (8, 2)
    assert (beta["keys"], beta["clicks"]) == (7, 1)
    assert (gamma["keys"], gamma["clicks"]) == (1, 0)
    # Nothing overlaps.
    for a, b in itertools.pairwise(spans):
        assert a["start"] + a["duration_s"] <= b["start"] + 0.002

    status = agent.cli("status")
    assert status.returncode == 0
    assert "En attente d'envoi : rien." in status.stdout
    assert "nombre de touches frappées et de clics, jamais quelles touches" in status.stdout
    assert f"Oxyalpha — {TITLES['Oxyalpha']}\n" in status.stdout


# The agent's outage handling: the server's backend plays no part (once).
@pytest.mark.once
def test_server_down_then_back_every_span_arrives_exactly_once(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    agent, wins, started, began = start_enrolled_agent(
        x_session, oxytrack_server, agent_factory, upload_interval="2"
    )
    switch_and_type(x_session, wins, 3, "ab")
    oxytrack_server.stop()
    try:
        # Uploads fail meanwhile (connection refused), with backoff.
        switch_and_type(x_session, wins, 8, "cd")
        assert "upload failed" in agent.log_text()
    finally:
        oxytrack_server.start()
    switch_and_type(x_session, wins, 3, "ef")
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0
    spans = oxytrack_server.spans(agent.device_id, since=started)
    # No gap and no duplicate: each span starts where the previous one ended.
    for a, b in itertools.pairwise(spans):
        assert b["start"] == pytest.approx(a["start"] + a["duration_s"], abs=0.005)
    covered = sum(s["duration_s"] for s in spans)
    assert covered == pytest.approx(ended - began, abs=3)
    assert "En attente d'envoi : rien." in agent.cli("status").stdout


# What a SIGKILL loses is the agent's business: once is enough. The other two tests of
# this file are the suite's agent-to-server uploads on PostgreSQL.
@pytest.mark.once
def test_kill_9_then_restart_loses_at_most_10_seconds(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    agent, wins, started, began = start_enrolled_agent(
        x_session, oxytrack_server, agent_factory, upload_interval="600"
    )
    switch_and_type(x_session, wins, 12, "k")
    agent.kill9()
    killed = time.time()
    time.sleep(2)
    agent.start("--upload-interval", "600", "--idle-threshold", "60")
    restarted = time.time()
    x_session.activate(wins[1])
    type_keys(x_session, "k")
    time.sleep(2)
    code, _ = agent.stop()
    assert code == 0
    spans = oxytrack_server.spans(agent.device_id, since=started)
    before_kill = [s for s in spans if s["start"] < killed]
    after_restart = [s for s in spans if s["start"] >= killed]
    kept = sum(s["duration_s"] for s in before_kill)
    assert kept >= (killed - began) - 10 - 1
    assert kept <= (killed - began) + 1
    assert after_restart and after_restart[0]["start"] >= restarted - 1.5
    for a, b in itertools.pairwise(spans):
        assert a["start"] + a["duration_s"] <= b["start"] + 0.002
