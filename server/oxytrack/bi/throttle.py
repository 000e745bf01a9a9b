"""A ceiling on each token's calls (OXYTRACK_API_CALLS_PER_MINUTE): 429 `slow_down`
with `Retry-After`, by the agent API's throttle (django-ninja's, in Django's cache)."""

from __future__ import annotations

from oxytrack.ingest.throttle import DeviceRateThrottle


class TokenRateThrottle(DeviceRateThrottle):
    """Calls per minute of one access token (the authenticated `request.auth`)."""

    scope = "bi_token"
    setting = "OXYTRACK_API_CALLS_PER_MINUTE"


token_throttle = TokenRateThrottle()
