"""schemathesis against the BI API's published schema, with a real token: no 5xx,
every answer (errors included) conforms to the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from oxytrack.accounts.models import User
from oxytrack.bi.api import api
from oxytrack.bi.tests.conftest import Usage, bearer, token_for

BASE = "/api/v1"


def _load_schema() -> Any:
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = WSGIHandler()
    return loaded


schema = _load_schema()


def test_the_schema_is_public_and_lists_the_three_calls(client: Any) -> None:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {(p, m) for p, ops in paths.items() for m in ops} == {
        (f"{BASE}/employees", "get"),
        (f"{BASE}/employees/{{employee_id}}/usage", "get"),
        (f"{BASE}/usage", "get"),
    }
    row = response.json()["components"]["schemas"]["UsageRowOut"]["properties"]
    assert "milliseconds" in row["active_ms"]["description"]


def test_the_docs_page_is_for_managers_who_read_activity(
    client: Any, alice: User, dpo: User
) -> None:
    response = client.get(f"{BASE}/docs")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(dpo)
    assert client.get(f"{BASE}/docs").status_code == 404
    client.force_login(alice)
    response = client.get(f"{BASE}/docs")
    assert response.status_code == 200
    assert b"cdn." not in response.content


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """As the agent API's schema test: requests must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bob_token(bob: User) -> str:
    return token_for(bob)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(
    case: Any, usage: Usage, bob_token: str, keep_test_connection: None
) -> None:
    # Schema-valid is not always acceptable (an end before the start, a
    # random employee id or agency name: 404): documented 4xx, not successes.
    # A real token where the case has one; a case generated without (negative
    # data) keeps none, and must get its 401.
    headers = bearer(bob_token) if "Authorization" in (case.headers or {}) else {}
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
