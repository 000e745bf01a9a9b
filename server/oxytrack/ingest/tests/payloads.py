"""Building agent payloads for the tests (what a well-behaved agent sends)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.test.client import Client as DjangoClient

BASE = "/api/agent/v1"


def span(
    start: datetime,
    duration_s: float = 60.0,
    *,
    app: str = "excel.exe",
    title: str = "Budget 2026.xlsx - Excel",
    active: bool = True,
    keys: int = 10,
    clicks: int = 2,
) -> dict[str, Any]:
    """One span as the agent sends it (`start` must be aware)."""
    return {
        "start": start.isoformat(),
        "duration_s": duration_s,
        "app": app,
        "title": title,
        "active": active,
        "keys": keys,
        "clicks": clicks,
    }


def consecutive(
    start: datetime, count: int, duration_s: float = 30.0, **kw: Any
) -> list[dict[str, Any]]:
    """`count` spans back to back from `start`."""
    return [span(start + timedelta(seconds=i * duration_s), duration_s, **kw) for i in range(count)]


def batch(spans: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A batch with a fresh id (override with batch_id=...)."""
    payload: dict[str, Any] = {
        "batch_id": str(uuid.uuid4()),
        "sent_at": datetime.now().astimezone().isoformat(),
        "spans": spans,
    }
    payload.update(extra)
    return payload


def post_batch(
    client: DjangoClient | Client,
    token: str,
    payload: dict[str, Any] | bytes,
    *,
    gzipped: bool = False,
    **headers: str,
) -> Any:
    """POST a batch with the device token, JSON or gzip-compressed JSON."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return client.post(
        f"{BASE}/batches",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )
