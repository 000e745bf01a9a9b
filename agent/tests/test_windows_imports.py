"""The agent, and its tests, import where Linux's own modules do not exist (Windows).

Windows has no fcntl, pwd, grp, resource or termios, and python-xlib is
installed on Linux only (pynput on macOS only): a module that imports one of
them at its top would fail there at import, taking the agent or the Windows CI
job's collection down with it. Here, on Linux, a fresh interpreter sees those
names as unimportable (`sys.modules[name] = None` makes `import name` raise
ImportError), then
- imports every module of the package: only the X11 backend may need them;
- collects the agent's tests as Windows would (test_windows_collection.py's
  stand-in for `sys.platform`): every file but conftest.py's Linux-only list.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import oxytrack_agent

from .conftest import LINUX_ONLY
from .test_windows_collection import AS_WINDOWS_PLUGIN, ROOT, win32_only_modules

#: Modules Windows does not have: the standard library's POSIX-only ones, the
#: dependencies whose markers keep them off Windows (agent/pyproject.toml).
NOT_ON_WINDOWS = ["fcntl", "grp", "pwd", "resource", "termios", "Xlib", "pynput"]

#: The X11 backend: imported by `current_platform()` on Linux only.
LINUX_BACKEND = {"oxytrack_agent.platforms.x11", "oxytrack_agent.platforms.x11_input"}

TESTS = Path(__file__).parent
#: Directories whose own conftest.py collects them on Linux only.
LINUX_ONLY_DIRS = ("x11/",)

BLOCK = f"""
import sys
# psutil picks its backend by OS (on Linux it needs resource): loaded for this one first.
import psutil
for name in {NOT_ON_WINDOWS!r}:
    sys.modules[name] = None
"""

IMPORT_EVERY_MODULE = """
import importlib, json
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed[name] = str(exc)
print(json.dumps(failed))
"""


def agent_modules() -> list[str]:
    """Every module of oxytrack_agent (`__main__` runs the command: left out)."""
    return sorted(
        info.name
        for info in pkgutil.walk_packages(oxytrack_agent.__path__, "oxytrack_agent.")
        if not info.name.endswith(".__main__")
    )


def test_every_agent_module_but_the_x11_backend_imports_without_linux_modules() -> None:
    modules = agent_modules()
    assert len(modules) > 30 and set(modules) >= LINUX_BACKEND
    done = subprocess.run(
        [sys.executable, "-c", BLOCK + IMPORT_EVERY_MODULE, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    failed: dict[str, str] = json.loads(done.stdout.splitlines()[-1])
    # The X11 backend does fail: the stand-in works, and nothing else needs them.
    assert set(failed) == LINUX_BACKEND, failed
    assert all("Xlib" in message for message in failed.values()), failed


def test_windows_collects_every_agent_test_file_but_the_linux_only_ones(tmp_path: Path) -> None:
    (tmp_path / "as_windows.py").write_text(BLOCK + AS_WINDOWS_PLUGIN, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "WIN32_ONLY_MODULES": " ".join(win32_only_modules()),
    }
    env.pop("CI", None)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            *("-p", "no:django", "-p", "as_windows", str(TESTS)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    collected = {
        line.split("::", 1)[0].replace("\\", "/").rsplit("agent/tests/", 1)[-1]
        for line in done.stdout.splitlines()
        if "::" in line
    }
    every = {p.relative_to(TESTS).as_posix() for p in TESTS.rglob("test_*.py")}
    assert set(LINUX_ONLY) <= every  # the list names files that exist
    linux_dirs = {name for name in every if name.startswith(LINUX_ONLY_DIRS)}
    assert collected == every - set(LINUX_ONLY) - linux_dirs
    assert "windows/test_backend.py" in collected  # the real-backend tests come too
