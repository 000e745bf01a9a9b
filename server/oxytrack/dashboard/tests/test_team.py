"""The team overview: one row per (agency, service) of my scopes, over a date range."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pytest_django import DjangoAssertNumQueries

from oxytrack.accounts.models import User
from oxytrack.activity import past_totals
from oxytrack.activity.models import DailyTotal
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.ingest.tests.payloads import batch, post_batch, span
from oxytrack.org.models import Agency, Device, Employee, Service

H = 3_600_000
MIN = 60_000


def _total(employee: Employee, day: date, active_ms: int, idle_ms: int) -> DailyTotal:
    start = datetime.combine(day, time(8), tzinfo=timezone.get_current_timezone())
    return DailyTotal.objects.create(
        employee=employee,
        day=day,
        active_ms=active_ms,
        idle_ms=idle_ms,
        first_start=start,
        last_end=start + timedelta(milliseconds=active_ms + idle_ms),
    )


@pytest.fixture
def totals(org: Org) -> datetime:
    """Known daily totals; returns the last contact of the Nice/Facturation machines."""
    today = timezone.localdate()
    e = org.employees
    second = Employee.objects.create(
        username="nice_facturation_2", agency=org.nice, service=org.facturation
    )
    _total(e["nice_facturation"], today, 2 * H, 30 * MIN)
    _total(e["nice_facturation"], today - timedelta(days=1), 1 * H, 0)
    # Outside the default range (last 7 days).
    _total(e["nice_facturation"], today - timedelta(days=10), 10 * H, 0)
    _total(second, today, 1 * H, 0)
    # Screen on but nobody working: screen time, not an active employee.
    _total(e["nice_logistique"], today, 0, 20 * MIN)
    _total(e["fdf_facturation"], today - timedelta(days=2), 45 * MIN, 15 * MIN)
    seen = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    Device.objects.create(
        employee=e["nice_facturation"], hostname="PC-A", last_seen_at=seen - timedelta(days=1)
    )
    Device.objects.create(employee=e["nice_facturation"], hostname="PC-B", last_seen_at=seen)
    Device.objects.create(employee=second, hostname="PC-C")
    return seen


def _rows(body: str) -> list[list[str]]:
    """The table's body rows as lists of cell texts (tags stripped)."""
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, flags=re.S)
    ]


def _by_group(body: str) -> dict[tuple[str, str], list[str]]:
    # The last cell is the link to the group's overview (analytics/tests/test_team_pages.py).
    return {(row[0], row[1]): row[2:-1] for row in _rows(body)}


def _seen(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def test_alice_sees_her_group_with_the_right_numbers(
    client: Client, alice: User, totals: datetime
) -> None:
    client.force_login(alice)
    response = client.get(reverse("dashboard:team"))
    assert response.status_code == 200
    # 2 employees, both active; 2 h + 1 h + 1 h active, + 30 min idle;
    # 4 h over 3 worked (employee, day) pairs; the day 10 days ago is out of range.
    assert _by_group(response.content.decode()) == {
        ("Nice", "Facturation"): [
            "2",
            "2",
            "4 h 00 min",
            "4 h 30 min",
            "1 h 20 min",
            _seen(totals),
        ]
    }


def test_bob_sees_every_service_of_nice(client: Client, bob: User, totals: datetime) -> None:
    client.force_login(bob)
    groups = _by_group(client.get(reverse("dashboard:team")).content.decode())
    assert set(groups) == {("Nice", "Facturation"), ("Nice", "Logistique"), ("Nice", "—")}
    assert groups[("Nice", "Logistique")] == ["1", "0", "0 min", "20 min", "0 min", "—"]
    assert groups[("Nice", "—")] == ["1", "0", "0 min", "0 min", "0 min", "—"]


def test_carol_sees_only_fort_de_france(client: Client, carol: User, totals: datetime) -> None:
    client.force_login(carol)
    body = client.get(reverse("dashboard:team")).content.decode()
    assert _by_group(body) == {
        ("Fort-de-France", "Facturation"): ["1", "1", "45 min", "1 h 00 min", "45 min", "—"]
    }
    assert "Nice" not in body


def test_superadmin_sees_every_group(client: Client, superadmin: User, totals: datetime) -> None:
    client.force_login(superadmin)
    groups = _by_group(client.get(reverse("dashboard:team")).content.decode())
    assert set(groups) == {
        (agency, service)
        for agency in ("Nice", "Marseille", "Fort-de-France")
        for service in ("Facturation", "Logistique")
    } | {("Nice", "—"), ("—", "—")}
    assert groups[("Nice", "Facturation")][:3] == ["2", "2", "4 h 00 min"]


def test_the_range_changes_the_sums(client: Client, alice: User, totals: datetime) -> None:
    client.force_login(alice)
    today = timezone.localdate()
    body = client.get(
        reverse("dashboard:team"),
        {"start": (today - timedelta(days=10)).isoformat(), "end": today.isoformat()},
    ).content.decode()
    # + 10 h on a fourth worked day: 14 h / 4.
    assert _by_group(body)[("Nice", "Facturation")][2:5] == [
        "14 h 00 min",
        "14 h 30 min",
        "3 h 30 min",
    ]
    only_today = client.get(
        reverse("dashboard:team"), {"start": today.isoformat(), "end": today.isoformat()}
    ).content.decode()
    assert _by_group(only_today)[("Nice", "Facturation")][2:5] == [
        "3 h 00 min",
        "3 h 30 min",
        "1 h 30 min",
    ]


def test_a_row_leads_to_the_search_of_its_group(
    client: Client, bob: User, org: Org, totals: datetime
) -> None:
    client.force_login(bob)
    body = client.get(reverse("dashboard:team")).content.decode()
    href = f"{reverse('dashboard:search')}?agency={org.nice.pk}&amp;service={org.logistique.pk}"
    assert f'href="{href}"' in body
    found = client.get(html.unescape(href)).content.decode()
    assert "Nice Logistique" in found
    assert "Nice Facturation" not in found


def test_columns_sort_and_the_filter_keeps_the_range(
    client: Client, superadmin: User, totals: datetime
) -> None:
    client.force_login(superadmin)
    today = timezone.localdate().isoformat()
    body = client.get(
        reverse("dashboard:team"), {"start": today, "end": today, "sort": "-screen_ms"}
    ).content.decode()
    rows = _rows(body)
    assert rows[0][:2] == ["Nice", "Facturation"]
    assert rows[1][:2] == ["Nice", "Logistique"]
    # The htmx table request (live filter) answers only the table, for the same range.
    table = client.get(
        reverse("dashboard:team"),
        {"start": today, "end": today, "q": "logis"},
        headers={"HX-Request": "true", "HX-Target": "team-body"},
    ).content.decode()
    assert "<html" not in table
    assert {tuple(r[:2]) for r in _rows(table)} == {
        ("Nice", "Logistique"),
        ("Marseille", "Logistique"),
        ("Fort-de-France", "Logistique"),
    }


def test_the_query_count_does_not_grow_with_the_groups(
    client: Client,
    superadmin: User,
    totals: datetime,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    today = timezone.localdate()
    services = [Service.objects.create(name=f"Service {i}") for i in range(5)]
    for a in range(8):
        agency = Agency.objects.create(name=f"Agence {a}", time_zone="Europe/Paris")
        for service in services:
            employee = Employee.objects.create(
                username=f"u{a}-{service.pk}", agency=agency, service=service
            )
            _total(employee, today, 10 * MIN, MIN)
    client.force_login(superadmin)
    # Session, user and the second factor's device (3), the groups and their
    # members (2), the past totals' token, their aggregate on a cache miss and the
    # recent days' (3), the session's idle-timeout refresh (savepoint, update,
    # release: 3).
    with django_assert_max_num_queries(11):
        response = client.get(reverse("dashboard:team"), {"per_page": 100})
    assert len(_rows(response.content.decode())) == 8 + 40


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-10", "2026-03-01", "La date de fin est antérieure à la date de début."),
        ("2024-01-01", "2026-01-01", "La période ne peut pas dépasser 366 jours."),
        ("pas-une-date", "2026-01-01", "Saisissez une date valide."),
    ],
)
def test_a_bad_range_shows_a_message(
    client: Client, alice: User, totals: datetime, start: str, end: str, message: str
) -> None:
    client.force_login(alice)
    response = client.get(reverse("dashboard:team"), {"start": start, "end": end})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert _rows(body) == [["Aucun élément trouvé"]]


def test_the_nav_leads_to_the_page(client: Client, alice: User) -> None:
    client.force_login(alice)
    body = client.get(reverse("dashboard:home")).content.decode()
    assert f'href="{reverse("dashboard:team")}">Équipes</a>' in body


def test_logged_out_goes_to_login(client: Client) -> None:
    response = client.get(reverse("dashboard:team"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_post_is_refused(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.post(reverse("dashboard:team")).status_code == 405


def test_the_page_speaks_english(client: Client, alice: User, totals: datetime) -> None:
    client.force_login(alice)
    body = client.get(reverse("dashboard:team"), headers={"Accept-Language": "en"}).content.decode()
    assert f'href="{reverse("dashboard:team")}">Teams</a>' in body
    assert "Average active time per person per day" in body
    assert "Active in the period" in body


# --- The past days' cache (activity/past_totals.py) ----------------------------------


def _facturation(client: Client, **params: str) -> list[str]:
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    body = client.get(reverse("dashboard:team"), {**query, **params}).content.decode()
    return _by_group(body).get(("Nice", "Facturation"), [])


def test_a_late_upload_to_a_past_day_shows_at_the_next_sort(
    client: Client, alice: User, enrolled_device: EnrolledDevice
) -> None:
    client.force_login(alice)
    paris = ZoneInfo("Europe/Paris")
    # Cached: the 30 days' overview summed once.
    assert _facturation(client)[2] == "0 min"
    # The agent was offline: its spans of 10 days ago arrive now.
    past = timezone.now().astimezone(paris).date() - timedelta(days=10)
    spans = [span(datetime(past.year, past.month, past.day, 9, tzinfo=paris), 3600)]
    assert post_batch(client, enrolled_device.token, batch(spans)).status_code == 200
    assert _facturation(client, sort="-active_ms")[2] == "1 h 00 min"
    # And one more hour on that day (an update of its DailyTotal row, not an insert).
    spans = [span(datetime(past.year, past.month, past.day, 11, tzinfo=paris), 3600)]
    assert post_batch(client, enrolled_device.token, batch(spans)).status_code == 200
    assert _facturation(client, page="1")[2] == "2 h 00 min"
    # Today's upload shows too (recent days are summed on every request).
    now = timezone.now().replace(microsecond=0)
    assert (
        post_batch(
            client, enrolled_device.token, batch([span(now - timedelta(minutes=30), 600)])
        ).status_code
        == 200
    )
    assert _facturation(client)[2] == "2 h 10 min"


def test_a_transfer_and_an_erasure_show_at_the_next_sort(
    client: Client, bob: User, org: Org
) -> None:
    client.force_login(bob)
    employee = org.employees["nice_facturation"]
    past = timezone.localdate() - timedelta(days=10)
    _total(employee, past, 2 * H, 0)
    assert _facturation(client)[:3] == ["1", "1", "2 h 00 min"]
    # Transferred to Logistique: their history follows them.
    employee.service = org.logistique
    employee.save()
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    groups = _by_group(
        client.get(reverse("dashboard:team"), {**query, "sort": "service"}).content.decode()
    )
    assert ("Nice", "Facturation") not in groups
    assert groups[("Nice", "Logistique")][:3] == ["2", "1", "2 h 00 min"]
    # Their past day erased (a purge): gone at the next request.
    DailyTotal.objects.filter(employee=employee, day=past).delete()
    groups = _by_group(client.get(reverse("dashboard:team"), query).content.decode())
    assert groups[("Nice", "Logistique")][:3] == ["2", "0", "0 min"]


def test_the_past_days_are_summed_once_and_a_write_to_one_changes_the_token(
    org: Org,
) -> None:
    employee = org.employees["nice_facturation"]
    today = timezone.localdate()
    start = today - timedelta(days=40)
    visible = Employee.objects.all()
    _total(employee, today - timedelta(days=20), 1 * H, 0)
    token = past_totals.past_token()
    with CaptureQueriesContext(connection) as first:
        assert past_totals.range_sums(start, today, visible)[employee.pk].active_ms == 1 * H
    with CaptureQueriesContext(connection) as second:
        assert past_totals.range_sums(start, today, visible)[employee.pk].active_ms == 1 * H
    # Token, past aggregate, recent days; then token and recent days only.
    assert (len(first), len(second)) == (3, 2)
    # Today's rows (the ingest's usual writes) leave the token alone...
    _total(employee, today, 1 * H, 0)
    assert past_totals.past_token() == token
    # ... a past day's update changes it.
    DailyTotal.objects.filter(employee=employee, day=today - timedelta(days=20)).update(
        active_ms=3 * H
    )
    assert past_totals.past_token() != token
    assert past_totals.range_sums(start, today, visible)[employee.pk].active_ms == 4 * H
