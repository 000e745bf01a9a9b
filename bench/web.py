"""Server time of the managers' pages on the demo organisation scaled to 1,700
employees x 30 days (SQLite, the embedded default).

Run alone with `.venv/bin/python bench/web.py`. The first run seeds
var/bench-web/ with `seed_demo --employees 1700 --days 30` (a few minutes) and
keeps it for the next runs. Requests go through Django's test client in this
process, so the times are the server's (routing, queries, templates), without
the network or the browser. Each page is requested 20 times after one warm-up:

- home of an admin whose scopes hold about 100 employees,
- one employee's detail page for 30 days (rollups, charts' JSON, titles table),
- search by name as the super-administrator (all 1,700 employees visible).

Ends with one line:

    RESULT web home_p95_ms=N detail_p95_ms=N search_p95_ms=N (targets: 200, 150)

Options: --employees N (default 1700), --days N (default 30), --requests N (default 20).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-03-31T15:00:00+02:00"  # fixed: every run measures the same data


def _schema_digest() -> str:
    """A digest of every migration: a database seeded under other ones is seeded again."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "server" / "oxytrack").glob("*/migrations/*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def seed(var_dir: Path, employees: int, days: int) -> None:
    """Migrate and seed the bench database unless it is already there, same schema."""
    marker = var_dir / f"seeded-{employees}x{days}-{_schema_digest()}"
    if marker.exists():
        return
    var_dir.mkdir(parents=True, exist_ok=True)
    for old in [*var_dir.glob("oxytrack.sqlite3*"), *var_dir.glob("seeded-*")]:
        old.unlink()
    env = {
        **os.environ,
        "OXYTRACK_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "oxytrack.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["seed_demo", "--employees", str(employees), "--days", str(days), "--now", NOW],
    ):
        print(f"oxytrack {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", "oxytrack.manage", *args], env=env, check=True)
    marker.touch()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=1700)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=20)
    options = parser.parse_args()
    var_dir = REPO / "var" / "bench-web"
    seed(var_dir, options.employees, options.days)

    os.environ["OXYTRACK_VAR_DIR"] = str(var_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SECRET_KEY", None)
    # The test settings serve static files from the packages: no collectstatic needed.
    os.environ["DJANGO_SETTINGS_MODULE"] = "oxytrack.settings_test"
    import django

    django.setup()
    from datetime import date, timedelta

    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from oxytrack.accounts.models import Role, Scope, User
    from oxytrack.org.models import Agency, Employee, Service

    # An admin whose scopes hold about 100 employees, made of whole (agency, service) pairs.
    admin, _created = User.objects.get_or_create(
        email="bench.admin@oxytrack.demo", defaults={"role": Role.ADMIN}
    )
    Scope.objects.filter(user=admin).delete()
    if True:
        pairs = (
            Employee.objects.exclude(agency=None)
            .exclude(service=None)
            .values("agency", "service")
            .annotate(n=Count("id"))
            .order_by("-n")
        )
        total = 0
        for pair in pairs:
            if total >= 100:
                break
            if total + pair["n"] > 110:
                continue
            Scope.objects.create(
                user=admin,
                agency=Agency.objects.get(pk=pair["agency"]),
                service=Service.objects.get(pk=pair["service"]),
            )
            total += pair["n"]
    visible = Employee.objects.visible_to(admin).count()
    superadmin = User.objects.filter(role=Role.SUPERADMIN).first()
    assert superadmin is not None
    employee = (
        Employee.objects.visible_to(admin).filter(devices__isnull=False).order_by("pk").first()
    )
    assert employee is not None
    end = date.fromisoformat(NOW[:10])
    start = end - timedelta(days=options.days - 1)

    # Outside the test runner ALLOWED_HOSTS does not list "testserver".
    as_admin, as_super = Client(SERVER_NAME="localhost"), Client(SERVER_NAME="localhost")
    as_admin.force_login(admin)
    as_super.force_login(superadmin)
    cases = {
        "home": (as_admin, reverse("dashboard:home"), {}),
        "detail": (
            as_admin,
            reverse("dashboard:employee", args=[employee.public_id]),
            {"start": start.isoformat(), "end": end.isoformat()},
        ),
        "search": (as_super, reverse("dashboard:search"), {"name": "mar"}),
    }
    print(
        f"{Employee.objects.count()} employees; admin sees {visible}; "
        f"{options.requests} requests per page after one warm-up",
        flush=True,
    )
    p95: dict[str, float] = {}
    for name, (client, url, params) in cases.items():
        response = client.get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        samples = []
        for _ in range(options.requests):
            began = time.perf_counter()
            response = client.get(url, params)
            samples.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        p95[name] = percentile(samples, 95)
        print(
            f"{name:7s} median {statistics.median(samples):7.1f} ms   p95 {p95[name]:7.1f} ms",
            flush=True,
        )
    print(
        f"RESULT web home_p95_ms={p95['home']:.0f} detail_p95_ms={p95['detail']:.0f} "
        f"search_p95_ms={p95['search']:.0f} (targets: home 200, detail 150)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
