"""Many agents at once against the production server: nothing lost, nothing twice, no 5xx.

The 20-second version of bench/load.py (issue #13), on the backend of the pass
it runs in: `oxytrack serve` (gunicorn, its default workers and threads) on a
fresh SQLite file, or on a fresh database of the PostgreSQL pass's cluster.
The agents are simulated in this process (load.py: enrolled through the API,
the real agent's retries, verified from the server's database).

500 agents every 2.5 s rather than 2,000 every 10 s: the same 200 uploads a
second offered to the server (on a 2-core machine more than it answers, so
the queue and the agents' timeouts and retries are exercised alike), for a
quarter of the enrollments. Enrolling 2,000 devices takes ~40 s on this
machine, twice the load itself, in each of the two passes; the bench runs
the full 2,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oxytrack.ingest.tests.live import (
    LiveServer,
    fresh_postgres_database,
    live_server,
    suite_backend,
)
from oxytrack.ingest.tests.load import LoadConfig, raise_open_files_limit, run_load

pytestmark = pytest.mark.slow

CONFIG = LoadConfig(agents=500, period_s=2.5, duration_s=20.0, drain_s=60.0)


@pytest.fixture(params=[suite_backend()])
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LiveServer, str | None]]:
    """`oxytrack serve` on an empty database of the pass's backend, and its URL (None: SQLite)."""
    raise_open_files_limit()  # before gunicorn starts: it inherits the limit
    if request.param == "sqlite":
        with live_server(tmp_path, serve=True) as server:
            yield server, None
        return
    with (
        fresh_postgres_database() as url,
        live_server(tmp_path, database_url=url, serve=True) as server,
    ):
        yield server, url


def test_many_agents_uploading_at_once_lose_nothing_and_get_no_5xx(
    served: tuple[LiveServer, str | None],
) -> None:
    server, url = served
    report = run_load(server, CONFIG, backend=suite_backend(), database_url=url)
    print("\n".join(report.lines()))  # in the log with -s, and in the report on failure

    assert report.problems() == [], "\n".join(report.lines())
    # Every agent uploaded during the load, and everything it sealed arrived.
    assert report.acked == report.sealed >= CONFIG.agents * 2
    assert report.stats.count(500, 600) == 0
    assert report.stats.refused == []
