"""The portal session: a flag in an anonymous Django session, never a manager login.

The employee has no `User`: the session holds their public id under `PORTAL_KEY`
and nothing else, so `request.user` stays anonymous and every manager page
(`login_required`) sends them to the login page. The idle timeout is the
sessions' own (SESSION_COOKIE_AGE, saved on every request: 15 minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from oxytrack.org.models import Employee

PORTAL_KEY = "oxytrack_portal_employee"


def start_portal_session(request: HttpRequest, employee: Employee) -> None:
    """A brand-new session for `employee`'s portal (any manager login in it ends)."""
    # flush() drops the old data and gives a new session id: no fixation, and a
    # manager logged in on this browser is logged out before the portal opens.
    request.session.flush()
    request.session[PORTAL_KEY] = str(employee.public_id)


def portal_employee(request: HttpRequest) -> Employee | None:
    """The employee whose portal this session opened, if any.

    A manager who logged in later on the same browser gets no portal: the two
    never mix in one session.
    """
    if request.user.is_authenticated:
        return None
    public_id = request.session.get(PORTAL_KEY)
    if not public_id:
        return None
    return Employee.objects.select_related("agency", "service").filter(public_id=public_id).first()


def closed(request: HttpRequest, status: int = 403) -> HttpResponse:
    """The page that says the portal is not open here and how to open it."""
    return render(request, "portal/closed.html", status=status)


def portal_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Runs `view(request, employee, ...)` for a portal session; otherwise the closed page."""

    @wraps(view)
    @never_cache
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        employee = portal_employee(request)
        if employee is None:
            return closed(request)
        return view(request, employee, *args, **kwargs)

    return wrapper
