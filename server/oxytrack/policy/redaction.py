"""Server-side checks and previews of the agents' title redaction.

The redaction itself is `oxytrack_agent.redaction` (the code the agents run),
so what the policy page previews is exactly what a PC will store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oxytrack_agent.redaction import MAX_TITLE, Redactor

#: The keys of a policy that decide what a title becomes.
PRIVACY_FIELDS = ("titles", "redact", "exclude_apps", "redact_rules", "browser_sites")
#: What the policy page shows before anyone pastes a title: (app, title).
SAMPLES = (
    ("EXCEL.EXE", "Liste des patients agence84 2019 - Excel"),
    ("OUTLOOK.EXE", "RE: Mme Durand, retour d'hospitalisation - Message (HTML)"),
    ("chrome.exe", "https://intranet.example.fr/patients/1234?nom=Dupont - Google Chrome"),
    ("ApologicDomicile.exe", "Dossier de Mme DUPONT Jeanne - Apologic"),
    ("msedge.exe", "Crédit Agricole - Mes comptes - [InPrivate] - Microsoft Edge"),
    ("WINWORD.EXE", "Attestation 1 85 05 78 006 084 36 - Word"),
    ("EXCEL.EXE", "Budget 2026 - Excel"),
    ("WINWORD.EXE", "Planning tournées - Word"),
)
# A rule must finish all its hostile titles within RULE_BUDGET_S (the
# built-in ones take a few milliseconds each); the check runs in a child
# process, killed after CHECK_TIMEOUT_S, so a catastrophic pattern never
# spins in a server worker.
RULE_BUDGET_S = 0.5
CHECK_TIMEOUT_S = 5.0

_CHECK = r"""
import json, re, sys, time
rules = json.load(sys.stdin)
n, budget = int(sys.argv[1]), float(sys.argv[2])
for rule in rules:
    print(rule["name"], flush=True)
    began = time.perf_counter()
    for key in ("apps", "title"):
        if not rule.get(key):
            continue
        pattern = re.compile(rule[key], re.IGNORECASE)
        chars = sorted({c for c in rule[key] if c.isalnum() or c in " -_./:@'"}) or ["a"]
        joined = "".join(chars)
        inputs = [c * n for c in chars] + [(joined * n)[:n], (" ".join(chars) * n)[:n]]
        inputs += [(a + b) * (n // 2) for a in chars[:8] for b in chars[:8] if a != b]
        for text in inputs:
            pattern.search(text)
    if time.perf_counter() - began > budget:
        sys.exit(1)
print("ok", flush=True)
"""


def too_slow(rules: list[dict[str, str]]) -> str | None:
    """The name of the first rule that is too slow on hostile titles, or None.

    Python's `re` cannot be interrupted, so the rules run in a child process
    on titles of the maximum length built from each pattern's own
    characters (what makes backtracking explode), under a time budget.
    """
    if not rules:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code, no shell
            [sys.executable, "-I", "-c", _CHECK, str(MAX_TITLE), str(RULE_BUDGET_S)],
            input=json.dumps(rules),
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        out = timeout.stdout
        started = (out.decode() if isinstance(out, bytes) else out or "").splitlines()
        return started[-1] if started else rules[0]["name"]
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines or lines[-1] != "ok":
        return lines[-1] if lines else rules[0]["name"]
    return None


@dataclass(frozen=True)
class PreviewRow:
    """One title and what a PC would store for it."""

    app: str
    title: str
    stored_app: str
    stored: str
    rule: str

    @property
    def changed(self) -> bool:
        """Whether the stored title differs from the original."""
        return (self.stored_app, self.stored) != (self.app, self.title)


def preview(privacy: Mapping[str, Any], titles: list[tuple[str, str]]) -> list[PreviewRow]:
    """What each (app, title) becomes under `privacy` (a policy's privacy fields)."""
    redactor = Redactor.from_policy(privacy)
    rows = []
    for app, title in titles:
        stored_app, stored, why = redactor.explain(app, title)
        rows.append(PreviewRow(app, title, stored_app, stored, why))
    return rows
