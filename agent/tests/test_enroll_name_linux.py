"""The full name on Linux: the passwd entry's GECOS field (collected on Linux only).

The reader lives in the X11 backend, whose module needs python-xlib (Linux's
only): conftest.py's `collect_ignore`.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from oxytrack_agent import platforms
from oxytrack_agent.enroll import machine_identity
from oxytrack_agent.platforms.x11 import gecos_full_name


def _gecos_of_this_user() -> str:
    """The GECOS field as `getent` prints it: a path independent of Python's pwd."""
    line = subprocess.run(
        ["getent", "passwd", str(os.getuid())], capture_output=True, text=True, check=True
    ).stdout.strip()
    return line.split(":")[4]


@pytest.mark.parametrize(
    ("gecos", "name"),
    [
        ("Jean Dupont,Bureau 12,04 93 00 00 00,,", "Jean Dupont"),
        ("  Zoé Martin-Lefèvre  ", "Zoé Martin-Lefèvre"),
        ("", ""),
        (",,,", ""),
        ("root", "root"),
    ],
)
def test_the_full_name_is_the_first_part_of_the_gecos_field(gecos: str, name: str) -> None:
    assert gecos_full_name(gecos) == name


def test_on_linux_the_full_name_comes_from_the_passwd_entry() -> None:
    expected = _gecos_of_this_user().split(",")[0].strip()
    assert platforms.full_user_name() == expected
    identity = machine_identity()
    if expected:
        assert identity["display_name"] == expected
    else:
        assert "display_name" not in identity
