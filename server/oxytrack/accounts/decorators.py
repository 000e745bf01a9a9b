"""Role checks for whole views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from oxytrack.accounts.models import User

View = Callable[..., HttpResponse]


def superadmin_required(view: View) -> View:
    """Logged out: to login. Logged in without the super-admin role: 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superadmin:  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def require_superadmin(user: Any) -> None:
    """For views that first resolve an object (404 out of scope), then check the role (403)."""
    if not getattr(user, "is_superadmin", False):
        raise PermissionDenied


def current_user(request: HttpRequest) -> User:
    """The logged-in manager (views call it after login_required has run)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
