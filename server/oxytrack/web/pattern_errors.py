"""A broken regular expression explained in the user's language.

Two engines read the super-admin's expressions: the `regex` package for
category rules (it takes a timeout, categories/patterns.py) and the standard
`re` for the redaction rules the agents run. Both raise errors in English with
the same words for the same faults (`re` sometimes adds details: "bad
character range z-a"); this gives them in French or English, with the position.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _


def _syntax_messages() -> list[tuple[str, str]]:
    # Built per call so each is translated in the request's language. Matched
    # as prefixes: `re` appends the culprit ("invalid group reference 2").
    return [
        ("missing )", _("parenthèse fermante manquante")),
        ("unbalanced parenthesis", _("parenthèse fermante sans parenthèse ouvrante")),
        ("unterminated character set", _("crochet fermant manquant")),
        ("bad character range", _("intervalle de caractères à l'envers")),
        ("nothing to repeat", _("répétition sans rien à répéter")),
        ("multiple repeat", _("deux répétitions à la suite")),
        ("min repeat greater than max repeat", _("répétition minimale supérieure à la maximale")),
        ("bad escape (end of pattern)", _("barre oblique inverse en fin d'expression")),
        ("invalid group reference", _("référence à un groupe qui n'existe pas")),
        ("unknown group", _("référence à un groupe qui n'existe pas")),
    ]


def describe_error(error: re.error | Any) -> str:
    """What is wrong with a pattern, in the user's language: "parenthèse fermante
    manquante (caractère 10)".

    `error` is a `re.error` or a `regex.error`. A message not translated here
    is given as the engine wrote it; the position counts characters from 1.
    """
    message = str(getattr(error, "msg", "") or error)
    text = next((said for words, said in _syntax_messages() if message.startswith(words)), message)
    position = getattr(error, "pos", None)
    if position is None:
        return text
    return _("%(error)s (caractère %(position)d)") % {"error": text, "position": position + 1}
