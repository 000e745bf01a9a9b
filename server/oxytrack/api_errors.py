"""Every response under /api/ is JSON, errors included: `{code, message}`.

The API views answer their own errors (ingest/errors.py). What Django
answers before or around them is HTML: an unknown URL (404), a method a
route does not take (ninja's 405), a bad Host header (DisallowedHost,
raised by CommonMiddleware before any URL is resolved), a CSRF failure, a
crash (500). `ApiJsonErrorsMiddleware`, first in MIDDLEWARE so that it sees
every answer, turns those into JSON for /api/ paths; `bad_request`
(handler400) tells a bad Host and a too-large body from other 400s, which a
response alone does not say. Pages outside /api/ keep their HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views import defaults

API_PREFIX = "/api/"


class Code:
    """The codes of errors answered outside the API views (docs/api.md)."""

    BAD_REQUEST = "bad_request"  # 400
    BAD_HOST = "bad_host"  # 400: Host header not in ALLOWED_HOSTS
    FORBIDDEN = "forbidden"  # 403, a CSRF failure included
    NOT_FOUND = "not_found"  # 404: no such URL
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405, with Allow
    TOO_LARGE = "too_large"  # 413
    SERVER_ERROR = "server_error"  # 500: a bug, logged with its traceback


# French first, then English, as in the API's other messages.
_KNOWN: dict[int, tuple[str, str]] = {
    400: (Code.BAD_REQUEST, "Requête invalide. / Bad request."),
    403: (Code.FORBIDDEN, "Accès refusé. / Forbidden."),
    404: (Code.NOT_FOUND, "Adresse inconnue. / Not found."),
    405: (
        Code.METHOD_NOT_ALLOWED,
        "Méthode non acceptée par cette adresse (voir l'en-tête Allow). / "
        "Method not allowed here (see the Allow header).",
    ),
    413: (Code.TOO_LARGE, "Requête trop grosse. / Request too large."),
    500: (
        Code.SERVER_ERROR,
        "Erreur du serveur, consignée dans son journal. / Server error, written to its log.",
    ),
}
# Headers of Django's answer that say nothing about its HTML body; the rest
# (Allow, Retry-After, security headers, cookies) is kept.
_BODY_HEADERS = {"content-type", "content-length"}


def is_api(request: HttpRequest) -> bool:
    """True for a request under /api/ (which must get JSON answers)."""
    return request.path_info.startswith(API_PREFIX)


def json_error(status: int, code: str, message: str) -> JsonResponse:
    """The `{code, message}` answer of the APIs."""
    # The content type django-ninja gives the API views' own answers.
    return JsonResponse(
        {"code": code, "message": message},
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _known(status: int) -> tuple[str, str]:
    if status in _KNOWN:
        return _KNOWN[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase.lower().replace(" ", "_").replace("-", "_"), phrase + "."


def _is_json(response: HttpResponseBase) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def as_json(response: HttpResponseBase) -> HttpResponseBase:
    """`response` itself when it is JSON, else a `{code, message}` with its status and headers."""
    if _is_json(response):
        return response
    code, message = _known(response.status_code)
    answer = json_error(response.status_code, code, message)
    for name, value in response.items():
        if name.lower() not in _BODY_HEADERS:
            answer[name] = value
    answer.cookies = response.cookies
    return answer


class ApiJsonErrorsMiddleware:
    """Errors under /api/ that Django answered in HTML (or plain text) become JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code >= 400 and is_api(request):
            return as_json(response)
        return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: under /api/, which 400 it is; elsewhere Django's page."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        # The name sent is not repeated: whoever reads this answer chose it.
        return json_error(
            400,
            Code.BAD_HOST,
            "Nom de serveur (en-tête Host) non autorisé. / Host header not allowed.",
        )
    if isinstance(exception, RequestDataTooBig):
        return json_error(413, *_KNOWN[413])
    return json_error(400, *_KNOWN[400])
