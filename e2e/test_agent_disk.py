"""The agent on a full disk: a size-limited tmpfs as its data directory.

Real agent under Xvfb, real server. The disk fills while the agent samples
(dd until ENOSPC), or is too small from the start; the agent must never exit,
`status` must never crash and must name the problem, and once there is room
again the server must hold the sampled time (minus what the memory bound
dropped, counted), with nothing twice. Needs root for `mount` (as CI runs).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Agent, LiveServer, XSession
from .test_agent_x11 import TITLES, enroll, switch_and_type

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of a given size as the data directory of the agent named "agent"."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        data = tmp_path / "agent" / "data"
        data.mkdir(parents=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(data)],
            check=True,
            timeout=30,
        )
        mounted.append(data)
        return data

    yield mount
    for data in mounted:
        subprocess.run(["umount", "-l", str(data)], check=False, timeout=30)


def fill(directory: Path) -> Path:
    """Fill the filesystem to the last block (dd stops at ENOSPC)."""
    target = directory / "fill"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=64k"], capture_output=True, check=False
    )
    return target


def start(
    x_session: XSession, server: LiveServer, agent_factory: Any, *extra: str
) -> tuple[Agent, list[str], float]:
    wins = [x_session.open_window(cls, title) for cls, title in TITLES.items()]
    agent: Agent = agent_factory()
    enroll(agent, server)
    x_session.activate(wins[0])
    agent.start("--upload-interval", "2", "--idle-threshold", "60", *extra)
    return agent, wins, time.time()


def status(agent: Agent) -> str:
    result = agent.cli("status")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def state(agent: Agent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (agent.home / "data" / "oxytrack-agent" / "state.json").read_text()
    )
    return data


def assert_contiguous(spans: list[dict[str, Any]]) -> None:
    """No overlap and no duplicate: each span starts at or after the previous one's end."""
    for a, b in itertools.pairwise(spans):
        assert b["start"] >= a["start"] + a["duration_s"] - 0.005, (a, b)


def test_a_disk_that_fills_while_sampling_loses_nothing_once_freed(
    small_disk: Callable[[str], Path],
    x_session: XSession,
    oxytrack_server: LiveServer,
    agent_factory: Any,
) -> None:
    data = small_disk("1m")
    agent, wins, began = start(x_session, oxytrack_server, agent_factory)
    switch_and_type(x_session, wins, 3, "ab")
    filler = fill(data)
    switch_and_type(x_session, wins, 10, "cd")  # 15 s: at least one store fails
    assert agent.proc is not None and agent.proc.poll() is None
    during = status(agent)
    assert "Agent : en marche" in during
    assert "disque plein depuis" in during
    assert "de mesures attendent en mémoire" in during
    filler.unlink()
    switch_and_type(x_session, wins, 10, "ef")  # the next store (≤ 10 s) writes it all
    assert agent.proc.poll() is None
    after = status(agent)
    assert "disque plein" not in after
    assert "perdues" not in after
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0
    spans = oxytrack_server.spans(agent.device_id, since=began - 5)
    assert_contiguous(spans)
    assert sum(s["duration_s"] for s in spans) == pytest.approx(ended - began, abs=3)


def test_a_disk_too_small_from_the_start_then_enlarged(
    small_disk: Callable[[str], Path],
    x_session: XSession,
    oxytrack_server: LiveServer,
    agent_factory: Any,
) -> None:
    # 64 KiB: not even room for the queue's SQLite files (its -shm alone is 32 KiB).
    data = small_disk("64k")
    agent, wins, began = start(x_session, oxytrack_server, agent_factory)
    switch_and_type(x_session, wins, 8, "ab")
    assert agent.proc is not None and agent.proc.poll() is None
    during = status(agent)
    assert "Agent : en marche" in during
    assert "disque plein depuis" in during
    assert "de mesures attendent en mémoire" in during
    # Room again: the agent opens its queue by itself, writes what waited, sends it.
    subprocess.run(["mount", "-o", "remount,size=4m", str(data)], check=True, timeout=30)
    switch_and_type(x_session, wins, 10, "cd")
    assert agent.proc.poll() is None
    assert "disque plein" not in status(agent)
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0
    spans = oxytrack_server.spans(agent.device_id, since=began - 5)
    assert_contiguous(spans)
    assert sum(s["duration_s"] for s in spans) == pytest.approx(ended - began, abs=3)


def test_past_the_memory_bound_the_oldest_time_is_dropped_and_counted(
    small_disk: Callable[[str], Path],
    x_session: XSession,
    oxytrack_server: LiveServer,
    agent_factory: Any,
) -> None:
    data = small_disk("1m")
    agent, wins, began = start(x_session, oxytrack_server, agent_factory, "--memory-limit", "8")
    switch_and_type(x_session, wins, 3, "ab")
    filler = fill(data)
    switch_and_type(x_session, wins, 14, "cd")  # 21 s full, 8 s of it can wait
    during = status(agent)
    assert "disque plein depuis" in during
    assert "de données perdues faute de place" in during
    filler.unlink()
    switch_and_type(x_session, wins, 10, "ef")
    assert agent.proc is not None and agent.proc.poll() is None
    dropped = state(agent)["dropped_s"]
    assert "de données perdues faute de place" in status(agent)
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0
    spans = oxytrack_server.spans(agent.device_id, since=began - 5)
    assert_contiguous(spans)
    stored = sum(s["duration_s"] for s in spans)
    # What the server lacks is exactly what was dropped (and counted).
    assert dropped >= 5
    assert stored + dropped == pytest.approx(ended - began, abs=3)
