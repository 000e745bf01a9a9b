"""The managers' second factor: TOTP (an authenticator app) and recovery codes.

Required for the super-administrator, optional for the other managers. Built
on django-otp: a confirmed `TOTPDevice` is the authenticator, a `StaticDevice`
holds the single-use recovery codes (each `StaticToken` is deleted when used).
Wrong codes are throttled by django-otp per device (the wait doubles after each
failure); each one is also written to the audit log. Every change (set-up,
disable, new recovery codes, a reset by the operator) is audited here.

The views (accounts/security_views.py) call these functions; the middleware
(accounts/middleware.py) keeps a session that has not passed the second factor
on its pages.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from oxytrack.accounts.models import Role, User
from oxytrack.audit.actions import record
from oxytrack.audit.models import Action

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "Application d'authentification"
RECOVERY_NAME = "Codes de secours"
_TOTP_CODE = re.compile(r"\d{6}")


class SecondFactorRequired(Exception):
    """The super-administrator's second factor cannot be turned off."""


def is_required(user: User) -> bool:
    """The super-administrator must use a second factor; the other managers may."""
    return user.role == Role.SUPERADMIN


def confirmed_totp(user: User) -> TOTPDevice | None:
    """The user's authenticator, once set up and confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_enabled(user: User) -> bool:
    """The user has a confirmed authenticator: every login asks for a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def remaining_recovery_codes(user: User) -> int:
    """How many unused recovery codes the user has left."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_totp(user: User) -> TOTPDevice:
    """The authenticator being set up (unconfirmed), created with a fresh secret once:
    reloading the set-up page keeps the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class Provisioning:
    """What the set-up page shows: the secret for manual entry and its QR code."""

    secret: str  # base32, in groups of 4 characters
    uri: str  # otpauth://totp/...
    qr_svg: SafeString  # an inline <svg> element (no XML declaration, no style attribute)


def provisioning(device: TOTPDevice) -> Provisioning:
    """The secret of `device` as an authenticator app takes it: typed or scanned."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    uri = str(device.config_url)
    # svg_inline: no XML declaration; the colours are attributes, not a style
    # attribute, so the strict CSP (no inline style) has nothing to refuse.
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    # segno draws the code as paths: no text of the URI (nor the user's e-mail) is in it.
    qr = SafeString(svg)  # nosec B703  # segno's own markup, no user text
    return Provisioning(secret=grouped, uri=uri, qr_svg=qr)


def normalise(code: str) -> str:
    """A code as typed: spaces and dashes removed, lower case (recovery codes)."""
    return re.sub(r"[\s-]", "", code or "").lower()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@dataclass(frozen=True)
class Check:
    """The outcome of a code: the device that accepted it, or why it was refused."""

    device: Device | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.device is not None

    @property
    def used_recovery_code(self) -> bool:
        return isinstance(self.device, StaticDevice)


def _throttled(device: Device) -> str:
    """A readable message when django-otp's throttle refuses to check `device` now."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return ""
    locked_until = (info or {}).get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
    return ngettext(
        "Trop de codes erronés : réessayez dans %(n)d seconde.",
        "Trop de codes erronés : réessayez dans %(n)d secondes.",
        seconds,
    ) % {"n": seconds}


def _check(device: Device | None, code: str) -> Check:
    if device is None:
        return Check(None, _("Code incorrect."))
    waiting = _throttled(device)
    if waiting:
        return Check(None, waiting)
    if device.verify_token(code):  # counts the failure in the device's throttle
        return Check(device)
    return Check(None, _("Code incorrect. Vérifiez l'heure de votre téléphone et réessayez."))


def check_code(user: User, code: str, *, recovery: bool = True) -> Check:
    """Check a code typed by `user`: 6 digits for the authenticator, otherwise a
    recovery code (used up when accepted), unless `recovery` is False.

    Each kind has its own throttle; a failure is not audited here (see
    do_verify_second_factor).
    """
    code = normalise(code)
    if not code:
        return Check(None, _("Saisissez le code."))
    if _TOTP_CODE.fullmatch(code):
        return _check(confirmed_totp(user), code)
    if not recovery:
        return Check(None, _("Saisissez les 6 chiffres de votre application."))
    return _check(StaticDevice.objects.filter(user=user, confirmed=True).first(), code)


@transaction.atomic
def do_verify_second_factor(user: User, code: str, *, ip: str | None) -> Check:
    """The login's second step: check `code`; audit a failure or a recovery code used.

    The caller marks the session verified (django_otp.login) on success.
    """
    result = check_code(user, code)
    if not result.ok:
        record(
            Action.OTP_FAILED,
            actor=None,
            actor_label="",
            target=user,
            target_label=user.email,
            ip=ip,
        )
    elif result.used_recovery_code:
        record(
            Action.OTP_RECOVERY_USED,
            actor=user,
            target=user,
            target_label=user.email,
            detail={"remaining": remaining_recovery_codes(user)},
            ip=ip,
        )
    return result


@transaction.atomic
def do_enable_second_factor(
    user: User, device: TOTPDevice, code: str, *, ip: str | None
) -> tuple[Check, list[str]]:
    """Confirm the authenticator being set up with a code from it.

    On success the device is confirmed, any other authenticator of the user
    removed, new recovery codes made (returned in clear, to be shown once) and
    the set-up audited.
    """
    if device.user_id != user.pk or device.confirmed:
        return Check(None, _("Recommencez la configuration.")), []
    code = normalise(code)
    if not _TOTP_CODE.fullmatch(code):
        return Check(None, _("Saisissez les 6 chiffres de votre application.")), []
    result = _check(device, code)
    if not result.ok:
        return result, []
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    record(Action.OTP_ENABLE, actor=user, target=user, target_label=user.email, ip=ip)
    return result, codes


@transaction.atomic
def do_regenerate_recovery_codes(
    user: User, code: str, *, ip: str | None
) -> tuple[Check, list[str]]:
    """New recovery codes (the old ones stop working), after a code from the authenticator."""
    result = check_code(user, code, recovery=False)
    if not result.ok:
        return result, []
    codes = _new_recovery_codes(user)
    record(Action.OTP_RECOVERY_REGENERATED, actor=user, target=user, target_label=user.email, ip=ip)
    return result, codes


@transaction.atomic
def do_disable_second_factor(user: User, code: str, *, ip: str | None) -> Check:
    """Turn the second factor off after a current code (authenticator or recovery).

    Raises SecondFactorRequired for the super-administrator.
    """
    if is_required(user):
        raise SecondFactorRequired(user.email)
    result = check_code(user, code)
    if not result.ok:
        return result
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    record(Action.OTP_DISABLE, actor=user, target=user, target_label=user.email, ip=ip)
    return result


@transaction.atomic
def do_reset_second_factor(user: User) -> int:
    """The operator's reset (`oxytrack reset_2fa`): remove every authenticator and
    recovery code of `user`, who sets one up again at the next login if required.

    Their verified sessions stop being verified (the device they name is gone).
    Returns how many devices were removed.
    """
    totp = TOTPDevice.objects.filter(user=user)
    static = StaticDevice.objects.filter(user=user)
    removed = totp.count() + static.count()
    totp.delete()
    static.delete()  # its tokens go with it
    record(
        Action.OTP_RESET,
        actor=None,
        target=user,
        target_label=user.email,
        detail={"devices": removed},
    )
    return removed
