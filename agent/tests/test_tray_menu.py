"""The tray icon's state and menu texts (pure functions), and its logon entries."""

from __future__ import annotations

import plistlib
import shlex
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent import autostart, i18n
from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths
from oxytrack_agent.lock import SingleInstance
from oxytrack_agent.pause import PauseState, pause_path, read_pause
from oxytrack_agent.policy import Policy, save_policy
from oxytrack_agent.traymenu import (
    Mode,
    TrayState,
    left_text,
    pause_choices,
    portal_text,
    resume_text,
    state_text,
    tray_state,
)

TZ = ZoneInfo("Europe/Paris")
WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# A Tuesday, in working hours.
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=TZ).timestamp()


def policy(**values: object) -> Policy:
    return Policy.from_json({"pause_max_minutes_per_day": 60, **values})


def state_at(
    t: float, pause: PauseState | None = None, *, running: bool = True, **values: object
) -> TrayState:
    return tray_state(policy(**values), pause or PauseState(), running=running, t=t, tz=TZ)


def labels(state: TrayState) -> list[tuple[str, int | None, bool]]:
    return [(c.label, c.minutes, c.enabled) for c in pause_choices(state)]


def test_tracking_offers_15_30_and_60_minutes() -> None:
    state = state_at(TUESDAY_10)
    assert state.mode is Mode.TRACKING
    assert state_text(state) == "Suivi actif"
    assert labels(state) == [
        ("Pause 15 min", 15, True),
        ("Pause 30 min", 30, True),
        ("Pause 60 min", 60, True),
    ]
    assert left_text(state) == "Pause restante aujourd'hui : 60 min sur 60"


def test_a_running_pause_shows_its_end_and_what_is_left() -> None:
    pause = PauseState(day="2026-12-01", used_s=600, since=TUESDAY_10 - 300, until=TUESDAY_10 + 900)
    state = state_at(TUESDAY_10, pause)
    assert state.mode is Mode.PAUSED
    assert state_text(state) == "En pause jusqu'à 10:15 : rien n'est enregistré"
    # 60 - 10 used before - 5 of this pause = 45 left: 60 becomes "the rest of today".
    assert labels(state) == [
        ("Pause 15 min", 15, True),
        ("Pause 30 min", 30, True),
        ("Pause 45 min (tout ce qui reste aujourd'hui)", 45, True),
    ]


def test_what_is_left_caps_the_choices_without_repeating_one() -> None:
    used = PauseState(day="2026-12-01", used_s=45 * 60)
    assert labels(state_at(TUESDAY_10, used)) == [("Pause 15 min", 15, True)]
    used = PauseState(day="2026-12-01", used_s=50 * 60)
    assert labels(state_at(TUESDAY_10, used)) == [
        ("Pause 10 min (tout ce qui reste aujourd'hui)", 10, True)
    ]


def test_yesterdays_pause_leaves_today_whole() -> None:
    used = PauseState(day="2026-11-30", used_s=60 * 60)
    assert state_at(TUESDAY_10, used).left_minutes == 60


def test_the_days_allowance_used_up_and_pausing_off_say_so() -> None:
    used = PauseState(day="2026-12-01", used_s=60 * 60)
    assert labels(state_at(TUESDAY_10, used)) == [
        ("Pause : les 60 min du jour sont utilisées", None, False)
    ]
    off = state_at(TUESDAY_10, pause_max_minutes_per_day=0)
    assert labels(off) == [("Pause désactivée par la politique de l'entreprise", None, False)]
    assert left_text(off) == ""


def test_outside_working_hours_and_a_stopped_agent() -> None:
    evening = datetime(2026, 12, 1, 19, 30, tzinfo=TZ).timestamp()
    state = state_at(evening, schedule={**WEEK, "holidays": None})
    assert state.mode is Mode.OFF_HOURS
    assert state_text(state) == "Hors horaires de travail : rien n'est enregistré"
    assert state_at(TUESDAY_10, schedule={**WEEK, "holidays": None}).mode is Mode.TRACKING
    # A stopped agent measures nothing, whatever the pause file says.
    pause = PauseState(day="2026-12-01", since=TUESDAY_10 - 60, until=TUESDAY_10 + 60)
    stopped = state_at(TUESDAY_10, pause, running=False)
    assert stopped.mode is Mode.STOPPED
    assert state_text(stopped) == "Agent arrêté : rien n'est mesuré"


def test_the_menu_speaks_english_in_an_english_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "en_GB")
    i18n.reset()
    pause = PauseState(day="2026-12-01", since=TUESDAY_10 - 35 * 60, until=TUESDAY_10 + 25 * 60)
    state = state_at(TUESDAY_10, pause)
    assert state_text(state) == "Paused until 10:25: nothing is recorded"
    assert [c.label for c in pause_choices(state)] == [
        "Pause 15 min",
        "Pause 25 min (all that is left today)",
    ]
    assert left_text(state) == "Pause left today: 25 min of 60"
    assert resume_text() == "Resume tracking"
    assert portal_text() == "My activity (what my managers see)"
    assert state_text(state_at(TUESDAY_10, running=False)) == "Agent stopped: nothing is measured"
    off = state_at(TUESDAY_10, pause_max_minutes_per_day=0)
    assert [c.label for c in pause_choices(off)] == ["Pausing is disabled by the company's policy"]


# --- logon entries ------------------------------------------------------------------


def test_install_autostart_adds_the_pause_control_and_uninstall_removes_both(
    xdg: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install-autostart"]) == 0
    assert autostart.tray_installed()
    entry = autostart.tray_autostart_path()
    if sys.platform == "win32":
        # A Run value of its own next to the agent's (conftest's `xdg` restores the key).
        assert entry is None
        assert tray_run_value().endswith("-m oxytrack_agent tray")
    else:
        assert entry is not None and entry.name == "oxytrack-agent-tray.desktop"
        exec_line = next(
            line for line in entry.read_text().splitlines() if line.startswith("Exec=")
        ).removeprefix("Exec=")
        assert shlex.split(exec_line)[-3:] == ["-m", "oxytrack_agent", "tray"]
    main(["status"])
    assert "agent oui, contrôle de pause oui" in capsys.readouterr().out
    assert main(["uninstall-autostart"]) == 0
    assert not autostart.tray_installed() and not autostart.installed()
    assert entry is None or not entry.exists()
    main(["status"])
    assert "agent non, contrôle de pause non" in capsys.readouterr().out


def tray_run_value() -> str:
    """The pause control's value in this user's Run key (Windows)."""
    if sys.platform != "win32":
        raise AssertionError("Windows only")
    import winreg

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, autostart.RUN_KEY) as key:
        return str(winreg.QueryValueEx(key, autostart.TRAY_RUN_VALUE)[0])


def test_the_windows_and_macos_entries_of_the_pause_control() -> None:
    command = [r"C:\Program Files\OxyTrack\python.exe", "-m", "oxytrack_agent", "tray"]
    assert autostart.tray_run_command(command) == (
        '"C:\\Program Files\\OxyTrack\\pythonw.exe" -m oxytrack_agent tray'
    )
    assert autostart.tray_run_command().endswith("-m oxytrack_agent tray")
    assert autostart.TRAY_RUN_VALUE != autostart.RUN_VALUE
    plist = plistlib.loads(
        autostart.launch_agent_plist(
            ["/usr/bin/python3", "-m", "oxytrack_agent", "tray"],
            label=autostart.TRAY_LAUNCH_AGENT_LABEL,
            process_type="Interactive",
        )
    )
    assert plist["Label"] == "fr.oxytrack.agent.tray" != autostart.LAUNCH_AGENT_LABEL
    assert plist["ProcessType"] == "Interactive" and plist["RunAtLoad"] is True


def test_the_tray_icon_is_drawn_per_state() -> None:
    from oxytrack_agent.tray import draw_icon

    images = {mode: draw_icon(mode) for mode in Mode}
    assert {image.size for image in images.values()} == {(64, 64)}
    centre = {mode: image.getpixel((32, 32)) for mode, image in images.items()}
    # Paused: the disc's colour between the two bars, not the white dot of tracking.
    assert centre[Mode.TRACKING] == (255, 255, 255, 255)
    assert centre[Mode.PAUSED][:3] == (230, 150, 20)
    assert images[Mode.PAUSED].getpixel((23, 32)) == (255, 255, 255, 255)


# --- the menu as Windows and macOS show it (pystray's platform-free backend) ---------


@pytest.fixture
def tray(xdg: Paths, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Tray on pystray's dummy backend: the real menu objects, no native icon."""
    for name in [m for m in sys.modules if m == "pystray" or m.startswith("pystray.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    from oxytrack_agent.tray import Tray

    save_policy(xdg.policy_file, policy())
    made = Tray(xdg, TZ)
    # The dummy backend has no native menu to refresh.
    monkeypatch.setattr(made.icon, "_update_menu", lambda: None)
    yield made
    made.stop_event.set()


def menu_rows(tray: Any) -> list[tuple[str, bool, bool]]:
    return [
        (item.text, item.enabled, item.default)
        for item in tray.icon.menu.items
        if item is not tray.icon.menu.SEPARATOR
    ]


def test_the_full_menu_pauses_resumes_and_follows_the_state(tray: Any, xdg: Paths) -> None:
    # No agent holds the lock in this test: "stopped", pausing still possible.
    assert menu_rows(tray) == [
        ("Agent arrêté : rien n'est mesuré", False, False),
        ("Pause restante aujourd'hui : 60 min sur 60", False, False),
        ("Pause 15 min", True, False),
        ("Pause 30 min", True, False),
        ("Pause 60 min", True, False),
        ("Reprendre le suivi", False, False),
        ("Mon activité (ce que voient mes responsables)", True, False),
        ("État détaillé de l'agent", True, False),
        ("Petite fenêtre de pause", True, True),
    ]
    lock = SingleInstance(xdg.lock_file)  # the agent runs
    try:
        tray.refresh()
        assert menu_rows(tray)[0] == ("Suivi actif", False, False)
        pause_30 = next(i for i in tray.icon.menu.items if i.text == "Pause 30 min")
        before = time.time()
        pause_30(tray.icon)
        state = read_pause(pause_path(xdg.data_dir))
        assert state.since is not None and state.until is not None
        assert state.since >= before and state.until - state.since == pytest.approx(1800)
        rows = menu_rows(tray)
        assert rows[0][0].startswith("En pause jusqu'à ")
        assert tray.icon.title == rows[0][0]
        resume = next(i for i in tray.icon.menu.items if i.text == "Reprendre le suivi")
        assert resume.enabled
        resume(tray.icon)
        assert read_pause(pause_path(xdg.data_dir)).until is None
        assert menu_rows(tray)[0] == ("Suivi actif", False, False)
        assert menu_rows(tray)[1][0].startswith("Pause restante aujourd'hui : ")
    finally:
        lock.release()
