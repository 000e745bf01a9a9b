"""A ceiling on each device's calls: 429 `slow_down` with `Retry-After`.

An agent uploads every few minutes and, back from a long absence, drains
its queue batch after batch; only a misbehaving one (a bug, a loop) calls
hundreds of times a minute. The ceiling, OXYTRACK_DEVICE_CALLS_PER_MINUTE,
is counted by django-ninja's throttling in the "calls" cache: per server
process (memory), so it is approximate, which a safety ceiling may be. Not in
the shared file cache: a file per device would crowd out the teams' sums, and
every call would list the directory (settings.CACHES). The agent honours
`Retry-After`.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from django.utils.connection import ConnectionProxy
from ninja.throttling import SimpleRateThrottle


class DeviceRateThrottle(SimpleRateThrottle):
    """Calls per minute of one device (the authenticated `request.auth`, by its pk)."""

    scope = "device"
    # A proxy, as django.core.cache.cache is: each thread gets its own connection.
    cache = cast(BaseCache, ConnectionProxy(caches, "calls"))
    # The setting holding the ceiling (the BI API's token throttle reads its own).
    setting = "OXYTRACK_DEVICE_CALLS_PER_MINUTE"

    def __init__(self) -> None:
        super().__init__(rate="1/m")  # replaced by the setting on each call
        # ninja keeps a request's counts on this shared object between
        # allow_request() and wait(): one request at a time, per thread's answer.
        self._lock = threading.Lock()
        self._answers = threading.local()

    def get_cache_key(self, request: HttpRequest) -> str | None:
        device: Any = getattr(request, "auth", None)
        if device is None or getattr(device, "pk", None) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": device.pk}

    def allow_request(self, request: HttpRequest) -> bool:
        """Count this call; False past the ceiling (read from settings each time)."""
        with self._lock:
            self.num_requests, self.duration = getattr(settings, self.setting), 60
            allowed = super().allow_request(request)
            self._answers.wait = None if allowed else super().wait()
        return allowed

    def wait(self) -> float | None:
        """Seconds until this thread's refused call would be accepted."""
        return getattr(self._answers, "wait", None)


device_throttle = DeviceRateThrottle()
