"""The agent API (DESIGN.md, wire protocol), mounted at /api/agent/v1/.

Five calls: `GET choices` and `POST enroll` with the enrollment key,
`POST batches`, `GET policy` and `POST portal-link` with a device token.
Views stay thin: read and validate, call one action, answer. Errors are `{code, message}`
(errors.py). The OpenAPI schema is public at `openapi.json` (it holds no
secret, and the agent's contract test reads it); the browsable docs page is
for logged-in managers.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.openapi.views import openapi_json
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from oxytrack.ingest.actions import do_store_batch, touch_device
from oxytrack.ingest.auth import DeviceTokenAuth, EnrollmentKeyAuth, client_ip
from oxytrack.ingest.body import parse_json, read_body
from oxytrack.ingest.errors import ApiError, Code, install_handlers
from oxytrack.ingest.schemas import (
    BatchIn,
    BatchOut,
    ChoicesOut,
    EnrollIn,
    EnrollOut,
    ErrorOut,
    PolicyOut,
)
from oxytrack.ingest.throttle import device_throttle
from oxytrack.ingest.writelock import batch_slot, checkpoint_wal
from oxytrack.org.enroll import EnrollmentRefused, do_enroll_device
from oxytrack.org.models import Agency, Device, Service
from oxytrack.policy.queries import effective_policy
from oxytrack.portal.actions import do_issue_portal_link

# Bodies we parse ourselves (gzip, size cap, pydantic's JSON parser), so
# ninja does not know them: they are added to the schema here.
_BODIES: dict[str, type[Any]] = {"BatchIn": BatchIn, "EnrollIn": EnrollIn}
# Enrollment bodies are small; a cap keeps a bad client from sending megabytes.
_MAX_ENROLL_BYTES = 64 * 1024


def _manager_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The docs page is for logged-in managers; the JSON schema stays public."""
    if getattr(view, "func", None) is openapi_json:
        return view

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_superadmin or user.is_admin):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class AgentAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Ninja's schema plus the request bodies the views parse themselves."""
        schema = super().get_openapi_schema(*args, **kwargs)
        _, definitions = models_json_schema(
            [(model, "validation") for model in _BODIES.values()],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            components.setdefault(name, definition)
        return schema


def _body(name: str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": ref}},
        }
    }


api = AgentAPI(
    title="OxyTrack agent API",
    version="1",
    description="The calls the OxyTrack desktop agent makes (see docs/api.md).",
    urls_namespace="agent_api",
    docs_decorator=_manager_only,
)
install_handlers(api)

_ERRORS = {400: ErrorOut, 401: ErrorOut, 503: ErrorOut}


def _device(request: HttpRequest) -> Device:
    return cast(Device, request.auth)  # type: ignore[attr-defined]


def _policy_for(device: Device) -> dict[str, Any]:
    employee = device.employee
    return effective_policy(employee.agency_id, employee.service_id)


@api.get(
    "/choices",
    auth=EnrollmentKeyAuth(),
    response={200: ChoicesOut, **_ERRORS},
    summary="Agencies and services the install dialog offers",
)
def choices(request: HttpRequest) -> dict[str, list[str]]:
    """The names the installer may pick from (exact spelling to send to `enroll`)."""
    return {
        "agencies": list(Agency.objects.order_by("name").values_list("name", flat=True)),
        "services": list(Service.objects.order_by("name").values_list("name", flat=True)),
    }


@api.post(
    "/enroll",
    auth=EnrollmentKeyAuth(),
    response={
        201: EnrollOut,
        409: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
        **_ERRORS,
    },
    openapi_extra=_body("EnrollIn", "the machine and the installer's answers"),
    summary="Enroll a device; returns its token, once",
)
def enroll(request: HttpRequest) -> Status[dict[str, Any]]:
    """Create or find the employee and device; issue a new device token."""
    data = parse_json(read_body(request, _MAX_ENROLL_BYTES), EnrollIn)
    _valid_time_zone(data.time_zone)
    try:
        enrollment = do_enroll_device(
            username=data.username,
            domain=data.domain,
            hostname=data.hostname,
            os=data.os,
            agent_version=data.agent_version,
            time_zone=data.time_zone,
            local_ips=data.local_ips,
            agency_name=data.agency,
            service_name=data.service,
            ip=client_ip(request),
            display_name=data.display_name,
        )
    except EnrollmentRefused as refused:
        status = 409 if refused.code == Code.ALREADY_ASSIGNED else 422
        raise ApiError(status, refused.code, refused.message) from None
    return Status(
        201,
        {
            "device_id": enrollment.device.public_id,
            "device_token": enrollment.token,
            "policy": _policy_for(enrollment.device),
        },
    )


def _valid_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            422, Code.INVALID_TIME_ZONE, f"time_zone: unknown IANA time zone {name!r}"
        ) from None


@api.post(
    "/batches",
    auth=DeviceTokenAuth(),
    throttle=device_throttle,
    response={
        200: BatchOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
        **_ERRORS,
    },
    openapi_extra=_body("BatchIn", "JSON, or gzip-compressed JSON with `Content-Encoding: gzip`"),
    summary="Upload a batch of spans (all or nothing; replays are harmless)",
)
def batches(request: HttpRequest) -> dict[str, Any]:
    """Store a batch; a batch id already stored answers `duplicate: true`."""
    device = _device(request)
    body = read_body(request, settings.OXYTRACK_MAX_BATCH_BYTES)
    with batch_slot():
        stored = do_store_batch(device, parse_json(body, BatchIn), ip=client_ip(request))
    if not stored.duplicate:
        checkpoint_wal()
    return {
        "accepted": stored.accepted,
        "duplicate": stored.duplicate,
        "policy_version": _policy_for(device)["version"],
    }


@api.get(
    "/policy",
    auth=DeviceTokenAuth(),
    throttle=device_throttle,
    response={200: PolicyOut, 429: ErrorOut, **_ERRORS},
    summary="The policy this device must apply",
)
def policy(request: HttpRequest) -> dict[str, Any]:
    """Defaults, overridden globally, per agency, then per service."""
    device = _device(request)
    touch_device(device, ip=client_ip(request), now=timezone.now())
    return _policy_for(device)


class PortalLinkOut(BaseModel):
    path: str = Field(description="the one-time link, relative to the server's address")
    url: str = Field(description="the same link, absolute, as this server sees its own address")
    expires_at: str = Field(description="ISO 8601 with offset: unused after this, it is refused")


@api.post(
    "/portal-link",
    auth=DeviceTokenAuth(),
    throttle=device_throttle,
    response={201: PortalLinkOut, 429: ErrorOut, **_ERRORS},
    summary="A one-time link to the employee portal (single use, 2 minutes)",
)
def portal_link(request: HttpRequest) -> Status[dict[str, str]]:
    """Issue a link opening this device's employee's portal in a browser (audited).

    Takes no body. The agent joins `path` to the server address it was enrolled
    with (behind a proxy `url` may carry an inner address).
    """
    issued = do_issue_portal_link(_device(request), ip=client_ip(request))
    path = reverse("portal:enter", args=[issued.code])
    return Status(
        201,
        {
            "path": path,
            "url": request.build_absolute_uri(path),
            "expires_at": issued.expires_at.isoformat(),
        },
    )
