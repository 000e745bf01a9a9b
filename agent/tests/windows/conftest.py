"""Tests of the real Windows backend: collected on Windows only.

Off Windows nothing here is collected, not even imported (a skip would be a
failure in CI, and these tests cannot run anywhere else). The Windows CI job
runs them with the rest of `python -m pytest agent`.
"""

from __future__ import annotations

import sys

if sys.platform != "win32":
    collect_ignore_glob = ["*"]
