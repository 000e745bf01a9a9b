"""The server's processes tune the garbage collector when they load the WSGI app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from oxytrack.ops import gc_tuning

pytestmark = pytest.mark.once


def test_loading_the_wsgi_app_raises_the_thresholds_and_freezes_what_is_loaded() -> None:
    # A process of its own, as a gunicorn worker: the test run's collector stays as it is.
    code = (
        "import gc, json, oxytrack.wsgi\n"
        "print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oxytrack.settings_test"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    thresholds, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert tuple(thresholds) == gc_tuning.THRESHOLDS
    assert frozen > 10_000  # Django, the URLconf and the apps: never scanned again
