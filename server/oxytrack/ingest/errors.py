"""Errors of the agent API: always JSON `{code, message}`, never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from oxytrack import api_errors

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

# Seconds an agent should wait after a 503 or 429 before trying again.
RETRY_AFTER_S = 5


class Code:
    """The stable error codes (documented in docs/api.md).

    Those of errors answered outside the views (unknown URL, wrong method,
    bad Host, crash) come from oxytrack.api_errors, for every API.
    """

    MALFORMED = "malformed"  # 400: not JSON, not an object, bad gzip
    BAD_REQUEST = api_errors.Code.BAD_REQUEST  # 400: refused by Django before the view
    BAD_HOST = api_errors.Code.BAD_HOST  # 400: Host header not in ALLOWED_HOSTS
    UNAUTHORIZED = "unauthorized"  # 401: missing, unknown or revoked token / key
    FORBIDDEN = api_errors.Code.FORBIDDEN  # 403
    NOT_FOUND = api_errors.Code.NOT_FOUND  # 404
    METHOD_NOT_ALLOWED = api_errors.Code.METHOD_NOT_ALLOWED  # 405, with Allow
    ALREADY_ASSIGNED = "already_assigned"  # 409
    TOO_LARGE = "too_large"  # 413: body over OXYTRACK_MAX_BATCH_BYTES (decompressed)
    TOO_MANY_SPANS = "too_many_spans"  # 413: over OXYTRACK_MAX_BATCH_SPANS
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # 415
    INVALID_FIELD = "invalid_field"  # 422: type, length, format
    INVALID_TIME_ZONE = "invalid_time_zone"  # 422
    UNKNOWN_AGENCY = "unknown_agency"  # 422
    UNKNOWN_SERVICE = "unknown_service"  # 422
    SPAN_IN_FUTURE = "span_in_future"  # 422
    SPAN_TOO_LONG = "span_too_long"  # 422
    SPAN_TOO_OLD = "span_too_old"  # 422
    OVERLAP = "overlap"  # 422
    BATCH_ID_TAKEN = "batch_id_taken"  # 422: the id belongs to another device's batch
    SLOW_DOWN = "slow_down"  # 429
    SERVER_ERROR = api_errors.Code.SERVER_ERROR  # 500: a bug
    BUSY = "busy"  # 503


class ApiError(Exception):
    """Raised anywhere below a view to answer `status` with `{code, message}`."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class StorageBusy(ApiError):
    """The database stayed locked longer than a request may wait."""

    def __init__(self) -> None:
        super().__init__(
            503,
            Code.BUSY,
            "Stockage occupé, réessayez plus tard. / Storage busy, retry later.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


def is_lock_error(exc: OperationalError) -> bool:
    """True for transient contention: a SQLite lock, a PostgreSQL lock timeout,
    serialization failure or deadlock (worth a retry, then a 503)."""
    text = str(exc).lower()
    return any(
        words in text
        for words in (
            "locked",
            "busy",
            "deadlock",
            "could not serialize",
            "could not obtain lock",
            "lock timeout",  # PostgreSQL: "canceling statement due to lock timeout"
        )
    )


def error_response(api: NinjaAPI, request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(
        request, {"code": error.code, "message": error.message}, status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def _describe_validation(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {}
    loc = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query"))
    return f"{loc}: {first.get('msg', 'invalid')}" if loc else str(first.get("msg", "invalid"))


def install_handlers(api: NinjaAPI) -> None:
    """Map every exception a view may raise to the `{code, message}` format."""

    def on_api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, exc)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        message = _describe_validation(list(exc.errors))
        return error_response(api, request, ApiError(422, Code.INVALID_FIELD, message))

    def on_auth(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(
            api,
            request,
            ApiError(401, Code.UNAUTHORIZED, "Jeton ou clé invalide. / Invalid token or key."),
        )

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 429:  # ninja's throttling adds Retry-After itself
            return error_response(
                api,
                request,
                ApiError(
                    429,
                    Code.SLOW_DOWN,
                    "Trop d'appels de ce poste, réessayez plus tard. / "
                    "Too many calls from this device: retry after Retry-After seconds.",
                ),
            )
        code = {400: Code.MALFORMED, 404: Code.NOT_FOUND}.get(exc.status_code, Code.INVALID_FIELD)
        return error_response(api, request, ApiError(exc.status_code, code, str(exc)))

    def on_404(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api, request, ApiError(404, Code.NOT_FOUND, "Not found"))

    def on_operational(request: HttpRequest, exc: Any) -> HttpResponse:
        # Storage trouble is not the agent's fault: 503 tells it to retry later
        # with the same batch, instead of a 500 it would treat as a bug.
        logger.warning("agent API: database unavailable: %s", exc)
        return error_response(api, request, StorageBusy())

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(NinjaValidationError, on_validation)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(OperationalError, on_operational)
