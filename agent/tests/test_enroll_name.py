"""The person's full name: read from the OS, cleaned, and sent at every enrollment."""

from __future__ import annotations

import os
import subprocess

import pytest

from oxytrack_agent import platforms
from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths
from oxytrack_agent.enroll import MAX_DISPLAY_NAME, clean_display_name, machine_identity
from oxytrack_agent.platforms import macos, windows
from oxytrack_agent.platforms.x11 import gecos_full_name

from .conftest import KEY, FakeServer


def _gecos_of_this_user() -> str:
    """The GECOS field as `getent` prints it: a path independent of Python's pwd."""
    line = subprocess.run(
        ["getent", "passwd", str(os.getuid())], capture_output=True, text=True, check=True
    ).stdout.strip()
    return line.split(":")[4]


@pytest.mark.parametrize(
    ("gecos", "name"),
    [
        ("Jean Dupont,Bureau 12,04 93 00 00 00,,", "Jean Dupont"),
        ("  Zoé Martin-Lefèvre  ", "Zoé Martin-Lefèvre"),
        ("", ""),
        (",,,", ""),
        ("root", "root"),
    ],
)
def test_the_full_name_is_the_first_part_of_the_gecos_field(gecos: str, name: str) -> None:
    assert gecos_full_name(gecos) == name


def test_on_linux_the_full_name_comes_from_the_passwd_entry() -> None:
    expected = _gecos_of_this_user().split(",")[0].strip()
    assert platforms.full_user_name() == expected
    identity = machine_identity()
    if expected:
        assert identity["display_name"] == expected
    else:
        assert "display_name" not in identity


def test_windows_and_mac_readers_say_nothing_off_their_os() -> None:
    # Never a crash nor a wrong-OS import: they answer '' here.
    assert windows.full_user_name() == ""
    assert macos.full_user_name() == ""


def test_names_lose_control_and_bidi_characters_and_fit_the_limit() -> None:
    assert clean_display_name("\u202eJean\x00 Dupont\u2066\n") == "Jean Dupont"
    assert clean_display_name("\u200f \t") == ""
    long = clean_display_name("A" * 150 + "\u202e" * 10 + "B" * 100)
    assert len(long) == MAX_DISPLAY_NAME and long.startswith("A" * 150) and "\u202e" not in long


def test_enrollment_sends_the_os_full_name(xdg: Paths, fake_server: FakeServer) -> None:
    expected = platforms.full_user_name()
    assert main(["enroll", "--server", fake_server.url, "--key", KEY, "--no-dialog"]) == 0
    (body,) = fake_server.enrollments
    assert body.get("display_name", "") == expected
    assert body["username"]


def test_every_re_enrollment_sends_the_name_again(
    xdg: Paths, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OS name of an account that was renamed in the directory meanwhile.
    names = iter(["Jean Dupont", "\u202eJeanne Dupont-Moreau\u202c"])
    monkeypatch.setattr("oxytrack_agent.enroll.full_user_name", lambda: next(names))
    for _ in range(2):
        assert main(["enroll", "--server", fake_server.url, "--key", KEY, "--no-dialog"]) == 0
    assert [b["display_name"] for b in fake_server.enrollments] == [
        "Jean Dupont",
        "Jeanne Dupont-Moreau",
    ]


def test_no_name_known_sends_no_field(
    xdg: Paths, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("oxytrack_agent.enroll.full_user_name", lambda: "")
    assert main(["enroll", "--server", fake_server.url, "--key", KEY, "--no-dialog"]) == 0
    assert "display_name" not in fake_server.enrollments[0]
