"""Every form refuses a POST without its CSRF token; login is throttled; list pages
keep a bounded number of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from oxytrack.accounts.models import User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD, Org
from oxytrack.org.models import Employee


def _posts(org: Org, alice: User) -> list[tuple[str, dict[str, object]]]:
    employee = org.employees["nice_facturation"].public_id
    return [
        (reverse("org:employee_create"), {"username": "csrf"}),
        (reverse("org:employee_transfer", args=[employee]), {"agency": org.marseille.pk}),
        (reverse("org:employee_delete", args=[employee]), {}),
        (reverse("org:settings"), {"service-name": "Csrf"}),
        (reverse("org:agency_delete", args=[org.marseille.pk]), {}),
        (reverse("org:enrollment_key"), {}),
        (reverse("accounts:admin_create"), {"email": "csrf@example.com"}),
        (reverse("accounts:admin_delete", args=[alice.public_id]), {}),
        (reverse("policy:edit_global"), {"idle_threshold_s": 60}),
        (reverse("logout"), {}),
    ]


def test_every_form_needs_its_csrf_token(superadmin: User, alice: User, org: Org) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    entries = Entry.objects.count()
    for url, data in _posts(org, alice):
        assert client.post(url, data).status_code == 403, url
    assert Entry.objects.count() == entries
    assert Employee.objects.filter(pk=org.employees["nice_facturation"].pk).exists()
    assert User.objects.filter(pk=alice.pk).exists()


def test_login_needs_its_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 403


def test_login_is_locked_after_repeated_failures(client: Client, alice: User) -> None:
    for _ in range(5):
        response = client.post(reverse("login"), {"username": alice.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_says_so_in_french(client: Client, alice: User) -> None:
    response = client.post(reverse("login"), {"username": alice.email, "password": "wrong"})
    assert response.status_code == 200
    assert "Saisissez" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("dashboard:search", {"name": "user"}),
        ("accounts:admins", {}),
        ("audit:log", {"action": "view_employee"}),
    ],
)
def test_list_pages_keep_a_bounded_query_count(
    client: Client,
    superadmin: User,
    org: Org,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    name: str,
    params: dict[str, str],
) -> None:
    Employee.objects.bulk_create(
        [Employee(username=f"user{i:03d}", agency=org.nice) for i in range(60)]
    )
    for i in range(60):
        User.objects.create_user(f"admin{i}@example.com", None)
        record(Action.VIEW_EMPLOYEE, actor=superadmin, target_label=f"x{i}")
    client.force_login(superadmin)
    # Constant: no query per row (one is the second factor's device).
    with django_assert_max_num_queries(14):
        response = client.get(reverse(name), {**params, "per_page": "50"})
    assert response.status_code == 200
    assert "sur 6" in response.content.decode()
