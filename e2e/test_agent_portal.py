"""`oxytrack-agent portal` against the real server (gunicorn): the agent enrolled as an
installer does, then the command gives a link that opens the employee's portal once.

Without a desktop the link is printed; with one, the browser gets it (BROWSER points
Python's webbrowser at a script that records the address, as a real browser would get it).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from e2e.conftest import BIN, LiveServer

# `once`: what this checks happens in the agent (or the browser); the server's database
# plays no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.once]


def _agent_env(tmp_path: Path, *, display: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        {
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "LANGUAGE": "fr",
            "TZ": "Europe/Paris",
        }
    )
    if display:
        env["DISPLAY"] = display
    return env


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(BIN / "oxytrack-agent"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


def _enroll(env: dict[str, str], server: LiveServer) -> None:
    code, _out, err = _run(
        env, "enroll", "--server", server.url, "--key", server.key,
        "--agency", "Nice", "--service", "Facturation", "--no-dialog",
    )  # fmt: skip
    assert code == 0, err


def test_portal_prints_a_one_time_link_without_a_desktop(
    oxytrack_server: LiveServer, tmp_path: Path
) -> None:
    env = _agent_env(tmp_path, display=None)
    _enroll(env, oxytrack_server)
    code, out, err = _run(env, "portal")
    assert code == 0, err
    assert "Ouvrez ce lien dans votre navigateur (valable une fois, jusqu'à" in out
    (url,) = re.findall(r"^http://\S+$", out, re.MULTILINE)
    assert url.startswith(f"{oxytrack_server.url}/portal/enter/")

    browser = requests.Session()
    page = browser.get(url, timeout=30)
    assert page.status_code == 200
    assert page.url == f"{oxytrack_server.url}/portal/"
    assert "Ce qui est collecté" in page.text
    assert "Ce n'est pas du temps non travaillé" in page.text
    # Spent: the same link opens nothing any more.
    again = requests.get(url, timeout=30)
    assert again.status_code == 403
    assert "oxytrack-agent portal" in again.text
    # The portal session reaches no manager page.
    home = browser.get(f"{oxytrack_server.url}/", timeout=30, allow_redirects=False)
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/login/")


def test_portal_opens_the_browser_on_a_desktop(oxytrack_server: LiveServer, tmp_path: Path) -> None:
    env = _agent_env(tmp_path, display=":0")
    _enroll(env, oxytrack_server)
    seen = tmp_path / "opened.txt"
    fake_browser = tmp_path / "browser.sh"
    fake_browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {seen}\n')
    fake_browser.chmod(0o755)
    env["BROWSER"] = str(fake_browser)
    code, out, err = _run(env, "portal")
    assert code == 0, err
    assert "Portail ouvert dans votre navigateur" in out
    assert "http" not in out  # the link went to the browser only
    url = seen.read_text()
    assert url.startswith(f"{oxytrack_server.url}/portal/enter/")
    assert requests.get(url, timeout=30).url == f"{oxytrack_server.url}/portal/"


def test_portal_in_english_and_refused_without_enrollment(tmp_path: Path) -> None:
    env = _agent_env(tmp_path, display=None)
    env["LANGUAGE"] = "en"
    code, _out, err = _run(env, "portal")
    assert code == 1
    assert err.strip()
    code, out, _err = _run(env, "--help")
    assert "see in the browser what your managers see about you" in out
