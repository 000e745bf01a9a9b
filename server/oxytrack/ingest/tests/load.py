"""Many simulated agents in one asyncio process against a real server (issue #13, "Load").

Shared by the load test (test_load.py, ~20 s in `make test`) and the benchmark
(bench/load.py, 2 minutes in `make bench`). `run_load(server, config)` does it all:

1. enrolls `config.agents` devices through the API, concurrently, as agents
   installed across a company would (`POST enroll` with the enrollment key);
2. measures the reference: one more agent uploading alone, `REFERENCE_UPLOADS`
   batches back to back, on the same server before the load;
3. the load: every agent uploads every `period_s` for `duration_s`, each from a
   random phase of the period (agents do not start in step), with the real
   agent's semantics (oxytrack_agent/uploader.py): a batch's id and bytes are
   fixed when it is sealed; each upload opens its own connection; a network
   error, a timeout (30 s), 408, 429 or 5xx is retried with tenacity's
   backoff (random up to 2^n s) but never less than `Retry-After`, resending
   the same batch id; later batches wait behind it; 401 stops the agent; any
   other 4xx sets the batch aside. Then the agents still holding batches keep
   retrying for `drain_s`;
4. verifies from the server's database that every acknowledged batch is
   stored exactly once and that each device holds exactly the spans it sent.

The spans are an agent's: per device, back to back on the wall clock from
its start (never overlapping), cut at the device's local midnight as the
agent cuts them (so the server stores one row per span sent), a few spans
per batch over a small working set of apps and titles, idle now and then.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import math
import random
import resource
import time
import uuid
import zoneinfo
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import psutil

from oxytrack.ingest.tests.live import LiveServer

API = "/api/agent/v1"
TIME_ZONE = "Europe/Paris"
AGENT_TIMEOUT_S = 30.0  # oxytrack_agent.uploader.Client's default
MAX_BACKOFF_S = 600.0  # oxytrack_agent.uploader.MAX_BACKOFF_S
REFERENCE_UPLOADS = 40
ENROLL_CONCURRENCY = 20  # gunicorn's default threads on 2 cores: 5 workers x 4

# (app, title) pairs; each device works in a few of them.
WINDOWS = [
    ("EXCEL.EXE", "Budget 2026.xlsx - Excel"),
    ("EXCEL.EXE", "Planning équipe Nice — semaine 12.xlsx - Excel"),
    ("WINWORD.EXE", "Courrier client « relance ».docx - Word"),
    ("OUTLOOK.EXE", "Boîte de réception - facturation@oxy.fr - Outlook"),
    ("chrome.exe", "Intranet — Dossiers en cours - Google Chrome"),
    ("chrome.exe", "Tableau de bord facturation - Google Chrome"),
    ("ms-teams.exe", "Réunion hebdo | Microsoft Teams"),
    ("explorer.exe", "Documents partagés"),
]

COUNT_SCRIPT = """
import json
from django.db.models import Count, Sum
from oxytrack.activity.models import Span
from oxytrack.ingest.models import Batch
spans = {
    str(row["device__public_id"]): [row["n"], row["ms"]]
    for row in Span.objects.values("device__public_id").annotate(
        n=Count("id"), ms=Sum("duration_ms")
    )
}
batches = [[str(b), str(d)] for b, d in Batch.objects.values_list("batch_id", "device__public_id")]
print(json.dumps({"spans": spans, "batches": batches}))
"""


@dataclass(frozen=True)
class LoadConfig:
    agents: int = 2000
    period_s: float = 10.0
    duration_s: float = 120.0
    # How long agents still holding batches after the run keep retrying.
    drain_s: float = 90.0
    seed: int = 13


@dataclass
class Sealed:
    """One batch as the agent's outbox holds it: id and bytes fixed at sealing."""

    batch_id: str
    body: bytes
    spans: int
    ms: int


@dataclass
class Stats:
    """Every outcome of every upload attempt."""

    latencies_s: list[float] = field(default_factory=list)  # attempts answered 2xx
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # no answer: exception names
    retries: int = 0
    duplicates: int = 0  # acknowledged with duplicate: true (a lost answer, resent)
    refused: list[str] = field(default_factory=list)  # 4xx: the server's message

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status < high)


class Transient(Exception):
    """Worth retrying, as the agent's TransientError."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(Exception):
    """401, or a 4xx the agent sets aside."""


class SimAgent:
    """One device: its spans on the wall clock, its outbox, its uploads."""

    def __init__(self, device_id: str, token: str, rng: random.Random, start: datetime) -> None:
        self.device_id = device_id
        self.auth = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        self.rng = rng
        self.cursor = start.replace(microsecond=0)
        self.windows = rng.sample(WINDOWS, 3)
        self.pending: deque[Sealed] = deque()
        self.acked: dict[str, Sealed] = {}
        self.stopped = False  # 401, or a batch set aside

    def seal(self, end: datetime) -> None:
        """Spans from the cursor to `end` (whole seconds) into a new batch, if any."""
        end = end.replace(microsecond=0)
        seconds = int((end - self.cursor).total_seconds())
        if seconds < 1:
            return
        cuts = sorted(self.rng.sample(range(1, seconds), min(self.rng.randint(0, 3), seconds - 1)))
        bounds = [self.cursor + timedelta(seconds=s) for s in (0, *cuts, seconds)]
        spans = []
        for begin, finish in itertools.pairwise(bounds):
            for piece_start, piece_end in _cut_at_midnight(begin, finish):
                spans.append(self._span(piece_start, piece_end))
        self.cursor = end
        batch_id = str(uuid.uuid4())
        payload = {
            "batch_id": batch_id,
            "sent_at": end.isoformat(),
            "time_zone": TIME_ZONE,
            "spans": spans,
        }
        body = gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), mtime=0)
        ms = sum(int(s["duration_s"] * 1000) for s in spans)
        self.pending.append(Sealed(batch_id, body, len(spans), ms))

    def _span(self, start: datetime, end: datetime) -> dict[str, Any]:
        seconds = int((end - start).total_seconds())
        app, title = self.rng.choice(self.windows)
        active = self.rng.random() < 0.85
        return {
            "start": start.astimezone(_ZONE).isoformat(),
            "duration_s": seconds,
            "app": app,
            "title": title,
            "active": active,
            "keys": self.rng.randrange(4 * seconds) if active else 0,
            "clicks": self.rng.randrange(seconds + 1) if active else 0,
        }

    async def upload_once(self, session: aiohttp.ClientSession, url: str, stats: Stats) -> None:
        """Send every pending batch in order; Transient at the first not delivered."""
        while self.pending:
            sealed = self.pending[0]
            began = time.perf_counter()
            try:
                async with session.post(url, data=sealed.body, headers=self.auth) as response:
                    raw = await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                stats.errors[type(exc).__name__] += 1
                raise Transient(type(exc).__name__) from exc
            elapsed = time.perf_counter() - began
            stats.statuses[status] += 1
            if status in (408, 429) or status >= 500:
                raise Transient(str(status), _retry_after(retry_after))
            if status != 200:
                stats.refused.append(f"{status} {raw[:200]!r}")
                self.stopped = True
                raise Refused(str(status))
            stats.latencies_s.append(elapsed)
            if json.loads(raw).get("duplicate"):
                stats.duplicates += 1
            self.acked[sealed.batch_id] = self.pending.popleft()

    async def upload_with_retries(
        self, session: aiohttp.ClientSession, url: str, stats: Stats, give_up_at: float
    ) -> None:
        """upload_once until it succeeds, with the agent's backoff; give up at `give_up_at`."""
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.upload_once(session, url, stats)
                return
            except Refused:
                return
            except Transient as exc:
                attempt += 1
                # tenacity's wait_random_exponential(multiplier=1, max=600), at
                # least Retry-After (uploader.Uploader._wait).
                wait = self.rng.uniform(0, min(MAX_BACKOFF_S, 2.0 ** (attempt - 1)))
                if exc.retry_after is not None:
                    wait = min(max(wait, exc.retry_after), MAX_BACKOFF_S * 6)
                if loop.time() + wait > give_up_at:
                    return
                stats.retries += 1
                await asyncio.sleep(wait)


_ZONE = zoneinfo.ZoneInfo(TIME_ZONE)


def _cut_at_midnight(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at each local midnight it crosses (the agent's own cut)."""
    pieces = []
    while True:
        local = start.astimezone(_ZONE)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), _ZONE)
        if midnight >= end:
            pieces.append((start, end))
            return pieces
        pieces.append((start, midnight.astimezone(UTC)))
        start = midnight.astimezone(UTC)


def _retry_after(value: str | None) -> float | None:
    return float(value) if value and value.strip().isdigit() else None


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


class TreeCPU:
    """CPU seconds (user + system) of a process and its descendants.

    Each process's last reading is kept, so one that exits meanwhile (a
    gunicorn worker restarted) still counts up to its last reading.
    """

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self._seen: dict[tuple[int, float], float] = {}

    def seconds(self) -> float:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for proc in procs:
            try:
                times = proc.cpu_times()
                self._seen[(proc.pid, proc.create_time())] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return sum(self._seen.values())


def raise_open_files_limit() -> None:
    """The soft limit of open files up to the hard one (inherited by a server started after).

    Each agent holds a connection while it waits for its answer: under load,
    thousands at once, past a common soft limit of 1,024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def postgres_pid(database_url: str) -> int | None:
    """The postmaster's pid of the cluster holding `database_url` (read from its data dir)."""
    import psycopg

    try:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        with open(f"{row[0]}/postmaster.pid") as pid_file:
            return int(pid_file.readline())
    except (OSError, ValueError, psycopg.Error):
        return None


@dataclass
class LoadReport:
    config: LoadConfig
    backend: str
    enroll_s: float
    load_s: float
    stats: Stats
    reference_p50_s: float
    reference_p99_s: float
    server_cpu_s: float
    db_cpu_s: float | None
    client_cpu_s: float
    sealed: int
    acked: int
    spans_sent: int
    undelivered: int  # still in an outbox after the drain
    lost: int  # acknowledged, not in the database
    extra: int  # in the database, never acknowledged (a batch stored twice cannot be: unique id)
    span_mismatches: list[str]  # devices whose stored spans differ from those sent

    @property
    def p50_s(self) -> float:
        return percentile(self.stats.latencies_s, 50)

    @property
    def p99_s(self) -> float:
        return percentile(self.stats.latencies_s, 99)

    @property
    def server_cores(self) -> float:
        return self.server_cpu_s / self.load_s if self.load_s else 0.0

    def problems(self) -> list[str]:
        """What breaks the promise: empty when nothing was lost, doubled, refused or 5xx."""
        found = []
        if self.lost or self.undelivered:
            found.append(f"{self.lost} acknowledged batches lost, {self.undelivered} undelivered")
        if self.extra:
            found.append(f"{self.extra} stored batches never acknowledged")
        if self.span_mismatches:
            found.append(f"spans differ on {len(self.span_mismatches)} devices: "
                         f"{self.span_mismatches[:3]}")  # fmt: skip
        if self.stats.count(500, 600):
            found.append(f"5xx: {dict(self.stats.statuses)}")
        if self.stats.refused:
            found.append(f"refused: {self.stats.refused[:3]}")
        return found

    def lines(self) -> list[str]:
        """The figures, for people."""
        s, c = self.stats, self.config
        rate = self.acked / self.load_s if self.load_s else 0.0
        db = (
            f", PostgreSQL {self.db_cpu_s / self.load_s:.2f} cores"
            if self.db_cpu_s is not None
            else ""
        )
        return [
            f"{c.agents} agents every {c.period_s:g} s for {c.duration_s:g} s on {self.backend}"
            f" (enrolled in {self.enroll_s:.1f} s, {c.agents / self.enroll_s:.0f}/s)",
            f"batches: {self.sealed} sealed, {self.acked} acknowledged ({rate:.0f}/s),"
            f" {s.duplicates} as duplicates, {self.spans_sent} spans;"
            f" lost {self.lost}, undelivered {self.undelivered}, never acknowledged {self.extra},"
            f" devices with other spans than sent {len(self.span_mismatches)}",
            f"answers: 2xx {s.count(200, 300)}, 4xx {s.count(400, 500)},"
            f" 5xx {s.count(500, 600)}, no answer {sum(s.errors.values())} {dict(s.errors)};"
            f" retries {s.retries}",
            f"upload latency under load: p50 {self.p50_s * 1000:.0f} ms,"
            f" p99 {self.p99_s * 1000:.0f} ms; one agent alone:"
            f" p50 {self.reference_p50_s * 1000:.0f} ms, p99 {self.reference_p99_s * 1000:.0f} ms",
            f"CPU over the {self.load_s:.0f} s of load: server (gunicorn tree)"
            f" {self.server_cores:.2f} cores of {psutil.cpu_count()}{db},"
            f" this client {self.client_cpu_s / self.load_s:.2f} cores",
        ]


async def _enroll(
    session: aiohttp.ClientSession, base: str, key: str, count: int, prefix: str
) -> list[dict[str, Any]]:
    """Enroll `count` devices, ENROLL_CONCURRENCY at a time, retrying as the agent's install."""
    gate = asyncio.Semaphore(ENROLL_CONCURRENCY)
    headers = {"X-Enrollment-Key": key, "Content-Type": "application/json"}

    async def one(i: int) -> dict[str, Any]:
        body = json.dumps(
            {
                "username": f"{prefix}{i}",
                "domain": "LOAD",
                "hostname": f"PC-{prefix.upper()}-{i}",
                "os": "Windows 11",
                "agent_version": "load",
                "time_zone": TIME_ZONE,
            }
        ).encode()
        for attempt in range(8):
            async with gate:
                try:
                    async with session.post(
                        f"{base}/enroll", data=body, headers=headers
                    ) as response:
                        reply = await response.json(content_type=None)
                        if response.status == 201:
                            return dict(reply)
                        if response.status < 500 and response.status not in (408, 429):
                            raise RuntimeError(f"enroll refused: {response.status} {reply}")
                except (aiohttp.ClientError, TimeoutError, OSError):
                    pass
            await asyncio.sleep(min(30, 2**attempt))
        raise RuntimeError(f"enroll of {prefix}{i} failed 8 times")

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _run(
    server: LiveServer, key: str, config: LoadConfig, db_pid: int | None
) -> tuple[list[SimAgent], Stats, dict[str, float]]:
    base = f"http://127.0.0.1:{server.port}{API}"
    url = f"{base}/batches"
    rng = random.Random(config.seed)
    # Each upload on its own connection, as the agent's (uploader.Client.close).
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=AGENT_TIMEOUT_S)
    figures: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        replies = await _enroll(session, base, key, config.agents + 1, "load")
        figures["enroll_s"] = time.monotonic() - began

        now = datetime.now(UTC)
        reference = SimAgent(
            replies[-1]["device_id"],
            replies[-1]["device_token"],
            random.Random(rng.random()),
            now - timedelta(seconds=REFERENCE_UPLOADS * config.period_s + 60),
        )
        alone = Stats()
        for _ in range(REFERENCE_UPLOADS):
            reference.seal(reference.cursor + timedelta(seconds=config.period_s))
            await reference.upload_with_retries(session, url, alone, time.monotonic() + 60)
        figures["reference_p50_s"] = percentile(alone.latencies_s, 50)
        figures["reference_p99_s"] = percentile(alone.latencies_s, 99)

        agents = [
            SimAgent(r["device_id"], r["device_token"], random.Random(rng.random()), now)
            for r in replies[:-1]
        ]
        stats = Stats()
        loop = asyncio.get_running_loop()
        server_cpu = TreeCPU(server.process.pid)
        db_cpu = TreeCPU(db_pid) if db_pid else None
        trees = [tree for tree in (server_cpu, db_cpu) if tree is not None]
        start = loop.time()
        stop_at = start + config.duration_s

        async def live(agent: SimAgent, phase: float) -> None:
            # The agent's loop (Uploader.run): wait a period, seal, send, again;
            # one still retrying at the end goes on for the drain.
            await asyncio.sleep(phase)
            while not agent.stopped:
                agent.seal(datetime.now(UTC))
                await agent.upload_with_retries(session, url, stats, stop_at + config.drain_s)
                if loop.time() + config.period_s >= stop_at:
                    return
                await asyncio.sleep(config.period_s)

        async def measure() -> None:
            # CPU over the load's wall time exactly, read now and then so that
            # a worker exiting meanwhile still counts (TreeCPU).
            first = [tree.seconds() for tree in trees]
            client = time.process_time()
            while loop.time() < stop_at:
                await asyncio.sleep(min(5.0, stop_at - loop.time()))
                for tree in trees:
                    tree.seconds()
            figures["load_s"] = loop.time() - start
            figures["client_cpu_s"] = time.process_time() - client
            used = [tree.seconds() - before for tree, before in zip(trees, first, strict=True)]
            figures["server_cpu_s"] = used[0]
            if db_cpu is not None:
                figures["db_cpu_s"] = used[1]

        await asyncio.gather(
            measure(), *(live(agent, rng.uniform(0, config.period_s)) for agent in agents)
        )
    return [*agents, reference], stats, figures


def run_load(
    server: LiveServer, config: LoadConfig, *, backend: str, database_url: str | None = None
) -> LoadReport:
    """Enroll, measure the reference, run the load, verify in the database (module docstring)."""
    key = server.manage("enrollment_key").splitlines()[-1]
    db_pid = postgres_pid(database_url) if database_url else None
    agents, stats, figures = asyncio.run(_run(server, key, config, db_pid))

    stored = json.loads(server.manage("shell", "-c", COUNT_SCRIPT).splitlines()[-1])
    stored_ids = dict(stored["batches"])
    acked = {batch_id: agent.device_id for agent in agents for batch_id in agent.acked}
    lost = sum(1 for batch_id, device in acked.items() if stored_ids.get(batch_id) != device)
    extra = sum(1 for batch_id in stored_ids if batch_id not in acked)
    mismatches = []
    for agent in agents:
        sent = [
            sum(b.spans for b in agent.acked.values()),
            sum(b.ms for b in agent.acked.values()),
        ]
        held = stored["spans"].get(agent.device_id, [0, 0])
        if held != sent:
            mismatches.append(f"{agent.device_id}: sent {sent}, stored {held}")
    # The reference agent's batches are verified with the others, not counted in the load.
    load_agents = agents[:-1]
    return LoadReport(
        config=config,
        backend=backend,
        enroll_s=figures["enroll_s"],
        load_s=figures["load_s"],
        stats=stats,
        reference_p50_s=figures["reference_p50_s"],
        reference_p99_s=figures["reference_p99_s"],
        server_cpu_s=figures["server_cpu_s"],
        db_cpu_s=figures.get("db_cpu_s"),
        client_cpu_s=figures["client_cpu_s"],
        sealed=sum(len(a.acked) + len(a.pending) for a in load_agents),
        acked=sum(len(a.acked) for a in load_agents),
        spans_sent=sum(b.spans for a in load_agents for b in a.acked.values()),
        undelivered=sum(len(a.pending) for a in agents),
        lost=lost,
        extra=extra,
        span_mismatches=mismatches,
    )
