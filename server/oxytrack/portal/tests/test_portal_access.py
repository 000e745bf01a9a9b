"""A portal session reaches the portal and nothing else: no manager page (every named URL
of the URLconf outside /portal/ and /login/), no other employee, no API call."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.conftest import EnrolledDevice, Org
from oxytrack.dashboard.tests.test_every_url import POST_ONLY, URLS, _url
from oxytrack.org.models import Device
from oxytrack.org.tokens import hash_device_token, new_device_token
from oxytrack.portal.tests.helpers import open_portal, upload, xlsx_rows

pytestmark = pytest.mark.django_db


def _xlsx_text(response: object) -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in xlsx_rows(response))


# The language switch is for everyone (the portal page has it too).
OPEN_TO_ALL = {"set_language", "login"}


@pytest.mark.parametrize(("name", "args"), URLS)
def test_no_manager_page_accepts_a_portal_session(
    enrolled_device: EnrolledDevice, org: Org, alice: User, name: str, args: tuple[str, ...]
) -> None:
    if name in OPEN_TO_ALL:
        return
    browser = open_portal(enrolled_device.token)
    url = _url(name, args, org, alice)
    # The portal's own employee, the one a leak would most likely show.
    url = url.replace(
        str(org.employees["nice_facturation"].public_id),
        str(enrolled_device.device.employee.public_id),
    )
    response = browser.post(url) if name in POST_ONLY else browser.get(url)
    if response.status_code == 405:  # a POST-only page the list does not know yet
        response = browser.post(url)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login")), (url, response["Location"])
    else:
        assert response.status_code in (403, 404), (url, response.status_code)


def test_the_agent_api_ignores_the_portal_cookie(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    for method, path in (
        ("get", "/api/agent/v1/policy"),
        ("post", "/api/agent/v1/batches"),
        ("post", "/api/agent/v1/portal-link"),
    ):
        reply = getattr(browser, method)(path)
        assert reply.status_code == 401, path
        assert reply.json()["code"] == "unauthorized"
    # The API's docs page is for managers.
    docs = browser.get("/api/agent/v1/docs")
    assert docs.status_code == 302
    assert docs["Location"].startswith(reverse("login"))


def test_the_portal_shows_only_its_own_employee(enrolled_device: EnrolledDevice, org: Org) -> None:
    other_token = new_device_token()
    Device.objects.create(
        employee=org.employees["nice_logistique"],
        hostname="PC-VOISIN",
        os="Windows 11",
        agent_version="0.1.0",
        time_zone="Europe/Paris",
        token_hash=hash_device_token(other_token),
    )
    now = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    upload(enrolled_device.token, [(now, 600, "excel.exe", "Mon budget.xlsx", True)])
    upload(other_token, [(now, 600, "word.exe", "Lettre du voisin.docx", True)])
    browser = open_portal(enrolled_device.token)
    for path in (
        "/portal/",
        "/portal/activity/",
        "/portal/export.json",
        "/portal/export.csv",
        "/portal/export.xlsx",
        "/portal/trends/",
        "/portal/trends/?format=xlsx",
    ):
        day = now.date()
        text = browser.get(path, {"start": str(day - timedelta(days=1)), "end": str(day)})
        assert text.status_code == 200, path
        xlsx = text["Content-Type"].startswith("application/vnd.openxmlformats")
        body = _xlsx_text(text) if xlsx else text.content.decode()
        assert "PC-VOISIN" not in body and "voisin" not in body, path
    page = browser.get("/portal/").content.decode()
    assert "Mon budget.xlsx" in page and "PC-NICE-01" in page
    # No employee id in any portal URL: there is nothing to change to reach another one.
    assert str(org.employees["nice_logistique"].public_id) not in page


@pytest.mark.parametrize(
    "path",
    [
        "/portal/",
        "/portal/activity/",
        "/portal/titles/?start=2026-01-01&end=2026-01-02",
        "/portal/export.csv?start=2026-01-01&end=2026-01-02",
        "/portal/export.json?start=2026-01-01&end=2026-01-02",
        "/portal/export.xlsx?start=2026-01-01&end=2026-01-02",
        "/portal/trends/",
        "/portal/trends/?format=xlsx",
    ],
)
def test_the_portal_needs_a_portal_session(
    client: Client, superadmin: User, enrolled_device: EnrolledDevice, path: str
) -> None:
    assert client.get(path).status_code == 403
    client.force_login(superadmin)  # a manager has no portal
    assert client.get(path).status_code == 403
    browser = open_portal(enrolled_device.token)
    assert browser.get(path).status_code == 200
    assert browser.post(path).status_code == 405


@pytest.mark.parametrize("bad", ["0001-01-01", "9999-12-31", "pas-une-date"])
def test_a_bad_range_is_a_form_error_not_a_500(enrolled_device: EnrolledDevice, bad: str) -> None:
    browser = open_portal(enrolled_device.token)
    page = browser.get("/portal/", {"start": bad, "end": "2026-01-02"})
    assert page.status_code == 200
    assert 'role="alert"' in page.content.decode()
    for path in (
        "/portal/activity/",
        "/portal/titles/",
        "/portal/export.csv",
        "/portal/export.xlsx",
    ):
        assert browser.get(path, {"start": bad, "end": "2026-01-02"}).status_code == 400


def test_a_bad_week_is_a_form_error_on_the_trends_page(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    page = browser.get("/portal/trends/", {"week": "pas-une-date"})
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()


def test_the_topbar_link_stays_in_the_portal(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    page = browser.get(reverse("portal:home")).content.decode()
    (href,) = re.findall(r'<a class="brand" href="([^"]+)"', page)
    assert href == reverse("portal:home")
    followed = browser.get(href)
    # Not the managers' login: the same portal page, in the same session.
    assert followed.status_code == 200
    assert "Mon activité, telle que mes responsables la voient" in followed.content.decode()
    # Once the session is over, the link leads to the portal's own explanation page.
    browser.post(reverse("portal:leave"))
    closed = browser.get(href)
    assert closed.status_code == 403
    assert "oxytrack-agent portal" in closed.content.decode()
    assert re.findall(r'<a class="brand" href="([^"]+)"', closed.content.decode()) == [href]
