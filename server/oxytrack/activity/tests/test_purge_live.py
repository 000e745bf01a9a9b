"""Uploads keep succeeding while the purge deletes a large base (real gunicorn server).

A fresh server on its own database (SQLite in the suite's SQLite pass,
PostgreSQL in its PostgreSQL pass: each backend once), two devices enrolled through the API, 200,000
old spans with their rollups and windows built by SQL (large_base.py); then
two agents upload back to back, first without the purge, then for as long
as `oxytrack purge_activity` runs.
"""

# The fixture comes from live.py (shared with the concurrency test): imported here,
# then named as a test argument, which ruff reads as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json

import pytest

from oxytrack.activity.tests.large_base import SPANS_PER_BATCH, build_in, enroll, measure, purged
from oxytrack.ingest.tests.live import LiveServer, suite_server  # noqa: F401

pytestmark = pytest.mark.slow

SPANS = 200_000
# Far above what a purge batch holds the lock for (about 50 ms) on a busy
# machine; a purge holding it for seconds fails (docs/architecture.md).
LONGEST_UPLOAD_S = 2.0

COUNT_SCRIPT = """
import json
from django.db.models import Sum
from oxytrack.activity.models import DailyTotal, DailyUsage, Span, Window
from oxytrack.activity.retention import retention_cutoffs
from oxytrack.ingest.models import Batch
cut = retention_cutoffs()
print(json.dumps({
    "span_ms": Span.objects.aggregate(ms=Sum("duration_ms"))["ms"],
    "old_spans": Span.objects.filter(day__lt=cut.spans_before).count(),
    "rollup_rows": DailyUsage.objects.count() + DailyTotal.objects.count(),
    "old_rollup_rows": DailyUsage.objects.filter(day__lt=cut.rollups_before).count()
    + DailyTotal.objects.filter(day__lt=cut.rollups_before).count(),
    "old_windows": Window.objects.filter(app="old.exe").count(),
    "batches": Batch.objects.count(),
}))
"""


def test_uploads_keep_succeeding_during_the_purge_of_a_large_base(
    suite_server: LiveServer,
) -> None:
    server = suite_server
    tokens = enroll(server, 2)
    expected = build_in(server, SPANS)
    assert expected["spans"] == SPANS

    run = measure(server, tokens, reference_s=3)

    print(
        f"\npurge of {SPANS} spans: {run.purge_s:.1f} s; without it: {run.reference.summary()}; "
        f"during it: {run.during.summary()}"
    )
    assert purged(run.purge_output) == {
        "spans": SPANS,
        "rollup_rows": expected["rollup_rows"],
        "batches": expected["batches"],
        "windows": expected["windows"],
    }
    # Every upload stored at the first try, while the purge ran and without it.
    assert set(run.reference.statuses) == {200} == set(run.during.statuses)
    assert run.reference.busy == run.during.busy == 0
    assert len(run.during.latencies) >= 10, "the uploads hardly overlapped the purge"
    assert max(run.during.latencies) < LONGEST_UPLOAD_S, run.during.summary()
    # What stays: every uploaded span and its rollups, the base's rollups
    # younger than their retention, no window of the purged days.
    counts = json.loads(server.manage("shell", "-c", COUNT_SCRIPT).splitlines()[-1])
    # Spans may be cut at midnight: milliseconds, not rows.
    assert counts["span_ms"] == run.uploaded_batches * SPANS_PER_BATCH * 2000
    assert counts["old_spans"] == counts["old_rollup_rows"] == 0
    assert counts["rollup_rows"] > expected["kept_rollup_rows"]
    assert counts["old_windows"] == 180 * 40 - expected["windows"]
    assert counts["batches"] == run.uploaded_batches
