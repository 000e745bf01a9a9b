"""The agent's language: French by default, English when the session asks for it.

Messages are French in the source (the msgid); `locale/en/LC_MESSAGES/
oxytrack_agent.po` (compiled to .mo, shipped in the package) has their English.
The session's language is read the way gettext reads it: the first of
LANGUAGE (a list), LC_ALL, LC_MESSAGES, LANG that is set; on Windows, when none
is, the user's UI language (GetUserDefaultUILanguage). Anything but English
(also C/POSIX) gives French.

argparse's own strings ("usage:", "show this help message and exit") are
English msgids of its own; `install_argparse()` routes them through the
`argparse` catalogue here, which has their French.
"""

from __future__ import annotations

import argparse
import functools
import gettext
import locale
import os
import sys
from pathlib import Path

DOMAIN = "oxytrack_agent"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("fr", "en")


def _windows_ui_language() -> str | None:
    if sys.platform != "win32":
        return None
    import ctypes

    lang_id = ctypes.windll.kernel32.GetUserDefaultUILanguage()
    name: str | None = locale.windows_locale.get(lang_id)
    return name


def _requested() -> list[str]:
    """The session's language names, most wanted first (gettext's order)."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.split(":")
    win = _windows_ui_language()
    return [win] if win else []


@functools.cache
def language() -> str:
    """ "fr" or "en", for this process (read once, on first use)."""
    for name in _requested():
        code = name.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
        if code in ("c", "posix"):
            return "fr"
        if code in LANGUAGES:
            return code
    return "fr"


@functools.cache
def _catalogue(domain: str, lang: str) -> gettext.NullTranslations:
    return gettext.translation(domain, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """`message` (French) in the session's language."""
    if language() == "fr":
        return message
    return _catalogue(DOMAIN, language()).gettext(message)


def N_(message: str) -> str:
    """Mark a constant for the catalogue; translate it with `_` where it is used."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the session's language."""
    if language() == "fr":
        # French counts 0 and 1 as singular.
        return singular if n <= 1 else plural
    return _catalogue(DOMAIN, language()).ngettext(singular, plural, n)


def _argparse_gettext(message: str) -> str:
    return _catalogue("argparse", language()).gettext(message)


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue("argparse", language()).ngettext(singular, plural, n)


def install_argparse() -> None:
    """Make argparse's own strings follow the session's language too.

    argparse looks its strings up through its module globals `_` and
    `ngettext` at call time, so replacing those two is enough.
    """
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext  # type: ignore[attr-defined]


def reset() -> None:
    """Forget the language read (tests change the environment)."""
    language.cache_clear()
