"""The session's language, and argparse's strings in it.

The catalogues themselves (every message translated, the .mo in step with the
.po) are checked with GNU gettext's tools: test_locale_catalogues.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

import oxytrack_agent
from oxytrack_agent import i18n
from oxytrack_agent.cli import build_parser

PACKAGE = Path(oxytrack_agent.__file__).parent
CATALOGUES = [
    PACKAGE / "locale" / "en" / "LC_MESSAGES" / "oxytrack_agent.po",
    PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "argparse.po",
]


def _msgids(po: Path) -> list[str]:
    text = po.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M):
        out.append("".join(eval(line) for line in block.splitlines()))  # noqa: S307  (PO strings)
    return out


def test_the_argparse_strings_translated_are_argparses_own() -> None:
    source = Path(argparse.__file__).read_text(encoding="utf-8")
    for msgid in _msgids(CATALOGUES[1]):
        if msgid:
            assert repr(msgid) in source or f'"{msgid}"' in source, msgid


def test_help_follows_the_session_language(monkeypatch: pytest.MonkeyPatch) -> None:
    french = build_parser().format_help()
    assert "Agent OxyTrack (mesure du temps par application)." in french
    monkeypatch.setenv("LANGUAGE", "en_US:fr")
    i18n.reset()
    i18n.install_argparse()
    english = build_parser().format_help()
    assert "OxyTrack agent (measures time per application)." in english
    assert "show this help message and exit" in english
    assert "usage: " in english


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "fr"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "fr"),
        ({"LANG": "C"}, "fr"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANGUAGE": "de:en", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANGUAGE": "fr_CA", "LC_ALL": "en_US.UTF-8"}, "fr"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
    ],
)
def test_the_language_is_read_as_gettext_reads_it(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    if sys.platform == "win32":
        # With no variable Windows asks the user's display language: one neither
        # French nor English here, as a session that asks for neither.
        windows_display_language(monkeypatch, GERMAN)
    i18n.reset()
    assert i18n.language() == expected


#: Windows LANGIDs (MS-LCID): French (France, Canada), English (US, UK), German.
FRENCH, FRENCH_CANADA, ENGLISH_US, ENGLISH_UK, GERMAN = 0x040C, 0x0C0C, 0x0409, 0x0809, 0x0407


def windows_display_language(monkeypatch: pytest.MonkeyPatch, lang_id: int) -> None:
    """Make GetUserDefaultUILanguage answer `lang_id` in this process (Windows)."""
    if sys.platform != "win32":
        raise AssertionError("Windows only")
    import ctypes

    monkeypatch.setattr(ctypes.windll.kernel32, "GetUserDefaultUILanguage", lambda: lang_id)


if sys.platform == "win32":

    @pytest.mark.parametrize(
        ("lang_id", "expected"),
        [
            (FRENCH, "fr"),
            (FRENCH_CANADA, "fr"),
            (ENGLISH_US, "en"),
            (ENGLISH_UK, "en"),
            (GERMAN, "fr"),
        ],
    )
    def test_without_a_variable_windows_speaks_the_users_display_language(
        lang_id: int, expected: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
            monkeypatch.delenv(var, raising=False)
        windows_display_language(monkeypatch, lang_id)
        i18n.reset()
        assert i18n.language() == expected
        # A variable still wins, as gettext has it.
        monkeypatch.setenv("LANG", "fr_FR.UTF-8" if expected == "en" else "en_US.UTF-8")
        i18n.reset()
        assert i18n.language() == ("fr" if expected == "en" else "en")
