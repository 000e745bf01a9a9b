"""Working hours and the private pause: what falls outside never reaches the queue."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxytrack_agent.cli import main
from oxytrack_agent.config import Paths
from oxytrack_agent.pause import (
    STATUS_WINDOW_PID_FILE,
    WINDOW_PID_FILE,
    PauseRefused,
    PauseWatch,
    pause_path,
    read_pause,
    start_pause,
    stop_pause,
)
from oxytrack_agent.platforms import Window
from oxytrack_agent.platforms.fake import FakeClock, FakePlatform
from oxytrack_agent.policy import Policy, save_policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.sampler import NoCounter, Sampler
from oxytrack_agent.schedule import Schedule, easter, holidays, validate
from oxytrack_agent.status import render_status
from oxytrack_agent.uploader import PolicyHolder

TZ = ZoneInfo("Europe/Paris")
WEEK = {d: [["08:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str, tz: ZoneInfo = TZ) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


# --- the calendar ----------------------------------------------------------------


def test_easter_and_the_movable_french_holidays() -> None:
    assert [easter(y) for y in (2024, 2025, 2026, 2027)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
    ]
    fr = holidays(2026, "fr")
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)} <= fr  # lundi de Pâques…
    assert len(fr) == 11
    assert date(2026, 4, 3) not in fr
    alsace = holidays(2026, "fr-alsace-moselle")
    assert alsace - fr == {date(2026, 4, 3), date(2026, 12, 26)}
    assert holidays(2026, "fr-972") - fr == {date(2026, 5, 22)}


def test_working_hours_per_weekday_in_the_employees_zone() -> None:
    schedule = Schedule.from_json({**WEEK, "holidays": "fr"})
    assert schedule is not None
    assert schedule.is_working(at("2026-12-01T08:00"), TZ)  # a Tuesday
    assert not schedule.is_working(at("2026-12-01T07:59"), TZ)
    assert not schedule.is_working(at("2026-12-01T12:45"), TZ)
    assert not schedule.is_working(at("2026-12-01T18:00"), TZ)
    assert not schedule.is_working(at("2026-12-05T10:00"), TZ)  # Saturday
    assert not schedule.is_working(at("2026-12-25T10:00"), TZ)  # Christmas, a Friday
    # Same instant, Martinique's clock: 05:00 there, before hours.
    martinique = ZoneInfo("America/Martinique")
    assert not schedule.is_working(at("2026-12-01T10:00", TZ), martinique)
    # Friday evening: next start is Monday 08:00.
    start = schedule.next_start(at("2026-12-04T18:30"), TZ)
    assert start is not None and start.isoformat() == "2026-12-07T08:00:00+01:00"


def test_null_schedule_collects_always_and_a_bad_one_collects_nothing() -> None:
    assert Schedule.from_json(None) is None
    broken = Schedule.from_json({"mon": [["18:00", "08:00"]]})
    assert broken is not None and not broken.is_working(at("2026-11-30T10:00"), TZ)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"mon": [["12:00", "09:00"]]}, "ends before it starts"),
        ({"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}, "overlap"),
        ({"mon": [["8h", "12:00"]]}, "not a time"),
        ({"mon": [["08:00", "25:00"]]}, "not a time"),
        ({"funday": []}, "unknown keys"),
        ({"holidays": "us"}, "unknown holiday calendar"),
    ],
)
def test_validate_refuses_with_the_reason(data: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate(data)


# --- the pause file --------------------------------------------------------------


def test_pause_is_refused_when_the_policy_allows_none(tmp_path: Path) -> None:
    path = pause_path(tmp_path)
    with pytest.raises(PauseRefused, match="désactivée"):
        start_pause(path, 10, max_minutes=0, t=at("2026-12-01T10:00"), tz=TZ)
    assert not path.exists()


def test_the_daily_maximum_counts_across_pauses(tmp_path: Path) -> None:
    path = pause_path(tmp_path)
    t = at("2026-12-01T10:00")
    state = start_pause(path, 20, max_minutes=30, t=t, tz=TZ)
    assert state.until == t + 1200
    assert stop_pause(path, max_minutes=30, t=t + 600, tz=TZ)  # 10 min used
    state = start_pause(path, 60, max_minutes=30, t=t + 3600, tz=TZ)
    assert state.until == t + 3600 + 1200  # only the 20 min left
    # The second ends by itself; nothing is left today.
    with pytest.raises(PauseRefused, match="30 minutes"):
        start_pause(path, 5, max_minutes=30, t=t + 3600 + 1300, tz=TZ)
    # Tomorrow the whole maximum again.
    tomorrow = start_pause(path, None, max_minutes=30, t=t + 86400, tz=TZ)
    assert tomorrow.until == t + 86400 + 1800


def test_the_sampler_ends_a_pause_at_a_lowered_maximum(tmp_path: Path) -> None:
    path = pause_path(tmp_path)
    t = at("2026-12-01T10:00")
    start_pause(path, 60, max_minutes=60, t=t, tz=TZ)
    state = read_pause(path)
    assert state.paused_at(t + 1000, 60)
    assert not state.paused_at(t + 1000, 10)  # the policy now allows 10 minutes
    assert not state.paused_at(t + 10, 0)


# --- the sampler -----------------------------------------------------------------


def make(paths: Paths, policy: Policy, wall: float) -> tuple[Sampler, FakePlatform, FakeClock]:
    clock = FakeClock(wall=wall)
    platform = FakePlatform(
        clock, window=Window("LibreOffice Calc", "Planning des tournées.ods", 5)
    )
    sampler = Sampler(
        platform,
        Queue(paths.queue_file),
        PolicyHolder(policy),
        tz=TZ,
        clock=clock,
        counter_factory=NoCounter,
        cut_every=lambda: 3600,
        pause=PauseWatch(pause_path(paths.data_dir)),
    )
    return sampler, platform, clock


def run(sampler: Sampler, platform: FakePlatform, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        platform.input()
        sampler.tick()
        clock.advance(1)


def sealed_spans(paths: Paths) -> list[dict[str, object]]:
    queue = Queue(paths.queue_file)
    queue.seal(time_zone="Europe/Paris")
    bodies = [json.loads(b.body) for b in queue.pending()]
    queue.close()
    return [s for body in bodies for s in body["spans"]]


def test_nothing_is_recorded_outside_working_hours(paths: Paths) -> None:
    policy = Policy.from_json({"schedule": {**WEEK, "holidays": "fr"}})
    sampler, platform, clock = make(paths, policy, at("2026-12-01T12:29:50"))
    run(sampler, platform, clock, 60)  # 12:29:50 → 12:30:50: hours end at 12:30
    assert sampler.gated == "schedule"
    sampler.finish()
    spans = sealed_spans(paths)
    end = at("2026-12-01T12:30")
    assert spans, "the ten seconds before 12:30 are recorded"
    for span in spans:
        start = datetime.fromisoformat(str(span["start"])).timestamp()
        assert start + float(str(span["duration_s"])) <= end
    assert sum(float(str(s["duration_s"])) for s in spans) >= 8


def test_a_schedule_day_off_reads_no_window(paths: Paths) -> None:
    policy = Policy.from_json({"schedule": {**WEEK, "holidays": "fr"}})
    sampler, platform, clock = make(paths, policy, at("2026-12-25T10:00"))

    def boom() -> Window:
        raise AssertionError("the window was read outside working hours")

    platform.focused_window = boom  # type: ignore[method-assign]
    run(sampler, platform, clock, 5)
    sampler.finish()
    assert sealed_spans(paths) == []


def test_a_pause_is_sent_as_not_tracked_time_without_app_or_title(paths: Paths) -> None:
    t = at("2026-12-01T10:00")
    policy = Policy.from_json({"pause_max_minutes_per_day": 1})
    sampler, platform, clock = make(paths, policy, t)
    run(sampler, platform, clock, 10)
    start_pause(pause_path(paths.data_dir), 5, max_minutes=1, t=clock.wall, tz=TZ)
    run(sampler, platform, clock, 90)  # the 1-minute maximum ends the 5-minute pause
    assert sampler.gated is None
    sampler.finish()
    spans = sealed_spans(paths)
    paused = [s for s in spans if s.get("tracked") is False]
    assert len(paused) == 1
    assert paused[0]["app"] == paused[0]["title"] == ""
    assert paused[0]["keys"] == paused[0]["clicks"] == 0 and paused[0]["active"] is False
    assert float(str(paused[0]["duration_s"])) == pytest.approx(60, abs=1)
    tracked = [s for s in spans if "tracked" not in s]
    assert sum(float(str(s["duration_s"])) for s in tracked) == pytest.approx(38, abs=2)
    assert all(s["title"] == "Planning des tournées.ods" for s in tracked)
    # Nothing overlaps: the server would refuse the batch.
    bounds = sorted(
        (
            datetime.fromisoformat(str(s["start"])).timestamp(),
            datetime.fromisoformat(str(s["start"])).timestamp() + float(str(s["duration_s"])),
        )
        for s in spans
    )
    assert all(a[1] <= b[0] + 1e-3 for a, b in itertools.pairwise(bounds))


def test_resume_ends_the_pause_at_once(paths: Paths) -> None:
    t = at("2026-12-01T10:00")
    sampler, platform, clock = make(paths, Policy.from_json({"pause_max_minutes_per_day": 30}), t)
    path = pause_path(paths.data_dir)
    start_pause(path, 10, max_minutes=30, t=clock.wall, tz=TZ)
    run(sampler, platform, clock, 20)
    assert sampler.gated == "pause"
    stop_pause(path, max_minutes=30, t=clock.wall, tz=TZ)
    run(sampler, platform, clock, 10)
    sampler.finish()
    spans = sealed_spans(paths)
    assert [s.get("tracked", True) for s in spans] == [False, True]
    assert float(str(spans[0]["duration_s"])) == pytest.approx(20, abs=1)


# --- the commands and status -----------------------------------------------------


def test_pause_command_refuses_when_the_policy_allows_none(
    xdg: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    save_policy(xdg.policy_file, Policy.from_json({"pause_max_minutes_per_day": 0}))
    assert main(["pause", "10"]) == 5
    assert "désactivée par la politique" in capsys.readouterr().err
    assert not pause_path(xdg.data_dir).exists()


def test_pause_then_resume_and_status_says_so(
    xdg: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    save_policy(xdg.policy_file, Policy.from_json({"pause_max_minutes_per_day": 45}))
    assert main(["pause", "15"]) == 0
    assert "Pause privée jusqu'à" in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Pause privée jusqu'à" in out and "« non suivi »" in out
    assert "45 min par jour au plus" in out
    assert main(["resume"]) == 0
    assert "Suivi repris." in capsys.readouterr().out
    assert main(["resume"]) == 0
    assert "Pas de pause en cours." in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "Pause privée jusqu'à" not in capsys.readouterr().out


def test_pause_minutes_must_be_sensible(xdg: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["pause", "beaucoup"])
    assert "un nombre de minutes" in capsys.readouterr().err


def test_status_outside_hours_says_until_when(xdg: Paths) -> None:
    save_policy(xdg.policy_file, Policy.from_json({"schedule": {**WEEK, "holidays": "fr"}}))
    friday_evening = datetime(2026, 12, 4, 19, 0, tzinfo=TZ)
    text = render_status(xdg, TZ, now=friday_evening)
    assert "Hors des horaires de travail : rien n'est enregistré jusqu'à lundi 08:00." in text
    assert "lundi 08:00-12:30, 13:30-18:00" in text
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    assert "Hors des horaires" not in render_status(xdg, TZ, now=monday)


def test_the_status_window_next_to_the_pause_window_is_never_counted(paths: Paths) -> None:
    sampler, platform, clock = make(paths, Policy.from_json({}), at("2026-12-01T10:00"))
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    (paths.data_dir / WINDOW_PID_FILE).write_text("424242")
    (paths.data_dir / STATUS_WINDOW_PID_FILE).write_text("434343")
    # The tray's "detailed status" window (pausewin.run_text_window writes its pid).
    platform.window = Window("python3", "OxyTrack : état de l'agent", 434343)
    run(sampler, platform, clock, 5)
    platform.window = Window("LibreOffice Calc", "Planning des tournées.ods", 5)
    run(sampler, platform, clock, 5)
    sampler.finish()
    spans = sealed_spans(paths)
    assert all("état de l'agent" not in str(s["title"]) for s in spans), spans
    assert sum(float(str(s["duration_s"])) for s in spans) == pytest.approx(4, abs=1.5)


def test_the_pause_window_is_never_counted(paths: Paths) -> None:
    sampler, platform, clock = make(paths, Policy.from_json({}), at("2026-12-01T10:00"))
    run(sampler, platform, clock, 5)
    # The pause control's process (pausewin.py writes its pid) has the focus.
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    (paths.data_dir / WINDOW_PID_FILE).write_text("424242")
    platform.window = Window("python3", "OxyTrack : pause privée", 424242)
    run(sampler, platform, clock, 5)
    platform.window = Window("LibreOffice Calc", "Planning des tournées.ods", 5)
    run(sampler, platform, clock, 5)
    sampler.finish()
    spans = sealed_spans(paths)
    assert all("pause" not in str(s["title"]) for s in spans)
    assert sum(float(str(s["duration_s"])) for s in spans) == pytest.approx(9, abs=1.5)
