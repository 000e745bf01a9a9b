"""Input at the edges and clock steps: the real agent, X11 and server.

Keys typed 100 ms after a focus switch or an unlock land in the right span
(the agent samples at 1 Hz but places input by its moment, from X events).
A wall clock stepped back (libfaketime, for the agent's process
only) leaves spans that never overlap and return to true time; one jumping a
minute forward while the monotonic clock does not (a suspend, as the agent
sees it) adds no time.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from Xlib import X, display

from .conftest import Agent, LiveServer, XSession

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]

TITLES = {"Oxyedgea": "Édition « a »", "Oxyedgeb": "Courrier 'b' <b>"}
#: How far the clock-step test's wall clock runs ahead before NTP steps it back.
STEP_S = 20
FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def enroll(agent: Agent, server: LiveServer) -> None:
    result = agent.cli(
        "enroll", "--server", server.url, "--key", server.key,
        "--agency", "Nice", "--service", "Facturation",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def keys_per_title(spans: list[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for s in spans:
        counts[s["title"]] += s["keys"]
    return counts


def assert_no_overlap(spans: list[dict[str, Any]]) -> None:
    for a, b in itertools.pairwise(spans):
        assert a["start"] + a["duration_s"] <= b["start"] + 0.002, (a, b)


def fake_wall_clock(agent: Agent, tmp_path: Path, offset: str) -> Path:
    """Run the agent with its wall clock `offset` (libfaketime), its monotonic clock true.

    Returns the file holding the offset: write another one to step the clock.
    """
    path = tmp_path / "faketime"
    path.write_text(f"{offset}\n")
    agent.env.update(
        {
            "LD_PRELOAD": str(FAKETIME_LIB),
            "FAKETIME_TIMESTAMP_FILE": str(path),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
    )
    return path


def open_windows(x_session: XSession) -> list[str]:
    return [x_session.open_window(cls, title) for cls, title in TITLES.items()]


def test_keys_typed_100_ms_after_a_focus_switch_land_on_the_new_window(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    wins = open_windows(x_session)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    x_session.activate(wins[1])
    started = time.time()
    agent.start("--upload-interval", "3", "--idle-threshold", "60")
    rng = random.Random(10)
    typed: Counter[str] = Counter()
    for i in range(20):
        target = i % 2
        x_session.activate(wins[target])  # --sync: returns once the focus moved
        time.sleep(0.1)
        n = 1 + target  # one key in the first window, two in the second
        x_session.xdotool("key", "--delay", "30", *["k"] * n)
        typed[list(TITLES.values())[target]] += n
        # Switch at a different phase of the agent's 1 s sampling each time.
        time.sleep(rng.uniform(0.3, 1.1))
    code, _ = agent.stop()
    assert code == 0, agent.log_text()
    spans = oxytrack_server.spans(agent.device_id, since=started)
    assert keys_per_title(spans) == typed  # 10 and 20, exactly, on the right window
    assert_no_overlap(spans)


def force_screen_saver(d: display.Display, mode: int) -> float:
    """Turn the screen saver on or off; the moment the X server has done it."""
    d.force_screen_saver(mode)
    d.sync()
    return time.time()


def test_keys_typed_100_ms_after_unlocking_are_counted(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    wins = open_windows(x_session)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    x_session.activate(wins[0])
    started = time.time()
    agent.start("--upload-interval", "3", "--idle-threshold", "60")
    rng = random.Random(11)
    locks = []
    # One connection, opened before: each lock and unlock is then timed when the
    # X server has done it, not before connecting (up to 0.5 s on a busy machine).
    d = display.Display(x_session.display)
    try:
        for _ in range(8):
            # "Locked" on X11 is the screen saver on (docs/architecture.md).
            locked = force_screen_saver(d, X.ScreenSaverActive)
            time.sleep(rng.uniform(1.6, 2.4))  # the agent sees it locked
            unlocked = force_screen_saver(d, X.ScreenSaverReset)
            time.sleep(0.1)
            x_session.xdotool("key", "u")
            locks.append(unlocked - locked)
            # Unlocked for more than a sample: an unlock shorter than the
            # 1 s between two samples that both see it locked is not seen.
            time.sleep(rng.uniform(1.2, 1.8))
    finally:
        force_screen_saver(d, X.ScreenSaverReset)
        d.close()
    code, _ = agent.stop()
    assert code == 0, agent.log_text()
    spans = oxytrack_server.spans(agent.device_id, since=started)
    assert keys_per_title(spans) == Counter({TITLES["Oxyedgea"]: 8})
    # Locked time is no time: each lock leaves a gap in the spans.
    gaps = [
        b["start"] - (a["start"] + a["duration_s"])
        for a, b in itertools.pairwise(spans)
        if b["start"] - (a["start"] + a["duration_s"]) > 1.0
    ]
    # ...as long as the lock, to its moment (not rounded to the 1 s samples).
    assert gaps == pytest.approx(locks, abs=0.25)
    assert_no_overlap(spans)


@pytest.mark.skipif(
    not FAKETIME_LIB.exists() or shutil.which("faketime") is None,
    reason="Debian package faketime (scripts/test.sh installs it)",
)
def test_a_wall_clock_stepped_back_leaves_no_overlap_and_returns_to_true_time(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any, tmp_path: Path
) -> None:
    wins = open_windows(x_session)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    # The PC's clock runs 20 s fast: far more than the 5 s the agent takes for a
    # step, and each second of it is a second the test waits at the end.
    offset = fake_wall_clock(agent, tmp_path, f"+{STEP_S}s")
    x_session.activate(wins[0])
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "300")
    for i in range(6):
        x_session.activate(wins[i % 2])
        x_session.xdotool("key", "a")
        time.sleep(1)
    offset.write_text("+0s\n")  # NTP steps it back to true time
    stepped = time.time()
    # The seconds after the step are the same wall-clock seconds as the ones
    # just recorded: nothing is recorded again until true time passes them.
    while time.time() < stepped + STEP_S + 6:
        x_session.activate(wins[0])
        x_session.xdotool("key", "b")
        time.sleep(1.5)
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0, agent.log_text()
    spans = oxytrack_server.spans(agent.device_id, since=started)
    assert spans, agent.log_text()
    assert_no_overlap(spans)
    # Before the step: the fast clock's times; after it: true wall time.
    last_end = spans[-1]["start"] + spans[-1]["duration_s"]
    assert last_end == pytest.approx(ended, abs=1.5)
    # Neither sent twice nor lost: the spans tile the wall-clock time from the
    # start to the end without a gap (the stepped-over seconds counted once).
    for a, b in itertools.pairwise(spans):
        assert b["start"] == pytest.approx(a["start"] + a["duration_s"], abs=0.005), (a, b)
    # With the tiling above, the recorded time is the whole run less the
    # stepped-over seconds, from the agent's first sample (its start-up, a few
    # seconds, 12 s seen on a loaded machine, is not recorded time).
    assert started + STEP_S - 1 <= spans[0]["start"] <= started + STEP_S + 20
    assert "rejet" not in agent.cli("status").stdout.lower()
    assert os.environ.get("LD_PRELOAD") is None  # only the agent's process was faked


@pytest.mark.skipif(
    not FAKETIME_LIB.exists() or shutil.which("faketime") is None,
    reason="Debian package faketime (scripts/test.sh installs it)",
)
def test_a_wall_clock_jumping_forward_as_after_a_suspend_adds_no_time(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any, tmp_path: Path
) -> None:
    wins = open_windows(x_session)
    agent: Agent = agent_factory()
    # A device of its own (the server knows a device by its user and host): its
    # slow clock's first minute would otherwise overlap what the tests before
    # it stored for the same device, and be refused.
    agent.env.update({"LOGNAME": "suspendu", "USER": "suspendu"})
    enroll(agent, oxytrack_server)
    offset = fake_wall_clock(agent, tmp_path, "-60s")  # the PC's clock runs a minute slow
    x_session.activate(wins[0])
    agent.start("--upload-interval", "2", "--idle-threshold", "300")
    for i in range(6):
        x_session.activate(wins[i % 2])
        x_session.xdotool("key", "a")
        time.sleep(1)
    # The wall clock jumps a minute forward and the monotonic clock does not:
    # what a suspend (or an NTP step forward) looks like to the agent.
    offset.write_text("+0s\n")
    jumped = time.time()
    time.sleep(1.5)  # no key in the sample that sees the jump
    for i in range(6):
        x_session.activate(wins[i % 2])
        x_session.xdotool("key", "a")
        time.sleep(1)
    code, _ = agent.stop()
    ended = time.time()
    assert code == 0, agent.log_text()
    spans = oxytrack_server.spans(agent.device_id, since=jumped - 600)
    assert {s["title"] for s in spans} <= {*TITLES.values(), ""}, spans  # its own device
    assert spans, agent.log_text()
    assert_no_overlap(spans)
    # The minute jumped over is no time: one gap of a minute, anywhere else
    # each span starts where the previous one ended.
    gaps = [
        b["start"] - (a["start"] + a["duration_s"])
        for a, b in itertools.pairwise(spans)
        if b["start"] - (a["start"] + a["duration_s"]) > 0.005
    ]
    assert gaps == [pytest.approx(60, abs=1.5)], spans
    before = [s for s in spans if s["start"] < jumped - 30]
    assert before and before[-1]["start"] + before[-1]["duration_s"] <= jumped - 60 + 1.5
    # After it, true wall time; every key counted, in the window it was typed in.
    assert spans[-1]["start"] + spans[-1]["duration_s"] == pytest.approx(ended, abs=1.5)
    assert keys_per_title(spans) == Counter({TITLES["Oxyedgea"]: 6, TITLES["Oxyedgeb"]: 6})
    assert "rejet" not in agent.cli("status").stdout.lower()
