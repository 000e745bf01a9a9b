"""The real-backend tests in tests/windows/: collected on Windows, and only there.

They cannot run on Linux (they drive the Win32 desktop); what can be checked
here is that Linux does not collect them (not a skip: they are not there at
all), and that on Windows pytest would import and collect every one of them.
The second check collects them in a pytest whose `sys.platform` says win32
while conftests load and tests are collected (asyncio and psutil are
imported before that, for real).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

WINDOWS_TESTS = Path(__file__).parent / "windows"
ROOT = Path(__file__).parents[2]

AS_WINDOWS_PLUGIN = """
import sys
import pytest

# What the test modules import, loaded for this OS before the platform is faked.
import asyncio, ctypes, ctypes.wintypes, multiprocessing.reduction, sqlite3, zoneinfo  # noqa: F401
import psutil  # noqa: F401
import oxytrack_agent.enroll, oxytrack_agent.sampler, oxytrack_agent.queue  # noqa: F401
import oxytrack_agent.platforms.windows, oxytrack_agent.platforms.win32api  # noqa: F401
import importlib.util, os, types

# The agent's Windows-only dependencies are not installed here: empty
# stand-ins let their `import` succeed (what they do is tested on Windows).
for name in os.environ["WIN32_ONLY_MODULES"].split():
    if importlib.util.find_spec(name) is None:
        sys.modules[name] = types.ModuleType(name)

_real = sys.platform


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # The conftest of the directory given is loaded here, before collection.
    sys.platform = "win32"


def pytest_collection_finish(session):
    sys.platform = _real
"""


def win32_only_modules() -> list[str]:
    """The import names of the agent's dependencies installed on Windows only."""
    project = tomllib.loads((ROOT / "agent" / "pyproject.toml").read_text(encoding="utf-8"))
    names = []
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        marker = requirement.marker
        on = {"sys_platform": "win32", "platform_system": "Windows"}
        off = {"sys_platform": "linux", "platform_system": "Linux"}
        if marker is not None and marker.evaluate(on) and not marker.evaluate(off):
            names.append(requirement.name.replace("-", "_"))
    return names


def collect(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "as_windows.py").write_text(AS_WINDOWS_PLUGIN, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "WIN32_ONLY_MODULES": " ".join(win32_only_modules()),
    }
    env.pop("CI", None)
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            # The agent's tests need no Django (the Windows job may not install it).
            *("-p", "no:django"),
            *options,
            str(WINDOWS_TESTS),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def defined_tests() -> set[str]:
    """The test functions the files in tests/windows/ define."""
    names = set()
    for path in WINDOWS_TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            f"{path.name}::{node.name}"
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        }
    return names


def collected(done: subprocess.CompletedProcess[str]) -> set[str]:
    """file::test of each test a `--collect-only -q` run listed."""
    lines = (line.strip().replace("\\", "/") for line in done.stdout.splitlines())
    return {line.rsplit("/", 1)[-1] for line in lines if "::" in line}


def test_the_windows_tests_are_collected_on_windows_only(tmp_path: Path) -> None:
    assert len(defined_tests()) >= 7
    done = collect(tmp_path)
    if sys.platform == "win32":
        assert done.returncode == 0, done.stdout + done.stderr
        assert collected(done) == defined_tests()
    else:
        # pytest's 5: no test collected (nothing skipped, nothing run).
        assert done.returncode == 5, done.stdout + done.stderr
        assert "test_backend" not in done.stdout


def test_windows_would_import_and_collect_every_one_of_them(tmp_path: Path) -> None:
    done = collect(tmp_path, "-p", "as_windows")
    assert done.returncode == 0, done.stdout + done.stderr
    assert collected(done) == defined_tests()
