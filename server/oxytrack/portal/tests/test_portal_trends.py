"""The employee's own 12-week trends in the portal: the managers' figures for them, by
category and ISO week, with the change of the last 4 weeks against the 4 before."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice
from oxytrack.portal.tests.helpers import open_portal, table_rows, upload, xlsx_rows

pytestmark = pytest.mark.django_db

# Days ago (noon, local), app, title, minutes: starter rules put Excel in "Bureautique",
# Firefox in "Web".
SPANS = [
    (1, "excel.exe", "Budget 2026.xlsx", 30),
    (14, "firefox", "Intranet - Mozilla Firefox", 45),
    (28, "excel.exe", "Budget 2026.xlsx", 60),
]


def _week_index(today: datetime, day: datetime) -> int:
    """Which of the 12 columns (0 oldest, 11 this ISO week) holds `day`."""
    monday = today.date() - timedelta(days=today.weekday())
    its_monday = day.date() - timedelta(days=day.weekday())
    return 11 - (monday - its_monday).days // 7


def test_the_trends_page_shows_the_employees_weeks_by_category(
    enrolled_device: EnrolledDevice,
) -> None:
    tz = timezone.get_current_timezone()
    today = datetime.combine(timezone.localdate(), time(12), tzinfo=tz)
    upload(
        enrolled_device.token,
        [(today - timedelta(days=d), m * 60, app, title, True) for d, app, title, m in SPANS],
    )
    browser = open_portal(enrolled_device.token)
    home = browser.get("/portal/").content.decode()
    assert 'href="/portal/trends/" id="trends-link"' in home
    reply = browser.get("/portal/trends/")
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "Mes tendances sur 12 semaines" in page
    assert 'id="trends-chart"' in page

    # By hand: each span's minutes in its week's column, the others 0 min; the last 4
    # weeks hold 30 min of Excel and 45 of Firefox, the 4 before 60 of Excel.
    weekly = {"Bureautique": ["0 min"] * 12, "Web": ["0 min"] * 12, "Total": ["0 min"] * 12}
    for days, _app, _title, minutes in SPANS:
        index = _week_index(today, today - timedelta(days=days))
        label = "Web" if days == 14 else "Bureautique"
        for row in (label, "Total"):
            weekly[row][index] = f"{minutes} min" if minutes < 60 else "1 h 00 min"
    assert (
        _week_index(today, today - timedelta(days=28))
        < 8
        <= _week_index(today, today - timedelta(days=14))
    )
    rows = {r[0]: r[1:] for r in table_rows(page, "trends")}
    assert rows == {
        "Bureautique": [
            *weekly["Bureautique"],
            "30 min",
            "1 h 00 min",
            "\u221230 min (\u221250,0 %)",
        ],
        "Web": [*weekly["Web"], "45 min", "0 min", "+45 min"],
        "Total": [*weekly["Total"], "1 h 15 min", "1 h 00 min", "+15 min (+25,0 %)"],
    }

    # Its download, the managers' table as it is: hours with decimals.
    sheet = browser.get("/portal/trends/", {"format": "xlsx"})
    assert sheet.status_code == 200
    assert "oxytrack-tendances-" in sheet["Content-Disposition"]
    (header, *body) = xlsx_rows(sheet)
    assert header[0] == "Catégorie" and header[-1] == "Évolution (h)"
    assert [(r[0], r[-3], r[-2], r[-1]) for r in body] == [
        ("Bureautique", 0.5, 1.0, -0.5),
        ("Web", 0.75, 0.0, 0.75),
        ("Total", 1.25, 1.0, 0.25),
    ]
    # Not audited, as no portal page or download is (the link and the login are).
    actions = list(Entry.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions == [Action.PORTAL_LINK, Action.PORTAL_LOGIN]


def test_the_trends_page_in_english(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    page = browser.get("/portal/trends/", headers={"accept-language": "en"}).content.decode()
    assert "My 12-week trends, as my managers see them" in page
    assert "Back to my activity" in page
    assert "No activity in these weeks" in page
