"""`make run` as a newcomer meets it: the embedded server comes up with the demo
organisation, the printed logins work, and a second start keeps the data.

Runs scripts/run.sh (what `make run` calls once .venv exists) against a
private var/ directory and a free port, in embedded mode (no DATABASE_URL).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from oxytrack.accounts.tests.otp import SECRETS, code_for, secret_bytes

REPO = Path(__file__).resolve().parent.parent
# Started from a fresh database, including collectstatic and the demo seed;
# `make run` must be up within 2 minutes on a fresh clone (pip install included).
START_BUDGET_S = 120
LOGIN_LINE = re.compile(r"^\s+(\S+@oxytrack\.demo)\s+(\S+)\s+\(", re.MULTILINE)

pytestmark = [pytest.mark.once, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    def __init__(self, var_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "SECRET_KEY", "DJANGO_", "OXYTRACK_"))
        }
        env.update(OXYTRACK_VAR_DIR=str(var_dir), PORT=str(self.port))
        self.log = var_dir / f"run-{self.port}.log"
        self.started = time.monotonic()
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["bash", str(REPO / "scripts" / "run.sh")],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_up(self) -> float:
        deadline = self.started + START_BUDGET_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"run.sh exited {self.proc.returncode}:\n{self.output}")
            try:
                with urllib.request.urlopen(self.base + "/login/", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"not up after {START_BUDGET_S} s:\n{self.output}")

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            # run.sh execs gunicorn; its session holds the workers too.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


class Browser:
    """A cookie-keeping HTTP client that logs in like a person with a form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, str]:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode()

    def post(self, path: str, page: str, fields: dict[str, str]) -> tuple[str, str]:
        """Submit the form of `page` (its CSRF token) to `path` with `fields`."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        with self.opener.open(request, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def log_in(self, email: str, password: str) -> tuple[str, str]:
        """Password, then the second factor when asked: the super-admin's first login
        sets it up from the secret the page shows; later ones type a code from it."""
        _, _, page = self.get("/login/")
        url, page = self.post("/login/", page, {"username": email, "password": password})
        path = urllib.parse.urlsplit(url).path
        if path == "/security/setup/":
            shown = re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page)
            assert shown, page
            SECRETS[email] = secret_bytes(shown.group(1))
            url, page = self.post(path, page, {"code": code_for(SECRETS[email]), "next": "/"})
            assert url.endswith("/security/recovery-codes/") and "<li><code>" in page, url
            _, url, page = self.get("/")
        elif path == "/login/code/":
            url, page = self.post(path, page, {"code": code_for(SECRETS[email]), "next": "/"})
        return url, page


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_make_run_serves_the_demo_and_keeps_it(var_dir: Path) -> None:
    var_dir.mkdir()
    first = RunningServer(var_dir)
    try:
        took = first.wait_until_up()
        assert took < START_BUDGET_S
        output = first.output
        assert f"http://127.0.0.1:{first.port}/" in output
        logins = LOGIN_LINE.findall(output)
        assert len(logins) == 3, output
        for email, password in logins:
            browser = Browser(first.base)
            final_url, page = browser.log_in(email, password)
            assert final_url == first.base + "/", f"{email} could not log in"
            assert email in page
        # Static files come from whitenoise with DEBUG off (hashed names).
        _, _, login_page = Browser(first.base).get("/login/")
        css = re.search(r'href="(/static/oxytrack/app\.[0-9a-f]+\.css)"', login_page)
        assert css, login_page
        status, _, body = Browser(first.base).get(css.group(1))
        assert status == 200 and "--accent" in body
        # A wrong password does not log in.
        final_url, page = Browser(first.base).log_in(logins[0][0], "not-the-password")
        assert final_url.endswith("/login/")
    finally:
        first.stop()

    second = RunningServer(var_dir)
    try:
        second.wait_until_up()
        assert "données conservées" in second.output
        email, password = LOGIN_LINE.findall(second.output)[0]
        final_url, _ = Browser(second.base).log_in(email, password)
        assert final_url == second.base + "/"
    finally:
        second.stop()
