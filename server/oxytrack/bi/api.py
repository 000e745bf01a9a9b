"""The read API for BI (docs/api-bi.md), mounted at /api/v1/.

Three GET calls with a personal access token (`Authorization: Bearer oxp_…`):
the employees the token's owner sees, one employee's usage, a team's usage.
Views stay thin: validate, read (bi/queries.py), audit, answer. Errors are
`{code, message}`, as on the agent API (whose handlers and throttle are reused);
out of scope and missing are the same 404. The OpenAPI schema is public at
`openapi.json`; the browsable docs page is for logged-in managers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query
from ninja.errors import HttpError
from ninja.openapi.views import openapi_json
from pydantic import BaseModel

from oxytrack.bi import queries
from oxytrack.bi.actions import do_record_api_read, do_record_api_view
from oxytrack.bi.auth import AccessTokenAuth
from oxytrack.bi.models import AccessToken
from oxytrack.bi.schemas import (
    EmployeesIn,
    EmployeesOut,
    EmployeeUsageIn,
    RangeIn,
    TeamUsageIn,
    UsageOut,
)
from oxytrack.bi.throttle import token_throttle
from oxytrack.ingest.auth import client_ip
from oxytrack.ingest.errors import ApiError, error_response, install_handlers
from oxytrack.ingest.schemas import ErrorOut
from oxytrack.org.queries import get_employee_for
from oxytrack.web.forms import MAX_RANGE_DAYS


class Code:
    """Error codes of this API beyond the agent API's (docs/api-bi.md)."""

    INVALID_RANGE = "invalid_range"  # 422: end before start, or over MAX_RANGE_DAYS
    REASON_REQUIRED = "reason_required"  # 422: OXYTRACK_ACCESS_REASON is on
    TOO_MUCH = "too_much"  # 422: a team's titles or apps over too many employee-days


def _managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The docs page is for logged-in managers who read activity; the JSON schema is public."""
    if getattr(view, "func", None) is openapi_json:
        return view

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "sees_activity", False):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="OxyTrack BI API",
    version="1",
    description=(
        "Read-only figures for BI tools, with a personal access token "
        "(see docs/api-bi.md). Durations are integer milliseconds."
    ),
    urls_namespace="bi_api",
    auth=AccessTokenAuth(),
    throttle=token_throttle,
    docs_decorator=_managers_only,
)
install_handlers(api)


def _on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    if exc.status_code == 429:  # ninja's throttling adds Retry-After itself
        error = ApiError(
            429,
            "slow_down",
            "Trop d'appels avec ce jeton, réessayez plus tard. / "
            "Too many calls with this token: retry after Retry-After seconds.",
        )
    else:
        error = ApiError(exc.status_code, "invalid_field", str(exc))
    return error_response(api, request, error)


def _on_404(request: HttpRequest, exc: Any) -> HttpResponse:
    # The page's own words ("Utilisateur introuvable."), the same for missing and out of scope.
    message = str(exc) or "Introuvable. / Not found."
    return error_response(api, request, ApiError(404, "not_found", message))


# Replacing the agent API's: its words speak of a device.
api.add_exception_handler(HttpError, _on_http_error)
api.add_exception_handler(Http404, _on_404)

_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _token(request: HttpRequest) -> AccessToken:
    return cast(AccessToken, request.auth)  # type: ignore[attr-defined]


def _known_parameters(request: HttpRequest, params: BaseModel) -> None:
    """422 for a parameter this call does not take: a typo (`start_date`) would
    otherwise be ignored silently and answer figures for another question."""
    unknown = sorted(set(request.GET) - set(type(params).model_fields))
    if unknown:
        raise ApiError(
            422,
            "invalid_field",
            f"Paramètre inconnu : {unknown[0][:50]!r}. / Unknown parameter: {unknown[0][:50]!r}.",
        )


def _check_range(params: RangeIn) -> None:
    if params.end < params.start:
        raise ApiError(
            422,
            Code.INVALID_RANGE,
            "La date de fin est antérieure à la date de début. / end is before start.",
        )
    if (params.end - params.start).days >= MAX_RANGE_DAYS:
        raise ApiError(
            422,
            Code.INVALID_RANGE,
            f"La période ne peut pas dépasser {MAX_RANGE_DAYS} jours. / "
            f"The range is at most {MAX_RANGE_DAYS} days.",
        )


@api.get(
    "/employees",
    response={200: EmployeesOut, **_ERRORS},
    summary="The employees I may see, filterable, in name order",
)
def employees(request: HttpRequest, params: Query[EmployeesIn]) -> dict[str, Any]:
    """Employees in my scopes (all for the super-admin), French name order, paginated."""
    _known_parameters(request, params)
    token = _token(request)
    qs = queries.employees_for(
        token.user, agency=params.agency, service=params.service, text=params.q
    )
    count = qs.count()
    page = list(qs[params.offset : params.offset + params.limit])
    do_record_api_read(
        "employees", params.model_dump(mode="json"), token=token, ip=client_ip(request)
    )
    return {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "items": [
            {
                "id": e.public_id,
                "name": e.shown_name,
                "username": e.username,
                "domain": e.domain,
                "display_name": e.display_name,
                "agency": e.agency.name if e.agency else None,
                "service": e.service.name if e.service else None,
                "time_zone": e.local_zone,  # type: ignore[attr-defined]
            }
            for e in page
        ],
    }


@api.get(
    "/employees/{employee_id}/usage",
    response={200: UsageOut, **_ERRORS},
    exclude_none=True,
    summary="One employee's time by title, app, category, day or hour over a range",
)
def employee_usage(
    request: HttpRequest, employee_id: UUID, params: Query[EmployeeUsageIn]
) -> dict[str, Any]:
    """Audited as a view of that employee, as the detail page is."""
    _known_parameters(request, params)
    token = _token(request)
    employee = get_employee_for(token.user, employee_id)
    _check_range(params)
    reason = params.reason.strip()
    if settings.OXYTRACK_ACCESS_REASON and not reason:
        raise ApiError(
            422,
            Code.REASON_REQUIRED,
            "Indiquez le motif de la consultation (paramètre reason). / "
            "Give the reason for this access (reason parameter).",
        )
    found = queries.usage(
        employee, params.start, params.end, params.by, limit=params.limit, offset=params.offset
    )
    do_record_api_view(
        employee,
        params.start,
        params.end,
        by=params.by.value,
        token=token,
        ip=client_ip(request),
        reason=reason,
    )
    return {
        "start": params.start,
        "end": params.end,
        "by": params.by,
        "employee": employee.public_id,
        "count": found.count,
        "limit": params.limit,
        "offset": params.offset,
        "items": found.rows,
    }


@api.get(
    "/usage",
    response={200: UsageOut, **_ERRORS},
    exclude_none=True,
    summary="A team's time (an agency and/or a service, or my whole scope) over a range",
)
def team_usage(request: HttpRequest, params: Query[TeamUsageIn]) -> dict[str, Any]:
    """The sum over the team's employees; audited with the employees whose time it holds."""
    _known_parameters(request, params)
    token = _token(request)
    team = queries.team_for(token.user, agency=params.agency, service=params.service)
    _check_range(params)
    if params.by in queries.PER_WINDOW:
        # Summing per window reads about 20 rollup rows per employee and day:
        # a whole organisation over a year is millions, minutes of one worker.
        days = (params.end - params.start).days + 1
        employee_days = team.count() * days
        if employee_days > settings.OXYTRACK_API_MAX_EMPLOYEE_DAYS:
            raise ApiError(
                422,
                Code.TOO_MUCH,
                f"Trop de données pour un appel ({employee_days} jours-utilisateurs, "
                f"au plus {settings.OXYTRACK_API_MAX_EMPLOYEE_DAYS}) : réduisez la période "
                "ou l'équipe. / Too much for one call (employee-days over the limit): "
                "ask for a shorter range or a smaller team.",
            )
    found = queries.usage(
        team, params.start, params.end, params.by, limit=params.limit, offset=params.offset
    )
    do_record_api_read(
        "usage",
        params.model_dump(mode="json"),
        token=token,
        ip=client_ip(request),
        employees=queries.employees_with_time(team, params.start, params.end),
    )
    return {
        "start": params.start,
        "end": params.end,
        "by": params.by,
        "agency": params.agency or None,
        "service": params.service or None,
        "count": found.count,
        "limit": params.limit,
        "offset": params.offset,
        "items": found.rows,
    }
