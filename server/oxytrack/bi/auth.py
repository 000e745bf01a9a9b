"""`Authorization: Bearer oxp_…`: the manager's personal access token."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from oxytrack.bi.models import AccessToken
from oxytrack.bi.tokens import MAX_TOKEN_LENGTH, TOKEN_PREFIX, token_digest

# last_used_at is a "roughly when" for the settings page: written at most
# once a minute per token, not on every call of a BI tool's burst.
LAST_USED_PRECISION = timedelta(minutes=1)


class AccessTokenAuth(HttpBearer):
    """The token whose digest matches, if not revoked nor expired, and whose
    owner may still read activity (an admin or the super-admin, active)."""

    def authenticate(self, request: HttpRequest, token: str) -> AccessToken | None:
        # Cheap refusals first: what cannot be one of our tokens costs no query.
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        digest = token_digest(token)
        found = AccessToken.objects.select_related("user").filter(digest=digest).first()
        if found is None or not hmac.compare_digest(found.digest, digest):
            return None
        now = timezone.now()
        # The owner's role is read now: a deactivated admin, or one who became
        # the dpo, has tokens that no longer open anything.
        if not found.is_usable(now) or not found.user.sees_activity:
            return None
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
            AccessToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        return found
