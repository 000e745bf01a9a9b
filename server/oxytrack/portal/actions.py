"""Issuing and using the portal's one-time links (both written to the audit log)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oxytrack.audit.actions import record
from oxytrack.audit.models import Action
from oxytrack.org.models import Device, Employee
from oxytrack.portal.models import PortalLink

#: How long a link may wait before it is opened: the agent opens the browser at once.
LINK_LIFETIME = timedelta(minutes=2)
#: Codes are URL-safe text of this many random bytes (256 bits: never guessed).
CODE_BYTES = 32
#: Longest code a URL may carry (a longer one is refused before any hashing).
MAX_CODE_CHARS = 100


@dataclass(frozen=True)
class IssuedLink:
    code: str
    expires_at: datetime


def hash_code(code: str) -> str:
    """The stored form of a code: HMAC-SHA256 keyed by the server secret (like device tokens)."""
    key = b"portal-link:" + settings.SECRET_KEY.encode()
    return hmac.new(key, code.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def do_issue_portal_link(
    device: Device, *, ip: str | None, now: datetime | None = None
) -> IssuedLink:
    """A new one-time code for the employee of `device`, shown once (audited).

    The employee's older unused links stay valid until they expire: two clicks
    in a row each open a browser tab that works.
    """
    now = now or timezone.now()
    code = secrets.token_urlsafe(CODE_BYTES)
    employee = device.employee
    with transaction.atomic():
        # Links nobody can use any more go as new ones come (an indexed, small delete).
        PortalLink.objects.filter(expires_at__lte=now).delete()
        link = PortalLink.objects.create(
            employee=employee,
            device=device,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        record(
            Action.PORTAL_LINK,
            actor=None,
            actor_label=employee.login,
            target=employee,
            detail={"device": device.hostname, "expires_at": link.expires_at.isoformat()},
            ip=ip,
        )
    return IssuedLink(code=code, expires_at=link.expires_at)


def do_use_portal_link(
    code: str, *, ip: str | None, now: datetime | None = None
) -> Employee | None:
    """The employee a valid, unused, unexpired code opens the portal for; None otherwise.

    The code is spent by one conditional UPDATE, so two requests racing with the
    same code cannot both win. A success is a portal login in the audit log.
    """
    if not code or len(code) > MAX_CODE_CHARS:
        return None
    now = now or timezone.now()
    digest = hash_code(code)
    with transaction.atomic():
        spent = PortalLink.objects.filter(
            code_hash=digest, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if spent != 1:
            return None
        link = PortalLink.objects.select_related("employee", "device").get(code_hash=digest)
        employee = link.employee
        record(
            Action.PORTAL_LOGIN,
            actor=None,
            actor_label=employee.login,
            target=employee,
            detail={"device": link.device.hostname},
            ip=ip,
        )
    return employee
