"""Starting the agent does not load what `run` never (or only later) needs.

The agent runs all day on every PC and its resident memory is budgeted
(bench/agent.py, issue 10): each module below costs from 0.3 to 1.1 MiB and
is imported where it is used instead (psutil at the first upload or for a
window without WM_CLASS, autostart and its plistlib/shlex, the status page).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

NOT_AT_START = [
    "psutil",
    "oxytrack_agent.autostart",
    "plistlib",
    "shlex",
    "oxytrack_agent.status",
    "tkinter",
]


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    env = {**os.environ, "DISPLAY": ""}
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_command_leaves_heavy_modules_unloaded() -> None:
    loaded = modules_after("import oxytrack_agent.cli")
    assert "oxytrack_agent.cli" in loaded
    assert sorted(loaded & set(NOT_AT_START)) == []


@pytest.mark.parametrize("module", ["psutil", "oxytrack_agent.autostart"])
def test_the_check_sees_a_module_that_is_loaded(module: str) -> None:
    # The check above cannot pass by looking at the wrong interpreter.
    assert module in modules_after(f"import oxytrack_agent.cli, {module}")


def test_the_system_ca_store_is_loaded_once_per_process() -> None:
    from oxytrack_agent.http import tls_context

    assert tls_context(True) is tls_context(True)
