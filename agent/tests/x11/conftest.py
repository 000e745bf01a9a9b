"""Tests of X11 parts that need python-xlib (a Linux-only dependency): collected on Linux only.

Elsewhere nothing here is collected, not even imported (a skip would be a
failure in CI).
"""

from __future__ import annotations

import sys

if not sys.platform.startswith("linux"):
    collect_ignore_glob = ["*"]
