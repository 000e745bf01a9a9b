"""Compiling and checking the super-admin's regular expressions.

Rules run on every title a page shows, in the web workers, so a pattern
with catastrophic backtracking ("(a+)+$") would freeze a worker on a hostile
title. The standard `re` cannot be interrupted (the policy page times its
agent-side rules in a child process for that reason). The `regex` package
takes a timeout per search, which gives two guards in-process and no child
process per save: at save time a pattern must finish a set of hostile
titles within SAVE_BUDGET_S (check_speed), and at read time each search
stops after MATCH_TIMEOUT_S (classify disables a rule that hits it).
"""

from __future__ import annotations

import time
from typing import Protocol, cast

import regex

from oxytrack_agent.redaction import MAX_TITLE

#: A read-time search that takes longer than this is cut (a sane rule takes microseconds).
MATCH_TIMEOUT_S = 0.05
#: What all the hostile titles of check_speed may take together, at save time.
SAVE_BUDGET_S = 0.5


class Pattern(Protocol):
    """What we use of a compiled `regex` pattern (the package ships no type hints)."""

    pattern: str

    def search(self, string: str, *, timeout: float | None = None) -> object | None: ...


def compile_pattern(pattern: str, *, case_sensitive: bool) -> Pattern:
    """The compiled pattern; raises regex.error on bad syntax."""
    flags = regex.VERSION0 | (0 if case_sensitive else regex.IGNORECASE)
    return cast(Pattern, regex.compile(pattern, flags))


def _hostile_inputs(pattern: str) -> list[str]:
    """Titles of the maximum length built from the pattern's own characters.

    Repeating what a pattern matches is what makes backtracking explode
    (the same idea as policy/redaction.py's check).
    """
    n = MAX_TITLE
    chars = sorted({c for c in pattern if c.isalnum() or c in " -_./:@'"}) or ["a"]
    joined = "".join(chars)
    inputs = [c * n for c in chars[:16]] + [(joined * n)[:n], (" ".join(chars) * n)[:n]]
    inputs += [((a + b) * n)[:n] for a in chars[:6] for b in chars[:6] if a != b]
    return [text + "!" for text in inputs]  # a last character that fails most patterns


def check_speed(compiled: Pattern) -> bool:
    """Whether `compiled` gets through the hostile titles within SAVE_BUDGET_S."""
    deadline = time.monotonic() + SAVE_BUDGET_S
    for text in _hostile_inputs(compiled.pattern):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            compiled.search(text, timeout=left)
        except TimeoutError:
            return False
    return True
