"""Every read of one employee's activity writes exactly one audit entry.

The URLs are taken from the dashboard's URLconf (every route under
employees/<uuid:public_id>/), so a new one is covered without editing this.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import Org
from oxytrack.dashboard import urls as dashboard_urls
from oxytrack.dashboard.tests.conftest import Activity

PREFIX = "employees/<uuid:public_id>/"
EMPLOYEE_URLS = sorted(
    f"{dashboard_urls.app_name}:{p.name}"
    for p in dashboard_urls.urlpatterns
    if isinstance(p, URLPattern) and str(p.pattern).startswith(PREFIX)
)
# What the pages send: a plain load, the range form's swap of the lower part,
# the titles table's sort/page/filter swap.
HEADERS = {
    "plain": {},
    "htmx-activity": {"HX-Request": "true", "HX-Target": "activity"},
    "htmx-titles": {"HX-Request": "true", "HX-Target": "titles-body"},
}
READS = (Action.VIEW_EMPLOYEE, Action.EXPORT)


def test_the_urlconf_has_the_four_employee_urls() -> None:
    # Guards the generator itself: an empty list would make the tests below vacuous.
    assert EMPLOYEE_URLS == [
        "dashboard:employee",
        "dashboard:employee_activity",
        "dashboard:employee_export",
        "dashboard:employee_titles",
    ]


@pytest.mark.parametrize("headers", HEADERS.values(), ids=HEADERS.keys())
@pytest.mark.parametrize("name", EMPLOYEE_URLS)
def test_each_read_writes_one_entry(
    client: Client,
    alice: User,
    org: Org,
    activity: Activity,
    name: str,
    headers: dict[str, str],
) -> None:
    employee = org.employees["nice_facturation"]
    client.force_login(alice)
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse(name, args=[employee.public_id]),
        {"start": today, "end": today, "sort": "-active", "q": "budget"},
        headers=headers,
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 200
    # The activity really went out (not an error fragment).
    assert "Budget 2026 - Excel" in b"".join(response).decode("utf-8-sig")
    entry = Entry.objects.get(action__in=READS)
    assert entry.action == (Action.EXPORT if name.endswith("_export") else Action.VIEW_EMPLOYEE)
    assert entry.actor == alice
    assert entry.target_id == str(employee.public_id)
    assert entry.ip == "10.9.8.7"
    assert entry.detail["start"] == today and entry.detail["end"] == today


@pytest.mark.parametrize("name", EMPLOYEE_URLS)
def test_a_refused_range_shows_nothing_and_writes_nothing(
    client: Client, alice: User, org: Org, activity: Activity, name: str
) -> None:
    client.force_login(alice)
    url = reverse(name, args=[org.employees["nice_facturation"].public_id])
    response = client.get(url, {"start": "2026-03-10", "end": "2026-03-01"})
    assert "Budget 2026" not in response.content.decode("utf-8-sig")
    assert not Entry.objects.filter(action__in=READS).exists()


@pytest.mark.parametrize("name", EMPLOYEE_URLS)
def test_an_employee_out_of_scope_writes_nothing(
    client: Client, alice: User, org: Org, name: str
) -> None:
    client.force_login(alice)
    response = client.get(reverse(name, args=[org.employees["fdf_facturation"].public_id]))
    assert response.status_code == 404
    assert not Entry.objects.filter(action__in=READS).exists()
