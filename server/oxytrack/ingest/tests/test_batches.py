"""POST batches: storage, replays, midnight, titles, and every refusal."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from oxytrack.activity.actions import do_purge_activity
from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.conftest import EnrolledDevice
from oxytrack.ingest.actions import window_cache
from oxytrack.ingest.models import Batch
from oxytrack.ingest.tests.payloads import BASE, batch, consecutive, post_batch, span
from oxytrack.org.models import Device
from oxytrack.org.tokens import hash_device_token, new_device_token
from oxytrack.policy.models import PolicyOverride
from oxytrack.policy.queries import effective_policy

PARIS = ZoneInfo("Europe/Paris")


def counts() -> tuple[int, ...]:
    """Everything a batch may write (device fields aside)."""
    return (
        Batch.objects.count(),
        Span.objects.count(),
        DailyUsage.objects.count(),
        DailyTotal.objects.count(),
        Window.objects.count(),
    )


def recent(hours: float = 2) -> datetime:
    """A moment `hours` ago, on a whole second, in Paris time."""
    return (timezone.now() - timedelta(hours=hours)).astimezone(PARIS).replace(microsecond=0)


def day_before_yesterday_2350() -> datetime:
    day = timezone.now().astimezone(PARIS).date() - timedelta(days=2)
    return datetime(day.year, day.month, day.day, 23, 50, tzinfo=PARIS)


def test_a_batch_is_stored_with_its_rollups(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = recent()
    spans = [
        span(start, 60, app="excel.exe", title="Budget.xlsx", keys=30, clicks=4),
        span(
            start + timedelta(seconds=60),
            30.5,
            app="excel.exe",
            title="Budget.xlsx",
            active=False,
            keys=0,
            clicks=0,
        ),
        span(start + timedelta(seconds=90.5), 10, app="chrome.exe", title="Intranet", keys=3),
    ]
    response = post_batch(client, enrolled_device.token, batch(spans))
    assert response.status_code == 200
    reply = response.json()
    device = enrolled_device.device
    assert reply == {
        "accepted": 3,
        "duplicate": False,
        "policy_version": effective_policy(device.employee.agency_id, device.employee.service_id)[
            "version"
        ],
    }
    stored = list(Span.objects.order_by("start"))
    assert [s.duration_ms for s in stored] == [60000, 30500, 10000]
    assert stored[0].start == start
    assert stored[0].day == start.date()
    assert all(s.employee_id == device.employee_id and s.device_id == device.pk for s in stored)
    total = DailyTotal.objects.get()
    assert (total.active_ms, total.idle_ms, total.keys, total.clicks) == (70000, 30500, 33, 6)
    assert total.first_start == start
    assert total.last_end == start + timedelta(seconds=100.5)
    excel = DailyUsage.objects.get(window__app="excel.exe")
    assert (excel.active_ms, excel.idle_ms) == (60000, 30500)
    assert Batch.objects.get().span_count == 3


def test_gzip_bodies_are_accepted(client: Client, enrolled_device: EnrolledDevice) -> None:
    response = post_batch(
        client, enrolled_device.token, batch(consecutive(recent(), 20)), gzipped=True
    )
    assert response.status_code == 200
    assert Span.objects.count() == 20


def test_replaying_a_batch_changes_nothing(client: Client, enrolled_device: EnrolledDevice) -> None:
    payload = batch(consecutive(recent(), 5))
    assert post_batch(client, enrolled_device.token, payload).json()["duplicate"] is False
    before = counts()
    totals = list(DailyTotal.objects.values())
    replay = post_batch(client, enrolled_device.token, payload, gzipped=True)
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True
    assert replay.json()["accepted"] == 5
    assert counts() == before
    assert list(DailyTotal.objects.values()) == totals


@pytest.mark.django_db(transaction=True)
def test_a_cached_window_purged_since_is_interned_again(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # Real commits: the cache only learns ids that were committed, and the
    # rollup's foreign key is checked at commit.
    first = batch(consecutive(recent(hours=72), 3, title="Rapport.docx"))
    assert post_batch(client, enrolled_device.token, first).status_code == 200
    pair = ("excel.exe", "Rapport.docx")
    cached = window_cache.ids[pair]
    # The purge takes the spans, their rollups and the window they alone used.
    do_purge_activity(
        retention_cutoffs(before=timezone.localdate() - timedelta(days=1)), actor=None
    )
    assert not Window.objects.filter(pk=cached).exists()

    again = batch(consecutive(recent(), 3, title="Rapport.docx"))
    response = post_batch(client, enrolled_device.token, again)
    assert response.status_code == 200, response.content
    window = Window.objects.get(app="excel.exe", title="Rapport.docx")
    assert window.pk != cached
    assert set(Span.objects.values_list("window_id", flat=True)) == {window.pk}
    assert set(DailyUsage.objects.values_list("window_id", flat=True)) == {window.pk}
    assert window_cache.ids[pair] == window.pk


@override_settings(OXYTRACK_DEVICE_CALLS_PER_MINUTE=3)
def test_a_device_past_its_ceiling_is_told_to_slow_down(
    client: Client, enrolled_device: EnrolledDevice, org: Any
) -> None:
    start = recent()
    for n in range(2):
        payload = batch(consecutive(start + timedelta(minutes=n), 1))
        assert post_batch(client, enrolled_device.token, payload).status_code == 200
    policy = client.get(
        "/api/agent/v1/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    )
    assert policy.status_code == 200  # the third call of the minute
    before = counts()
    response = post_batch(client, enrolled_device.token, batch(consecutive(start, 1)))
    assert response.status_code == 429
    assert response.json()["code"] == "slow_down"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert counts() == before
    # Another device keeps its own count.
    token = new_device_token()
    Device.objects.create(
        employee=org.employees["marseille_logistique"],
        hostname="PC-M",
        token_hash=hash_device_token(token),
    )
    assert post_batch(client, token, batch(consecutive(start, 1))).status_code == 200


def test_uploads_leave_the_shared_cache_alone(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # The call counts are per process: a file per device in the shared cache would
    # crowd out the teams' sums, and each write there lists the whole directory.
    start = recent()
    for n in range(3):
        payload = batch(consecutive(start + timedelta(minutes=n), 1))
        assert post_batch(client, enrolled_device.token, payload).status_code == 200
    assert list(Path(settings.CACHE_DIR).glob("*")) == []


def test_a_batch_id_of_another_device_is_refused(
    client: Client, enrolled_device: EnrolledDevice, org: Any
) -> None:
    token = new_device_token()
    Device.objects.create(
        employee=org.employees["marseille_logistique"],
        hostname="PC-M",
        token_hash=hash_device_token(token),
    )
    payload = batch(consecutive(recent(), 2))
    assert post_batch(client, enrolled_device.token, payload).status_code == 200
    before = counts()
    response = post_batch(client, token, payload)
    assert response.status_code == 422
    assert response.json()["code"] == "batch_id_taken"
    assert counts() == before


def test_spans_crossing_local_midnight_are_split(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = day_before_yesterday_2350()  # 23:50 Paris, for 20 minutes, 12 keys
    response = post_batch(
        client,
        enrolled_device.token,
        batch([span(start, 1200, keys=12, clicks=0)], time_zone="Europe/Paris"),
    )
    assert response.status_code == 200
    pieces = list(Span.objects.order_by("start"))
    assert [(p.day, p.duration_ms, p.keys) for p in pieces] == [
        (start.date(), 600_000, 6),
        (start.date() + timedelta(days=1), 600_000, 6),
    ]
    totals = {t.day: t.active_ms for t in DailyTotal.objects.all()}
    assert totals == {start.date(): 600_000, start.date() + timedelta(days=1): 600_000}


def test_the_batch_time_zone_is_recorded_and_used(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # 23:30 in Paris is 18:30 in Martinique: one day there, not two.
    start = day_before_yesterday_2350() - timedelta(minutes=20)
    response = post_batch(
        client,
        enrolled_device.token,
        batch([span(start, 3600)], time_zone="America/Martinique"),
    )
    assert response.status_code == 200
    assert Span.objects.count() == 1
    assert Span.objects.get().day == start.astimezone(ZoneInfo("America/Martinique")).date()
    enrolled_device.device.refresh_from_db()
    assert enrolled_device.device.time_zone == "America/Martinique"


def test_titles_are_data_not_markup(client: Client, enrolled_device: EnrolledDevice) -> None:
    hostile = [
        "<script>alert('x')</script> — Chrome",
        'Rapport "final" \\\\serveur\\partage\\été.docx 🎉',
        '=HYPERLINK("http://evil")',
        "Ünïcödé ‮ right-to-left",
    ]
    start = recent()
    spans = [span(start + timedelta(seconds=i), 1, title=t) for i, t in enumerate(hostile)]
    assert post_batch(client, enrolled_device.token, batch(spans)).status_code == 200
    stored = list(Span.objects.order_by("start").values_list("window__title", flat=True))
    assert stored == hostile


def test_titles_lose_control_characters_and_are_cut(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = recent()
    spans = [
        span(start, 1, title="tab\there\x00and\x1bthere\x7f\u0085", app="app\x00.exe"),
        span(start + timedelta(seconds=1), 1, title="é" * 1500),
    ]
    assert post_batch(client, enrolled_device.token, batch(spans)).status_code == 200
    first, second = Span.objects.order_by("start").select_related("window")
    assert first.window.title == "tabhereandthere"
    assert first.window.app == "app.exe"
    assert second.window.title == "é" * 1024


def test_every_accepted_call_updates_last_seen_and_ip(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    device = enrolled_device.device
    assert device.last_seen_at is None
    response = client.post(
        f"{BASE}/batches",
        json.dumps(batch(consecutive(recent(), 1), local_ips=["10.8.0.5", "fe80::1"])),
        content_type="application/json",
        headers={"Authorization": f"Bearer {enrolled_device.token}"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.last_ip == "203.0.113.7"
    assert device.local_ips == ["10.8.0.5", "fe80::1"]
    seen = device.last_seen_at
    assert seen is not None
    response = client.get(
        f"{BASE}/policy",
        headers={"Authorization": f"Bearer {enrolled_device.token}"},
        REMOTE_ADDR="198.51.100.9",
    )
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.last_ip == "198.51.100.9"
    assert device.last_seen_at is not None and device.last_seen_at >= seen


def _policy_from(client: Client, token: str, remote: str, forwarded: str) -> None:
    response = client.get(
        f"{BASE}/policy",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded},
        REMOTE_ADDR=remote,
    )
    assert response.status_code == 200


def test_forwarded_for_is_ignored_without_a_trusted_proxy(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    _policy_from(client, enrolled_device.token, "203.0.113.7", "1.2.3.4")
    enrolled_device.device.refresh_from_db()
    assert enrolled_device.device.last_ip == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_forwarded_for_is_honoured_from_the_trusted_proxy(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    _policy_from(client, enrolled_device.token, "10.0.0.1", "6.6.6.6, 198.51.100.23")
    enrolled_device.device.refresh_from_db()
    # The right-most hop the proxy saw, not what the client claims before it.
    assert enrolled_device.device.last_ip == "198.51.100.23"
    _policy_from(client, enrolled_device.token, "203.0.113.50", "1.2.3.4")
    enrolled_device.device.refresh_from_db()
    assert enrolled_device.device.last_ip == "203.0.113.50"


# --- refusals: status, code, and nothing written ------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer oxd_unknown", "Basic dXNlcjpwYXNz", "Bearer not-a-token"],
)
def test_unknown_or_missing_tokens_are_401(
    client: Client, enrolled_device: EnrolledDevice, authorization: str | None
) -> None:
    before = counts()
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.post(
        f"{BASE}/batches",
        json.dumps(batch(consecutive(recent(), 1))),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert counts() == before


def test_a_revoked_token_is_401(client: Client, enrolled_device: EnrolledDevice) -> None:
    Device.objects.filter(pk=enrolled_device.device.pk).update(revoked_at=timezone.now())
    before = counts()
    response = post_batch(client, enrolled_device.token, batch(consecutive(recent(), 1)))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert counts() == before
    response = client.get(
        f"{BASE}/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    )
    assert response.status_code == 401


def _spans_at(start: datetime, **kw: Any) -> list[dict[str, Any]]:
    return [span(start, **kw)]


def _ok(n: int = 3) -> list[dict[str, Any]]:
    return consecutive(recent(), n)


Builder = Callable[[], Any]

REFUSALS: list[tuple[str, Builder, int, str]] = [
    (
        "naive start",
        lambda: batch([{**span(recent()), "start": "2026-01-01T10:00:00"}]),
        422,
        "invalid_field",
    ),
    (
        "start in the future",
        lambda: batch([span(timezone.now() + timedelta(minutes=6))]),
        422,
        "span_in_future",
    ),
    ("longer than 24 h", lambda: batch([span(recent(30), 24 * 3600 + 1)]), 422, "span_too_long"),
    (
        "older than retention",
        lambda: batch([span(timezone.now() - timedelta(days=31))]),
        422,
        "span_too_old",
    ),
    ("negative keys", lambda: batch([span(recent(), keys=-1)]), 422, "invalid_field"),
    ("negative clicks", lambda: batch([span(recent(), clicks=-5)]), 422, "invalid_field"),
    ("negative duration", lambda: batch([span(recent(), -1)]), 422, "invalid_field"),
    (
        "duration not a number",
        lambda: batch([{**span(recent()), "duration_s": "long"}]),
        422,
        "invalid_field",
    ),
    (
        "active not a boolean",
        lambda: batch([{**span(recent()), "active": "yes"}]),
        422,
        "invalid_field",
    ),
    (
        "missing title",
        lambda: batch([{k: v for k, v in span(recent()).items() if k != "title"}]),
        422,
        "invalid_field",
    ),
    ("app too long", lambda: batch([span(recent(), app="a" * 256)]), 422, "invalid_field"),
    ("bad batch id", lambda: batch(_ok(), batch_id="not-a-uuid"), 422, "invalid_field"),
    ("naive sent_at", lambda: batch(_ok(), sent_at="2026-01-01T10:00:00"), 422, "invalid_field"),
    (
        "unknown time zone",
        lambda: batch(_ok(), time_zone="Europe/Atlantis"),
        422,
        "invalid_time_zone",
    ),
    ("bad local ip", lambda: batch(_ok(), local_ips=["999.1.1.1"]), 422, "invalid_field"),
    (
        "overlap inside the batch",
        lambda: batch([span(recent(), 60), span(recent() + timedelta(seconds=30), 60)]),
        422,
        "overlap",
    ),
    ("too many spans", lambda: batch(consecutive(recent(30), 5001, 1)), 413, "too_many_spans"),
    ("not JSON", lambda: b"{not json", 400, "malformed"),
    ("not an object", lambda: b"[1, 2]", 400, "malformed"),
    ("empty body", lambda: b"", 400, "malformed"),
    ("invalid UTF-8", lambda: b'{"batch_id": "\xff"}', 400, "malformed"),
    ("lone surrogate", lambda: batch([span(recent(), title="\ud800")]), 0, ""),
]


@pytest.mark.parametrize(
    ("build", "status", "code"),
    [pytest.param(b, s, c, id=name) for name, b, s, c in REFUSALS if s],
)
def test_refusals_write_nothing(
    client: Client, enrolled_device: EnrolledDevice, build: Builder, status: int, code: str
) -> None:
    payload = build()
    before = counts()
    response = post_batch(client, enrolled_device.token, payload)
    assert response.status_code == status, response.content
    error = response.json()
    assert error["code"] == code
    assert error["message"]
    assert counts() == before
    enrolled_device.device.refresh_from_db()
    assert enrolled_device.device.last_seen_at is None


def test_a_lone_surrogate_never_reaches_the_database(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    body = json.dumps(batch([span(recent(), title="a\ud800b")])).encode()
    response = post_batch(client, enrolled_device.token, body)
    # Either refused as malformed JSON or stored without the surrogate: never a 500.
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert Span.objects.get().window.title == "ab"


def test_the_refusal_names_the_first_offending_span(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    spans = [*_ok(3), span(timezone.now() + timedelta(hours=1))]
    response = post_batch(client, enrolled_device.token, batch(spans))
    assert response.status_code == 422
    assert response.json()["message"].startswith("spans.3:")


def test_overlap_with_stored_spans_is_refused(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    start = recent()
    assert post_batch(client, enrolled_device.token, batch([span(start, 600)])).status_code == 200
    before = counts()
    totals = list(DailyTotal.objects.values())
    # Starts before the stored span and ends inside it.
    overlapping = [
        span(start - timedelta(seconds=100), 50),
        span(start - timedelta(seconds=50), 60),
    ]
    response = post_batch(client, enrolled_device.token, batch(overlapping))
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "overlap"
    assert error["message"].startswith("spans.1 ")
    assert "already stored" in error["message"]
    assert counts() == before
    assert list(DailyTotal.objects.values()) == totals
    # A long stored span reaching over the new batch's start is found too.
    inside = [span(start + timedelta(seconds=300), 10)]
    assert post_batch(client, enrolled_device.token, batch(inside)).json()["code"] == "overlap"


def test_touching_spans_and_other_devices_do_not_overlap(
    client: Client, enrolled_device: EnrolledDevice, org: Any
) -> None:
    from oxytrack.org.tokens import hash_device_token, new_device_token

    start = recent()
    assert post_batch(client, enrolled_device.token, batch([span(start, 60)])).status_code == 200
    after = batch([span(start + timedelta(seconds=60), 60)])
    assert post_batch(client, enrolled_device.token, after).status_code == 200
    # The same employee's second PC may run at the same time.
    token = new_device_token()
    Device.objects.create(
        employee=enrolled_device.device.employee,
        hostname="LAPTOP",
        token_hash=hash_device_token(token),
    )
    assert post_batch(client, token, batch([span(start, 120)])).status_code == 200
    assert DailyTotal.objects.get().active_ms == 240_000


@override_settings(OXYTRACK_MAX_BATCH_BYTES=2048)
def test_bodies_over_the_size_limit_are_413(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    payload = batch(consecutive(recent(), 40))
    before = counts()
    response = post_batch(client, enrolled_device.token, payload)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert counts() == before


@override_settings(OXYTRACK_MAX_BATCH_BYTES=64 * 1024)
def test_a_gzip_bomb_is_413_without_inflating_it(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # 64 MiB of spaces compress to ~64 KB: the cap stops decompression early.
    bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}")
    assert len(bomb) < 200 * 1024
    response = client.post(
        f"{BASE}/batches",
        bomb,
        content_type="application/json",
        headers={"Authorization": f"Bearer {enrolled_device.token}", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


@pytest.mark.parametrize(
    ("body", "encoding", "status", "code"),
    [
        (b"not gzip at all", "gzip", 400, "malformed"),
        # mtime=0: the same bytes, so the same test id, in every process (pytest-xdist).
        (gzip.compress(b'{"a": 1}', mtime=0)[:-6], "gzip", 400, "malformed"),
        (b"{}", "br", 415, "unsupported_encoding"),
    ],
)
def test_bad_encodings(
    client: Client,
    enrolled_device: EnrolledDevice,
    body: bytes,
    encoding: str,
    status: int,
    code: str,
) -> None:
    response = client.post(
        f"{BASE}/batches",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {enrolled_device.token}", "Content-Encoding": encoding},
    )
    assert response.status_code == status
    assert response.json()["code"] == code


def test_a_batch_of_the_maximum_size_is_accepted(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    spans = consecutive(recent(30), 5000, 1, title="x" * 500)
    body = json.dumps(batch(spans)).encode()
    assert len(body) > 2_621_440  # bigger than Django's form limit: our own cap applies
    response = post_batch(client, enrolled_device.token, body)
    assert response.status_code == 200, response.content
    assert Span.objects.count() == 5000


def test_policy_version_in_the_reply_follows_overrides(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    first = post_batch(client, enrolled_device.token, batch(_ok(1))).json()["policy_version"]
    PolicyOverride.objects.create(
        agency=enrolled_device.device.employee.agency, idle_threshold_s=60
    )
    later = batch(consecutive(recent(1), 1))
    second = post_batch(client, enrolled_device.token, later).json()["policy_version"]
    assert second != first
    policy = client.get(
        f"{BASE}/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    ).json()
    assert policy["version"] == second and policy["idle_threshold_s"] == 60


def test_days_stored_are_local_dates(client: Client, enrolled_device: EnrolledDevice) -> None:
    start = recent()
    post_batch(client, enrolled_device.token, batch([span(start, 5)]))
    assert isinstance(Span.objects.get().day, date)
    assert uuid.UUID(str(Batch.objects.get().batch_id))


def test_token_calls_need_no_csrf_token(enrolled_device: EnrolledDevice) -> None:
    # Agents have no session or CSRF cookie: the token API is CSRF-exempt
    # (and only it: it authenticates with headers a browser never sends itself).
    client = Client(enforce_csrf_checks=True)
    response = post_batch(client, enrolled_device.token, batch(_ok(1)))
    assert response.status_code == 200


def test_back_to_back_spans_in_microseconds_are_not_overlaps(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # An agent measures in microseconds and float seconds; the server keeps
    # milliseconds. Rounding must never turn back-to-back spans into overlaps,
    # within a batch or across batches, nor make stored spans overlap.
    rng = random.Random(20260301)
    cursor = recent(6) + timedelta(microseconds=123_456)
    for _ in range(4):
        spans = []
        for _ in range(250):
            duration = rng.uniform(0, 20)
            spans.append(span(cursor, duration, keys=1))
            cursor += timedelta(seconds=duration)
        response = post_batch(client, enrolled_device.token, batch(spans))
        assert response.status_code == 200, response.json()
    stored = list(Span.objects.order_by("start", "duration_ms"))
    assert len(stored) >= 1000
    for before, after in itertools.pairwise(stored):
        assert before.start + timedelta(milliseconds=before.duration_ms) <= after.start
    totals = DailyTotal.objects.all()
    assert sum(t.active_ms for t in totals) == sum(s.duration_ms for s in stored)
    assert sum(t.keys for t in totals) == 1000


@override_settings(OXYTRACK_SPAN_RETENTION_DAYS=20 * 365)
def test_days_of_25_hours_are_split_on_the_wall_clock(
    client: Client, enrolled_device: EnrolledDevice
) -> None:
    # Paris left summer time on 2024-10-27: that day had 25 hours. A span from
    # 23:00 the day before, lasting 24 h, has 1 h on the 26th and 23 h on the 27th.
    start = datetime(2024, 10, 26, 23, 0, tzinfo=PARIS)
    payload = batch([span(start, 24 * 3600, keys=24)], time_zone="Europe/Paris")
    assert post_batch(client, enrolled_device.token, payload).status_code == 200
    pieces = [(p.day, p.duration_ms, p.keys) for p in Span.objects.order_by("start")]
    assert pieces == [
        (date(2024, 10, 26), 3_600_000, 1),
        (date(2024, 10, 27), 23 * 3_600_000, 23),
    ]
    totals = {t.day: t.active_ms for t in DailyTotal.objects.all()}
    assert totals == {date(2024, 10, 26): 3_600_000, date(2024, 10, 27): 23 * 3_600_000}
