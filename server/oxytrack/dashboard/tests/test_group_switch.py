"""The detail page's switch (`?group=`): the pie and the table by title, application
(friendly name, raw names on hover) or category, kept across every link; and the
portal showing the same.

The `activity` fixture, per day: Excel 1 h active + 20 min idle, Chrome 30 + 10 min
(two hostile titles), Notepad 15 min.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.dashboard.tests.conftest import HOSTILE_TITLES, Activity
from oxytrack.portal.tests.helpers import open_portal, table_rows


def _today() -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today}


def _chart(page: str) -> dict[str, Any]:
    match = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page, re.S)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _pie(page: str) -> list[list[Any]]:
    return list(_chart(page)["pie"])


def _detail(client: Client, org: Org, **query: str) -> str:
    url = reverse("dashboard:employee", args=[org.employees["nice_facturation"].public_id])
    response = client.get(url, {**_today(), **query})
    assert response.status_code == 200
    return response.content.decode()


def test_by_application_sums_under_friendly_names_with_raw_names_on_hover(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    page = _detail(client, org, group="app")
    # Application, executables, first opened, active, idle, share.
    rows = [[r[0], r[1], r[3], r[4], r[5]] for r in table_rows(page, "titles")]
    assert rows == [
        ["Excel", "EXCEL.EXE", "1 h 00 min", "20 min", "52,2 %"],
        ["Google Chrome", "chrome.exe", "40 min", "0 min", "34,8 %"],
        ["Bloc-notes", "notepad.exe", "15 min", "0 min", "13,0 %"],
    ]
    assert '<span title="EXCEL.EXE"><bdi>Excel</bdi></span>' in page
    assert _pie(page) == [
        ["Excel", 3_600_000, "", "EXCEL.EXE", False],
        ["Google Chrome", 2_400_000, "", "chrome.exe", False],
        ["Bloc-notes", 900_000, "", "notepad.exe", False],
    ]
    assert 'data-group="app" aria-current="true"' in page


def test_by_category_the_pie_takes_the_categories_colours(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    page = _detail(client, org, group="category")
    rows = [[r[0], r[2], r[3]] for r in table_rows(page, "titles")]
    # Excel and Notepad are office work; Chrome is the web (the starter set).
    assert rows == [["Bureautique", "1 h 15 min", "20 min"], ["Web", "40 min", "0 min"]]
    assert _pie(page) == [
        ["Bureautique", 4_500_000, "#ff7f0e", "", False],
        ["Web", 2_400_000, "#17becf", "", False],
    ]
    assert 'fill="#ff7f0e"' in page
    # A view like any other: audited.
    entry = Entry.objects.filter(action=Action.VIEW_EMPLOYEE).latest("at")
    assert entry.target_id == str(org.employees["nice_facturation"].public_id)


def test_by_category_the_day_bars_and_the_timeline_switch_too(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    today = timezone.localdate().isoformat()
    data = _chart(_detail(client, org, group="category", start=yesterday, end=today))
    # Each day's active time stacked by category (idle time still in "days").
    assert data["day_categories"] == [
        ["Bureautique", "#ff7f0e", [4_500_000, 4_500_000]],
        ["Web", "#17becf", [2_400_000, 2_400_000]],
    ]
    assert [d[1:] for d in data["days"]] == [[6_900_000, 1_200_000]] * 2
    # Today's timeline: [start, end, app, title, active, row, colour, order].
    rows = [s[2:7] for s in data["timeline"]]
    assert [r[3:] for r in rows] == [
        ["Bureautique", "#ff7f0e"],
        ["Web", "#17becf"],
        ["Web", "#17becf"],
        ["Bureautique", "#ff7f0e"],  # Notepad
        ["Bureautique", "#ff7f0e"],  # idle in Excel
    ]
    # The raw app and the hostile titles are still there for the hover text, as data.
    assert [r[:3] for r in rows][1] == ["chrome.exe", HOSTILE_TITLES[0], True]
    web, office = data["timeline"][1][7], data["timeline"][0][7]
    assert office < web


def test_by_application_the_timeline_rows_are_friendly_names(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    data = _chart(_detail(client, org, group="app"))
    assert data["day_categories"] == []
    assert [(s[2], s[5], s[6]) for s in data["timeline"]][:2] == [
        ("EXCEL.EXE", "Excel", ""),
        ("chrome.exe", "Google Chrome", ""),
    ]
    titles = _chart(_detail(client, org))
    assert [s[5] for s in titles["timeline"]][:2] == ["EXCEL.EXE", "chrome.exe"]


@pytest.mark.parametrize(
    "hostile", ["", "apps", "<script>alert(1)</script>", "category\x00", "x" * 5000, "TITLE"]
)
def test_any_other_value_shows_titles(
    client: Client, org: Org, alice: User, activity: Activity, hostile: str
) -> None:
    client.force_login(alice)
    page = _detail(client, org, group=hostile)
    assert 'data-group="title" aria-current="true"' in page
    assert [r[0] for r in table_rows(page, "titles")][:1] == ["EXCEL.EXE"]
    assert "<script>alert(1)</script>" not in page


def test_the_grouping_follows_every_link_and_request(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    employee = org.employees["nice_facturation"]
    page = _detail(client, org, group="category")
    assert '<input type="hidden" name="group" value="category">' in page
    # Shortcuts and the table's own state (its hidden inputs, sort links) keep it.
    shortcuts = re.findall(r'class="shortcuts">(.*?)</p>', page, re.S)[0]
    assert shortcuts.count("group=category") == 8  # href and hx-get of each of 4
    assert '<input type="hidden" name="group" value="category">' in page.split('id="titles"')[1]
    # The table alone (sort, page, filter) keeps grouping by category.
    titles = client.get(
        reverse("dashboard:employee_titles", args=[employee.public_id]),
        {**_today(), "group": "category", "sort": "-active", "q": "web"},
    ).content.decode()
    assert [r[0] for r in table_rows(titles, "titles")] == ["Web"]
    assert "group=category" in re.findall(r'<a href="([^"]+)"', titles)[0]
    # The htmx swap pushes an address that shows the same grouping again.
    swap = client.get(
        reverse("dashboard:employee_activity", args=[employee.public_id]),
        {**_today(), "group": "app"},
        headers={"HX-Request": "true"},
    )
    assert "group=app" in swap["HX-Push-Url"]
    # The switch's links keep the range.
    detail = reverse("dashboard:employee", args=[employee.public_id])
    day = _today()["start"]
    assert f'href="{detail}?start={day}&amp;end={day}&amp;group=title"' in page


def test_the_export_follows_the_grouping(
    client: Client, org: Org, alice: User, activity: Activity
) -> None:
    client.force_login(alice)
    employee = org.employees["nice_facturation"]
    response = client.get(
        reverse("dashboard:employee_export", args=[employee.public_id]),
        {**_today(), "group": "category", "format": "csv"},
    )
    assert response.status_code == 200
    text = b"".join(response).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(",")[0] == "Catégorie"
    assert [line.split(",")[0] for line in lines[1:]] == ["Bureautique", "Web"]


def test_the_portal_switches_the_same_way(activity: Activity) -> None:
    browser = open_portal(activity.device.token)
    page = browser.get(reverse("portal:home"), {**_today(), "group": "app"}).content.decode()
    assert [r[0] for r in table_rows(page, "titles")] == ["Excel", "Google Chrome", "Bloc-notes"]
    part = browser.get(reverse("portal:titles"), {**_today(), "group": "category"})
    assert [r[0] for r in table_rows(part.content.decode(), "titles")] == ["Bureautique", "Web"]
