"""The heatmap (activity/heatmap.py): average active minutes per weekday and local hour."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oxytrack.accounts.models import User
from oxytrack.activity.heatmap import (
    employee_heatmap,
    heatmap_chart,
    team_heatmap,
    weekday_occurrences,
)
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.ingest.actions import do_store_batch
from oxytrack.ingest.schemas import BatchIn
from oxytrack.ingest.tests.payloads import batch, span
from oxytrack.org.models import Device, Employee
from oxytrack.org.tokens import hash_device_token, new_device_token

PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
# Two whole weeks, Monday first; Sunday 25 October 2026 is Paris's 25-hour day.
START, END = date(2026, 10, 19), date(2026, 11, 1)
MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def _device(employee: Employee, zone: str) -> Device:
    return Device.objects.create(
        employee=employee,
        hostname=f"PC-{employee.username}",
        time_zone=zone,
        token_hash=hash_device_token(new_device_token()),
    )


def _store(device: Device, start: datetime, minutes: int, *, active: bool = True) -> None:
    payload = batch([span(start, minutes * 60, active=active)], time_zone=device.time_zone)
    now = start.astimezone(UTC) + timedelta(days=1)
    do_store_batch(device, BatchIn.model_validate_json(json.dumps(payload)), ip=None, now=now)


@pytest.fixture
def team(org: Org) -> tuple[Employee, Employee]:
    """A Paris and a Martinique employee, uploading through the ingest."""
    paris = org.employees["nice_facturation"]
    fdf = org.employees["fdf_facturation"]
    in_paris, in_fdf = _device(paris, "Europe/Paris"), _device(fdf, "America/Martinique")
    _store(in_paris, datetime(2026, 10, 19, 9, 0, tzinfo=PARIS), 60)  # Monday 9 h: 60 min
    _store(in_paris, datetime(2026, 10, 26, 9, 30, tzinfo=PARIS), 30)  # Monday 9 h: 30 min
    # The 25-hour Sunday, from 00:30 for 3 h: 0 h 30 min, 1 h 60, 2 h 60 + 30.
    _store(in_paris, datetime(2026, 10, 25, 0, 30, tzinfo=PARIS), 180)
    # Martinique: 9 h on its own clock (15 h in Paris), and an idle half hour.
    _store(in_fdf, datetime(2026, 10, 19, 9, 0, tzinfo=MARTINIQUE), 60)
    _store(in_fdf, datetime(2026, 10, 20, 14, 0, tzinfo=MARTINIQUE), 30, active=False)
    return paris, fdf


def _cells(minutes: tuple[tuple[float, ...], ...]) -> dict[tuple[int, int], float]:
    return {(d, h): v for d, row in enumerate(minutes) for h, v in enumerate(row) if v}


def test_weekday_occurrences_count_each_day_of_the_range() -> None:
    assert weekday_occurrences(START, END) == (2, 2, 2, 2, 2, 2, 2)
    # Wednesday 21 to Monday 26: no Tuesday.
    assert weekday_occurrences(date(2026, 10, 21), date(2026, 10, 26)) == (1, 0, 1, 1, 1, 1, 1)


def test_one_employee_per_occurrence_of_the_weekday(team: tuple[Employee, Employee]) -> None:
    paris, fdf = team
    heatmap = employee_heatmap(paris, START, END)
    assert heatmap.employees == 1
    # Two Mondays in the range: (60 + 30) / 2; the repeated hour holds both halves.
    assert _cells(heatmap.minutes) == {
        (MONDAY, 9): 45.0,
        (SUNDAY, 0): 15.0,
        (SUNDAY, 1): 30.0,
        (SUNDAY, 2): 45.0,
    }
    # The overseas employee at 9 h on their own clock; idle time is not active.
    assert _cells(employee_heatmap(fdf, START, END).minutes) == {(MONDAY, 9): 30.0}


def test_a_team_averages_per_employee_with_activity(
    team: tuple[Employee, Employee], org: Org
) -> None:
    paris, fdf = team
    silent = org.employees["nice_logistique"]  # no activity: not counted
    heatmap = team_heatmap([paris.pk, fdf.pk, silent.pk], START, END)
    assert heatmap.employees == 2
    # (90 + 60) min over 2 Mondays times 2 employees.
    assert _cells(heatmap.minutes) == {
        (MONDAY, 9): 37.5,
        (SUNDAY, 0): 7.5,
        (SUNDAY, 1): 15.0,
        (SUNDAY, 2): 22.5,
    }
    # One week only: the second Monday's 30 minutes are outside.
    week = team_heatmap(
        Employee.objects.filter(pk__in=[paris.pk, fdf.pk]).values("pk"),
        START,
        START + timedelta(days=6),
    )
    assert week.minutes[MONDAY][9] == 60.0
    assert week.minutes[TUESDAY][14] == 0.0


def test_no_activity_is_an_empty_heatmap(org: Org) -> None:
    heatmap = employee_heatmap(org.employees["nice_facturation"], START, END)
    assert heatmap.empty
    assert _cells(heatmap.minutes) == {}


def test_the_chart_is_in_french_monday_first(team: tuple[Employee, Employee]) -> None:
    with translation.override("fr"):
        chart = heatmap_chart(team_heatmap([p.pk for p in team], START, END))
    assert chart["y"][0] == "lundi" and chart["y"][6] == "dimanche"
    assert chart["x"][9] == "9 h"
    assert chart["z"][MONDAY][9] == 37.5
    assert chart["hover"][MONDAY][9] == "lundi, 9 h-10 h : 37,5 min actives en moyenne"
    with translation.override("en"):
        chart = heatmap_chart(team_heatmap([p.pk for p in team], START, END))
    assert chart["y"][0] == "Monday"
    assert chart["hover"][MONDAY][9] == "Monday, 9:00-10:00: 37.5 active minutes on average"


def test_the_detail_page_shows_it_in_its_audited_view(
    client: Client, alice: User, team: tuple[Employee, Employee]
) -> None:
    paris, _ = team
    client.force_login(alice)
    response = client.get(
        reverse("dashboard:employee", args=[paris.public_id]),
        {"start": START.isoformat(), "end": END.isoformat()},
    )
    assert response.status_code == 200
    body = response.content.decode()
    found = re.search(r'<script id="heatmap-data" type="application/json">(.*?)</script>', body)
    assert found, "no heatmap data on the page"
    assert json.loads(found.group(1))["z"][MONDAY][9] == 45.0
    assert 'id="heatmap-chart"' in body and "oxytrack/heatmap.js" in body
    entry = Entry.objects.get(action=Action.VIEW_EMPLOYEE)
    assert entry.detail == {"start": START.isoformat(), "end": END.isoformat()}
