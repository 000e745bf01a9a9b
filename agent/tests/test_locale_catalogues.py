"""The agent's catalogues: every message translated, the compiled .mo in step with the .po.

GNU gettext's msgfmt and xgettext check them; the files are the same on every
OS, so this runs on Linux only (conftest.py's `collect_ignore`).
"""

from __future__ import annotations

import gettext
import subprocess
from pathlib import Path

import pytest

from .test_locale import CATALOGUES, PACKAGE, _msgids


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
