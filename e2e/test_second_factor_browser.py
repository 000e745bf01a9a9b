"""The super-admin's first login in a real Chromium: password, then the set-up page
(QR code under the strict CSP, the secret as text), a code computed from that
secret, the recovery codes shown once; then logging out and in again with a code."""

# The fixtures come from a module shared with no conftest (see its docstring).
# ruff: noqa: F811

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from oxytrack.accounts.tests.otp import code_for, secret_bytes
from oxytrack.audit.models import Action, Entry
from oxytrack.conftest import PASSWORD
from oxytrack.dashboard.tests.browser import (  # noqa: F401 (fixtures)
    Browser,
    chromium,
    web,
    web_server,
)

# `once`: the pages' logic is the same on both databases; the server's tests of the
# second factor (accounts/tests/test_second_factor.py) run on both.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

EMAIL = "chef@example.com"


def _password(web: Browser) -> None:
    web.go("/login/")
    web.page.fill("input[name=username]", EMAIL)
    web.page.fill("input[name=password]", PASSWORD)
    web.page.click("main button[type=submit]")


def test_the_first_login_of_a_new_superadmin_sets_up_the_second_factor(
    web: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the operator creates the super-admin on a new server.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command("create_superadmin", email=EMAIL, password_stdin=True)
    page = web.page
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security" in message.text else None
        ),
    )
    _password(web)
    page.wait_for_url(web.base + "/security/setup/?next=%2F")
    # No way around it: the home page sends back to the set-up.
    web.go("/")
    page.wait_for_url(web.base + "/security/setup/?next=%2F")
    qr = page.locator(".qr svg")
    assert qr.bounding_box()["width"] > 100  # type: ignore[index]  # drawn, not blocked
    web.shot("second-factor-setup")
    secret = secret_bytes(page.inner_text("#otp-secret"))
    page.fill("input[name=code]", "000000")
    page.click("main button[type=submit]")
    assert "Code incorrect" in page.inner_text("div.error")
    page.wait_for_timeout(1100)  # django-otp's throttle: 1 s after a wrong code
    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(web.base + "/security/recovery-codes/")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    web.shot("second-factor-recovery-codes")
    download = page.locator("a[download='oxytrack-codes-de-secours.txt']")
    assert all(code in (download.get_attribute("href") or "") for code in codes)
    page.click("text=J'ai noté mes codes, continuer")
    page.wait_for_url(web.base + "/")
    web.go("/security/recovery-codes/")  # the codes are not shown again
    page.wait_for_url(web.base + "/security/")
    assert "Il vous reste 10 codes de secours." in page.inner_text("main")

    page.click("#logout")
    page.wait_for_url(web.base + "/login/")
    _password(web)
    page.wait_for_url(web.base + "/login/code/?next=%2F")
    web.shot("second-factor-code")
    page.fill("input[name=code]", code_for(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(web.base + "/")
    # A page without htmx fragments still loading when the test ends.
    web.go("/security/")
    assert "Activée" in page.inner_text("#otp-state")
    assert EMAIL in page.inner_text("header")
    assert refused == []
    assert list(
        Entry.objects.filter(action__in=[Action.OTP_ENABLE, Action.LOGIN])
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [Action.LOGIN, Action.OTP_ENABLE, Action.LOGIN]
