"""The second factor: TOTP required for the super-admin, optional for admins, recovery
codes, the operator's reset. Logins go through the real pages (password, then code)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from oxytrack.accounts import second_factor
from oxytrack.accounts.models import User
from oxytrack.accounts.tests.otp import code_for, give_totp_device, secret_bytes
from oxytrack.audit.models import Action, Entry
from oxytrack.bi.tests.conftest import token_for
from oxytrack.conftest import PASSWORD, EnrolledDevice
from oxytrack.portal.tests.helpers import open_portal

HOME = "/"
WRONG = "000000"


def _password(client: Client, user: User) -> None:
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content


def _text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def _code(client: Client, code: str) -> object:
    return client.post(reverse("accounts:otp_verify"), {"code": code, "next": HOME})


def _wait_out_throttle(user: User) -> None:
    """django-otp's throttle waits 1 s after a wrong code: that second passes."""
    for model in (TOTPDevice, second_factor.StaticDevice):
        for device in model.objects.filter(user=user):
            if device.throttling_failure_timestamp:
                device.throttling_failure_timestamp -= timedelta(hours=1)
                device.save(update_fields=["throttling_failure_timestamp"])


def _set_up(client: Client) -> list[str]:
    """The set-up page as a person uses it: read the secret, type a code; the codes."""
    page = _text(client.get(reverse("accounts:otp_setup")))
    secret = re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page)
    assert secret, page
    done = client.post(reverse("accounts:otp_setup"), {"code": code_for(secret.group(1))})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:recovery_codes")
    shown = _text(client.get(reverse("accounts:recovery_codes")))
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown)


def _actions(user: User) -> list[str]:
    return list(
        Entry.objects.filter(target_id=str(user.public_id), action__startswith="otp_")
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- The plain functions -----------------------------------------------------------------


def test_a_current_code_passes_and_a_wrong_one_is_throttled(alice: User) -> None:
    device = give_totp_device(alice)
    assert not second_factor.check_code(alice, WRONG).ok
    throttled = second_factor.check_code(alice, code_for(device))
    assert not throttled.ok and "réessayez dans 1 seconde" in throttled.error
    _wait_out_throttle(alice)
    assert second_factor.check_code(alice, code_for(device)).device == device


def test_a_code_is_accepted_once(alice: User) -> None:
    device = give_totp_device(alice)
    code = code_for(device)
    assert second_factor.check_code(alice, code).ok
    _wait_out_throttle(alice)
    assert not second_factor.check_code(alice, code).ok


def test_set_up_makes_ten_single_use_recovery_codes(alice: User) -> None:
    device = second_factor.pending_totp(alice)
    assert second_factor.pending_totp(alice) == device  # the same QR code on a reload
    result, codes = second_factor.do_enable_second_factor(alice, device, code_for(device), ip=None)
    assert result.ok and len(set(codes)) == second_factor.RECOVERY_CODE_COUNT == 10
    assert second_factor.is_enabled(alice)
    used = second_factor.do_verify_second_factor(alice, codes[0].upper(), ip=None)
    assert used.ok and used.used_recovery_code
    assert second_factor.remaining_recovery_codes(alice) == 9
    _wait_out_throttle(alice)
    assert not second_factor.check_code(alice, codes[0]).ok
    assert _actions(alice) == ["otp_enable", "otp_recovery_used"]


def test_the_qr_code_is_an_inline_svg_without_style(alice: User) -> None:
    shown = second_factor.provisioning(second_factor.pending_totp(alice))
    assert shown.qr_svg.startswith("<svg") and "style" not in shown.qr_svg
    assert shown.uri.startswith("otpauth://totp/OxyTrack%3Aalice%40example.com?")
    assert secret_bytes(shown.secret) == second_factor.pending_totp(alice).bin_key


def test_the_superadmin_cannot_turn_it_off(superadmin: User) -> None:
    device = give_totp_device(superadmin)
    with pytest.raises(second_factor.SecondFactorRequired):
        second_factor.do_disable_second_factor(superadmin, code_for(device), ip=None)
    assert second_factor.is_enabled(superadmin)


# --- The pages -----------------------------------------------------------------------------


def test_the_superadmin_sets_it_up_right_after_the_password(
    client: Client, superadmin: User
) -> None:
    _password(client, superadmin)
    for path in (HOME, reverse("accounts:admins"), reverse("accounts:security")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:otp_setup"))
    page = _text(client.get(reverse("accounts:otp_setup")))
    assert "<svg" in page and 'id="otp-secret"' in page
    # No menu before the second factor, only leaving.
    assert "Administrateurs" not in page and "Jetons d'accès API" not in page
    assert "Se déconnecter" in page
    wrong = client.post(reverse("accounts:otp_setup"), {"code": WRONG})
    assert "Code incorrect" in _text(wrong)
    _wait_out_throttle(superadmin)
    codes = _set_up(client)
    assert len(codes) == 10
    # Shown once: the page does not show them again.
    assert client.get(reverse("accounts:recovery_codes"))["Location"] == reverse(
        "accounts:security"
    )
    assert client.get(HOME).status_code == 200
    assert _actions(superadmin) == ["otp_enable"]


def test_the_recovery_codes_download_as_text(client: Client, superadmin: User) -> None:
    _password(client, superadmin)
    page = client.get(reverse("accounts:otp_setup")).content.decode()
    secret = re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page)
    assert secret
    client.post(reverse("accounts:otp_setup"), {"code": code_for(secret.group(1))})
    shown = client.get(reverse("accounts:recovery_codes")).content.decode()
    link = re.search(r'download="oxytrack-codes-de-secours.txt" href="data:text/plain;', shown)
    assert link
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown)
    assert all(code in shown.split("data:text/plain", 1)[1] for code in codes)


def test_a_code_is_asked_after_the_password(client: Client, superadmin: User) -> None:
    device = give_totp_device(superadmin)
    _password(client, superadmin)
    response = client.get(reverse("dashboard:search") + "?q=x")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_verify") + "?next=%2Fsearch%2F%3Fq%3Dx"
    before = client.session.session_key
    passed = client.post(
        reverse("accounts:otp_verify"), {"code": code_for(device), "next": "/search/?q=x"}
    )
    assert passed.status_code == 302 and passed["Location"] == "/search/?q=x"
    assert client.session.session_key != before  # a new session id once verified
    assert client.get(HOME).status_code == 200


def test_a_wrong_code_reads_right_and_does_not_log_in(client: Client, superadmin: User) -> None:
    device = give_totp_device(superadmin)
    _password(client, superadmin)
    wrong = _code(client, WRONG)
    assert wrong.status_code == 200  # type: ignore[attr-defined]
    assert "Code incorrect. Vérifiez l'heure de votre téléphone et réessayez." in _text(wrong)
    assert client.get(HOME).status_code == 302
    # At once again, even the right code: django-otp's throttle, readable.
    again = _code(client, code_for(device))
    assert "Trop de codes erronés : réessayez dans 1 seconde." in _text(again)
    assert client.get(HOME).status_code == 302
    english = client.post(
        reverse("accounts:otp_verify"), {"code": WRONG}, headers={"Accept-Language": "en"}
    )
    assert "Too many wrong codes" in _text(english)
    assert _actions(superadmin) == ["otp_failed"] * 3
    _wait_out_throttle(superadmin)
    assert _code(client, code_for(device))["Location"] == HOME  # type: ignore[index]


def test_a_recovery_code_logs_in_once(client: Client, superadmin: User) -> None:
    _password(client, superadmin)
    codes = _set_up(client)
    client.post(reverse("logout"))
    _password(client, superadmin)
    used = _code(client, codes[3])
    assert used["Location"] == HOME  # type: ignore[index]
    assert "il vous en reste 9" in _text(client.get(HOME))
    client.post(reverse("logout"))
    _password(client, superadmin)
    assert "Code incorrect" in _text(_code(client, codes[3]))
    assert client.get(HOME).status_code == 302
    assert _actions(superadmin) == ["otp_enable", "otp_recovery_used", "otp_failed"]


def test_the_superadmin_regenerates_recovery_codes(client: Client, superadmin: User) -> None:
    _password(client, superadmin)
    old = _set_up(client)
    device = second_factor.confirmed_totp(superadmin)
    assert device is not None
    page = _text(client.get(reverse("accounts:security")))
    assert "Il vous reste 10 codes de secours." in page
    assert reverse("accounts:otp_disable") not in page
    assert (
        client.post(reverse("accounts:otp_disable"), {"code": code_for(device)}).status_code == 403
    )
    refused = client.post(reverse("accounts:recovery_codes"), {"code": old[0]})
    assert "Saisissez les 6 chiffres" in _text(refused)
    made = client.post(reverse("accounts:recovery_codes"), {"code": code_for(device)})
    assert made["Location"] == reverse("accounts:recovery_codes")
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", _text(client.get(made["Location"])))
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)
    assert _actions(superadmin) == ["otp_enable", "otp_recovery_regenerated"]


def test_an_admin_may_turn_it_on_and_off(client: Client, alice: User) -> None:
    _password(client, alice)
    assert client.get(HOME).status_code == 200  # optional: nothing asked
    page = _text(client.get(reverse("accounts:security")))
    assert "Désactivée" in page and reverse("accounts:otp_setup") in page
    assert "Sécurité" in _text(client.get(HOME))  # in the user menu
    _set_up(client)
    client.post(reverse("logout"))
    _password(client, alice)
    assert client.get(HOME)["Location"].startswith(reverse("accounts:otp_verify"))
    device = second_factor.confirmed_totp(alice)
    assert device is not None
    assert _code(client, code_for(device))["Location"] == HOME  # type: ignore[index]
    wrong = client.post(reverse("accounts:otp_disable"), {"code": WRONG})
    assert "Code incorrect" in _text(wrong) and second_factor.is_enabled(alice)
    _wait_out_throttle(alice)
    off = client.post(reverse("accounts:otp_disable"), {"code": code_for(device)})
    assert off["Location"] == reverse("accounts:security")
    assert not second_factor.is_enabled(alice) and not StaticToken.objects.exists()
    assert client.get(HOME).status_code == 200
    client.post(reverse("logout"))
    _password(client, alice)
    assert client.get(HOME).status_code == 200
    assert _actions(alice) == ["otp_enable", "otp_disable"]


def test_the_portal_and_the_apis_are_not_affected(
    client: Client, superadmin: User, bob: User, enrolled_device: EnrolledDevice
) -> None:
    give_totp_device(superadmin)
    give_totp_device(bob)
    portal = open_portal(enrolled_device.token)
    assert portal.get("/portal/").status_code == 200
    secret = token_for(bob)
    api = Client().get("/api/v1/employees", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    # A manager between password and code reaches no page, no API documentation.
    _password(client, superadmin)
    assert client.get(reverse("bi_api:openapi-view")).status_code == 302


def test_the_operator_resets_a_lost_second_factor(
    client: Client, superadmin: User, capsys: pytest.CaptureFixture[str]
) -> None:
    device = give_totp_device(superadmin)
    _password(client, superadmin)
    _code(client, code_for(device))
    assert client.get(HOME).status_code == 200
    call_command("reset_2fa", email="SUPER@example.com")
    assert "reset (1 device(s) removed)" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=superadmin).exists()
    # The verified session names a device that is gone: set up again.
    assert client.get(HOME)["Location"].startswith(reverse("accounts:otp_setup"))
    entry = Entry.objects.get(action=Action.OTP_RESET)
    assert entry.actor_label == "système" and entry.target_label == superadmin.email
    with pytest.raises(Exception, match="no manager"):
        call_command("reset_2fa", email="nobody@example.com")


def test_a_session_between_password_and_code_ends_with_logout(
    client: Client, superadmin: User
) -> None:
    give_totp_device(superadmin)
    _password(client, superadmin)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(HOME)["Location"].startswith(reverse("login"))
