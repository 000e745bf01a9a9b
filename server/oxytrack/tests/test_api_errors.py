"""Every answer under /api/ is JSON `{code, message}`, errors that Django
answers itself included; pages outside /api/ keep their HTML error pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from oxytrack.accounts.models import User
from oxytrack.conftest import EnrolledDevice
from oxytrack.ingest import api as ingest_api
from oxytrack.ingest.tests.payloads import BASE

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _routes() -> list[tuple[str, frozenset[str]]]:
    """(URL, methods) of every operation of the agent API, from its ninja routers."""
    routes: dict[str, set[str]] = {}
    for prefix, router in ingest_api.api._routers:
        for route, path_view in router.path_operations.items():
            url = f"{BASE}/{prefix}{route}".replace("//", "/")
            for operation in path_view.operations:
                routes.setdefault(url, set()).update(operation.methods)
    return sorted((url, frozenset(methods)) for url, methods in routes.items())


ROUTES = _routes()
WRONG = [(url, method) for url, allowed in ROUTES for method in sorted(METHODS - allowed)]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return dict(body)


def test_the_routes_are_the_agent_calls() -> None:
    # Guards the generator: the tests below would pass vacuously on an empty list.
    assert dict(ROUTES) == {
        f"{BASE}/batches": {"POST"},
        f"{BASE}/choices": {"GET"},
        f"{BASE}/enroll": {"POST"},
        f"{BASE}/policy": {"GET"},
        f"{BASE}/portal-link": {"POST"},
    }


@pytest.mark.parametrize(("url", "method"), WRONG)
def test_a_wrong_method_is_a_json_405_with_allow(
    client: Client, enrolled_device: EnrolledDevice, url: str, method: str
) -> None:
    response = client.generic(
        method, url, headers={"Authorization": f"Bearer {enrolled_device.token}"}
    )
    _error(response, 405, "method_not_allowed")
    allowed = dict(ROUTES)[url]
    assert {m.strip() for m in response["Allow"].split(",")} == allowed


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/policy"), ("post", "/batches"), ("get", "/nowhere"), ("get", "/openapi.json")],
)
def test_a_bad_host_is_a_json_400(method: str, path: str, db: None) -> None:
    response = getattr(Client(HTTP_HOST="evil.example"), method)(f"{BASE}{path}")
    body = _error(response, 400, "bad_host")
    assert "evil.example" not in body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/"),
        ("get", "/api/nothing"),
        ("get", f"{BASE}/nothing"),
        ("post", f"{BASE}/batches/"),
        ("get", "/api/agent/v2/policy"),
    ],
)
def test_an_unknown_api_url_is_a_json_404(client: Client, db: None, method: str, path: str) -> None:
    _error(getattr(client, method)(path), 404, "not_found")


def test_a_crash_is_a_json_500(
    enrolled_device: EnrolledDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ingest_api, "effective_policy", crash)
    client = Client(raise_request_exception=False)
    response = client.get(
        f"{BASE}/policy", headers={"Authorization": f"Bearer {enrolled_device.token}"}
    )
    body = _error(response, 500, "server_error")
    assert "a bug" not in body["message"]


@override_settings(ROOT_URLCONF="oxytrack.tests.api_urls")
def test_a_csrf_failure_is_a_json_403(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/api/test/form", {"a": "1"})
    _error(response, 403, "forbidden")


@override_settings(ROOT_URLCONF="oxytrack.tests.api_urls", DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_form_body_over_the_limit_is_a_json_413(client: Client, db: None) -> None:
    assert client.post("/api/test/form", {"a": "1"}).content == b"1 fields"
    _error(client.post("/api/test/form", {"a": "x" * 2048}), 413, "too_large")


def test_the_api_own_errors_are_unchanged(client: Client, db: None) -> None:
    response = client.get(f"{BASE}/policy", headers={"Authorization": "Bearer oxd_nope"})
    _error(response, 401, "unauthorized")


def _is_html(response: Any) -> bool:
    return response["Content-Type"].startswith("text/html")


def test_pages_keep_their_html_errors(client: Client, superadmin: User) -> None:
    bad_host = Client(HTTP_HOST="evil.example").get("/login/")
    assert bad_host.status_code == 400 and _is_html(bad_host)
    client.force_login(superadmin)
    missing = client.get("/nowhere/")
    assert missing.status_code == 404 and _is_html(missing)
    assert "Page introuvable" in missing.content.decode()
    wrong_method = client.post("/team/")
    assert wrong_method.status_code == 405 and _is_html(wrong_method)


def test_pages_keep_their_html_500(superadmin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from oxytrack.dashboard import views

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.queries, "team_rows", crash)
    client = Client(raise_request_exception=False)
    client.force_login(superadmin)
    response = client.get("/team/")
    assert response.status_code == 500 and _is_html(response)
