"""The commands in Linux sessions that Windows has no counterpart for (collected on Linux only).

A Windows session always has a desktop (enrollment then opens its dialog), and
Wayland and DISPLAY mean nothing there: conftest.py's `collect_ignore`.
"""

from __future__ import annotations

import pytest

from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths
from oxytrack_agent.queue import Queue

from .conftest import FakeServer
from .test_cli import enroll


def test_without_a_display_enrollment_goes_on_without_the_dialog(
    xdg: Paths, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert enroll(fake_server) == 0
    assert "agency" not in fake_server.enrollments[0]


def test_a_wayland_session_records_nothing_and_status_says_why(
    xdg: Paths,
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    enroll(fake_server, "--agency", "Nice", "--service", "RH")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert main(["run"]) == 2
    queue = Queue(xdg.queue_file)
    assert queue.stats().waiting_spans == 0
    queue.close()
    capsys.readouterr()
    main(["status"])
    assert "Wayland sans X11" in capsys.readouterr().out
