"""Which category a window falls in: the super-admin's rules, applied at read time.

Nothing is stored with the activity, so editing a rule re-categorises
history. Compiled rules and each window's category are kept per process and
rebuilt when the Revision token changes (revision.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from oxytrack.activity.models import Window
from oxytrack.categories import models, revision
from oxytrack.categories.patterns import MATCH_TIMEOUT_S, Pattern, compile_pattern
from oxytrack.categories.revision import current_token

log = logging.getLogger(__name__)

#: Windows looked up per query (below SQLite's oldest limit on parameters, 999).
_CHUNK = 900
#: Windows whose category a process remembers before it starts again (~100 bytes each).
_MAX_REMEMBERED = 500_000


@dataclass(frozen=True)
class Category:
    """A category as pages show it."""

    id: int | None  # None: "Non classé" (UNCATEGORISED)
    name: str
    colour: str  # "#rrggbb"
    order: int

    @property
    def label(self) -> str:
        """The name to display: "Non classé" translated; a rule's name as written."""
        return gettext(self.name) if self.id is None else self.name


UNCATEGORISED = Category(None, N_("Non classé"), "#c7c7c7", 2**31 - 1)


@dataclass
class _Rule:
    category: Category
    app: Pattern | None
    title: Pattern | None
    broken: bool = False  # timed out once: skipped until the rules change
    # An organisation has a few hundred distinct apps for 100k windows: each
    # app is searched once per rule (a search with a timeout costs ~20 µs).
    app_matches: dict[str, bool] = field(default_factory=dict)

    def matches_app(self, app: str) -> bool:
        if self.app is None:
            return True
        known = self.app_matches.get(app)
        if known is None:
            known = self.app.search(app, timeout=MATCH_TIMEOUT_S) is not None
            self.app_matches[app] = known
        return known


@dataclass
class _Compiled:
    token: str
    rules: list[_Rule]
    by_window: dict[int, Category] = field(default_factory=dict)

    def match(self, app: str, title: str) -> Category:
        for rule in self.rules:
            if rule.broken:
                continue
            try:
                if rule.matches_app(app) and (
                    rule.title is None or rule.title.search(title, timeout=MATCH_TIMEOUT_S)
                ):
                    return rule.category
            except TimeoutError:
                # Saved before the check, or a title the check did not foresee:
                # one slow search per process and revision, never one per window.
                rule.broken = True
                log.warning("category rule %r timed out: skipped", rule.category.name)
        return UNCATEGORISED


_lock = threading.Lock()
_compiled: _Compiled | None = None


def _compile(token: str) -> _Compiled:
    rules = []
    for row in models.Category.objects.all():
        category = Category(row.pk, row.name, row.colour, row.order)
        try:
            app = compile_pattern(row.app_pattern, case_sensitive=row.case_sensitive)
            title = compile_pattern(row.title_pattern, case_sensitive=row.case_sensitive)
        except Exception:  # a pattern written around the form (shell, migration)
            log.warning("category rule %r does not compile: skipped", row.name)
            rules.append(_Rule(category, None, None, broken=True))
            continue
        rules.append(
            _Rule(category, app if row.app_pattern else None, title if row.title_pattern else None)
        )
    return _Compiled(token, rules)


def _current() -> _Compiled:
    global _compiled
    token = current_token()
    compiled = _compiled
    if compiled is None or compiled.token != token:
        compiled = _compile(token)
        with _lock:
            _compiled = compiled
    return compiled


def current_categories() -> list[Category]:
    """The rules' categories in matching order, then UNCATEGORISED."""
    return [rule.category for rule in _current().rules] + [UNCATEGORISED]


def current_rules() -> tuple[str, Callable[[str, str], Category]]:
    """The Revision token of the rules in force and their matcher (app, title) -> Category.

    For window_map.py, which classifies every window once per revision and must write
    down which rules it applied.
    """
    compiled = _current()
    return compiled.token, compiled.match


def categorise(app: str, title: str) -> Category:
    """The category of the first rule that matches (app, title), else UNCATEGORISED."""
    return _current().match(app, title)


def window_categories(window_ids: Iterable[int]) -> dict[int, Category]:
    """The category of each activity Window id (UNCATEGORISED for an unknown id)."""
    compiled = _current()
    wanted = set(window_ids)
    missing = [pk for pk in wanted if pk not in compiled.by_window]
    if len(compiled.by_window) + len(missing) > _MAX_REMEMBERED:
        compiled.by_window.clear()
        missing = list(wanted)
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        for pk, app, title in Window.objects.filter(pk__in=chunk).values_list("pk", "app", "title"):
            compiled.by_window[pk] = compiled.match(app, title)
    return {pk: compiled.by_window.get(pk, UNCATEGORISED) for pk in wanted}


def usage_by_category(rows: Iterable[tuple[int, int]]) -> list[tuple[Category, int]]:
    """Sum (window_id, active_ms) pairs per category, in matching order.

    Only categories that some row falls in are listed; UNCATEGORISED comes last.
    """
    pairs = list(rows)
    categories = window_categories(pk for pk, _ms in pairs)
    totals: dict[Category, int] = {}
    for pk, ms in pairs:
        category = categories[pk]
        totals[category] = totals.get(category, 0) + ms
    return sorted(totals.items(), key=lambda item: (item[0].order, item[0].id or 0))


def forget() -> None:
    """Drop this process's compiled rules, window categories and names.

    For tests: a rolled-back test reuses window ids and Revision tokens
    that the next test's data does not match. Production never needs it.
    """
    global _compiled
    from oxytrack.categories import names

    with _lock:
        _compiled = None
    names.forget()
    revision.forget()
