"""Words and stance (issue 11): idle is "Inactif", never time not worked; nobody ranked.

Scans what people read: templates, both catalogues, the docs, the agent's
messages (the server's own are in its catalogue). "Time not worked" may be
named only to deny it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import oxytrack

REPO = Path(oxytrack.__file__).resolve().parents[2]

# "Time not worked" may only be named to deny it: the explanation shown next
# to idle figures (and in the compliance kit, the portal, the manuals).
ALLOWED = (
    "n'est pas du temps non travaillé",
    "does not mean time not worked",
    "is not time not worked",
)

# Folded (lower case, no accents) so "Productivité" and "productivite" both match.
FORBIDDEN = [
    r"non[- ]travail",  # non-travail, non travaillé(e)(s)
    r"temps non travaille",
    r"\bimproducti",
    r"\bproductivite",
    r"\bclassement",
    r"\bpalmares",
    r"\bnot worked\b",
    r"\bunworked\b",
    r"\bnon[- ]working time",
    r"\bproductivity",
    r"\bunproductive",
    r"\branking",
    r"\bleaderboard",
    r"\btop performers?\b",
    r"\bbottom performers?\b",
    r"\bperformance score",
    r"\bscore de performance",
]
PATTERN = re.compile("|".join(FORBIDDEN))


def _fold(text: str) -> str:
    text = text.replace("\u2019", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _scanned() -> list[Path]:
    server = REPO / "server" / "oxytrack"
    agent = REPO / "agent" / "oxytrack_agent"
    files = [
        *server.rglob("*.html"),
        *server.rglob("*.po"),
        *agent.rglob("*.po"),
        *(REPO / "docs").rglob("*.md"),
        REPO / "README.md",
        *agent.rglob("*.py"),
    ]
    return sorted(p for p in files if p.is_file())


def offences(text: str) -> list[str]:
    """The forbidden words in `text`, once the allowed sentences are taken out."""
    folded = _fold(text)
    for sentence in ALLOWED:
        folded = folded.replace(_fold(sentence), " ")
    return [match.group(0) for match in PATTERN.finditer(folded)]


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".po":
        # A message wrapped over several lines is one sentence.
        text = re.sub(r'"\s*\n\s*"', "", text)
    return text


def test_no_page_doc_or_message_calls_idle_time_not_worked_or_ranks_people() -> None:
    found = {
        str(path.relative_to(REPO)): words
        for path in _scanned()
        if (words := offences(_read(path)))
    }
    assert found == {}


def test_the_scan_covers_what_people_read() -> None:
    scanned = {str(p.relative_to(REPO)) for p in _scanned()}
    assert "server/oxytrack/templates/oxytrack/_activity.html" in scanned
    assert "server/oxytrack/locale/en/LC_MESSAGES/django.po" in scanned
    assert "agent/oxytrack_agent/locale/en/LC_MESSAGES/oxytrack_agent.po" in scanned
    assert "docs/fr/manuel-administrateur.md" in scanned


def test_the_words_check_catches_each_forbidden_word_but_allows_the_explanation() -> None:
    assert offences("Temps de non-travail") == ["non-travail"]
    assert offences("Classement des salariés par Productivité") == ["classement", "productivite"]
    assert offences("Top performers and their productivity score") == [
        "top performers",
        "productivity",
    ]
    assert offences("du temps non travaillé") != []
    assert offences("time not worked") == ["not worked"]
    assert offences("Inactif : ce n\u2019est pas du temps non travaillé (lecture)") == []
    assert offences("Idle: this does not mean time not worked (reading)") == []
    assert offences("It is not time not worked: a meeting") == []
