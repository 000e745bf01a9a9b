"""Property: whatever batches arrive, in any order, replayed or overlapping, and
whatever the time zones, rollups equal the sum of the stored spans and stored
spans never overlap per device."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span, Window
from oxytrack.conftest import Org
from oxytrack.ingest.models import Batch
from oxytrack.ingest.tests.payloads import post_batch
from oxytrack.org.models import Device
from oxytrack.org.tokens import hash_device_token, new_device_token

ZONES = ["Europe/Paris", "America/Martinique", "Asia/Kolkata", "Pacific/Chatham", "UTC"]
WINDOWS = [("excel.exe", "Budget.xlsx"), ("chrome.exe", "Intranet"), ("teams.exe", "")]


@dataclass
class Piece:
    gap_ms: int
    duration_ms: int
    window: int
    active: bool
    keys: int
    clicks: int
    offset_zone: str


pieces = st.builds(
    Piece,
    gap_ms=st.one_of(st.just(0), st.integers(0, 4 * 3600 * 1000)),
    duration_ms=st.one_of(st.integers(0, 5000), st.integers(0, 20 * 3600 * 1000)),
    window=st.integers(0, len(WINDOWS) - 1),
    active=st.booleans(),
    keys=st.integers(0, 500),
    clicks=st.integers(0, 100),
    offset_zone=st.sampled_from(ZONES),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Per device a timeline cut into batches, then an upload order with replays."""
    devices = []
    for _ in range(3):
        timeline = draw(st.lists(pieces, min_size=1, max_size=12))
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(timeline) - 1)), max_size=4)))
        bounds = [0, *[c for c in cuts if c < len(timeline)], len(timeline)]
        batches = [
            (timeline[a:b], draw(st.sampled_from([*ZONES, None])))
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        devices.append(batches)
    order = [(d, i) for d, batches in enumerate(devices) for i in range(len(batches))]
    order = draw(st.permutations(order))
    # Replays (same id: a duplicate) and re-sends under a new id (an overlap).
    extra = draw(st.lists(st.tuples(st.sampled_from(order), st.booleans()), max_size=4))
    steps = [(d, i, False) for d, i in order]
    for (d, i), new_id in extra:
        steps.insert(draw(st.integers(0, len(steps))), (d, i, new_id))
    return {"devices": devices, "steps": steps, "midnight_shift": draw(st.integers(-3, 3))}


def _payloads(devices: list[Any], anchor: datetime) -> list[list[dict[str, Any]]]:
    result = []
    for batches in devices:
        cursor = anchor
        device_batches = []
        for timeline, zone in batches:
            spans = []
            for p in timeline:
                cursor += timedelta(milliseconds=p.gap_ms)
                app, title = WINDOWS[p.window]
                spans.append(
                    {
                        # The same instant written with various UTC offsets.
                        "start": cursor.astimezone(ZoneInfo(p.offset_zone)).isoformat(),
                        "duration_s": p.duration_ms / 1000,
                        "app": app,
                        "title": title,
                        "active": p.active,
                        "keys": p.keys,
                        "clicks": p.clicks,
                    }
                )
                cursor += timedelta(milliseconds=p.duration_ms)
            payload: dict[str, Any] = {
                "batch_id": str(uuid.uuid4()),
                "sent_at": timezone.now().isoformat(),
                "spans": spans,
            }
            if zone:
                payload["time_zone"] = zone
            device_batches.append(payload)
        result.append(device_batches)
    return result


def _check_invariants() -> None:
    spans = list(Span.objects.all())
    by_device: dict[int, list[Span]] = defaultdict(list)
    totals: dict[tuple[int, Any], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    usage: dict[tuple[int, Any, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    bounds: dict[tuple[Any, ...], list[datetime]] = {}
    for s in spans:
        by_device[s.device_id].append(s)
        end = s.start + timedelta(milliseconds=s.duration_ms)
        for sums in (totals[(s.employee_id, s.day)], usage[(s.employee_id, s.day, s.window_id)]):
            sums[0 if s.active else 1] += s.duration_ms
            sums[2] += s.keys
            sums[3] += s.clicks
        for key in ((s.employee_id, s.day), (s.employee_id, s.day, s.window_id)):
            first, last = bounds.get(key, (s.start, end))
            bounds[key] = [min(first, s.start), max(last, end)]
    stored_totals = {
        (t.employee_id, t.day): [t.active_ms, t.idle_ms, t.keys, t.clicks]
        for t in DailyTotal.objects.all()
    }
    assert stored_totals == dict(totals)
    stored_usage = {
        (u.employee_id, u.day, u.window_id): [u.active_ms, u.idle_ms, u.keys, u.clicks]
        for u in DailyUsage.objects.all()
    }
    assert stored_usage == dict(usage)
    for t in DailyTotal.objects.all():
        assert [t.first_start, t.last_end] == bounds[(t.employee_id, t.day)]
    # The hours of each day add up to its total exactly, whatever the zones.
    hours: dict[tuple[int, Any], list[int]] = defaultdict(lambda: [0, 0])
    for h in HourlyTotal.objects.all():
        assert 0 <= h.hour <= 23
        hours[(h.employee_id, h.day)][0] += h.active_ms
        hours[(h.employee_id, h.day)][1] += h.idle_ms
    assert dict(hours) == {key: sums[:2] for key, sums in totals.items() if sums[0] or sums[1]}
    for u in DailyUsage.objects.all():
        assert [u.first_start, u.last_end] == bounds[(u.employee_id, u.day, u.window_id)]
    # Spans reference their window without a database constraint (models.py).
    assert {s.window_id for s in spans} <= set(Window.objects.values_list("pk", flat=True))
    for device_spans in by_device.values():
        device_spans.sort(key=lambda s: (s.start, s.duration_ms))
        reach = None
        for s in device_spans:
            if reach is not None:
                assert s.start >= reach, "stored spans overlap"
            end = s.start + timedelta(milliseconds=s.duration_ms)
            reach = end if reach is None else max(reach, end)
    # Every piece of a span lies within one local day of its device's zone… at
    # least its day is the local date of its start in one of the zones used.
    for s in spans:
        assert s.day in {s.start.astimezone(ZoneInfo(z)).date() for z in ZONES}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_rollups_always_equal_the_stored_spans(org: Org, scenario: dict[str, Any]) -> None:
    client = Client()
    # Rolled back after each example, so examples do not see each other.
    with transaction.atomic():
        employees = [
            org.employees["nice_facturation"],
            org.employees["nice_facturation"],
            org.employees["fdf_logistique"],
        ]
        tokens = []
        for n, employee in enumerate(employees):
            token = new_device_token()
            Device.objects.create(
                employee=employee, hostname=f"PC-{n}", token_hash=hash_device_token(token)
            )
            tokens.append(token)
        today = timezone.now().astimezone(ZoneInfo("Europe/Paris")).date()
        anchor = datetime.combine(
            today - timedelta(days=20), datetime.min.time(), ZoneInfo("Europe/Paris")
        ) + timedelta(hours=scenario["midnight_shift"])
        payloads = _payloads(scenario["devices"], anchor)
        stored: set[str] = set()
        for device, index, new_id in scenario["steps"]:
            payload = payloads[device][index]
            if new_id:
                payload = {**payload, "batch_id": str(uuid.uuid4())}
            before = (Span.objects.count(), Batch.objects.count())
            response = post_batch(client, tokens[device], json.dumps(payload).encode())
            reply = response.json()
            assert response.status_code in (200, 422), reply
            event("overlap" if response.status_code == 422 else f"duplicate={reply['duplicate']}")
            if response.status_code == 422:
                # Only a re-send under a new id, or a batch that arrives after an
                # overlapping re-send was stored, may overlap.
                assert reply["code"] == "overlap", reply
                assert (Span.objects.count(), Batch.objects.count()) == before
            elif reply["duplicate"]:
                assert payload["batch_id"] in stored
                assert (Span.objects.count(), Batch.objects.count()) == before
            else:
                assert payload["batch_id"] not in stored
                stored.add(payload["batch_id"])
        assert Batch.objects.count() == len(stored)
        sent = sum(Batch.objects.values_list("span_count", flat=True))
        event("split at midnight" if Span.objects.count() > sent else "no split")
        _check_invariants()
        transaction.set_rollback(True)
