"""Device API tokens: random, shown once, stored as an HMAC.

The HMAC is keyed by SECRET_KEY, so a leaked database alone does not let
anyone forge or test tokens (changing SECRET_KEY means re-enrolling agents).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_PREFIX = "oxd_"  # noqa: S105 (a prefix, not a secret)


def new_device_token() -> str:
    """A fresh token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """The stored form of `token` (hex HMAC-SHA256)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_device_token(token), stored_hash)
