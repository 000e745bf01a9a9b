"""Who is calling: the enrollment key, a device token, the client's address."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer

from oxytrack.org.actions import get_enrollment_key
from oxytrack.org.models import Device
from oxytrack.org.tokens import TOKEN_PREFIX, hash_device_token, token_matches

ENROLLMENT_KEY_HEADER = "X-Enrollment-Key"


class EnrollmentKeyAuth(APIKeyHeader):
    """`X-Enrollment-Key: oxe_…`, compared in constant time with the current key."""

    param_name = ENROLLMENT_KEY_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> bool | None:
        if not key:
            return None
        current = get_enrollment_key()
        return hmac.compare_digest(key.encode(), current.encode()) or None


class DeviceTokenAuth(HttpBearer):
    """`Authorization: Bearer oxd_…`: the device whose token hash matches, if not revoked."""

    def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        # Cheap refusals first: anything that cannot be one of our tokens
        # costs no database query.
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = hash_device_token(token)
        device = (
            Device.objects.select_related("employee")
            .filter(token_hash=digest, revoked_at__isnull=True)
            .first()
        )
        # The lookup is by HMAC, which leaks nothing about the token; the
        # constant-time comparison is the belt to those braces.
        if device is None or not device.token_hash or not token_matches(token, device.token_hash):
            return None
        return device


@lru_cache(maxsize=8)
def _trusted_networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _parse_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the agent.

    `REMOTE_ADDR`, unless it is one of `settings.TRUSTED_PROXIES`: then the
    right-most `X-Forwarded-For` hop that is not a trusted proxy. Without a
    trusted proxy the header is ignored, since any client can send it.
    """
    remote = _parse_ip(request.META.get("REMOTE_ADDR"))
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if remote is None or not any(remote in net for net in networks):
        return str(remote) if remote is not None else None
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _parse_ip(hop)
        if address is None:
            break  # a garbled chain: trust nothing beyond the proxy
        if not any(address in net for net in networks):
            return str(address)
    return str(remote)
