"""The command the agent gives for itself (autostart entries, the tray's windows)."""

from __future__ import annotations

import sys

import pytest

from oxytrack_agent.config import agent_command


def test_from_python_it_is_the_module() -> None:
    assert agent_command("run") == [sys.executable, "-m", "oxytrack_agent", "run"]


def test_the_frozen_windows_exe_is_its_own_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """oxytrack-agent.exe takes no `-m oxytrack_agent`: argparse would refuse it."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert agent_command("pause-window") == [sys.executable, "pause-window"]
