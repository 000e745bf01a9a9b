"""The live facts the compliance kit is filled from: policy, hours, retention, access.

Everything is read at render time, so a printed notice says what the server
does today. Fields that other parts of the product may add later (a work
schedule in the policy, retention settings) are read defensively, with the
defaults the product documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.org.models import Agency, Employee
from oxytrack.policy.forms import PolicyForm
from oxytrack.policy.models import PolicyOverride, TitleMode
from oxytrack.policy.queries import effective_policy

# Each kind of data's retention setting (days) and its documented default,
# read with getattr so the kit renders on a server configured before they existed.
RETENTION_SETTINGS: dict[str, tuple[str, int]] = {
    "raw_spans": ("OXYTRACK_SPAN_RETENTION_DAYS", 30),
    "rollups": ("OXYTRACK_ROLLUP_RETENTION_DAYS", 180),
    "audit": ("OXYTRACK_AUDIT_RETENTION_DAYS", 365),
    "departed": ("OXYTRACK_DEPARTED_AFTER_DAYS", 90),
}

# Policy keys that carry the work schedule, whichever name it gets.
SCHEDULE_KEYS = ("schedule", "work_schedule", "working_hours", "work_hours", "hours")
# Policy keys holding redaction rules (a list): the original regexes and the deny-list.
REDACTION_KEYS = ("redact_rules", "redaction_rules", "redact")


@dataclass(frozen=True)
class PolicyValue:
    """One setting of the effective global policy, by its label."""

    key: str
    label: str
    value: str


@dataclass(frozen=True)
class RedactionRule:
    """One rule: its name (if any) and (label, value, is_pattern) parts.

    A bare regex gives one part; patterns print as code, words as words.
    """

    name: str
    parts: tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True)
class Manager:
    """Someone who can log into the web app, and what they may see."""

    name: str
    email: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Retention:
    """Days each kind of data is kept."""

    raw_spans_days: int
    rollups_days: int
    audit_days: int
    departed_days: int


@dataclass(frozen=True)
class ComplianceFacts:
    """What the documents of the compliance kit state, read from the live configuration."""

    controller_name: str
    dpo_contact: str
    policy_values: tuple[PolicyValue, ...]
    idle_threshold_s: int
    sample_interval_s: int
    upload_interval_s: int
    titles_full: bool
    browser_sites: bool
    input_counts: bool
    redaction_rules: tuple[RedactionRule, ...]
    excluded_apps: tuple[str, ...]
    schedule: tuple[tuple[str, str], ...]
    schedule_holidays: str
    pause_max_minutes_per_day: int
    local_policies: tuple[str, ...]
    retention: Retention
    superadmins: tuple[Manager, ...]
    admins: tuple[Manager, ...]
    dpos: tuple[Manager, ...]
    employee_count: int
    agency_count: int
    generated_at: datetime

    @property
    def idle_threshold_minutes(self) -> str:
        return idle_minutes(self.idle_threshold_s)

    @property
    def manager_count(self) -> int:
        return len(self.superadmins) + len(self.admins) + len(self.dpos)


def idle_minutes(idle_threshold_s: int) -> str:
    """An idle threshold in minutes as a reader expects it: "3", or "1,5" in French."""
    minutes = idle_threshold_s / 60
    return number_format(minutes, 0 if minutes.is_integer() else 1)


def _retention_days(kind: str) -> int:
    name, default = RETENTION_SETTINGS[kind]
    value = getattr(settings, name, None)
    return value if isinstance(value, int) and value > 0 else default


def retention() -> Retention:
    """The retention of each kind of data, from settings or the documented defaults."""
    return Retention(
        raw_spans_days=_retention_days("raw_spans"),
        rollups_days=_retention_days("rollups"),
        audit_days=_retention_days("audit"),
        departed_days=_retention_days("departed"),
    )


def _labels() -> dict[str, str]:
    """Policy fields' labels as the policy form shows them, in the current language."""
    return {
        "browser_sites": _("Navigateurs : le nom du site seulement"),
        **{name: str(field.label) for name, field in PolicyForm().fields.items()},
    }


def _text(value: Any) -> str:
    """A policy value in words, whatever its type (lists and mappings included)."""
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, str) and value in TitleMode.values:
        return str(TitleMode(value).label)
    if isinstance(value, dict):
        return " ; ".join(f"{k} : {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


# Labels of the keys a redaction rule may carry (the agent's wire form:
# name, apps, title, replace_with, category); unknown keys show as they are.
def _rule_labels() -> dict[str, str]:
    return {
        "pattern": _("Motif"),
        "apps": _("Applications"),
        "title": _("Titre"),
        "replace_with": _("Devient"),
        "category": _("Catégorie"),
    }


def _rule(rule: Any) -> RedactionRule:
    labels = _rule_labels()
    if not isinstance(rule, dict):
        return RedactionRule("", ((labels["pattern"], _text(rule), True),))
    parts: list[tuple[str, str, bool]] = []
    for key, value in rule.items():
        if key == "name" or (key == "category" and "replace_with" in rule):
            continue
        if key == "replace_with":
            becomes = (
                _("la catégorie « %(category)s »") % {"category": rule.get("category", "")}
                if value == "category"
                else _("le nom de l'application")
            )
            parts.append((labels["replace_with"], becomes, False))
        else:
            parts.append((labels.get(key, str(key)), _text(value), key in ("apps", "title")))
    return RedactionRule(str(rule.get("name") or ""), tuple(parts))


def _rules(policy: dict[str, Any]) -> tuple[RedactionRule, ...]:
    """Every redaction rule the policy carries, the structured deny-list first."""
    return tuple(
        _rule(rule)
        for key in REDACTION_KEYS
        if isinstance(policy.get(key), list)
        for rule in policy[key]
    )


# Weekday keys of the policy's wire form (policy/schedule.py), Monday first.
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _ranges(value: Any) -> str:
    """[["08:00", "12:30"], ["13:30", "18:00"]] as "08:00-12:30, 13:30-18:00" (en dashes)."""
    if isinstance(value, list) and all(isinstance(r, list | tuple) and len(r) == 2 for r in value):
        return ", ".join(f"{start}\u2013{end}" for start, end in value)
    return _text(value)


def _schedule(policy: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The working hours as (day, hours); empty when collection runs at any hour."""
    for key in SCHEDULE_KEYS:
        value = policy.get(key)
        if not value or not isinstance(value, dict | list):
            continue  # None or "always": at any hour
        if isinstance(value, list):
            return tuple(("", _text(item)) for item in value)
        lines = [
            # Django's own catalogue names the days (lundi, Monday…).
            (capfirst(str(WEEKDAYS[i])), _ranges(value[day]))
            for i, day in enumerate(_DAYS)
            if value.get(day)
        ]
        lines += [(k, _ranges(v)) for k, v in value.items() if k not in (*_DAYS, "holidays")]
        return tuple(lines)
    return ()


def _holidays(policy: dict[str, Any]) -> str:
    for key in SCHEDULE_KEYS:
        value = policy.get(key)
        if isinstance(value, dict) and value.get("holidays"):
            return str(value["holidays"])
    return ""


def _managers(users: list[User]) -> tuple[Manager, ...]:
    return tuple(
        Manager(
            name=user.display_name or user.email,
            email=user.email,
            scopes=tuple(
                str(scope)
                for scope in sorted(
                    user.scopes.all(),
                    key=lambda s: (s.agency.name, s.service.name if s.service else ""),
                )
            ),
        )
        for user in users
    )


def _local_policies() -> tuple[str, ...]:
    rows = PolicyOverride.objects.exclude(agency__isnull=True, service__isnull=True)
    named = [
        _("agence %(name)s") % {"name": row.agency.name}
        if row.agency
        else _("service %(name)s") % {"name": row.service.name if row.service else ""}
        for row in rows.select_related("agency", "service")
    ]
    return tuple(sorted(named))


def compliance_facts() -> ComplianceFacts:
    """The live facts, labels in the active language (the view activates the document's)."""
    policy = effective_policy(None, None)
    labels = _labels()
    # The rules have their own table, the version digest means nothing to a reader.
    shown = {
        k: v
        for k, v in policy.items()
        # Hours have their own section too.
        if k != "version" and k not in REDACTION_KEYS and k not in SCHEDULE_KEYS
    }
    users = list(
        User.objects.filter(is_active=True).prefetch_related(
            # Scopes with their agency and service: one query for all of them.
            Prefetch("scopes", queryset=Scope.objects.select_related("agency", "service"))
        )
    )
    dpo_role = getattr(Role, "DPO", None)
    return ComplianceFacts(
        controller_name=str(getattr(settings, "OXYTRACK_CONTROLLER_NAME", "") or ""),
        dpo_contact=str(getattr(settings, "OXYTRACK_DPO_CONTACT", "") or ""),
        policy_values=tuple(
            PolicyValue(key, labels.get(key, key), _text(value)) for key, value in shown.items()
        ),
        idle_threshold_s=int(policy.get("idle_threshold_s") or 0),
        sample_interval_s=int(policy.get("sample_interval_s") or 0),
        upload_interval_s=int(policy.get("upload_interval_s") or 0),
        titles_full=policy.get("titles") != TitleMode.APP_ONLY,
        input_counts=bool(policy.get("input_counts")),
        browser_sites=bool(policy.get("browser_sites")),
        redaction_rules=_rules(policy),
        excluded_apps=tuple(str(app) for app in policy.get("exclude_apps") or ()),
        schedule=_schedule(policy),
        schedule_holidays=_holidays(policy),
        pause_max_minutes_per_day=int(policy.get("pause_max_minutes_per_day") or 0),
        local_policies=_local_policies(),
        retention=retention(),
        superadmins=_managers([u for u in users if u.role == Role.SUPERADMIN]),
        admins=_managers([u for u in users if u.role == Role.ADMIN]),
        dpos=_managers([u for u in users if dpo_role is not None and u.role == dpo_role]),
        employee_count=Employee.objects.count(),
        agency_count=Agency.objects.count(),
        generated_at=timezone.now(),
    )
