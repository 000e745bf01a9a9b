"""First logon: an employee not yet enrolled is enrolled from the machine settings.

The settings source is injected (on Windows it is HKLM\\Software\\OxyTrack\\Agent,
which the MSI writes); the server is the protocol-speaking fake server.
"""

from __future__ import annotations

import threading

import pytest

from oxytrack_agent.config import Paths, load_config, load_token
from oxytrack_agent.enroll import Choices
from oxytrack_agent.firstlogon import Asked, enroll_at_logon, is_enrolled
from oxytrack_agent.lock import SingleInstance
from oxytrack_agent.machine import MachineSettings, read_machine_settings
from oxytrack_agent.platforms import full_user_name

from .conftest import KEY, TOKEN, FakeServer, Reply, assert_user_only


def registry(**values: str) -> dict[str, str]:
    """What the MSI writes: every value present, empty when its property was not given."""
    return {"Server": "", "EnrollmentKey": "", "Agency": "", "Service": ""} | values


def source(values: dict[str, str]) -> MachineSettings | None:
    return read_machine_settings(values.get)


def no_dialog() -> Asked | None:
    raise AssertionError("no dialog may open")


def no_pick(_paths: Paths, _machine: MachineSettings, _choices: Choices | None) -> bool:
    raise AssertionError("no dialog may open")


def test_machine_settings_need_a_server_and_a_key() -> None:
    assert read_machine_settings(registry().get) is None
    assert read_machine_settings(registry(Server="https://oxy.example").get) is None
    assert read_machine_settings({}.get) is None  # installed without the MSI's values
    settings = read_machine_settings(
        registry(Server=" https://oxy.example ", EnrollmentKey="k", Agency="Nice").get
    )
    assert settings == MachineSettings("https://oxy.example", "k", agency="Nice", service=None)
    assert settings is not None and not settings.silent


def test_without_the_msi_there_are_no_machine_settings() -> None:
    # Linux has no machine source; a Windows PC without the MSI has no HKLM key.
    assert read_machine_settings() is None


def test_a_silent_install_enrolls_the_user_at_first_logon(
    paths: Paths, fake_server: FakeServer
) -> None:
    values = registry(
        Server=fake_server.url, EnrollmentKey=KEY, Agency="Fort-de-France", Service="Facturation"
    )
    assert enroll_at_logon(
        paths,
        has_display=True,
        settings=lambda: source(values),
        ask_server=no_dialog,
        pick=no_pick,
    )
    (sent,) = fake_server.enrollments
    assert (sent["agency"], sent["service"]) == ("Fort-de-France", "Facturation")
    name = full_user_name()
    if name:  # the OS's full name, when the OS knows one
        assert sent["display_name"] == name
    config = load_config(paths)
    assert (config.server, config.agency, config.service) == (
        fake_server.url,
        "Fort-de-France",
        "Facturation",
    )
    assert load_token(paths) == TOKEN
    # User-only: 0600 on POSIX; on Windows one ACL entry (icacls), the user's.
    assert_user_only(paths.token_file)


def test_an_enrolled_user_goes_straight_on(paths: Paths, fake_server: FakeServer) -> None:
    values = registry(Server=fake_server.url, EnrollmentKey=KEY, Agency="Nice", Service="RH")
    assert enroll_at_logon(paths, has_display=False, settings=lambda: source(values))
    assert enroll_at_logon(paths, has_display=False, settings=lambda: source(values))
    assert len(fake_server.enrollments) == 1


def test_no_settings_and_no_desktop_enrolls_nothing(paths: Paths) -> None:
    assert not enroll_at_logon(paths, has_display=False, settings=lambda: source(registry()))
    assert not is_enrolled(paths)


def test_an_unreachable_server_is_retried_with_backoff_reading_the_settings_again(
    paths: Paths, fake_server: FakeServer
) -> None:
    """A laptop that logs on offline, or a key the administrator fixes meanwhile."""
    fake_server.enroll_replies = [
        Reply(503, {"code": "busy", "message": "try later"}),
        Reply(401, {"code": "bad_key", "message": "clé inconnue"}),
    ]
    waits: list[float] = []
    reads: list[int] = []

    def settings() -> MachineSettings | None:
        reads.append(1)
        return source(registry(Server=fake_server.url, EnrollmentKey=KEY, Agency="Nice"))

    # No service given and no desktop: enrolled without one (the server's default).
    assert enroll_at_logon(paths, has_display=False, settings=settings, sleep=waits.append)
    assert waits == [30.0, 60.0]
    assert len(reads) == 3 and len(fake_server.enrollments) == 3
    assert "service" not in fake_server.enrollments[-1]
    assert is_enrolled(paths)


def test_a_conflict_is_not_retried(paths: Paths, fake_server: FakeServer) -> None:
    fake_server.enroll_replies = [Reply(409, {"code": "conflict", "message": "déjà inscrit"})]
    values = registry(Server=fake_server.url, EnrollmentKey=KEY, Agency="Nice", Service="RH")
    waits: list[float] = []
    assert not enroll_at_logon(
        paths, has_display=False, settings=lambda: source(values), sleep=waits.append
    )
    assert waits == [] and not is_enrolled(paths)


def test_attempts_can_be_bounded(paths: Paths) -> None:
    values = registry(Server="https://127.0.0.1:9", EnrollmentKey=KEY, Agency="A", Service="S")
    waits: list[float] = []
    assert not enroll_at_logon(
        paths,
        has_display=False,
        settings=lambda: source(values),
        sleep=waits.append,
        max_attempts=3,
    )
    assert waits == [30.0, 60.0]


def test_without_agency_and_service_the_enroll_dialog_asks_them(
    paths: Paths, fake_server: FakeServer
) -> None:
    values = registry(Server=fake_server.url, EnrollmentKey=KEY)
    picked: list[MachineSettings] = []

    def pick(_paths: Paths, machine: MachineSettings, choices: Choices | None) -> bool:
        picked.append(machine)
        return False  # the employee closed the window

    assert not enroll_at_logon(
        paths, has_display=True, settings=lambda: source(values), ask_server=no_dialog, pick=pick
    )
    assert picked == [MachineSettings(fake_server.url, KEY)]
    assert fake_server.enrollments == []


def test_without_machine_settings_a_desktop_asks_the_server_first(
    paths: Paths, fake_server: FakeServer
) -> None:
    choices = Choices(["Nice"], ["RH"])
    seen: list[tuple[MachineSettings, Choices | None]] = []

    def pick(_paths: Paths, machine: MachineSettings, offered: Choices | None) -> bool:
        seen.append((machine, offered))
        return True

    assert enroll_at_logon(
        paths,
        has_display=True,
        settings=lambda: source(registry()),
        ask_server=lambda: Asked(fake_server.url, KEY, choices),
        pick=pick,
    )
    assert seen == [(MachineSettings(fake_server.url, KEY), choices)]


def test_a_second_session_of_the_same_user_does_not_enroll_twice(
    paths: Paths, fake_server: FakeServer
) -> None:
    """Two logons at once (RDP and console): the one that holds the lock enrolls."""
    values = registry(Server=fake_server.url, EnrollmentKey=KEY, Agency="Nice", Service="RH")
    holder = SingleInstance(paths.data_dir / "enroll.lock")
    try:
        result: list[bool] = []
        other = threading.Thread(
            target=lambda: result.append(
                enroll_at_logon(paths, has_display=False, settings=lambda: source(values))
            )
        )
        other.start()
        other.join(10)
        assert result == [False]
        assert fake_server.enrollments == []
    finally:
        holder.release()


@pytest.mark.parametrize("given", ["", "   "])
def test_an_empty_value_counts_as_not_given(given: str) -> None:
    settings = read_machine_settings(
        registry(Server="https://x.example", EnrollmentKey="k", Agency=given, Service="RH").get
    )
    assert settings is not None and settings.agency is None and not settings.silent
