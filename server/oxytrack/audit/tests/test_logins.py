"""Logins, failed logins, lock-outs and logouts are written to the audit log,
through the real login view with django-axes as configured."""

from __future__ import annotations

import html
import re
import weakref

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse

from oxytrack.accounts.models import User
from oxytrack.accounts.tests.otp import pass_code
from oxytrack.audit import signals
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD

IP = "203.0.113.9"
WRONG = "Wrong-Password-Secret-1"


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR=IP)


def _login(client: Client, email: str, password: str) -> int:
    response = client.post(reverse("login"), {"username": email, "password": password})
    return int(response.status_code)


def _actions() -> list[str]:
    return list(Entry.objects.order_by("id").values_list("action", flat=True))


def _no_password_anywhere() -> None:
    for entry in Entry.objects.all():
        text = f"{entry.actor_label} {entry.target_label} {entry.detail}"
        assert WRONG not in text and PASSWORD not in text


def test_a_login_writes_one_entry(client: Client, alice: User) -> None:
    assert _login(client, alice.email, PASSWORD) == 302
    entry = Entry.objects.get()
    assert (entry.action, entry.actor, entry.target_id) == (
        Action.LOGIN,
        alice,
        str(alice.public_id),
    )
    assert entry.ip == IP
    _no_password_anywhere()


def test_a_failed_login_writes_one_entry_with_the_email_not_the_password(
    client: Client, alice: User
) -> None:
    assert _login(client, "  Alice@Example.com ", WRONG) == 200
    entry = Entry.objects.get()
    assert entry.action == Action.LOGIN_FAILED
    assert entry.actor is None and entry.actor_label == ""
    assert entry.target_label == "alice@example.com"
    assert entry.target_id == str(alice.public_id)
    assert entry.ip == IP
    _no_password_anywhere()


def test_a_failed_login_for_an_unknown_address_names_it(client: Client, db: None) -> None:
    assert _login(client, "nobody@example.com", WRONG) == 200
    entry = Entry.objects.get()
    assert (entry.action, entry.target_label, entry.target_id) == (
        Action.LOGIN_FAILED,
        "nobody@example.com",
        "",
    )


def test_a_lockout_attempt_writes_one_lockout_entry_and_keeps_the_failures(
    client: Client, alice: User
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _login(client, alice.email, WRONG) == 200
    assert _actions() == [Action.LOGIN_FAILED] * (limit - 1)
    # The attempt that reaches the limit is refused as a lock-out: one entry for it.
    assert _login(client, alice.email, WRONG) == 429
    assert _actions() == [Action.LOGIN_FAILED] * (limit - 1) + [Action.LOCKOUT]
    # While locked, even the right password is refused, and logged as a lock-out.
    assert _login(client, alice.email, PASSWORD) == 429
    assert _actions() == [Action.LOGIN_FAILED] * (limit - 1) + [Action.LOCKOUT] * 2
    lockout = Entry.objects.filter(action=Action.LOCKOUT).first()
    assert lockout is not None
    assert (lockout.target_label, lockout.ip, lockout.actor) == (alice.email, IP, None)
    assert "_auth_user_id" not in client.session
    _no_password_anywhere()


def test_a_logout_writes_one_entry(client: Client, alice: User) -> None:
    _login(client, alice.email, PASSWORD)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert _actions() == [Action.LOGIN, Action.LOGOUT]
    entry = Entry.objects.get(action=Action.LOGOUT)
    assert (entry.actor, entry.ip) == (alice, IP)


def test_a_logout_without_a_session_writes_nothing(client: Client, db: None) -> None:
    assert client.post(reverse("logout")).status_code == 302
    assert not Entry.objects.exists()


def test_axes_sees_a_failed_login_before_the_audit_receiver() -> None:
    # The log is append-only: a failure entry cannot become a lock-out later, so
    # the lock-out (sent from axes's receiver) must come first.
    from django.contrib.auth.signals import user_login_failed

    live = [r() if isinstance(r, weakref.ref) else r for _key, r, *_ in user_login_failed.receivers]
    names = [getattr(r, "__name__", "") for r in live]
    assert names.index("handle_user_login_failed") < names.index("on_login_failed")


def test_one_entry_per_locked_attempt(alice: User) -> None:
    request = RequestFactory().post("/login/", REMOTE_ADDR=IP)
    signals.on_locked_out(None, request=request, username=alice.email)
    signals.on_login_failed(
        None, credentials={"username": alice.email, "password": "*****"}, request=request
    )
    entry = Entry.objects.get()
    assert (entry.action, entry.target_label, entry.ip) == (Action.LOCKOUT, alice.email, IP)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "fr",
            [
                "Connexion",
                "Échec de connexion",
                "Connexion bloquée après trop d'échecs",
                "Déconnexion",
            ],
        ),
        ("en", ["Log in", "Failed login", "Login locked out after too many failures", "Log out"]),
    ],
)
def test_the_audit_log_names_the_login_actions(
    client: Client, superadmin: User, alice: User, language: str, labels: list[str]
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, alice.email, WRONG)
    _login(client, superadmin.email, PASSWORD)
    client.post(reverse("logout"))
    _login(client, superadmin.email, PASSWORD)
    pass_code(client, superadmin)  # the super-admin's second factor
    response = client.get(reverse("audit:log"), headers={"Accept-Language": language})
    cells = {html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", response.text)}
    assert set(labels) <= cells
