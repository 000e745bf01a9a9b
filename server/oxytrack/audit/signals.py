"""Logins, failures, lock-outs and logouts into the audit log.

Receivers of Django's auth signals and of django-axes' lock-out signal,
connected in AuditConfig.ready; the entries are written by audit.actions.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from oxytrack.accounts.models import User
from oxytrack.audit.actions import (
    do_record_lockout,
    do_record_login,
    do_record_login_failure,
    do_record_logout,
)
from oxytrack.audit.request import client_ip

# The entry written for this request's login attempt: a lock-out also sends
# user_login_failed (axes locks from its own receiver of that signal), and
# each attempt must leave one entry. The log is append-only, so a failure entry
# cannot become a lock-out afterwards: AuditConfig.ready connects our receiver
# after axes's, so the lock-out is always seen first and the failure skipped.
_ATTEMPT = "_oxytrack_audit_login_attempt"


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    do_record_login(user, ip=_ip(request))


def on_logged_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:  # logging out without a session logs nobody out
        do_record_logout(user, ip=_ip(request))


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; only the
    # e-mail (the form's `username` field) is kept.
    if request is not None and hasattr(request, _ATTEMPT):
        return  # the lock-out receiver ran first: its entry stands for this attempt
    entry = do_record_login_failure(str(credentials.get("username") or ""), ip=_ip(request))
    if request is not None:
        setattr(request, _ATTEMPT, entry)


def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    entry = do_record_lockout(username or "", ip=_ip(request))
    if request is not None:
        setattr(request, _ATTEMPT, entry)
