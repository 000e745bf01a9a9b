"""The X11 backend's pure parts and Linux's choice of backend (collected on Linux only).

The X11 module needs python-xlib, and Wayland and DISPLAY mean nothing to the
Windows and macOS backends: conftest.py's `collect_ignore`.
"""

from __future__ import annotations

import pytest

from oxytrack_agent import platforms
from oxytrack_agent.platforms import UnsupportedPlatform
from oxytrack_agent.platforms.x11 import decode_text_property


def test_x11_titles_are_decoded_by_their_type() -> None:
    assert decode_text_property("déjà".encode(), "UTF8_STRING") == "déjà"
    assert decode_text_property("déjà".encode("latin-1"), "STRING") == "déjà"
    # xterm's COMPOUND_TEXT: Latin-1 right half designation, then UTF-8 for emoji.
    ct = b"\x1b-Ad\xe9j\xe0 " + b"\x1b%G" + "😀".encode() + b"\x1b%@"
    assert decode_text_property(ct, "COMPOUND_TEXT") == "déjà 😀"


def test_a_wayland_session_records_nothing_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    with pytest.raises(UnsupportedPlatform, match="Wayland"):
        platforms.current_platform()
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(UnsupportedPlatform, match="DISPLAY"):
        platforms.current_platform()
