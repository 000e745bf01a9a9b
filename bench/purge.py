"""Upload latency while `oxytrack purge_activity` deletes a large base, vs. without the purge.

Run alone with `.venv/bin/python bench/purge.py` (a few minutes). Ends with:

    RESULT purge spans=N purge_s=S ref_uploads=N ref_max_ms=N ref_p99_ms=N
        purge_uploads=N purge_max_ms=N purge_p99_ms=N max_ratio=R p99_ratio=R busy=N

- The server: the real one (gunicorn, 2 workers of 4 threads as `make run`
  starts it) on a fresh SQLite database in a temp dir, or on the PostgreSQL
  database of DATABASE_URL when set (a fresh database is created on that
  cluster, e.g. under scripts/with-postgres.sh).
- The base: two devices enrolled through the API, then --spans old spans
  (default 1,000,000) on 180 days from 219 to 40 days ago, with their daily
  rollups and 7,200 windows, built by SQL in the server's database
  (server/oxytrack/activity/tests/large_base.py). The default purge deletes
  every span, the rollups and windows of the oldest 39 days and 360 upload
  batch records.
- The uploads: two threads, one per device, each posting gzipped batches of
  50 spans back to back, a new connection each, as an agent does; a 503 is
  retried after its Retry-After and counted in `busy` (its wait is part of
  that upload's latency).
- The reference: the same two threads, same server, same base, for
  --reference-s seconds (default 15) just before the purge starts. It does
  not run the purge, so it has neither the purge's reads nor its WAL
  checkpoints nor its share of the two cores; it does run on the full base
  (the purge phase ends on an emptier one) and with the same client load.
- The purge phase lasts exactly as long as the purge command runs.

max_ratio and p99_ratio are the purge phase's figure over the reference's:
1.0 means the purge costs the uploads nothing.

Options: --spans N, --reference-s S.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from oxytrack.activity.tests.large_base import build_in, enroll, measure, purged  # noqa: E402
from oxytrack.ingest.tests.live import live_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--reference-s", type=float, default=15.0)
    args = parser.parse_args()
    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oxytrack-purge-")))
        url = None
        if os.environ.get("DATABASE_URL"):
            from oxytrack.ingest.tests.live import fresh_postgres_database

            url = stack.enter_context(fresh_postgres_database())
        server = stack.enter_context(live_server(var_dir, database_url=url))
        backend = "postgresql" if url else "sqlite"
        tokens = enroll(server, 2)
        began = time.monotonic()
        expected = build_in(server, args.spans)
        print(f"{backend}: built {expected} in {time.monotonic() - began:.0f} s", flush=True)
        run = measure(server, tokens, reference_s=args.reference_s)
        done = purged(run.purge_output)
        assert done["spans"] == expected["spans"], (done, expected)
        statuses = set(run.reference.statuses) | set(run.during.statuses)
        assert statuses == {200}, statuses
    ref, during = run.reference, run.during
    print(f"without the purge: {ref.summary()}")
    print(f"during the purge ({run.purge_s:.1f} s, {done}): {during.summary()}")
    print(
        f"RESULT purge backend={backend} spans={expected['spans']} purge_s={run.purge_s:.1f} "
        f"ref_uploads={len(ref.latencies)} ref_max_ms={ref.longest_ms():.0f} "
        f"ref_p99_ms={ref.p99_ms():.0f} purge_uploads={len(during.latencies)} "
        f"purge_max_ms={during.longest_ms():.0f} purge_p99_ms={during.p99_ms():.0f} "
        f"max_ratio={during.longest_ms() / ref.longest_ms():.2f} "
        f"p99_ratio={during.p99_ms() / ref.p99_ms():.2f} busy={ref.busy + during.busy}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
