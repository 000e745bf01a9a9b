"""The call ceilings hold for the whole server, whichever of its processes answers.

The server's cache is shared by its processes (settings.CACHES, files under
OXYTRACK_CACHE_DIR); django-ninja's throttles count there. With Django's
default cache, each gunicorn worker kept its own count, and a device got up to
as many ceilings as the server has workers.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from oxytrack.ingest.tests.live import LiveServer, enroll_devices, live_server, request

# `once`: its servers run on their own SQLite file whatever DATABASE_URL says.
pytestmark = [pytest.mark.once, pytest.mark.slow]

CEILING = 6


def _policy(server: LiveServer, token: str) -> int:
    conn = server.connection()
    try:
        status, headers, reply = request(
            conn, "GET", "/api/agent/v1/policy", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        conn.close()
    if status == 429:
        assert reply["code"] == "slow_down", json.dumps(reply)
        assert 1 <= int(headers["Retry-After"]) <= 60
    return status


def test_a_device_gets_one_ceiling_however_many_processes_answer(tmp_path: Path) -> None:
    small = {"OXYTRACK_DEVICE_CALLS_PER_MINUTE": str(CEILING)}
    # Two gunicorn of one worker each on the same database and var directory: two
    # processes of one server, where the test, not the kernel, picks which answers.
    with ExitStack() as stack:
        servers = [
            stack.enter_context(live_server(tmp_path, workers=1, threads=1, extra_env=small))
            for _ in range(2)
        ]
        token = enroll_devices(servers[0], 1)[0]["device_token"]
        statuses = [_policy(servers[n % 2], token) for n in range(2 * CEILING)]
    assert statuses == [200] * CEILING + [429] * CEILING
    # The counts live in the server's cache directory, under its var directory.
    assert any((tmp_path / "cache").glob("*.djcache"))
