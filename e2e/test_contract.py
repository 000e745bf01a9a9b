"""Contract: the agent's payloads validate against the server's published OpenAPI schema."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import requests

from oxytrack_agent.enroll import machine_identity
from oxytrack_agent.policy import Policy
from oxytrack_agent.queue import Queue
from oxytrack_agent.spans import Span

from .conftest import LiveServer

# `once`: the agent's payloads against the published schema; the server's database plays
# no part, so the PostgreSQL pass would only repeat it (docs/testing.md).
pytestmark = [pytest.mark.once]

TZ = ZoneInfo("America/Martinique")


def published_schema(server: LiveServer) -> dict[str, Any]:
    response = requests.get(f"{server.url}/api/agent/v1/openapi.json", timeout=10)
    response.raise_for_status()
    schema: dict[str, Any] = response.json()
    return schema


def validator(schema: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def aware_date_time(value: object) -> bool:
        # Stricter than RFC 3339's syntax alone: the wire needs a UTC offset.
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("uuid", raises=ValueError)
    def is_uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(uuid.UUID(value))

    root = {"$ref": f"#/components/schemas/{name}", "components": schema["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=checker)


def test_sealed_batches_match_the_published_batch_schema(
    oxytrack_server: LiveServer, tmp_path: Path
) -> None:
    schema = published_schema(oxytrack_server)
    queue = Queue(tmp_path / "queue.sqlite3")
    t = datetime(2026, 11, 28, 8, 30, tzinfo=TZ).timestamp()
    queue.store(
        [
            Span(t, t + 12.3456, "firefox", "Café 😀 <script>alert(1)</script>", True, 12, 3),
            Span(t + 12.3456, t + 200, "firefox", "", False, 0, 0),
            Span(t + 200, t + 201, "(privé)", "(privé)", True, 0, 0),
        ],
        [],
        TZ,
    )
    queue.seal(time_zone="America/Martinique", local_ips=["10.0.0.7", "fd00::1"])
    (batch,) = queue.pending()
    body = json.loads(batch.body)
    batch_schema = validator(schema, "BatchIn")
    batch_schema.validate(body)
    # The check has teeth: a naive timestamp or a string count is refused.
    naive = {**body, "spans": [{**body["spans"][0], "start": "2026-11-28T08:30:00"}]}
    assert not batch_schema.is_valid(naive)
    as_text = {**body, "spans": [{**body["spans"][0], "keys": "12"}]}
    assert not batch_schema.is_valid(as_text)
    assert {s["app"] for s in body["spans"]} == {"firefox", "(privé)"}


def test_enrollment_bodies_match_the_published_enroll_schema(oxytrack_server: LiveServer) -> None:
    schema = published_schema(oxytrack_server)
    body = {**machine_identity(), "agency": "Nice", "service": "Facturation"}
    validator(schema, "EnrollIn").validate(body)


def test_the_agent_reads_every_field_of_the_published_policy(oxytrack_server: LiveServer) -> None:
    schema = published_schema(oxytrack_server)
    published = set(schema["components"]["schemas"]["PolicyOut"]["properties"])
    assert published <= set(Policy().to_json())
