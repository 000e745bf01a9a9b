"""Writing audit entries; called inside the action's own transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from oxytrack.accounts.models import User
from oxytrack.audit.models import Action, Entry


def record(
    action: Action,
    *,
    actor: User | None,
    target: models.Model | None = None,
    target_label: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
    target_ref: tuple[str, str] | None = None,
) -> Entry:
    """Write one audit entry. `actor` None means the system (a console command),
    unless `actor_label` says otherwise ("" for someone not logged in).

    `target_ref` (type, id) names a target that no longer exists (a deleted
    employee): entries are never updated, so it is given up front.
    """
    if actor_label is None:
        actor_label = actor.email if actor else "système"
    if target_ref is None:
        target_ref = (
            target._meta.model_name or "" if target is not None else "",
            str(getattr(target, "public_id", None) or getattr(target, "pk", "") or ""),
        )
    return Entry.objects.create(
        actor=actor,
        actor_label=actor_label,
        action=action,
        target_type=target_ref[0],
        target_id=target_ref[1],
        target_label=(target_label or (str(target) if target is not None else ""))[:300],
        detail=detail or {},
        ip=ip,
    )


def do_record_view(
    employee: models.Model,
    start: date,
    end: date,
    *,
    actor: User,
    ip: str | None,
    reason: str = "",
) -> Entry:
    """A manager looked at an employee's activity between `start` and `end`, for `reason`
    when the access reason is asked (OXYTRACK_ACCESS_REASON)."""
    detail = {"start": start.isoformat(), "end": end.isoformat()}
    if reason:
        detail["reason"] = reason
    return record(Action.VIEW_EMPLOYEE, actor=actor, target=employee, detail=detail, ip=ip)


def do_record_export(
    employee: models.Model,
    start: date,
    end: date,
    *,
    actor: User,
    ip: str | None,
    reason: str = "",
    fmt: str = "csv",
    rows: int | None = None,
    filter_text: str = "",
) -> Entry:
    """A manager downloaded an employee's activity between `start` and `end` (for `reason`),
    as `fmt` (csv, xlsx), `rows` lines, narrowed by the live filter `filter_text`."""
    detail: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat(), "format": fmt}
    if rows is not None:
        detail["rows"] = rows
    if filter_text:
        detail["filter"] = filter_text
    if reason:
        detail["reason"] = reason
    return record(Action.EXPORT, actor=actor, target=employee, detail=detail, ip=ip)


def do_record_team_view(
    team_label: str,
    team_key: str,
    start: date,
    end: date,
    *,
    employees: list[str],
    actor: User,
    ip: str | None,
) -> Entry:
    """A manager looked at the team overview of `team_label` between `start` and `end`.

    One entry per page shown rather than one per employee (a whole scope is
    thousands); `employees` are the public ids whose own rows the page showed,
    so an employee's trail can still be searched in the detail.
    """
    return record(
        Action.VIEW_TEAM,
        actor=actor,
        target_label=team_label,
        target_ref=("team", team_key[:64]),
        detail={"start": start.isoformat(), "end": end.isoformat(), "employees": employees},
        ip=ip,
    )


def do_record_audit_export(
    filters: dict[str, str],
    *,
    actor: User,
    ip: str | None,
    fmt: str = "csv",
    rows: int | None = None,
) -> Entry:
    """A super-admin or the dpo downloaded the audit log with these `filters` (as `fmt`)."""
    detail: dict[str, Any] = {"format": fmt, "filters": filters}
    if rows is not None:
        detail["rows"] = rows
    return record(
        Action.EXPORT,
        actor=actor,
        # Stored data, not UI: the same words whatever the exporter's language.
        target_label="journal d'audit",
        target_ref=("audit", ""),
        detail=detail,
        ip=ip,
    )


def scope_label(user: User) -> str:
    """`user`'s scopes in words, for an entry's detail: "toute l'organisation" or
    "Nice / Facturation, Lyon" (an agency alone: all its services)."""
    if user.is_superadmin:
        return "toute l'organisation"
    parts = [
        f"{s.agency.name} / {s.service.name}" if s.service else s.agency.name
        for s in user.scopes.select_related("agency", "service").order_by("agency__name", "id")
    ]
    return ", ".join(parts)


def do_record_list_export(
    list_name: str,
    *,
    fmt: str,
    rows: int,
    actor: User,
    ip: str | None,
    start: date | None = None,
    end: date | None = None,
    filters: dict[str, str] | None = None,
    employees: list[str] | None = None,
) -> Entry:
    """A manager downloaded a list (`list_name`: "accueil", "recherche", "vue d'équipe")
    as `fmt`, `rows` lines, over `start`-`end` when it has a range, with `filters` (the
    live filter, search criteria, the team), from their scopes. `employees` are the
    public ids of the employees whose rows the file holds, so each one's trail finds it.
    """
    detail: dict[str, Any] = {"format": fmt, "rows": rows, "scope": scope_label(actor)}
    if start is not None and end is not None:
        detail.update(start=start.isoformat(), end=end.isoformat())
    if filters:
        detail["filters"] = filters
    if employees is not None:
        detail["employees"] = employees
    return record(
        Action.EXPORT,
        actor=actor,
        # Stored data, not UI: the same words whatever the exporter's language.
        target_label=list_name,
        target_ref=("list", list_name[:64]),
        detail=detail,
        ip=ip,
    )


def do_record_login(user: User, *, ip: str | None) -> Entry:
    """A manager logged in."""
    return record(Action.LOGIN, actor=user, target=user, target_label=user.email, ip=ip)


def do_record_logout(user: User, *, ip: str | None) -> Entry:
    """A manager logged out."""
    return record(Action.LOGOUT, actor=user, target=user, target_label=user.email, ip=ip)


def _login_attempt(action: Action, email: str, ip: str | None) -> Entry:
    # Nobody is logged in, so the actor is empty; the account that has that
    # address, when there is one, is the target, so its trail lists the attempts.
    return record(
        action,
        actor=None,
        actor_label="",
        target=User.objects.filter(email__iexact=email).first() if email else None,
        target_label=email,
        ip=ip,
    )


def do_record_login_failure(email: str, *, ip: str | None) -> Entry:
    """Someone failed to log in as `email` (the password never reaches the log)."""
    return _login_attempt(Action.LOGIN_FAILED, email, ip)


def do_record_lockout(email: str, *, ip: str | None) -> Entry:
    """A login attempt as `email` was refused by the lock-out (too many failures)."""
    return _login_attempt(Action.LOCKOUT, email, ip)
