"""A broken expression is explained in the super-admin's language, not in the
engine's English: the `regex` package's (category rules) and the standard `re`'s
(redaction rules)."""

from __future__ import annotations

import re

import pytest
import regex
from django.utils import translation

from oxytrack.categories.patterns import compile_pattern
from oxytrack.web.pattern_errors import describe_error


def _error(pattern: str) -> regex.error:
    with pytest.raises(regex.error) as caught:
        compile_pattern(pattern, case_sensitive=False)
    return caught.value


@pytest.mark.parametrize(
    ("pattern", "french", "english"),
    [
        ("tourn(ées", "parenthèse fermante manquante (caractère 10)",
         "missing closing parenthesis (character 10)"),
        ("a)", "parenthèse fermante sans parenthèse ouvrante (caractère 2)",
         "closing parenthesis without an opening one (character 2)"),
        ("[a-", "crochet fermant manquant (caractère 4)", "missing closing bracket (character 4)"),
        ("[z-a]", "intervalle de caractères à l'envers (caractère 5)",
         "character range in reverse order (character 5)"),
        ("*a", "répétition sans rien à répéter (caractère 1)",
         "repetition with nothing to repeat (character 1)"),
    ],
)  # fmt: skip
def test_a_syntax_error_is_told_in_words_and_by_position(
    pattern: str, french: str, english: str
) -> None:
    error = _error(pattern)
    with translation.override("fr"):
        assert describe_error(error) == french
    with translation.override("en"):
        assert describe_error(error) == english


def test_a_message_not_translated_is_given_as_regex_wrote_it() -> None:
    with translation.override("fr"):
        assert describe_error(_error(r"\N{nothing such}")).startswith("undefined character name")


@pytest.mark.parametrize(
    ("pattern", "french"),
    [
        ("tourn(ées", "parenthèse fermante manquante (caractère 6)"),
        ("[z-a]", "intervalle de caractères à l'envers (caractère 2)"),
        (r"(a)\2", "référence à un groupe qui n'existe pas (caractère 5)"),
        ("(?P=x)", "référence à un groupe qui n'existe pas (caractère 5)"),
    ],
)
def test_the_standard_engines_errors_are_told_in_words_too(pattern: str, french: str) -> None:
    # `re` words some faults its own way and points at where the construct starts.
    with pytest.raises(re.error) as caught:
        re.compile(pattern)
    with translation.override("fr"):
        assert describe_error(caught.value) == french
