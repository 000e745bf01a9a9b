"""A backup taken while agents upload restores a consistent database (real gunicorn server).

On the pass's backend (SQLite in the SQLite pass, PostgreSQL in the PostgreSQL
pass): two devices enrolled through the API upload batches back to back,
each batch in a time slot of its own, while `oxytrack backup` runs in a
subprocess. The backup is restored by `oxytrack restore` into a fresh var
dir (SQLite) or a fresh database (PostgreSQL) and must hold, for each
device, a prefix of its batches, each batch entirely or not at all, with
rollups that add up to its spans. A server started on it accepts the agents'
tokens; restoring again over it needs --yes and refuses while it runs.
"""

# The fixture comes from live.py: imported here, then named as a test
# argument, which ruff reads as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import gzip
import json
import shutil
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from oxytrack.ingest.tests.live import (
    LiveServer,
    enroll_devices,
    fresh_postgres_database,
    live_server,
    suite_server,  # noqa: F401
)
from oxytrack.ingest.tests.live import request as http

pytestmark = pytest.mark.slow

DEVICES = 2
SPANS_PER_BATCH = 50
SPAN_S = 10
SLOT_S = SPANS_PER_BATCH * SPAN_S
# Spans of 10 s from a local midnight: none straddles one (a span cut there
# would be two rows), DST changes included. At most 1,000 slots of 500 s,
# about 6 days, all in the past and within the retention period.
MAX_BATCHES = 1000
ZONE = ZoneInfo("Europe/Paris")
DAY = datetime.now(ZONE).date() - timedelta(days=20)
ORIGIN = datetime(DAY.year, DAY.month, DAY.day, tzinfo=ZONE).astimezone(UTC)
# Batches acknowledged before the backup starts, and after it ends.
AROUND = 8

STATE_SCRIPT = """
import json
from django.apps import apps
from django.db.models import Sum
from oxytrack.activity.models import DailyTotal, DailyUsage, HourlyTotal, Span
from oxytrack.ingest.models import Batch

def per_day(queryset, column):
    rows = queryset.values("employee_id", "day").annotate(ms=Sum(column)).order_by()
    return {f"{r['employee_id']} {r['day']}": r["ms"] for r in rows}

starts = {}
for device, start in Span.objects.values_list("device__public_id", "start"):
    starts.setdefault(str(device), []).append(int(start.timestamp()))
print(json.dumps({
    "counts": {model._meta.label: model.objects.count() for model in apps.get_models()},
    "spans": per_day(Span.objects.filter(active=True), "duration_ms"),
    "usage": per_day(DailyUsage.objects.all(), "active_ms"),
    "totals": per_day(DailyTotal.objects.all(), "active_ms"),
    "hourly": per_day(HourlyTotal.objects.all(), "active_ms"),
    "batches": {
        str(b): str(d) for b, d in Batch.objects.values_list("batch_id", "device__public_id")
    },
    "starts": starts,
}))
"""


def state(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "oxytrack.manage", "shell", "-c", STATE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def oxytrack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("oxytrack")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def enroll(server: LiveServer) -> list[tuple[str, str]]:
    """(device id, token) of each device, enrolled as agents do."""
    return [(r["device_id"], r["device_token"]) for r in enroll_devices(server, DEVICES, "agent")]


def payload(number: int) -> dict[str, Any]:
    """Batch `number` of a device: its spans fill slot `number`, and nothing else."""
    start = ORIGIN + timedelta(seconds=SLOT_S * number)
    return {
        "batch_id": str(uuid.uuid4()),
        "sent_at": datetime.now(UTC).isoformat(),
        "time_zone": "Europe/Paris",
        "spans": [
            {
                "start": (start + timedelta(seconds=SPAN_S * i)).isoformat(),
                "duration_s": SPAN_S,
                "app": "app.exe",
                "title": f"Dossier {number % 7} — {i % 5}",
                "active": True,
                "keys": 3,
                "clicks": 1,
            }
            for i in range(SPANS_PER_BATCH)
        ],
    }


def post(server: LiveServer, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    conn = server.connection()
    try:
        status, _, reply = http(
            conn,
            "POST",
            "/api/agent/v1/batches",
            gzip.compress(json.dumps(body).encode()),
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
        )
    finally:
        conn.close()
    return status, reply


@dataclass
class Sent:
    batch_id: str
    number: int
    sent_at: float
    acked_at: float


@dataclass
class Uploader:
    """One device posting its batches one after the other, as its agent does."""

    server: LiveServer
    token: str
    stop: threading.Event
    sent: list[Sent] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> None:
        try:
            for number in range(MAX_BATCHES):
                if self.stop.is_set():
                    return
                body = payload(number)
                self.payloads.append(body)
                sent_at = time.monotonic()
                status, reply = post(self.server, self.token, body)
                while status == 503:  # an agent retries the same batch
                    time.sleep(0.1)
                    status, reply = post(self.server, self.token, body)
                if status != 200 or reply["duplicate"]:
                    self.errors.append((status, reply))
                    return
                self.sent.append(Sent(body["batch_id"], number, sent_at, time.monotonic()))
        except Exception as exc:  # reported by the test, not lost in the thread
            self.errors.append(exc)


def wait_for(condition: Any, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def restore_target(source: LiveServer, tmp_path: Path) -> Iterator[tuple[dict[str, str], Any]]:
    """The environment of an empty database to restore into, and how to serve it."""
    if "DATABASE_URL" not in source.env:
        var = tmp_path / "restored"
        var.mkdir()
        # Device tokens are HMACs keyed by the secret key: it goes with the data.
        shutil.copy2(Path(source.env["OXYTRACK_VAR_DIR"]) / "secret_key", var / "secret_key")
        env = {**source.env, "OXYTRACK_VAR_DIR": str(var)}
        yield env, lambda: live_server(var, workers=1)
        return
    with fresh_postgres_database() as url:
        env = {**source.env, "DATABASE_URL": url}
        yield env, lambda: live_server(tmp_path / "restored", database_url=url, workers=1)


def test_a_backup_taken_during_uploads_restores_a_prefix_of_whole_batches(
    suite_server: LiveServer, tmp_path: Path
) -> None:
    server = suite_server
    devices = enroll(server)
    stop = threading.Event()
    uploaders = [Uploader(server, token, stop) for _, token in devices]
    threads = [threading.Thread(target=u.run) for u in uploaders]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(len(u.sent) >= AROUND for u in uploaders), "the first batches")
        before = state(server.env)
        began = time.monotonic()
        done = oxytrack(server.env, "backup")
        ended = time.monotonic()
        assert done.returncode == 0, done.stderr
        wait_for(
            lambda: (
                all(sum(s.sent_at > ended for s in u.sent) >= AROUND for u in uploaders)
                or any(u.errors or len(u.payloads) == MAX_BATCHES for u in uploaders)
            ),
            "batches after the backup",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(u.errors for u in uploaders), [u.errors for u in uploaders]
    after = state(server.env)
    backup_file = Path(done.stdout.strip().rsplit(" (", 1)[0])
    assert backup_file.parent == Path(server.env["OXYTRACK_VAR_DIR"]) / "backups"
    # pg_dump writes into the file made for it: still private.
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    during = sum(1 for u in uploaders for s in u.sent if s.sent_at < ended and s.acked_at > began)
    print(
        f"\nbackup in {ended - began:.1f} s (process included), {during} batches stored "
        f"meanwhile, {sum(len(u.sent) for u in uploaders)} in all"
    )
    assert all(sum(s.sent_at > ended for s in u.sent) >= AROUND for u in uploaders)

    with restore_target(server, tmp_path) as (env, serve):
        restored_out = oxytrack(env, "restore", str(backup_file))
        assert restored_out.returncode == 0, restored_out.stderr
        restored = state(env)

        # Each device: a prefix of its batches; all those stored before the
        # backup began, none sent after it ended.
        for (device_id, _), uploader in zip(devices, uploaders, strict=True):
            kept = {b for b, d in restored["batches"].items() if d == device_id}
            numbers = sorted(s.number for s in uploader.sent if s.batch_id in kept)
            assert len(numbers) == len(kept), "a batch the uploader never had acknowledged"
            assert numbers == list(range(len(numbers))), "not a prefix"
            assert all(s.batch_id in kept for s in uploader.sent if s.acked_at < began)
            assert not any(s.batch_id in kept for s in uploader.sent if s.sent_at > ended)
            # Every batch entirely or not at all: 50 spans in each kept slot, none elsewhere.
            slots: dict[int, int] = {}
            for start in restored["starts"].get(device_id, []):
                slot = (start - int(ORIGIN.timestamp())) // SLOT_S
                slots[slot] = slots.get(slot, 0) + 1
            assert slots == dict.fromkeys(numbers, SPANS_PER_BATCH)

        batches = len(restored["batches"])
        print(f"restored: {batches} batches")
        # Taken in the midst of the uploads, not before they went on.
        assert batches > sum(1 for u in uploaders for s in u.sent if s.acked_at < began)
        assert restored["counts"]["ingest.Batch"] == batches
        assert restored["counts"]["activity.Span"] == batches * SPANS_PER_BATCH
        # The rollups add up to the spans, per employee and day.
        assert restored["spans"] == restored["usage"] == restored["totals"] == restored["hourly"]
        assert sum(restored["spans"].values()) == batches * SPANS_PER_BATCH * SPAN_S * 1000
        # Every table: between the source just before the backup and after it;
        # the tables the uploads do not touch, as they were.
        for label, count in restored["counts"].items():
            assert before["counts"][label] <= count <= after["counts"][label], label
            if before["counts"][label] == after["counts"][label]:
                assert count == before["counts"][label], label
        assert f"{batches:,} ingest.Batch" in restored_out.stdout
        assert f"{DEVICES:,} org.Device" in restored_out.stdout

        # A server on the restored database takes the agents' tokens.
        uploader = uploaders[0]
        kept_payloads = [p for p in uploader.payloads if p["batch_id"] in restored["batches"]]
        missing = uploader.payloads[len(kept_payloads)]
        with serve() as restored_server:
            status, reply = post(restored_server, devices[0][1], kept_payloads[-1])
            assert status == 200 and reply["duplicate"], reply
            status, reply = post(restored_server, devices[0][1], missing)
            assert status == 200 and not reply["duplicate"], reply
            # While it runs, a restore is refused, even with --yes.
            busy = oxytrack(env, "restore", str(backup_file), "--yes")
            assert busy.returncode == 1
            assert "stop the server" in busy.stderr, busy.stderr

        # Stopped: restoring over data needs --yes and says what would go.
        refused = oxytrack(env, "restore", str(backup_file))
        assert refused.returncode == 1
        assert "already holds data:" in refused.stderr, refused.stderr
        assert f"{batches + 1:,} ingest.Batch" in refused.stderr, refused.stderr
        again = oxytrack(env, "restore", str(backup_file), "--yes")
        assert again.returncode == 0, again.stderr
        assert state(env)["batches"] == restored["batches"]
