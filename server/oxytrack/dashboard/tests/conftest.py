"""Activity fixtures for the web-app tests: two days of spans with hostile titles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.conftest import EnrolledDevice

# Titles typed by whoever sits at the PC: each must show as text everywhere.
HOSTILE_TITLES = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "L'apostrophe \\ et l\"antislash 😀",
]


@dataclass
class Activity:
    device: EnrolledDevice
    today_start: datetime


@pytest.fixture
def activity(enrolled_device: EnrolledDevice) -> Activity:
    """Spans for nice_facturation today and yesterday (local time), rollups included."""
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    enrolled_device.device.time_zone = str(tz)
    enrolled_device.device.last_seen_at = timezone.now()
    enrolled_device.device.last_ip = "10.1.2.3"
    enrolled_device.device.local_ips = ["192.168.7.42"]
    enrolled_device.device.save()
    raw: list[RawSpan] = []
    for offset in (1, 0):
        start = datetime.combine(today - timedelta(days=offset), time(8), tzinfo=tz)
        raw += [
            RawSpan(start, 3_600_000, "EXCEL.EXE", "Budget 2026 - Excel", True, 100, 20),
            RawSpan(start + timedelta(hours=1), 1_800_000, "chrome.exe", HOSTILE_TITLES[0], True),
            RawSpan(start + timedelta(hours=1.5), 600_000, "chrome.exe", HOSTILE_TITLES[1], True),
            RawSpan(start + timedelta(hours=1.75), 900_000, "notepad.exe", HOSTILE_TITLES[2], True),
            RawSpan(
                start + timedelta(hours=2.5), 1_200_000, "EXCEL.EXE", "Budget 2026 - Excel", False
            ),
        ]
    spans = store_spans(enrolled_device.device, raw)
    add_to_rollups(spans)
    return Activity(enrolled_device, datetime.combine(today, time(8), tzinfo=tz))
