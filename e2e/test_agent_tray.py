"""The pause control at logon, as an employee meets it on X11: a tray icon, else a small window.

A real tray host (trayer, an XEmbed system tray) embeds the icon; the control
is started by the Exec line of the XDG autostart entry `install-autostart`
wrote; a click on the icon opens the small pause window, whose button pauses
the real agent, and the real server stores that time as "not tracked". The
icon's tooltip follows the state (agent stopped, tracking, paused). Without a
tray host, the small window shows up instead.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from oxytrack_agent.config import Paths
from oxytrack_agent.lock import SingleInstance
from oxytrack_agent.tray import tray_host_present

from .conftest import Agent, LiveServer, XSession, stop_process
from .test_agent_schedule_pause import WORK, enroll, stored, type_for

# `once`: what this checks happens in the agent and the desktop; the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]


def start_trayer(x_session: XSession) -> subprocess.Popen[bytes]:
    """trayer, a panel with a system tray, once it owns the tray selection."""
    proc = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120"],
        env=x_session.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not tray_host_present(x_session.display):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise AssertionError("trayer did not start")
        time.sleep(0.1)
    return proc


def stop_trayer(x_session: XSession, proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc)
    deadline = time.monotonic() + 10
    while tray_host_present(x_session.display):
        assert time.monotonic() < deadline, "trayer still owns the tray"
        time.sleep(0.1)


@pytest.fixture
def tray_host(x_session: XSession) -> Iterator[subprocess.Popen[bytes]]:
    """trayer for the test's length."""
    proc = start_trayer(x_session)
    try:
        yield proc
    finally:
        stop_trayer(x_session, proc)


def icon_window(x_session: XSession, timeout: float = 20) -> tuple[int, list[tuple[str, ...]]]:
    """The tray icon's X window and the WM_CLASS of each of its ancestors (waits for it)."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(x_session.display)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = subprocess.run(
                ["xdotool", "search", "--class", "^oxytrack$"],
                env=x_session.env,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.split()
            for wid in found:
                window = d.create_resource_object("window", int(wid))
                ancestors = []
                node = window.query_tree().parent
                while node and node.id != d.screen().root.id:
                    ancestors.append(tuple(node.get_wm_class() or ()))
                    node = node.query_tree().parent
                if any("trayer" in cls for cls in ancestors):
                    return int(wid), ancestors
            time.sleep(0.2)
    finally:
        d.close()
    raise AssertionError("no tray icon embedded in trayer")


def destroy_window(x_session: XSession, window: int) -> None:
    """Destroy another client's window, as a tray host tearing down its sockets does."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(x_session.display)
    try:
        d.create_resource_object("window", window).destroy()
        d.sync()
    finally:
        d.close()


def tooltip(x_session: XSession, window: int) -> str:
    """The icon's title (pystray writes it as the window's WM_NAME); "" while it changes."""
    from Xlib import display as xdisplay
    from Xlib.error import BadValue

    d = xdisplay.Display(x_session.display)
    try:
        return str(d.create_resource_object("window", window).get_wm_name() or "")
    except BadValue:
        # python-xlib reads a long property in two requests: rewritten shorter in
        # between (the tray changing its title), the second asks past its end.
        return ""
    finally:
        d.close()


def wait_for_tooltip(
    x_session: XSession, window: int, start: str, timeout: float = 5, every: float = 0.1
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = tooltip(x_session, window)
        if text.startswith(start) or time.monotonic() > deadline:
            return text
        time.sleep(every)


def autostart_command(agent: Agent) -> list[str]:
    """The pause control's command, from the entry `install-autostart` wrote."""
    result = agent.cli("install-autostart")
    assert result.returncode == 0, result.stderr
    entry = agent.home / "config" / "autostart" / "oxytrack-agent-tray.desktop"
    (exec_line,) = [
        line for line in entry.read_text(encoding="utf-8").splitlines() if line.startswith("Exec=")
    ]
    status = agent.cli("status").stdout
    assert "agent oui, contrôle de pause oui" in status, status
    return shlex.split(exec_line.removeprefix("Exec="))


def test_the_tray_icon_embeds_and_a_click_on_it_pauses_the_real_agent(
    x_session: XSession,
    tray_host: subprocess.Popen[bytes],
    oxytrack_server: LiveServer,
    agent_factory: Any,
) -> None:
    work = x_session.open_window(*WORK)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    tray = subprocess.Popen(autostart_command(agent), env=agent.env)
    try:
        icon, ancestors = icon_window(x_session)
        assert ("panel", "trayer") in ancestors, ancestors
        assert wait_for_tooltip(x_session, icon, "Agent arrêté").startswith("Agent arrêté")
        x_session.activate(work)
        started = time.time()
        agent.start("--upload-interval", "2", "--idle-threshold", "60")
        assert wait_for_tooltip(x_session, icon, "Suivi actif") == "Suivi actif"
        type_for(x_session, 2)
        # xorg's tray has no menu: a click opens the small pause window.
        x_session.xdotool("mousemove", "--window", str(icon), "5", "5", "click", "1")
        window = x_session.find_window("OxytrackPause")
        height = int(
            x_session.xdotool("getwindowgeometry", "--shell", window).split("HEIGHT=")[1].split()[0]
        )
        x_session.xdotool("mousemove", "--window", window, "40", str(height - 18), "click", "1")
        pause_file = agent.home / "data" / "oxytrack-agent" / "pause.json"
        deadline = time.monotonic() + 5
        while not pause_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(pause_file.read_text())["until"] is not None
        paused = wait_for_tooltip(x_session, icon, "En pause jusqu'à")
        assert paused.startswith("En pause jusqu'à") and paused.endswith("rien n'est enregistré")
        x_session.activate(work)
        type_for(x_session, 3)
        assert "Suivi repris." in agent.cli("resume").stdout
        assert wait_for_tooltip(x_session, icon, "Suivi actif") == "Suivi actif"
        type_for(x_session, 2)
        code, _ = agent.stop()
        assert code == 0, agent.log_text()
        assert wait_for_tooltip(x_session, icon, "Agent arrêté").startswith("Agent arrêté")
        device_id = agent.device_id
        # Uninstalling the agent takes the icon away too (its logon entry is gone already).
        assert agent.cli("uninstall").returncode == 0
        assert tray.wait(10) == 0
    finally:
        stop_process(tray)
    spans = stored(oxytrack_server, device_id, started)
    pauses = [s for s in spans if not s["tracked"]]
    assert pauses, spans
    assert sum(s["duration_s"] for s in pauses) >= 2.5, pauses
    for pause in pauses:
        assert (pause["app"], pause["title"], pause["keys"]) == ("", "", 0)
    assert any(s["title"] == WORK[1] and s["tracked"] for s in spans)
    assert all(s["title"] in (WORK[1], "") for s in spans), spans


@pytest.fixture
def busy_cpus() -> Iterator[None]:
    """Every CPU kept busy (two spinning processes per CPU), as on a PC compiling or scanning."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(2 * (os.cpu_count() or 1))
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            stop_process(spinner)


def test_on_a_busy_pc_the_tooltip_follows_every_change_of_the_agent(
    x_session: XSession,
    tray_host: subprocess.Popen[bytes],
    agent_factory: Any,
    busy_cpus: None,
) -> None:
    # pystray makes each change in its own thread; python-xlib then sent the new
    # title only if another flush came later. With the CPUs busy about one change
    # in three stayed unseen until the next one (20 s and more).
    agent: Agent = agent_factory()
    tray = subprocess.Popen(autostart_command(agent), env=agent.env)
    lock_file = Paths(
        agent.home / "config" / "oxytrack-agent", agent.home / "data" / "oxytrack-agent"
    ).lock_file
    try:
        icon, _ancestors = icon_window(x_session)
        assert wait_for_tooltip(x_session, icon, "Agent arrêté").startswith("Agent arrêté")
        for _ in range(12):
            # The test holds the agent's single-instance lock as `run` does: the
            # tray reads "running" from it, and changes twice per round. Polled
            # every 20 ms, half a second apart: changes back to back showed the
            # fault in 1 run in 3, these in every run (before the fix).
            lock = SingleInstance(lock_file)
            try:
                assert wait_for_tooltip(x_session, icon, "Suivi actif", every=0.02) == "Suivi actif"
                time.sleep(0.5)
            finally:
                lock.release()
            assert wait_for_tooltip(x_session, icon, "Agent arrêté", every=0.02).startswith(
                "Agent arrêté"
            )
            time.sleep(0.5)
        assert tray.poll() is None
    finally:
        stop_process(tray)


def visible_pause_windows(x_session: XSession) -> list[str]:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--class", "^OxytrackPause$"],
        env=x_session.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return found.stdout.split()


def test_without_a_tray_host_the_small_window_appears_until_a_panel_starts(
    x_session: XSession, agent_factory: Any
) -> None:
    assert not tray_host_present(x_session.display)
    agent: Agent = agent_factory()
    tray = subprocess.Popen([*autostart_command(agent), "--wait-for-tray", "1"], env=agent.env)
    panel = None
    try:
        window = x_session.find_window("OxytrackPause")
        assert "pause" in x_session.xdotool("getwindowname", window).lower()
        assert tray.poll() is None
        # The panel starts late (a slow session): the icon takes over, the window goes.
        panel = start_trayer(x_session)
        icon, _ancestors = icon_window(x_session)
        deadline = time.monotonic() + 5
        while visible_pause_windows(x_session) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert visible_pause_windows(x_session) == []
        # The panel restarts: the icon docks in the new one.
        stop_trayer(x_session, panel)
        panel = start_trayer(x_session)
        second, ancestors = icon_window(x_session)
        assert ("panel", "trayer") in ancestors
        assert second == icon
        # A host that destroys the windows it holds (some panels do on a reload):
        # a new icon comes back.
        destroy_window(x_session, second)
        third, ancestors = icon_window(x_session)
        assert third != second and ("panel", "trayer") in ancestors
        assert tray.poll() is None
        tray.terminate()  # a logoff
        assert tray.wait(5) == 0
    finally:
        stop_process(tray)
        if panel is not None:
            stop_trayer(x_session, panel)
