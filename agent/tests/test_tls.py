"""TLS is always verified; an internal CA is trusted only when given."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths, load_config
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span
from oxytrack_agent.uploader import Client, PolicyHolder, TransientError, Uploader

from .conftest import KEY, TOKEN, UNTRUSTED, FakeServer, TlsFiles


def test_an_unknown_ca_is_refused(
    xdg: Paths, tls_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["enroll", "--server", tls_server.url, "--key", KEY, "--no-dialog"])
    assert code == 1
    assert UNTRUSTED in capsys.readouterr().err
    assert tls_server.enrollments == []


def test_the_internal_ca_bundle_is_kept_and_used_for_uploads(
    xdg: Paths, tls_server: FakeServer, tls_files: TlsFiles
) -> None:
    code = main(
        ["enroll", "--server", tls_server.url, "--key", KEY, "--ca-bundle", str(tls_files.ca),
         "--agency", "Nice", "--service", "RH"]
    )  # fmt: skip
    assert code == 0
    config = load_config(xdg)
    assert config.ca_bundle == str(tls_files.ca)
    queue = Queue(xdg.queue_file)
    queue.store([Span(1_780_000_000, 1_780_000_009, "a", "b", True)], [], ZoneInfo("UTC"))
    uploader = Uploader(
        queue,
        Client(config, TOKEN, timeout=5),
        PolicyHolder(Policy()),
        time_zone=lambda: "UTC",
        interval=lambda: 1,
    )
    assert uploader.upload_once().accepted == 1
    # Without the bundle the same server is not trusted.
    untrusted = Client(config.__class__(server=config.server, device_id="x"), TOKEN, timeout=5)
    with pytest.raises(TransientError, match=UNTRUSTED):
        untrusted.get_policy()


def test_a_missing_ca_bundle_stops_run_with_a_clear_message(
    xdg: Paths, tls_server: FakeServer, tls_files: TlsFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["enroll", "--server", tls_server.url, "--key", KEY, "--ca-bundle", str(tls_files.ca),
          "--no-dialog"])  # fmt: skip
    tls_files.ca.unlink()
    capsys.readouterr()
    assert main(["run"]) == 1
    assert "Certificats de l'autorité interne illisibles" in capsys.readouterr().err
