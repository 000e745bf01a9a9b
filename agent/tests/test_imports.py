"""Starting the agent does not load what `run` never (or only later) needs.

The agent runs all day on every PC and its resident memory is budgeted
(bench/agent.py, issue 10): each module below costs from 0.3 to 1.1 MiB and
is imported where it is used instead (psutil at the first upload or for a
window without WM_CLASS, autostart and its plistlib/shlex, the status page).
On X11, `run` counts keys and clicks with its own RECORD counter and never
loads pynput (about 5 MiB there).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxytrack_agent.config import Config, Paths, save_config, save_token

from .conftest import TOKEN, FakeServer

NOT_AT_START = [
    "psutil",
    "oxytrack_agent.autostart",
    "plistlib",
    "shlex",
    "oxytrack_agent.status",
    "tkinter",
    "getpass",  # and its termios: only enrollment asks for the login
    "termios",
    # The tray icon is a process of its own (`oxytrack-agent tray`).
    "oxytrack_agent.tray",
    "pystray",
    "PIL",
]


#: Not loaded by `run` at all: the standard library or a few lines of ours do it.
NOT_IN_RUN = [
    "tenacity",  # the uploader's retries: imported at the first failed upload only
    "urllib.request",  # http.client (urllib.request only for a proxy)
    "platformdirs",  # XDG directories on Linux
    "logging.handlers",  # the rotating log file (its pickle)
    "pickle",
    "concurrent.futures",
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


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A display of its own (Xvfb picks a free number), stopped after the test."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        assert number, "Xvfb did not report a display"
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(10)


@pytest.mark.x11
def test_run_on_x11_counts_input_and_uploads_without_pynput_or_psutil(
    tmp_path: Path, fake_server: FakeServer, xvfb_display: str
) -> None:
    """The real `run` on an X display: which modules it imported, from start to SIGTERM."""
    paths = Paths(
        config_dir=tmp_path / "config" / "oxytrack-agent",
        data_dir=tmp_path / "data" / "oxytrack-agent",
    )
    save_config(paths, Config(server=fake_server.url, device_id="6f1c1c1e-1111-4222-8333-9444"))
    save_token(paths, TOKEN)
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
        "XDG_SESSION_TYPE": "x11",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        # Every import, as it happens, on stderr.
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    env.pop("WAYLAND_DISPLAY", None)
    agent = subprocess.Popen(
        [sys.executable, "-m", "oxytrack_agent", "run", "--upload-interval", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        log = paths.data_dir / "agent.log"
        while not (log.exists() and "input counting on" in log.read_text()):
            assert agent.poll() is None and time.monotonic() < deadline, "the agent did not start"
            time.sleep(0.1)
        subprocess.run(["xdotool", "key", "a"], env=env, check=True, timeout=10)
        time.sleep(2.5)  # an upload (interval 1 s) with its local addresses
        agent.send_signal(signal.SIGTERM)
        _, imports = agent.communicate(timeout=30)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    loaded = set(re.findall(r"^import time:.*\|\s*(\S+)$", imports, re.MULTILINE))
    assert "oxytrack_agent.platforms.x11_input" in loaded  # the check sees what `run` loads
    assert fake_server.batches, "nothing was uploaded"
    assert sorted(m for m in loaded if m.split(".")[0] == "pynput") == []
    # The batch's local addresses come from the standard library on Linux.
    assert fake_server.batches[0]["local_ips"] is not None
    assert sorted(m for m in loaded if m.split(".")[0] == "psutil") == []
    assert sorted(m for m in loaded if m.split(".")[0] in ("pystray", "PIL")) == []
    # Each of these cost the always-running agent from 0.4 to 1.7 MiB (docs/architecture.md).
    assert sorted(loaded & set(NOT_IN_RUN)) == []
