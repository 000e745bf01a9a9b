"""Friendly application names: "WINWORD.EXE" reads "Word", "ms-teams.exe" "Microsoft Teams".

Looked up at read time in the AppName table (seeded from
starter.BUILTIN_APP_NAMES, edited by the super-admin); the raw name stays in
the data and is what pages show on hover. Unknown apps keep their raw name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from oxytrack.categories.models import AppName
from oxytrack.categories.revision import current_token

_lock = threading.Lock()
_cache: tuple[str, dict[str, str]] | None = None


def app_key(app: str) -> str:
    """The match key of an app name: trimmed, case-folded, without a trailing ".exe"."""
    key = app.strip().lower()
    return key[:-4] if key.endswith(".exe") else key


class FriendlyNames(Mapping[str, str]):
    """Raw app name -> friendly name; lookups ignore case and ".exe"."""

    def __init__(self, by_key: dict[str, str]) -> None:
        self._by_key = by_key

    def __getitem__(self, app: str) -> str:
        return self._by_key[app_key(app)]

    def __contains__(self, app: object) -> bool:
        return isinstance(app, str) and app_key(app) in self._by_key

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)


def friendly_apps() -> Mapping[str, str]:
    """Every known app's friendly name, keyed case-insensitively (see FriendlyNames)."""
    global _cache
    token = current_token()
    cached = _cache
    if cached is None or cached[0] != token:
        by_key = {app_key(a): n for a, n in AppName.objects.values_list("app", "name")}
        cached = (token, by_key)
        with _lock:
            _cache = cached
    return FriendlyNames(cached[1])


def friendly_app(app: str) -> str:
    """The friendly name of `app` ("WINWORD.EXE" -> "Word"); `app` itself when unknown."""
    return friendly_apps().get(app, app)


def forget() -> None:
    """Drop this process's names (tests: see classify.forget)."""
    global _cache
    with _lock:
        _cache = None
