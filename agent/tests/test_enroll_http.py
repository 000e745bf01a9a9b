"""Plain http:// is refused unless it stays on this PC or --insecure-http says so."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from oxytrack_agent import i18n
from oxytrack_agent.cli import main
from oxytrack_agent.config import FatalError, Paths, load_config
from oxytrack_agent.enroll import check_server_url, local_ips

from .conftest import KEY, POLL_S, FakeServer, _handler

REFUSED = "en http:// le jeton de l'appareil et les données passeraient en clair"
UNENCRYPTED = "la connexion au serveur n'est pas chiffrée"


@pytest.fixture
def lan_server() -> Iterator[FakeServer]:
    """The fake server on this PC's network address, as a real server on the LAN is."""
    ipv4 = [ip for ip in local_ips() if ipaddress.ip_address(ip).version == 4]
    # A self-assigned address (169.254/16) may sit on an adapter that is down
    # (Windows lists those too): one that takes the server will do.
    ipv4.sort(key=lambda ip: ipaddress.ip_address(ip).is_link_local)
    assert ipv4, "this test needs a non-loopback IPv4 address"
    state = FakeServer()
    httpd = None
    for ip in ipv4:
        try:
            httpd = ThreadingHTTPServer((ip, 0), _handler(state))
            break
        except OSError:
            continue
    assert httpd is not None, f"no address of this PC takes a server: {ipv4}"
    state.url = f"http://{httpd.server_address[0]!s}:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def enroll(server: str, *extra: str) -> int:
    return main(["enroll", "--server", server, "--key", KEY, "--no-dialog", *extra])


def test_http_to_another_machine_is_refused_before_anything_is_sent(
    xdg: Paths, lan_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert enroll(lan_server.url) == 1
    err = capsys.readouterr().err
    assert REFUSED in err and "--insecure-http" in err and "https://" in err
    assert lan_server.enrollments == []
    assert not xdg.config_file.exists() and not xdg.token_file.exists()


def test_the_dialog_path_refuses_it_too_before_opening(
    xdg: Paths,
    lan_server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A display and no agency/service: the installer's dialog would open next.
    monkeypatch.setenv("DISPLAY", ":97")
    code = main(["enroll", "--server", lan_server.url, "--key", KEY])
    assert code == 1
    assert REFUSED in capsys.readouterr().err
    assert lan_server.enrollments == []
    assert not xdg.config_file.exists()


def test_insecure_http_enrolls_keeps_the_choice_and_status_warns(
    xdg: Paths, lan_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert enroll(lan_server.url, "--insecure-http") == 0
    assert len(lan_server.enrollments) == 1
    config = load_config(xdg)
    assert config.insecure_http is True
    assert "insecure_http = true" in xdg.config_file.read_text()
    capsys.readouterr()
    assert main(["status"]) == 0
    assert UNENCRYPTED in capsys.readouterr().out


def test_loopback_http_needs_no_flag_and_status_stays_quiet(
    xdg: Paths, fake_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fake_server.url.startswith("http://127.0.0.1:")
    for url in (fake_server.url, fake_server.url.replace("127.0.0.1", "localhost")):
        assert enroll(url) == 0
    assert len(fake_server.enrollments) == 2
    assert load_config(xdg).insecure_http is False
    assert "insecure_http" not in xdg.config_file.read_text()
    capsys.readouterr()
    assert main(["status"]) == 0
    assert UNENCRYPTED not in capsys.readouterr().out


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.8.9.10",
        "http://[::1]:8000/",
        "http://localhost:8000",
        "http://LOCALHOST.",
        "https://oxytrack.example.com",
        "https://192.0.2.7:8443",
    ],
)
def test_https_and_loopback_addresses_are_accepted(url: str) -> None:
    check_server_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://oxytrack.example.com",
        "HTTP://192.0.2.7",
        "http://[fd00::2]:8000",
        "http://localhost.example.com",
        "http://127.0.0.1.example.com",
    ],
)
def test_plain_http_elsewhere_is_refused_unless_insecure(url: str) -> None:
    with pytest.raises(FatalError, match="en http://"):
        check_server_url(url)
    check_server_url(url, insecure_http=True)


@pytest.mark.parametrize("url", ["oxytrack.example.com", "ftp://oxytrack.example.com", "https://"])
def test_an_address_that_is_not_http_is_refused_clearly(url: str) -> None:
    with pytest.raises(FatalError, match="doit commencer par https://"):
        check_server_url(url, insecure_http=True)


def test_the_refusal_and_the_warning_are_in_english_for_an_english_session(
    xdg: Paths,
    lan_server: FakeServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGUAGE", "en_GB:fr")
    i18n.reset()
    assert enroll(lan_server.url) == 1
    assert "over http:// the device token and the data would cross" in capsys.readouterr().err
    assert enroll(lan_server.url, "--insecure-http") == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    assert "the connection to the server is not encrypted" in capsys.readouterr().out
