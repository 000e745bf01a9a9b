"""The person's full name: read from the OS, cleaned, and sent at every enrollment."""

from __future__ import annotations

import os
import sys
from types import ModuleType

import pytest

from oxytrack_agent import platforms
from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths
from oxytrack_agent.enroll import MAX_DISPLAY_NAME, clean_display_name, machine_identity
from oxytrack_agent.platforms import macos, windows

from .conftest import KEY, FakeServer

#: The name readers of the other OSes (on Windows, only macOS's is foreign).
FOREIGN_READERS = [
    reader for os_name, reader in (("win32", windows), ("darwin", macos)) if sys.platform != os_name
]


@pytest.mark.parametrize("reader", FOREIGN_READERS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_the_readers_of_other_oses_say_nothing_here(reader: ModuleType) -> None:
    # Never a crash nor a wrong-OS import: they answer ''.
    assert reader.full_user_name() == ""


if sys.platform == "win32":

    def test_on_windows_the_name_and_domain_are_the_accounts() -> None:
        # GetUserNameExW(NameDisplay), '' for a local account that has none;
        # the domain (the PC's name outside a domain) goes with the login.
        expected = windows.full_user_name()
        assert platforms.full_user_name() == expected
        identity = machine_identity()
        assert identity.get("display_name", "") == expected
        assert identity["domain"] == os.environ["USERDOMAIN"]


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
