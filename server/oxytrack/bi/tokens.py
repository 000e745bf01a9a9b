"""The secret of a personal access token and its stored form.

The token is `oxp_` and 32 random bytes (256 bits): it is never guessed, so
it needs no slow hash. A password hasher (argon2, PBKDF2) exists to make
guessing a *low-entropy* secret expensive; here it would only cost tens of
milliseconds of CPU on every API call, and its salt would forbid looking the
token up by its hash. A plain SHA-256 digest, unique and indexed, finds the
row in one query and tells nothing about the token if the database leaks.
Unlike the device tokens (HMAC keyed by SECRET_KEY, org/tokens.py) it does
not depend on the server secret, so rotating that secret keeps BI tools working.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "oxp_"  # noqa: S105 (a prefix, not a secret)
# Characters of the token kept in clear to tell tokens apart in the list.
SHOWN_PREFIX_LENGTH = 12
# A token is 4 + 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100


def new_token() -> str:
    """A fresh token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of `token` (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
