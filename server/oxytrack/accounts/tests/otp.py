"""The second factor for tests: one helper for every test that logs a manager in.

- `give_totp_device(user)`: a confirmed authenticator, as the set-up page leaves it.
- `code_for(device_or_secret)`: the current code, computed with django-otp's own
  `totp`, never one already used (django-otp refuses a time step twice: a second
  login within 30 s takes the next step, which its tolerance accepts, and moves
  the device's drift so that the step after is accepted next).
- `verify_session(client, user)`: for the test client's `force_login`, marks the
  session verified as `django_otp.login` does (the device's id in the session).
  The server's conftest applies it to every `force_login` (`force_login_verified`).
- `pass_second_factor(page, base, email)`: in a browser (Playwright) after the
  password: sets the authenticator up from the page's secret, or types the code.
  e2e/test_make_run.py, whose server runs in another process with its own
  database, does the same over HTTP with the secrets it read (`SECRETS`).
- `pass_code(client, user)`: the code step on the test client, after a real
  password login.

The tests of the second factor itself log in through the pages.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from oxytrack.accounts import second_factor
from oxytrack.accounts.models import User

STEP_S = 30
# The last time step each secret's code was made for, in this process: a server in
# another process (`make run`) has no database row the test can read.
_LAST_STEP: dict[bytes, int] = {}
# The secrets the browser helper read from set-up pages, by e-mail.
SECRETS: dict[str, bytes] = {}


def give_totp_device(user: User) -> TOTPDevice:
    """A confirmed authenticator for `user` (the one they have, if any)."""
    device = second_factor.confirmed_totp(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=second_factor.TOTP_NAME, confirmed=True)
    return device


def secret_bytes(secret: str) -> bytes:
    """The key of a base32 secret as the set-up page prints it (groups of 4)."""
    compact = secret.replace(" ", "").upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def code_for(source: TOTPDevice | bytes | str) -> str:
    """A current 6-digit code for a device, a key or a base32 secret, in a time step
    no earlier code used (it waits for the next step when two were used already)."""
    if isinstance(source, TOTPDevice):
        # The database knows the last step accepted (a refused code used none), and
        # how far ahead the device may be: django-otp follows an authenticator's
        # clock (OTP_TOTP_SYNC), so a code one step ahead moved its drift by one.
        source.refresh_from_db()
        key, last_t = source.bin_key, source.last_t
        drift, tolerance = source.drift, source.tolerance
    else:
        key = secret_bytes(source) if isinstance(source, str) else source
        last_t = _LAST_STEP.get(key, -1)
        drift, tolerance = 0, 1  # django-otp's default tolerance: one step either side
    while True:
        now = int(time.time()) // STEP_S
        # Accepted: from now + drift - tolerance to now + drift + tolerance, after last_t.
        step = max(now + max(0, drift - tolerance), last_t + 1)
        if step <= now + drift + tolerance:
            break
        time.sleep(STEP_S - time.time() % STEP_S + 0.05)
    _LAST_STEP[key] = step
    return f"{totp(key, step=STEP_S, drift=step - now):06d}"


def verify_session(client: Client, user: User) -> None:
    """Mark the test client's session verified by the user's authenticator, as
    django_otp.login does after a good code; a super-admin without one gets one."""
    device = second_factor.confirmed_totp(user)
    if device is None and second_factor.is_required(user):
        device = give_totp_device(user)
    if device is None:
        return  # an admin who did not turn it on: the password is all there is
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def pass_code(client: Client, user: User) -> None:
    """After the password on the test client: type the current code on the code page."""
    device = give_totp_device(user)
    response = client.post("/login/code/", {"code": code_for(device)})
    assert response.status_code == 302, response.content


def force_login_verified(original: Any) -> Any:
    """Wrap Client.force_login: log in, then pass the second factor (verify_session)."""

    def force_login(self: Client, user: User, backend: str | None = None) -> None:
        original(self, user, backend)
        if isinstance(user, User):
            verify_session(self, user)

    return force_login


def pass_second_factor(page: Any, base: str, email: str) -> list[str]:
    """After the password in a Playwright page: answer the second factor's page, if any.

    The set-up page (a super-admin's first login): the secret is read from the
    page, a code computed from it; the recovery codes are returned. The code page:
    a code from the device in the live server's (the test's) database.
    """
    # Where the password sent the browser: home (no second factor), or one of its pages.
    page.wait_for_url(re.compile(re.escape(base) + r"/(|login/code/.*|security/setup/.*)$"))
    path = page.url[len(base) :]
    if path.startswith("/security/setup/"):
        secret = secret_bytes(page.locator("#otp-secret").inner_text())
        SECRETS[email] = secret
        page.fill("input[name=code]", code_for(secret))
        page.click("main button[type=submit]")
        page.wait_for_url(base + "/security/recovery-codes/")
        codes = page.locator("#recovery-codes code").all_inner_texts()
        page.click("main a.primary")
        return codes
    if path.startswith("/login/code/"):
        # The live server shares the test's database: its device is the truth (an
        # earlier test's secret for the same address may still be in SECRETS).
        source = TOTPDevice.objects.get(user__email=email, confirmed=True)
        page.fill("input[name=code]", code_for(source))
        page.click("main button[type=submit]")
    return []
