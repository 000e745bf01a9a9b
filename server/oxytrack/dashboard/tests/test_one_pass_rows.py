"""The dashboard's tables write their rows in one pass (web.tables.OnePassRow): each
page's table body is the one django-tables2's per-cell template loop draws, byte
for byte, hostile agent text included."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.conftest import Org
from oxytrack.dashboard.tables import EmployeeTable, TeamTable
from oxytrack.dashboard.tests.conftest import HOSTILE_TITLES, Activity
from oxytrack.org.models import Agency, Device, Employee
from oxytrack.web.activity import TitleTable

pytestmark = pytest.mark.django_db


def _bodies(html: str) -> list[str]:
    return re.findall(r"<tbody>.*?</tbody>", html, flags=re.S)


def _both(
    client: Client, monkeypatch: pytest.MonkeyPatch, url: str, params: dict[str, Any]
) -> tuple[list[str], list[str]]:
    one_pass = client.get(url, params)
    assert one_pass.status_code == 200
    with monkeypatch.context() as m:
        for table in (EmployeeTable, TeamTable, TitleTable):
            m.setattr(table, "one_pass_rows", False)
        loop = client.get(url, params)
    return _bodies(one_pass.content.decode()), _bodies(loop.content.decode())


@pytest.mark.parametrize("page", ["home", "search", "team", "titles", "detail"])
def test_each_table_body_is_the_template_loops(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    superadmin: User,
    org: Org,
    activity: Activity,
    page: str,
) -> None:
    hostile = Agency.objects.create(name=HOSTILE_TITLES[1], time_zone="America/Martinique")
    enrolled = Employee.objects.create(username="dupont", agency=hostile)  # no display name
    Device.objects.create(
        employee=enrolled,
        hostname=HOSTILE_TITLES[0],
        last_ip="10.0.0.9",
        time_zone="America/Martinique",
        last_seen_at=timezone.now() - timedelta(days=3),  # silent: its badge
    )
    Employee.objects.create(username="x", display_name='<b>"Léa" & Co</b>\u202e', agency=hostile)
    client.force_login(superadmin)
    today = timezone.localdate()
    span = {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}
    public_id = activity.device.device.employee.public_id
    url, params = {
        "home": (reverse("dashboard:home"), {}),
        "search": (reverse("dashboard:search"), {"name": "o"}),
        "team": (reverse("dashboard:team"), {**span, "sort": "-active_ms"}),
        "titles": (reverse("dashboard:employee_titles", args=[public_id]), span),
        "detail": (reverse("dashboard:employee", args=[public_id]), span),
    }[page]
    one_pass, loop = _both(client, monkeypatch, url, params)
    assert one_pass and one_pass == loop
    text = "".join(one_pass)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    if page in ("titles", "detail"):
        assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in text
    elif page in ("home", "search"):
        assert "&lt;b&gt;&quot;Léa&quot; &amp; Co&lt;/b&gt;" in text
    else:
        assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
