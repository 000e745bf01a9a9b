"""The server's policy and the privacy rules applied on the PC before storage."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oxytrack_agent.platforms import Window

log = logging.getLogger(__name__)

#: What an excluded app's windows become: the time stays, the name does not.
PRIVATE_MARKER = "(privé)"
#: The server's limits (DESIGN.md): longer is cut here so nothing is refused.
MAX_APP = 255
MAX_TITLE = 1024
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str, limit: int) -> str:
    """Without control characters (the server would drop them) and cut to `limit`."""
    return _CONTROL.sub("", text)[:limit]


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
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        """Build from the server's JSON; unknown keys are ignored, bad regexes skipped."""
        default = cls()
        redact = tuple(str(r) for r in data.get("redact") or ())
        compiled: list[re.Pattern[str]] = []
        for pattern in redact:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                # A bad rule must not stop collection; it is logged for the admin.
                log.warning("ignoring invalid redact pattern %r: %s", pattern, exc)
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
            _compiled=tuple(compiled),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (as the server sent it)."""
        data = asdict(self)
        data.pop("_compiled")
        data["redact"] = list(self.redact)
        data["exclude_apps"] = list(self.exclude_apps)
        return data

    def apply(self, window: Window) -> Window:
        """The window as it may be stored: excluded, redacted or app-only."""
        app = clean(window.app, MAX_APP) or "unknown"
        # "Firefox", "firefox.exe" and "firefox" name the same app on every OS.
        excluded = {_strip_exe(a).casefold() for a in self.exclude_apps}
        if _strip_exe(app).casefold() in excluded:
            return Window(PRIVATE_MARKER, PRIVATE_MARKER, None)
        if self.titles == "app_only":
            return Window(app, "", None)
        title = window.title
        if any(p.search(title) for p in self._compiled):
            title = app
        title = clean(title, MAX_TITLE)
        return Window(app, title, None)


def _strip_exe(name: str) -> str:
    return name[:-4] if name.lower().endswith(".exe") else name


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
