"""The one-time link: asked for with the device token, opens the portal once, expires."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import EnrolledDevice
from oxytrack.portal.actions import LINK_LIFETIME, do_issue_portal_link, do_use_portal_link
from oxytrack.portal.models import PortalLink
from oxytrack.portal.session import PORTAL_KEY
from oxytrack.portal.tests.helpers import ask_link, open_portal

pytestmark = pytest.mark.django_db


def test_the_agent_gets_a_link_that_opens_the_portal_once(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    reply = ask_link(client, enrolled_device.token)
    assert reply.status_code == 201
    body = reply.json()
    assert body["path"].startswith("/portal/enter/")
    assert body["url"] == "http://testserver" + body["path"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - timezone.now() <= LINK_LIFETIME

    browser = Client()
    entered = browser.get(body["path"])
    assert entered.status_code == 302
    assert entered["Location"] == "/portal/"
    page = browser.get("/portal/")
    assert page.status_code == 200
    assert "nice_facturation" in page.content.decode()

    # Spent: a second opening, by anyone, is refused with a readable page.
    again = Client().get(body["path"])
    assert again.status_code == 403
    assert "oxytrack-agent portal" in again.content.decode()
    assert PORTAL_KEY not in again.wsgi_request.session


def test_a_link_not_opened_in_time_is_refused(enrolled_device: EnrolledDevice) -> None:
    path = ask_link(Client(), enrolled_device.token).json()["path"]
    PortalLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = Client().get(path)
    assert refused.status_code == 403
    assert "Ce lien n" in refused.content.decode()
    assert not Entry.objects.filter(action=Action.PORTAL_LOGIN).exists()


def test_a_link_lives_two_minutes_on_a_fixed_clock(enrolled_device: EnrolledDevice) -> None:
    now = timezone.now()
    late = do_issue_portal_link(enrolled_device.device, ip=None, now=now)
    in_time = do_issue_portal_link(enrolled_device.device, ip=None, now=now)
    assert do_use_portal_link(late.code, ip=None, now=now + LINK_LIFETIME) is None
    employee = do_use_portal_link(in_time.code, ip=None, now=now + LINK_LIFETIME / 2)
    assert employee == enrolled_device.device.employee
    assert do_use_portal_link(in_time.code, ip=None, now=now + LINK_LIFETIME / 2) is None


def test_the_code_is_stored_only_as_a_hash(enrolled_device: EnrolledDevice) -> None:
    path = ask_link(Client(), enrolled_device.token).json()["path"]
    code = path.rstrip("/").rsplit("/", 1)[1]
    assert len(code) >= 43  # 32 random bytes
    stored = PortalLink.objects.values_list("code_hash", flat=True).get()
    assert code not in stored and len(stored) == 64


@pytest.mark.parametrize("code", ["x", "a" * 500, "%00", "../../admins"])
def test_a_bad_code_is_a_readable_refusal(client: Client, db: None, code: str) -> None:
    response = client.get(f"/portal/enter/{code}/")
    assert response.status_code in (403, 404)
    assert response.status_code != 500


def test_without_a_valid_token_no_link(client: Client, enrolled_device: EnrolledDevice) -> None:
    for headers in ({}, {"Authorization": "Bearer oxd_nope"}):
        reply = client.post("/api/agent/v1/portal-link", headers=headers)
        assert reply.status_code == 401
        assert reply.json()["code"] == "unauthorized"
    enrolled_device.device.revoked_at = timezone.now()
    enrolled_device.device.save(update_fields=["revoked_at"])
    assert ask_link(client, enrolled_device.token).status_code == 401
    assert ask_link(client, enrolled_device.token).json()["code"] == "unauthorized"
    assert client.get("/api/agent/v1/portal-link").status_code == 405
    assert not PortalLink.objects.exists()


def test_link_and_login_are_audited_and_the_portal_views_are_not(
    enrolled_device: EnrolledDevice,
) -> None:
    browser = open_portal(enrolled_device.token)
    for _ in range(3):
        assert browser.get("/portal/").status_code == 200
    employee = enrolled_device.device.employee
    entries = list(Entry.objects.order_by("at", "id"))
    assert [e.action for e in entries] == [Action.PORTAL_LINK, Action.PORTAL_LOGIN]
    for entry in entries:
        assert entry.actor is None
        assert entry.actor_label == employee.login
        assert entry.target_id == str(employee.public_id)
        assert entry.detail["device"] == "PC-NICE-01"


def test_opening_a_link_starts_a_new_session_and_ends_a_manager_login(
    enrolled_device: EnrolledDevice, alice: User
) -> None:
    browser = Client()
    browser.force_login(alice)
    before = browser.session.session_key
    path = ask_link(Client(), enrolled_device.token).json()["path"]
    browser.get(path)
    session = browser.session
    assert session.session_key != before
    assert "_auth_user_id" not in session
    assert session[PORTAL_KEY] == str(enrolled_device.device.employee.public_id)
    # The managers' idle timeout applies: 15 minutes, renewed by each request.
    assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert browser.get("/").status_code == 302


def test_a_manager_logging_in_later_gets_no_portal(
    enrolled_device: EnrolledDevice, alice: User
) -> None:
    browser = open_portal(enrolled_device.token)
    browser.force_login(alice)
    assert PORTAL_KEY in browser.session  # login() keeps a session's data
    assert browser.get("/portal/").status_code == 403


def test_leaving_ends_the_portal_session(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    assert browser.get("/portal/leave/").status_code == 405
    left = browser.post("/portal/leave/")
    assert left.status_code == 200
    assert browser.get("/portal/").status_code == 403


def test_leaving_needs_the_csrf_token(enrolled_device: EnrolledDevice) -> None:
    browser = open_portal(enrolled_device.token)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post("/portal/leave/").status_code == 403
    assert browser.get("/portal/").status_code == 200
