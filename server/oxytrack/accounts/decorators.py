"""Role checks for whole views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from oxytrack.accounts.models import User

# HttpResponseBase: a streamed download (the audit CSV) is a view too.
View = Callable[..., HttpResponseBase]


def superadmin_required(view: View) -> View:
    """Logged out: to login. Logged in without the super-admin role: 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_superadmin:  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


SAFE_METHODS = ("GET", "HEAD")


def superadmin_or_dpo_reads(view: View) -> View:
    """The super-admin: everything. The dpo: reads only (GET), any change 403.

    For the pages the dpo reads but never changes: audit log, policy, settings.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if getattr(user, "is_superadmin", False):
            return view(request, *args, **kwargs)
        if getattr(user, "is_dpo", False) and request.method in SAFE_METHODS:
            return view(request, *args, **kwargs)
        raise PermissionDenied

    return login_required(wrapper)


def activity_reader_required(view: View) -> View:
    """A page that shows employees' activity: 404 for the dpo (and anyone who sees none).

    404 rather than 403, like an out-of-scope employee: to the dpo there is
    no activity at all (DESIGN.md, security rules).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not getattr(request.user, "sees_activity", False):
            raise Http404
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
