"""The English catalogue: complete, and its compiled .mo in step with the .po."""

from __future__ import annotations

import gettext
import re
import subprocess
from pathlib import Path

import oxytrack

LOCALE = Path(oxytrack.__file__).parent / "locale" / "en" / "LC_MESSAGES"


def test_every_message_has_an_english_translation() -> None:
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po
    empty = re.findall(r'^msgid "(.+)"\nmsgstr ""$', po, flags=re.M)
    assert empty == []


def test_the_committed_mo_matches_the_po(tmp_path: Path) -> None:
    # `compilemessages` (gettext's msgfmt) must have been run after the last .po edit.
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(LOCALE / "django.po")], check=True)
    with fresh.open("rb") as a, (LOCALE / "django.mo").open("rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog  # type: ignore[attr-defined]
