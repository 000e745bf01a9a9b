"""Every audited operation leaves exactly one entry of its action, and no page can
change or remove an entry: walking every URL with POST, PUT and DELETE as the
super-admin only ever appends to the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from oxytrack.accounts.models import Role, User
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD, Org
from oxytrack.dashboard.tests.test_every_url import PUBLIC, URLS, _url
from oxytrack.org.models import Agency

# Tested where the operation lives (each asserts one entry of its action):
ELSEWHERE = {
    Action.VIEW_EMPLOYEE: "audit/tests/test_employee_reads.py",
    Action.EXPORT: "audit/tests/test_employee_reads.py, audit/tests/test_export.py",
    Action.LOGIN: "audit/tests/test_logins.py",
    Action.LOGIN_FAILED: "audit/tests/test_logins.py",
    Action.LOCKOUT: "audit/tests/test_logins.py",
    Action.LOGOUT: "audit/tests/test_logins.py",
    Action.PURGE: "activity/tests/test_purge_activity.py, activity/tests/test_retention.py",
    Action.PORTAL_LINK: "portal/tests/",
    Action.PORTAL_LOGIN: "portal/tests/",
    Action.VIEW_TEAM: "analytics/tests/test_team_pages.py",
    # Creating answers the page with the token (200, not a redirect).
    Action.CREATE_API_TOKEN: "bi/tests/test_tokens_page.py",
    Action.REVOKE_API_TOKEN: "bi/tests/test_tokens_page.py",
    Action.API_READ: "bi/tests/test_api.py",
    # The second factor: through the login's pages, the Sécurité page, reset_2fa.
    Action.OTP_ENABLE: "accounts/tests/test_second_factor.py",
    Action.OTP_DISABLE: "accounts/tests/test_second_factor.py",
    Action.OTP_FAILED: "accounts/tests/test_second_factor.py",
    Action.OTP_RECOVERY_USED: "accounts/tests/test_second_factor.py",
    Action.OTP_RECOVERY_REGENERATED: "accounts/tests/test_second_factor.py",
    Action.OTP_RESET: "accounts/tests/test_second_factor.py",
}

Operation = Callable[[Client, Org, User], Any]


def _employee(org: Org) -> str:
    return str(org.employees["nice_facturation"].public_id)


OPERATIONS: dict[str, tuple[Action, Operation]] = {
    "create employee": (
        Action.CREATE_EMPLOYEE,
        lambda c, org, _u: c.post(
            reverse("org:employee_create"),
            {"username": "jdupont", "domain": "CORP", "agency": org.nice.pk},
        ),
    ),
    "transfer employee": (
        Action.TRANSFER_EMPLOYEE,
        lambda c, org, _u: c.post(
            reverse("org:employee_transfer", args=[_employee(org)]),
            {"agency": org.marseille.pk, "service": org.logistique.pk},
        ),
    ),
    "rename employee": (
        Action.RENAME_EMPLOYEE,
        lambda c, org, _u: c.post(
            reverse("org:employee_rename", args=[_employee(org)]), {"display_name": "Jean D."}
        ),
    ),
    "delete employee": (
        Action.DELETE_EMPLOYEE,
        lambda c, org, _u: c.post(reverse("org:employee_delete", args=[_employee(org)])),
    ),
    "create admin": (
        Action.CREATE_ADMIN,
        lambda c, org, _u: c.post(
            reverse("accounts:admin_create"),
            {
                "email": "dora@example.com",
                "role": Role.ADMIN,
                "scopes": [f"{org.nice.pk}:*"],
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        ),
    ),
    "delete admin": (
        Action.DELETE_ADMIN,
        lambda c, _org, alice: c.post(reverse("accounts:admin_delete", args=[alice.public_id])),
    ),
    "rotate enrollment key": (
        Action.ROTATE_KEY,
        lambda c, _org, _u: c.post(reverse("org:enrollment_key")),
    ),
    "change policy": (
        Action.CHANGE_POLICY,
        lambda c, _org, _u: c.post(reverse("policy:edit_global"), {"idle_threshold_s": "300"}),
    ),
    "add agency": (
        Action.CHANGE_ORG,
        lambda c, _org, _u: c.post(
            reverse("org:settings"), {"agency-name": "Lyon", "agency-time_zone": "Europe/Paris"}
        ),
    ),
    "add service": (
        Action.CHANGE_ORG,
        lambda c, _org, _u: c.post(reverse("org:settings"), {"service-name": "Paie"}),
    ),
    "create category rule": (
        Action.CHANGE_CATEGORIES,
        lambda c, _org, _u: c.post(
            reverse("categories:create"),
            {"name": "Presse", "colour": "#aa3300", "app_pattern": "", "title_pattern": "Matin"},
        ),
    ),
    "add app name": (
        Action.CHANGE_APP_NAMES,
        lambda c, _org, _u: c.post(
            reverse("categories:app_names"), {"app": "steam.exe", "name": "Steam"}
        ),
    ),
    "delete agency": (
        Action.CHANGE_ORG,
        # An agency with nobody in it (created without the app: no entry).
        lambda c, _org, _u: c.post(
            reverse("org:agency_delete", args=[Agency.objects.create(name="Brest").pk])
        ),
    ),
}


def test_every_action_has_a_test() -> None:
    here = {action for action, _op in OPERATIONS.values()}
    assert set(Action) - here - set(ELSEWHERE) == set(), "add the new action's test here"


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_operation_leaves_exactly_one_entry(
    client: Client, superadmin: User, alice: User, org: Org, name: str
) -> None:
    action, operation = OPERATIONS[name]
    client.force_login(superadmin)
    last = Entry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = operation(client, org, alice)
    assert response.status_code == 302, name  # done, not a form error
    new = list(Entry.objects.filter(id__gt=last).order_by("id"))
    assert [e.action for e in new] == [action], name
    assert new[0].actor == superadmin


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        Entry.objects.order_by("id").values_list(
            "id",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "detail",
            "ip",
            "at",
        )
    )


def test_no_page_changes_or_removes_an_entry(
    client: Client, superadmin: User, alice: User, dpo: User, org: Org
) -> None:
    # A log with entries by every role, then every page hit with every writing method.
    client.force_login(alice)
    client.get(reverse("dashboard:employee", args=[_employee(org)]))
    client.force_login(dpo)
    client.get(reverse("audit:export"))
    pages = [(n, a) for n, a in URLS if n not in PUBLIC and not n.startswith("portal:")]
    assert len(pages) > 20  # the walk covers the URLconf, not an empty list
    for name, args in pages:
        for method in ("post", "put", "delete"):
            client.force_login(superadmin)
            before = _snapshot()
            response = getattr(client, method)(_url(name, args, org, alice), {})
            assert response.status_code < 500, (method, name)
            after = _snapshot()
            assert after[: len(before)] == before, (method, name)
