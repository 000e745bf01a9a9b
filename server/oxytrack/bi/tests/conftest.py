"""Fixtures of the BI API tests: a little activity in three scopes, and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.activity.rollups import add_to_rollups
from oxytrack.activity.tests.factories import RawSpan, store_spans
from oxytrack.bi.actions import do_create_token
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.org.models import Device, Employee

PARIS = ZoneInfo("Europe/Paris")
MARTINIQUE = ZoneInfo("America/Martinique")
DAY1 = date(2026, 3, 2)
DAY2 = date(2026, 3, 3)
BUDGET = "Budget 2026 - Excel"
# Typed by whoever sits at the PC: each must come back byte for byte as JSON text.
HOSTILE = '<script>alert(\'x\')</script> =HYPERLINK("http://x") \u202eevil\u202c 😀 \\ "'
LONG = "é" * 1024


def _at(day: date, hour: int, tz: ZoneInfo = PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def _device(employee: Employee, hostname: str, zone: str) -> Device:
    return Device.objects.create(
        employee=employee, hostname=hostname, os="Windows 11", agent_version="0.1.0", time_zone=zone
    )


@dataclass
class Usage:
    org: Org


@pytest.fixture
def usage(org: Org, enrolled_device: EnrolledDevice) -> Usage:
    """nice_facturation: DAY1 Excel 1 h active + 10 min idle, the hostile title 30 min,
    the long title 1 min; DAY2 Excel 20 min. nice_logistique: DAY1 the hostile title
    15 min. fdf_facturation (Martinique): DAY1 Excel 5 min."""
    spans = store_spans(
        enrolled_device.device,
        [
            RawSpan(_at(DAY1, 9), 3_600_000, "EXCEL.EXE", BUDGET),
            RawSpan(_at(DAY1, 10), 1_800_000, "chrome.exe", HOSTILE),
            RawSpan(_at(DAY1, 10) + timedelta(minutes=30), 600_000, "EXCEL.EXE", BUDGET, False),
            RawSpan(_at(DAY1, 11), 60_000, "notepad.exe", LONG),
            RawSpan(_at(DAY2, 9), 1_200_000, "EXCEL.EXE", BUDGET),
        ],
    )
    logistique = _device(org.employees["nice_logistique"], "PC-NICE-02", "Europe/Paris")
    spans += store_spans(logistique, [RawSpan(_at(DAY1, 14), 900_000, "chrome.exe", HOSTILE)])
    fdf = _device(org.employees["fdf_facturation"], "PC-FDF-01", "America/Martinique")
    spans += store_spans(fdf, [RawSpan(_at(DAY1, 9, MARTINIQUE), 300_000, "EXCEL.EXE", BUDGET)])
    add_to_rollups(spans)
    return Usage(org)


def token_for(user: User) -> str:
    """A fresh token of `user`, in clear (as the page shows it once)."""
    return do_create_token(name="Power BI", expires_at=None, actor=user, ip=None).secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def in_days(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)
