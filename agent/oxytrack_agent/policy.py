"""The server's policy and the privacy rules applied on the PC before storage."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from oxytrack_agent.platforms import Window
from oxytrack_agent.redaction import (
    MAX_APP,
    MAX_TITLE,
    PRIVATE_MARKER,
    Redactor,
    RuleError,
    clean,
    default_rules_json,
    parse_rule,
)
from oxytrack_agent.schedule import Schedule

log = logging.getLogger(__name__)

__all__ = ["MAX_APP", "MAX_TITLE", "PRIVATE_MARKER", "Policy", "clean", "load_policy"]


@dataclass(frozen=True)
class Policy:
    """Settings the server hands to agents (DESIGN.md `GET policy`)."""

    version: str = ""
    sample_interval_s: float = 1.0
    upload_interval_s: float = 600.0
    idle_threshold_s: float = 180.0
    titles: str = "full"
    redact: tuple[str, ...] = ()
    exclude_apps: tuple[str, ...] = ()
    input_counts: bool = True
    #: Redaction rules in their wire form; the built-in deny-list when the server sends none.
    redact_rules: tuple[dict[str, str], ...] = field(
        default_factory=lambda: tuple(default_rules_json())
    )
    browser_sites: bool = True
    #: Working hours in the wire form (schedule.py); None: collect at any hour.
    schedule: dict[str, Any] | None = None
    #: The private pause allowed per day; 0 (also from a server that predates it): no pause.
    pause_max_minutes_per_day: float = 0.0
    _redactor: Redactor = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Compiled once per policy (not per sample), the same code the server previews with.
        object.__setattr__(self, "_redactor", Redactor.from_policy(self._privacy()))

    def _privacy(self) -> dict[str, Any]:
        return {
            "titles": self.titles,
            "redact": list(self.redact),
            "exclude_apps": list(self.exclude_apps),
            "redact_rules": list(self.redact_rules),
            "browser_sites": self.browser_sites,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        """Build from the server's JSON; unknown keys are ignored, bad rules skipped."""
        default = cls()
        redact = tuple(str(r) for r in data.get("redact") or ())
        for pattern in redact:
            try:
                re.compile(pattern)
            except re.error as exc:
                # A bad rule must not stop collection; it is logged for the admin.
                log.warning("ignoring invalid redact pattern %r: %s", pattern, exc)
        raw_rules = data.get("redact_rules")
        rules = default.redact_rules if raw_rules is None else tuple(_good_rules(raw_rules))
        titles = str(data.get("titles", default.titles))
        return cls(
            version=str(data.get("version", default.version)),
            sample_interval_s=float(data.get("sample_interval_s", default.sample_interval_s)),
            upload_interval_s=float(data.get("upload_interval_s", default.upload_interval_s)),
            idle_threshold_s=float(data.get("idle_threshold_s", default.idle_threshold_s)),
            titles=titles if titles in ("full", "app_only") else "app_only",
            redact=redact,
            exclude_apps=tuple(str(a) for a in data.get("exclude_apps") or ()),
            input_counts=bool(data.get("input_counts", default.input_counts)),
            redact_rules=rules,
            browser_sites=bool(data.get("browser_sites", default.browser_sites)),
            schedule=data.get("schedule") if isinstance(data.get("schedule"), dict) else None,
            pause_max_minutes_per_day=max(0.0, float(data.get("pause_max_minutes_per_day") or 0)),
        )

    @cached_property
    def work_schedule(self) -> Schedule | None:
        """The working hours, parsed once per policy (None: always collect)."""
        return Schedule.from_json(self.schedule)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (as the server sent it)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data["redact"] = list(self.redact)
        data["exclude_apps"] = list(self.exclude_apps)
        data["redact_rules"] = [dict(r) for r in self.redact_rules]
        return data

    def apply(self, window: Window) -> Window:
        """The window as it may be stored: excluded, redacted or app-only.

        The sampler calls this on every sample before the span builder sees
        it, so an original title lives only in memory for one sample.
        """
        app, title = self._redactor.apply(window.app, window.title)
        return Window(app, title, None)


def _good_rules(raw: Any) -> list[dict[str, str]]:
    """The server's rules that this agent can apply; a bad one is logged (name only) and skipped."""
    good: list[dict[str, str]] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict):
            continue
        try:
            parse_rule(item)
        except RuleError as exc:
            log.warning("ignoring redaction rule: %s", exc)
            continue
        good.append({str(k): str(v) for k, v in item.items() if v is not None})
    return good


def load_policy(path: Path) -> Policy:
    """The policy saved by the last enrollment or refresh, or the defaults."""
    try:
        return Policy.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return Policy()


def save_policy(path: Path, policy: Policy) -> None:
    """Save atomically (write then rename) so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(policy.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
