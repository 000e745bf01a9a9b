"""The agent's own error messages follow the session's language (French, or English)."""

from __future__ import annotations

import pytest

from oxytrack_agent import i18n
from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths

from .conftest import KEY, FakeServer, Reply


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "en_US")
    i18n.reset()


@pytest.mark.usefixtures("english")
def test_status_of_an_agent_not_enrolled_in_english(
    xdg: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert 'Agent not enrolled: run "oxytrack-agent enroll --server URL --key KEY".' in out
    assert "non inscrit" not in out
    assert "Start at logon: agent no, pause control no" in out


@pytest.mark.usefixtures("english")
def test_enrollment_errors_in_english(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_server.enroll_replies = [Reply(403, {"message": "Invalid enrollment key."})]
    args = ["enroll", "--server", fake_server.url, "--key", KEY, "--agency", "Nice"]
    assert main([*args, "--service", "RH"]) == 1
    assert capsys.readouterr().err.strip() == "Enrollment refused (403): Invalid enrollment key."
    # Nothing listens on port 1 of this machine.
    assert main(["enroll", "--server", "http://127.0.0.1:1", "--key", KEY, "--no-dialog"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Server unreachable (http://127.0.0.1:1/api/agent/v1/enroll): ")


def test_the_same_messages_stay_french_by_default(
    xdg: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Agent non inscrit : lancez « oxytrack-agent enroll --server URL --key CLÉ »." in out
    assert "Démarrage à l'ouverture de session : agent non, contrôle de pause non" in out
