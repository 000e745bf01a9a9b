"""The dpo reads the audit log, the policy and the settings, and never any activity.

Every page of the URLconf is sorted below; a new page fails the guard test
until it says what the dpo gets there.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import Role, User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD, Org
from oxytrack.dashboard.tests.test_every_url import URLS, _url
from oxytrack.policy.models import PolicyOverride

# Pages that show employees or their activity: 404, as if nothing were there.
ACTIVITY = {
    "dashboard:search",
    "dashboard:team",
    "dashboard:employee",
    "dashboard:employee_activity",
    "dashboard:employee_titles",
    "dashboard:employee_export",
    "org:employee_transfer",
    "org:employee_rename",
    "org:employee_delete",
    # Tokens of the BI API read activity: the dpo has none.
    "bi:tokens",
    "bi:token_revoke",
    # Team overview and trends read employees' activity; the weekly e-mail carries it.
    "analytics:team_overview",
    "analytics:team_trends",
    "analytics:employee_trends",
    "reports:preferences",
}
# Read: GET 200; a POST (where the page takes one) 403.
READ = {
    "audit:log",
    "audit:export",
    "policy:list",
    "policy:edit_global",
    "policy:edit_agency",
    "policy:edit_service",
    "org:settings",
    "org:retention",
    "compliance:kit",
    "compliance:notice_fr",
    "compliance:notice_en",
    "compliance:cse_fr",
    "compliance:cse_en",
    "compliance:register_fr",
    "compliance:register_en",
    "compliance:dpia_fr",
    "compliance:dpia_en",
}
# The super-admin's own pages: 403 (the enrollment key is a secret that enrolls PCs).
FORBIDDEN = {
    "accounts:admins",
    "accounts:admin_create",
    "accounts:admin_delete",
    "org:employee_create",
    "org:enrollment_key",
    "org:agency_delete",
    "org:service_delete",
    # Categories and friendly app names: the super-admin's settings.
    "categories:list",
    "categories:create",
    "categories:edit",
    "categories:app_names",
    "categories:app_name_edit",
}
# POST only, the super-admin's: 403 to a POST, 405 to a GET.
POST_ONLY_FORBIDDEN = {
    "categories:delete",
    "categories:move",
    "categories:app_name_delete",
    "categories:app_names_reset",
}
# POST only, and only the super-admin's: the redaction and category previews.
POST_FORBIDDEN = {"policy:preview", "categories:preview"}
# Their home is the audit log; the rest is the same for everyone. The portal
# answers an employee's portal session only, never a manager's login.
OTHER = {"dashboard:home", "login", "logout", "set_language"}
# Their own second factor, as any manager's (optional for the dpo: access matrix).
OTHER |= {
    "accounts:otp_verify",
    "accounts:otp_setup",
    "accounts:recovery_codes",
    "accounts:security",
    "accounts:otp_disable",
}
PORTAL_PREFIX = "portal:"


def test_every_page_says_what_the_dpo_gets() -> None:
    names = {name for name, _args in URLS}
    sorted_names = ACTIVITY | READ | FORBIDDEN | POST_ONLY_FORBIDDEN | POST_FORBIDDEN | OTHER
    unsorted = {n for n in names - sorted_names if not n.startswith(PORTAL_PREFIX)}
    assert unsorted == set(), "sort the new page above"
    assert sorted_names - OTHER <= names


def _args(name: str) -> tuple[str, ...]:
    return next(args for n, args in URLS if n == name)


@pytest.fixture
def dpo_client(client: Client, dpo: User) -> Client:
    client.force_login(dpo)
    return client


@pytest.mark.parametrize("name", sorted(ACTIVITY))
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_dpo_gets_404_on_every_activity_page(
    dpo_client: Client, org: Org, superadmin: User, name: str, method: str
) -> None:
    url = _url(name, _args(name), org, superadmin)
    response = getattr(dpo_client, method)(url, headers={"HX-Request": "true"})
    assert response.status_code in (404, 405), url
    if method == "get":
        assert response.status_code == 404, url
    assert not Entry.objects.filter(action__in=[Action.VIEW_EMPLOYEE, Action.EXPORT]).exists()


@pytest.mark.parametrize("name", sorted(READ))
def test_the_dpo_reads_the_audit_log_policy_and_settings(
    dpo_client: Client, org: Org, superadmin: User, name: str
) -> None:
    response = dpo_client.get(_url(name, _args(name), org, superadmin))
    assert response.status_code == 200
    body = b"".join(response).decode("utf-8-sig")
    # No form to change anything is offered to them (log out and language aside).
    for attrs, inner in re.findall(r'<form method="post"([^>]*)>(.*?)</form>', body, re.S):
        if reverse("logout") not in attrs and reverse("set_language") not in attrs:
            assert 'type="submit"' not in inner, (name, inner)


@pytest.mark.parametrize("name", sorted(READ | FORBIDDEN | POST_ONLY_FORBIDDEN | POST_FORBIDDEN))
def test_the_dpo_can_change_nothing(
    dpo_client: Client, org: Org, superadmin: User, name: str
) -> None:
    url = _url(name, _args(name), org, superadmin)
    response = dpo_client.post(url, {"agency-name": "Lyon", "sample_interval_s": "5"})
    # 405 for a read-only page (it takes no POST from anyone).
    assert response.status_code in (403, 405), url
    assert not PolicyOverride.objects.exists()
    assert org.__class__ is Org and not org.nice.__class__.objects.filter(name="Lyon").exists()


@pytest.mark.parametrize("name", sorted(FORBIDDEN - {"org:agency_delete", "org:service_delete"}))
def test_the_dpo_cannot_open_the_superadmin_pages(
    dpo_client: Client, org: Org, superadmin: User, name: str
) -> None:
    assert dpo_client.get(_url(name, _args(name), org, superadmin)).status_code == 403


def test_the_dpo_lands_on_the_audit_log(dpo: User) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": dpo.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("audit:log")
    assert response.status_code == 200


def test_the_dpo_navigation_shows_only_what_they_may_open(dpo_client: Client) -> None:
    body = dpo_client.get(reverse("audit:log")).content.decode()
    nav = body.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for name in ("audit:log", "policy:list", "org:settings"):
        assert f'href="{reverse(name)}"' in nav
    for name in ("dashboard:search", "dashboard:team", "accounts:admins", "org:enrollment_key"):
        assert f'href="{reverse(name)}"' not in nav
    # Nor anywhere on the page: the pages that would answer them 404 or 403.
    for name in (
        "analytics:team_overview",
        "analytics:team_trends",
        "categories:list",
        "bi:tokens",
        "reports:preferences",
    ):
        assert f'href="{reverse(name)}' not in body


def test_an_admin_cannot_read_the_audit_log(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403


def test_the_superadmin_creates_a_dpo_without_scopes(
    client: Client, superadmin: User, org: Org
) -> None:
    client.force_login(superadmin)
    form = client.get(reverse("accounts:admin_create")).content.decode()
    assert 'value="dpo"' in form
    response = client.post(
        reverse("accounts:admin_create"),
        {
            "email": "Delegue@Example.com",
            "role": "dpo",
            "scopes": [f"{org.nice.pk}:*"],
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="delegue@example.com")
    assert user.role == Role.DPO and user.is_dpo and not user.sees_activity
    assert not user.scopes.exists()
    entry = Entry.objects.get(action=Action.CREATE_ADMIN)
    assert entry.detail["role"] == "dpo" and entry.detail["scopes"] == []
    listing = client.get(reverse("accounts:admins")).content.decode()
    assert "aucune activité" in listing
