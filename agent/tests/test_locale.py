"""The agent's catalogues: every message translated, the compiled .mo in step with the .po."""

from __future__ import annotations

import argparse
import gettext
import re
import subprocess
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


def compiled(po: Path, tmp_path: Path) -> dict[str | tuple[str, int], str]:
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True, timeout=60)
    with fresh.open("rb") as f:
        catalogue: dict[str | tuple[str, int], str] = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        return catalogue


def source_messages(tmp_path: Path) -> set[str]:
    """The msgids of `_`, `N_` and `ngettext` calls in the agent's source (xgettext)."""
    pot = tmp_path / "agent.pot"
    sources = sorted(str(p) for p in PACKAGE.rglob("*.py"))
    subprocess.run(
        ["xgettext", "-L", "Python", "--from-code=UTF-8", "--keyword=_", "--keyword=N_",
         "--keyword=ngettext:1,2", "--no-location", "-o", str(pot), *sources],
        check=True, timeout=60,
    )  # fmt: skip
    ids = {m for m in _msgids(pot) if m}
    assert ids, "xgettext found no message"
    return ids


def _msgids(po: Path) -> list[str]:
    text = po.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M):
        out.append("".join(eval(line) for line in block.splitlines()))  # noqa: S307  (PO strings)
    return out


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.name)
def test_the_committed_mo_matches_the_po(po: Path, tmp_path: Path) -> None:
    with po.with_suffix(".mo").open("rb") as f:
        committed = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    assert compiled(po, tmp_path) == committed


def test_every_message_of_the_source_has_an_english_translation(tmp_path: Path) -> None:
    po = CATALOGUES[0]
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")
    catalogue = compiled(po, tmp_path)
    translated = {k[0] if isinstance(k, tuple) else k for k, v in catalogue.items() if v}
    missing = sorted(source_messages(tmp_path) - translated)
    assert missing == []


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
    i18n.reset()
    assert i18n.language() == expected
