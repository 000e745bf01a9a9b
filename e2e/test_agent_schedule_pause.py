"""Working hours and the private pause with the real agent on X11 and the real server.

A window focused only during a pause, or only after working hours ended,
never reaches the server: not its title, not its time, not its keys. The
pause arrives as "not tracked" time (no app, no title), apart from idle.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .conftest import Agent, LiveServer, XSession, stop_process
from .test_agent_edges import FAKETIME_LIB

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.x11, pytest.mark.slow, pytest.mark.once]

PARIS = ZoneInfo("Europe/Paris")  # the agents' TZ (conftest)
WORK = ("Oxyworka", "Tournées de la semaine")
PRIVATE = ("Oxyprivb", "Rendez-vous médical perso")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# From the policy's start to the end of working hours: enough for the agent to enroll,
# start (12 s seen on a loaded machine) and record a while.
BOUNDARY_LEAD_S = 30


def enroll(agent: Agent, server: LiveServer) -> None:
    result = agent.cli(
        "enroll", "--server", server.url, "--key", server.key,
        "--agency", "Nice", "--service", "Facturation",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def stored(server: LiveServer, device_id: str, since: float) -> list[dict[str, Any]]:
    """The device's spans from `since` on, with their `tracked` flag."""
    return list(
        server.shell(
            "import json\n"
            "from datetime import UTC, datetime\n"
            "from oxytrack.activity.models import Span\n"
            "rows = Span.objects.select_related('window').filter("
            f"device__public_id='{device_id}', start__gte=datetime.fromtimestamp({since}, tz=UTC))"
            ".order_by('start')\n"
            "print(json.dumps([{'start': s.start.timestamp(), 'duration_s': s.duration_ms / 1000,"
            " 'app': s.window.app, 'title': s.window.title, 'active': s.active,"
            " 'keys': s.keys, 'tracked': s.tracked} for s in rows]))"
        )
    )


def set_global_policy(server: LiveServer, **values: Any) -> None:
    server.shell(
        "import json\n"
        "from oxytrack.policy.models import PolicyOverride\n"
        "PolicyOverride.objects.update_or_create(agency=None, service=None, "
        f"defaults=json.loads({json.dumps(json.dumps(values))}))\n"
        "print('{}')"
    )


def clear_global_policy(server: LiveServer) -> None:
    server.shell(
        "from oxytrack.policy.models import PolicyOverride\n"
        "PolicyOverride.objects.filter(agency=None, service=None).delete()\n"
        "print('{}')"
    )


def type_for(x_session: XSession, seconds: float) -> int:
    """Type one key every 0.25 s into the focused window; how many."""
    n = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        x_session.xdotool("key", "k")
        n += 1
        time.sleep(0.25)
    return n


def test_a_window_seen_only_during_a_pause_never_reaches_the_server(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    work = x_session.open_window(*WORK)
    private = x_session.open_window(*PRIVATE)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)  # the default policy: 60 min of pause a day
    x_session.activate(work)
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "60")
    type_for(x_session, 3)
    result = agent.cli("pause", "10")
    assert result.returncode == 0, result.stderr
    assert "Pause privée jusqu'à" in result.stdout
    paused_at = time.time()
    time.sleep(1.5)  # the agent reads the control file each second
    assert "Pause privée jusqu'à" in agent.cli("status").stdout
    x_session.activate(private)
    type_for(x_session, 4)
    x_session.activate(work)
    resumed_at = time.time()
    assert "Suivi repris." in agent.cli("resume").stdout
    type_for(x_session, 3)
    code, _ = agent.stop()
    assert code == 0, agent.log_text()

    spans = stored(oxytrack_server, agent.device_id, started)
    assert not [s for s in spans if PRIVATE[1] in s["title"]], spans
    pauses = [s for s in spans if not s["tracked"]]
    # Sent piece by piece at each upload (every 2 s here), back to back.
    assert pauses, spans
    for a, b in itertools.pairwise(pauses):
        assert abs(a["start"] + a["duration_s"] - b["start"]) < 0.002, pauses
    for pause in pauses:
        assert (pause["app"], pause["title"], pause["keys"], pause["active"]) == ("", "", 0, False)
    begin, end = pauses[0]["start"], pauses[-1]["start"] + pauses[-1]["duration_s"]
    assert paused_at - 1.5 <= begin and end <= resumed_at + 1.5
    assert end - begin >= 4
    # Tracked time never inside the pause.
    for s in spans:
        if s["tracked"]:
            assert s["start"] + s["duration_s"] <= begin + 0.002 or s["start"] >= end - 0.002, s
    assert any(s["title"] == WORK[1] and s["tracked"] for s in spans)
    day = datetime.fromtimestamp(begin, tz=PARIS).date().isoformat()
    totals = oxytrack_server.shell(
        "import json\n"
        "from oxytrack.activity.models import DailyTotal, DailyUsage\n"
        "from oxytrack.org.models import Device\n"
        f"e = Device.objects.get(public_id='{agent.device_id}').employee_id\n"
        f"t = DailyTotal.objects.get(employee_id=e, day='{day}')\n"
        f"rows = DailyUsage.objects.filter(employee_id=e, day='{day}')\n"
        "print(json.dumps({'untracked': t.untracked_ms, 'windows': [list(w) for w in"
        " rows.values_list('window__app', 'window__title')]}))"
    )
    assert totals["untracked"] >= 4000
    # Other tests of the session may have shown this employee an untitled
    # window; the pause's own marker is the window with no app and no title.
    assert ["", ""] not in totals["windows"]
    assert PRIVATE[1] not in [title for _app, title in totals["windows"]]


@pytest.mark.skipif(
    not FAKETIME_LIB.exists(), reason="Debian package faketime (scripts/test.sh installs it)"
)
def test_nothing_leaves_the_pc_after_working_hours_end(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any, tmp_path: Path
) -> None:
    # Working hours end on a whole minute. Rather than wait 20 to 80 s for the next
    # one, the agent's wall clock runs `behind` seconds late (libfaketime; its
    # monotonic clock stays true) so that its minute ends BOUNDARY_LEAD_S from now.
    # Times below are the agent's: what it reads, sends and the server stores.
    behind = int((time.time() + BOUNDARY_LEAD_S) % 60)

    def agent_time() -> float:
        return time.time() - behind

    now = datetime.fromtimestamp(agent_time(), PARIS)
    boundary = (now + timedelta(seconds=BOUNDARY_LEAD_S)).replace(second=0, microsecond=0)
    assert (boundary - now).total_seconds() >= BOUNDARY_LEAD_S - 1
    start = (now - timedelta(hours=1)).strftime("%H:%M") if now.hour >= 1 else "00:00"
    end = "24:00" if boundary.date() != now.date() else boundary.strftime("%H:%M")
    today = DAYS[now.weekday()]
    set_global_policy(oxytrack_server, schedule={today: [[start, end]], "holidays": None})
    try:
        work = x_session.open_window(*WORK)
        private = x_session.open_window(*PRIVATE)
        agent: Agent = agent_factory()
        # A login of its own, so an employee and a device of its own: the late clock
        # puts this run's spans among the last minute's of the session's other tests.
        agent.env["LOGNAME"] = agent.env["USER"] = "horaires"
        enroll(agent, oxytrack_server)  # the policy comes with the enrollment
        late = tmp_path / "faketime"
        late.write_text(f"-{behind}s\n")
        agent.env.update(
            {
                "LD_PRELOAD": str(FAKETIME_LIB),
                "FAKETIME_TIMESTAMP_FILE": str(late),
                "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            }
        )
        x_session.activate(work)
        started = agent_time()
        agent.start("--upload-interval", "2", "--idle-threshold", "60")
        while agent_time() < boundary.timestamp() + 1:
            x_session.xdotool("key", "k")
            time.sleep(0.25)
        x_session.activate(private)
        type_for(x_session, 4)
        status = agent.cli("status").stdout
        assert "Hors des horaires de travail : rien n'est enregistré jusqu'à" in status, status
        code, _ = agent.stop()
        assert code == 0, agent.log_text()
    finally:
        clear_global_policy(oxytrack_server)
    spans = stored(oxytrack_server, agent.device_id, started)
    assert spans, "time before the end of working hours is recorded"
    assert all(s["title"] == WORK[1] for s in spans), spans
    assert all(s["start"] + s["duration_s"] <= boundary.timestamp() + 0.002 for s in spans), spans
    assert sum(s["keys"] for s in spans) > 0


def test_the_pause_window_pauses_with_a_click_and_is_never_counted(
    x_session: XSession, oxytrack_server: LiveServer, agent_factory: Any
) -> None:
    work = x_session.open_window(*WORK)
    agent: Agent = agent_factory()
    enroll(agent, oxytrack_server)
    x_session.activate(work)
    started = time.time()
    agent.start("--upload-interval", "2", "--idle-threshold", "60")
    control = subprocess.Popen(
        [str(Path(sys.executable).parent / "oxytrack-agent"), "pause-window"], env=agent.env
    )
    try:
        window = x_session.find_window("OxytrackPause")
        x_session.activate(window)  # the employee brings it up
        type_for(x_session, 3)  # its time is no one's work
        # Its "Pause 15 min" button, bottom left.
        height = int(
            x_session.xdotool("getwindowgeometry", "--shell", window).split("HEIGHT=")[1].split()[0]
        )
        x_session.xdotool("mousemove", "--window", window, "40", str(height - 18), "click", "1")
        pause_file = agent.home / "data" / "oxytrack-agent" / "pause.json"
        deadline = time.monotonic() + 5
        while not pause_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(pause_file.read_text())["until"] is not None
        assert "Pause privée jusqu'à" in agent.cli("status").stdout
        x_session.activate(work)
        type_for(x_session, 3)
        assert "Suivi repris." in agent.cli("resume").stdout
        type_for(x_session, 3)
    finally:
        stop_process(control)
    code, _ = agent.stop()
    assert code == 0, agent.log_text()
    spans = stored(oxytrack_server, agent.device_id, started)
    assert all(s["title"] in (WORK[1], "") for s in spans), spans
    assert any(not s["tracked"] for s in spans)
