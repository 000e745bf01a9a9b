"""The access reason (OXYTRACK_ACCESS_REASON): off by default; on, the detail page asks
why before showing anything, the reason lands in every audit entry of that browsing,
and the fragments and the CSV refuse until one is given."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.audit.reason import REASON_LIFETIME
from oxytrack.conftest import Org
from oxytrack.dashboard.tests.conftest import Activity

TITLE = "Budget 2026 - Excel"
READS = (Action.VIEW_EMPLOYEE, Action.EXPORT)


def _urls(org: Org) -> dict[str, str]:
    public_id = org.employees["nice_facturation"].public_id
    return {
        name: reverse(f"dashboard:{name}", args=[public_id])
        for name in ("employee", "employee_activity", "employee_titles", "employee_export")
    }


@pytest.fixture
def reason_on(settings: Any) -> None:
    settings.OXYTRACK_ACCESS_REASON = True


@pytest.fixture
def logged(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def _text(response: Any) -> str:
    return b"".join(response).decode("utf-8-sig")


def test_off_by_default_no_form(logged: Client, org: Org, activity: Activity) -> None:
    page = logged.get(_urls(org)["employee"])
    assert page.status_code == 200
    assert 'id="reason-form"' not in page.text and TITLE in page.text
    assert "reason" not in Entry.objects.get(action=Action.VIEW_EMPLOYEE).detail
    assert logged.post(_urls(org)["employee"], {"reason": "x"}).status_code == 405


@pytest.mark.usefixtures("reason_on")
def test_on_the_page_asks_then_shows_and_audits_the_reason(
    logged: Client, org: Org, activity: Activity
) -> None:
    today = timezone.localdate().isoformat()
    url = _urls(org)["employee"] + f"?start={today}&end={today}"
    page = logged.get(url)
    assert page.status_code == 200
    assert 'id="reason-form"' in page.text and TITLE not in page.text
    assert not Entry.objects.filter(action__in=READS).exists()

    response = logged.post(url, {"reason": "  Demande du salarié (ticket 42)  "})
    assert response.status_code == 302 and response["Location"] == url
    page = logged.get(url)
    assert TITLE in page.text
    entry = Entry.objects.get(action=Action.VIEW_EMPLOYEE)
    assert entry.detail == {
        "start": today,
        "end": today,
        "reason": "Demande du salarié (ticket 42)",
    }

    # Paging, the range's fragment and the CSV do not ask again, and carry it.
    query = {"start": today, "end": today}
    htmx = {"HX-Request": "true"}
    for name in ("employee_activity", "employee_titles", "employee_export"):
        response = logged.get(_urls(org)[name], query, headers=htmx)
        assert response.status_code == 200, name
        assert TITLE in _text(response)
    reasons = {e.detail.get("reason") for e in Entry.objects.filter(action__in=READS)}
    assert reasons == {"Demande du salarié (ticket 42)"}
    assert Entry.objects.filter(action=Action.EXPORT).count() == 1


@pytest.mark.usefixtures("reason_on")
@pytest.mark.parametrize("name", ["employee_activity", "employee_titles", "employee_export"])
def test_on_fragments_and_export_refuse_without_a_reason(
    logged: Client, org: Org, activity: Activity, name: str
) -> None:
    response = logged.get(_urls(org)[name], headers={"HX-Request": "true"})
    assert response.status_code == 403
    text = _text(response)
    assert "Indiquez d'abord le motif de la consultation" in text and TITLE not in text
    assert not Entry.objects.filter(action__in=READS).exists()


@pytest.mark.usefixtures("reason_on")
@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Indiquez le motif de la consultation."),
        ("   ", "Indiquez le motif de la consultation."),
        ("x" * 201, "Le motif tient en 200 caractères au plus."),
    ],
)
def test_on_an_empty_or_too_long_reason_is_a_form_error(
    logged: Client, org: Org, activity: Activity, reason: str, message: str
) -> None:
    response = logged.post(_urls(org)["employee"], {"reason": reason})
    assert response.status_code == 400
    assert message in response.text and TITLE not in response.text
    assert logged.get(_urls(org)["employee_titles"]).status_code == 403
    assert not Entry.objects.filter(action__in=READS).exists()


@pytest.mark.usefixtures("reason_on")
def test_on_the_reason_expires(logged: Client, org: Org, activity: Activity) -> None:
    logged.post(_urls(org)["employee"], {"reason": "Contrôle"})
    assert 'id="reason-form"' not in logged.get(_urls(org)["employee"]).text
    session = logged.session
    stored = session["oxytrack_access_reasons"]
    for value in stored.values():
        value["at"] = (timezone.now() - REASON_LIFETIME - timedelta(seconds=1)).isoformat()
    session["oxytrack_access_reasons"] = stored
    session.save()
    assert 'id="reason-form"' in logged.get(_urls(org)["employee"]).text
    assert logged.get(_urls(org)["employee_titles"]).status_code == 403


@pytest.mark.usefixtures("reason_on")
def test_on_the_reason_form_needs_the_csrf_token(alice: User, org: Org, activity: Activity) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(_urls(org)["employee"], {"reason": "Contrôle"}).status_code == 403
    assert 'id="reason-form"' in client.get(_urls(org)["employee"]).text
