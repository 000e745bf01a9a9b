"""Keeps a manager's session that has not passed the second factor on its pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from oxytrack.accounts import second_factor
from oxytrack.accounts.models import User

# Open to a session between the password and the code: leaving, the language,
# and the second factor's own pages.
_ALWAYS_OPEN = frozenset({"login", "logout", "set_language"})
_VERIFY_OPEN = _ALWAYS_OPEN | {"accounts:otp_verify"}
_SETUP_OPEN = _ALWAYS_OPEN | {"accounts:otp_setup"}


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: a logged-in manager whose session is not
    verified reaches only the login, logout and language views and

    - with a confirmed authenticator: the code page (everything else redirects there);
    - the super-administrator without one yet: the set-up page.

    Anonymous requests (the employee portal's session, the token-authenticated
    APIs) are not concerned: they carry no manager.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not isinstance(user, User) or user.is_verified():  # type: ignore[attr-defined]
            return None  # anonymous (a portal session, an API token), or verified
        name = request.resolver_match.view_name if request.resolver_match else ""
        if second_factor.is_enabled(user):
            if name in _VERIFY_OPEN:
                return None
            target = reverse("accounts:otp_verify")
        elif second_factor.is_required(user):
            if name in _SETUP_OPEN:
                return None
            target = reverse("accounts:otp_setup")
        else:
            return None
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
