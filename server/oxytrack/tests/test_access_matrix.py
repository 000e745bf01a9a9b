"""Who may reach what: every route of the URLconf and every operation of both API
schemas, for every kind of caller, with the status each one gets.

The table below is the access policy, written out (DESIGN.md, security rules). A
route or an API operation without a row fails `test_every_route_and_operation_has_a_row`:
whoever adds one decides who may reach it. Each cell runs as its own test on a fresh
database, so a POST that deletes or changes something never affects another cell.

Columns (callers):

- anon: no session, no token.
- admin_in: bob, admin of Nice (every service): the target employee is his.
- admin_out: carol, admin of Fort-de-France/Facturation: another agency.
- service_admin: dave, admin of Nice/Logistique: the target's agency, another service.
- dpo: the data protection officer (audit log, policy, settings; never activity).
- super: the super-admin.
- portal: the target employee's own portal session (opened by the agent's link).
- device: the target's enrolled device, `Authorization: Bearer oxd_…`.
- bi: bob's personal access token for the BI API, `Authorization: Bearer oxp_…`.
- enroll: the enrollment key, `X-Enrollment-Key` (what the installer carries).

URL arguments name the target employee nice_facturation (the device's and the
portal's own employee), alice (an admin, for the admin pages), bob's BI token (the
token pages), a fresh portal code, and the ids test_every_url gives (agency,
service, category...). Cells: a status, or `login` for a redirect to the login
page. A GET on a GET_AND_POST page is the plain name; its POST (an empty form,
CSRF not enforced, as in the other view tests) is `POST <name>`. API operations
are `<METHOD> <path>` from the schemas, called with a valid request for the
caller the operation is meant for; every API error is checked to be JSON
`{code, message}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import cached_property
from typing import Any, cast

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from oxytrack.accounts.models import Role, Scope, User
from oxytrack.bi.api import api as bi_api
from oxytrack.bi.models import AccessToken
from oxytrack.bi.tests.conftest import token_for
from oxytrack.conftest import PASSWORD, EnrolledDevice, Org
from oxytrack.dashboard.tests.test_every_url import (
    GET_AND_POST,
    POST_ONLY,
    SAMPLE_DATES,
    _named_urls,
    _url,
)
from oxytrack.ingest.api import api as agent_api
from oxytrack.ingest.tests.payloads import batch, span
from oxytrack.org.actions import get_enrollment_key
from oxytrack.portal.actions import do_issue_portal_link
from oxytrack.portal.tests.helpers import open_portal

# `once`: who may reach what is decided by the views and the scope rules, not by
# the database: the PostgreSQL pass would repeat 1,000 cells for ~2 minutes. The
# scope queries themselves run on both backends (dashboard/tests/test_scope.py).
pytestmark = pytest.mark.once

COLUMNS = (
    "anon",
    "admin_in",
    "admin_out",
    "service_admin",
    "dpo",
    "super",
    "portal",
    "device",
    "bi",
    "enroll",
)

# The table. Cells, in the order of COLUMNS (in: admin_in, out: admin_out, svc:
# service_admin, portl: portal, dev: device, key: enroll): a status, or `login` for a
# redirect to the login page (`302`: any other redirect, e.g. a POST that acted).
# Families first; a route that fits none spells out its own row.
#                                 anon  in    out   svc   dpo   super portl dev   bi    key

# Pages of the super-admin alone: admins, categories, new employee, enrollment key.
SUPER_ONLY = "                    login 403   403   403   403   200   login login login login"
SUPER_ONLY_ACTS = "               login 403   403   403   403   302   login login login login"
# What the dpo reads and never changes: audit log, policy, settings, compliance kit.
DPO_READS = "                     login 403   403   403   200   200   login login login login"
# Lists of the employees of my scopes, and my own pages (tokens, weekly e-mail):
# every admin; 404 for the dpo, who sees no activity.
MY_SCOPE = "                      login 200   200   200   404   200   login login login login"
# One employee's activity: only the admins whose scope holds them, 404 for the others.
ONE_EMPLOYEE = "                  login 200   404   404   404   200   login login login login"
# Transfer, rename, delete: 404 out of scope first, then the role (403 in scope).
ONE_EMPLOYEE_SUPER = "            login 403   404   404   404   200   login login login login"
# The employee portal: its own session only.
PORTAL_ONLY = "                   403   403   403   403   403   403   200   403   403   403"
EVERYONE = "                      200   200   200   200   200   200   200   200   200   200"
# The agent API: the enrollment key enrolls; the device token uploads and reads its policy.
ENROLL_KEY = "                    401   401   401   401   401   401   401   401   401   200"
ENROLL_KEY_CREATES = "            401   401   401   401   401   401   401   401   401   201"
DEVICE_TOKEN = "                  401   401   401   401   401   401   401   200   401   401"
DEVICE_TOKEN_CREATES = "          401   401   401   401   401   401   401   201   401   401"
# The BI API: a personal access token, never a session (no CSRF to ride on).
BI_TOKEN = "                      401   401   401   401   401   401   401   401   200   401"

ROWS: dict[str, str] = {
    #                             anon  in    out   svc   dpo   super portl dev   bi    key
    # Login, logout, language: for everyone.
    "login": "                    200   302   302   302   302   302   200   200   200   200",
    "POST logout": "              login login login login login login login login login login",
    "set_language": "             302   302   302   302   302   302   302   302   302   302",
    # Home: the dpo, who reads no activity, is sent to the audit log.
    "dashboard:home": "           login 200   200   200   302   200   login login login login",
    "dashboard:search": MY_SCOPE,
    "dashboard:team": MY_SCOPE,
    "analytics:team_overview": MY_SCOPE,
    "analytics:team_trends": MY_SCOPE,
    # The second factor (accounts/security_views.py). Only the super-admin has an
    # authenticator here; a manager without one, or verified, is sent on from the
    # code page; the recovery codes page shows codes just made, else goes to Sécurité.
    "accounts:otp_verify": "        login 302   302   302   302   302   login login login login",
    "POST accounts:otp_verify": "   login 302   302   302   302   302   login login login login",
    "accounts:security": "          login 200   200   200   200   200   login login login login",
    "accounts:otp_setup": "         login 200   200   200   200   302   login login login login",
    "POST accounts:otp_setup": "    login 200   200   200   200   302   login login login login",
    "accounts:recovery_codes": "    login 302   302   302   302   302   login login login login",
    "POST accounts:recovery_codes": "login 200   200   200   200   200   login login login login",
    "POST accounts:otp_disable": "  login 200   200   200   200   403   login login login login",
    "reports:preferences": MY_SCOPE,
    "POST reports:preferences": MY_SCOPE,
    "bi:tokens": MY_SCOPE,
    "POST bi:tokens": MY_SCOPE,
    # bob's token: bob revokes it; anyone else, even the super-admin, finds no such token.
    "POST bi:token_revoke": "     login 302   404   404   404   404   login login login login",
    "dashboard:employee": ONE_EMPLOYEE,
    "dashboard:employee_activity": ONE_EMPLOYEE,
    "dashboard:employee_titles": ONE_EMPLOYEE,
    "dashboard:employee_export": ONE_EMPLOYEE,
    "analytics:employee_trends": ONE_EMPLOYEE,
    "org:employee_transfer": ONE_EMPLOYEE_SUPER,
    "POST org:employee_transfer": ONE_EMPLOYEE_SUPER,
    "org:employee_rename": ONE_EMPLOYEE_SUPER,
    "POST org:employee_rename": ONE_EMPLOYEE_SUPER,
    "org:employee_delete": ONE_EMPLOYEE_SUPER,
    "POST org:employee_delete": " login 403   404   404   404   302   login login login login",
    # The super-admin's settings.
    "accounts:admins": SUPER_ONLY,
    "accounts:admin_create": SUPER_ONLY,
    "POST accounts:admin_create": SUPER_ONLY,
    "accounts:admin_delete": SUPER_ONLY,
    "POST accounts:admin_delete": SUPER_ONLY_ACTS,
    "org:employee_create": SUPER_ONLY,
    "POST org:employee_create": SUPER_ONLY,
    # The key enrolls PCs: not even the dpo reads it.
    "org:enrollment_key": SUPER_ONLY,
    "POST org:enrollment_key": SUPER_ONLY_ACTS,
    "POST org:agency_delete": SUPER_ONLY_ACTS,
    "POST org:service_delete": SUPER_ONLY_ACTS,
    "categories:list": SUPER_ONLY,
    "categories:create": SUPER_ONLY,
    "POST categories:create": SUPER_ONLY,
    "POST categories:preview": SUPER_ONLY,
    "categories:edit": SUPER_ONLY,
    "POST categories:edit": SUPER_ONLY,
    "POST categories:delete": SUPER_ONLY_ACTS,
    "POST categories:move": SUPER_ONLY_ACTS,
    "categories:app_names": SUPER_ONLY,
    "POST categories:app_names": SUPER_ONLY,
    "POST categories:app_names_reset": SUPER_ONLY_ACTS,
    "categories:app_name_edit": SUPER_ONLY,
    "POST categories:app_name_edit": SUPER_ONLY,
    "POST categories:app_name_delete": SUPER_ONLY_ACTS,
    # Read by the dpo, changed by the super-admin alone.
    "audit:log": DPO_READS,
    "audit:export": DPO_READS,
    "org:settings": DPO_READS,
    "POST org:settings": SUPER_ONLY,
    "org:retention": DPO_READS,
    "policy:list": DPO_READS,
    "policy:edit_global": DPO_READS,
    "POST policy:edit_global": SUPER_ONLY,
    "policy:edit_agency": DPO_READS,
    "POST policy:edit_agency": SUPER_ONLY,
    "policy:edit_service": DPO_READS,
    "POST policy:edit_service": SUPER_ONLY,
    "POST policy:preview": SUPER_ONLY,
    "compliance:kit": DPO_READS,
    **{
        f"compliance:{doc}_{lang}": DPO_READS
        for doc in ("notice", "cse", "register", "dpia")
        for lang in ("fr", "en")
    },
    # The employee portal. The one-time link is the credential: whoever holds it
    # enters (a manager's session in that browser ends); leaving is open to all.
    "portal:enter": "             302   302   302   302   302   302   302   302   302   302",
    "portal:home": PORTAL_ONLY,
    "portal:activity": PORTAL_ONLY,
    "portal:titles": PORTAL_ONLY,
    "portal:trends": PORTAL_ONLY,
    "portal:export_csv": PORTAL_ONLY,
    "portal:export_xlsx": PORTAL_ONLY,
    "portal:export_json": PORTAL_ONLY,
    "POST portal:leave": EVERYONE,
    # The APIs' own pages: the schemas are public; the docs pages are for managers
    # (the BI one for those who read activity: 404 for the dpo, like the BI pages).
    "agent_api:openapi-json": EVERYONE,
    "bi_api:openapi-json": EVERYONE,
    "agent_api:openapi-view": "   login 200   200   200   403   200   login login login login",
    "bi_api:openapi-view": "      login 200   200   200   404   200   login login login login",
    "agent_api:api-root": "       404   404   404   404   404   404   404   404   404   404",
    "bi_api:api-root": "          404   404   404   404   404   404   404   404   404   404",
    # API operations (from the schemas).
    "GET /api/agent/v1/choices": ENROLL_KEY,
    "POST /api/agent/v1/enroll": ENROLL_KEY_CREATES,
    "POST /api/agent/v1/batches": DEVICE_TOKEN,
    "GET /api/agent/v1/policy": DEVICE_TOKEN,
    "POST /api/agent/v1/portal-link": DEVICE_TOKEN_CREATES,
    "GET /api/v1/employees": BI_TOKEN,
    "GET /api/v1/employees/{employee_id}/usage": BI_TOKEN,
    "GET /api/v1/usage": BI_TOKEN,
}

# --- Building the table --------------------------------------------------------------


def _parse(row: str) -> dict[str, str]:
    cells = row.split()
    assert len(cells) == len(COLUMNS), row
    return dict(zip(COLUMNS, cells, strict=True))


EXPECTED = {key: _parse(row) for key, row in ROWS.items()}

# --- The routes and operations ---------------------------------------------------------

# Every named URL, the APIs' and the portal's included.
ROUTE_ARGS = {name: tuple(args) for name, _route, args in _named_urls(skip=())}
_SCHEMAS = {"agent_api": agent_api.get_openapi_schema(), "bi_api": bi_api.get_openapi_schema()}
# "<METHOD> <path>" of every operation of both schemas, and the URL name ninja gives it.
OPERATIONS = {
    f"{method.upper()} {path}": f"{namespace}:{operation['operationId'].split('_api_')[-1]}"
    for namespace, schema in _SCHEMAS.items()
    for path, operations in schema["paths"].items()
    for method, operation in operations.items()
}
# The portal is outside test_every_url's walk, hence outside its method lists.
_POST_ONLY = POST_ONLY | {"portal:leave"}


def _page_keys(name: str) -> list[str]:
    if name in _POST_ONLY:
        return [f"POST {name}"]
    if name in GET_AND_POST:
        return [name, f"POST {name}"]
    return [name]


PAGE_KEYS = [
    key
    for name in sorted(ROUTE_ARGS)
    if name not in OPERATIONS.values()  # covered by the operations' rows
    for key in _page_keys(name)
]
ALL_KEYS = PAGE_KEYS + sorted(OPERATIONS)


def test_every_route_and_operation_has_a_row() -> None:
    missing = [key for key in ALL_KEYS if key not in EXPECTED]
    assert not missing, f"decide who may reach these, in ROWS: {missing}"
    stale = sorted(EXPECTED.keys() - set(ALL_KEYS))
    assert not stale, f"rows of routes that are gone: {stale}"
    # Every operation's URL name is one of the URLconf's, and every route has a name
    # (the table knows routes by name: one without would escape it).
    assert set(OPERATIONS.values()) <= ROUTE_ARGS.keys()
    assert not list(_unnamed(get_resolver().url_patterns, "")), "name every route"


def _unnamed(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _unnamed(pattern.url_patterns, prefix + str(pattern.pattern))
        elif not pattern.name:
            yield prefix + str(pattern.pattern)


# --- The callers ----------------------------------------------------------------------

_MANAGERS = {
    "admin_in": "bob",
    "admin_out": "carol",
    "service_admin": "dave",
    "dpo": "dpo",
    "super": "superadmin",
}


@pytest.fixture
def dave(org: Org) -> User:
    """Admin of Nice/Logistique: the target's agency, another service."""
    user = User.objects.create_user("dave@example.com", PASSWORD, role=Role.ADMIN)
    Scope.objects.create(user=user, agency=org.nice, service=org.logistique)
    return user


class World:
    """The cast of one cell, built as far as that cell needs it (each cell pays for
    its own database rows: about a thousand cells)."""

    def __init__(self, request: pytest.FixtureRequest, org: Org) -> None:
        self._request = request
        self.org = org
        self.target = org.employees["nice_facturation"]

    def user(self, fixture: str) -> User:
        return cast(User, self._request.getfixturevalue(fixture))

    @cached_property
    def device(self) -> EnrolledDevice:
        """The target's enrolled device."""
        return cast(EnrolledDevice, self._request.getfixturevalue("enrolled_device"))

    @cached_property
    def bi_token(self) -> str:
        """bob's personal access token, in clear."""
        return token_for(self.user("bob"))

    def bi_token_id(self) -> object:
        self.bi_token  # noqa: B018  # created
        return AccessToken.objects.get(user=self.user("bob")).public_id


@pytest.fixture
def world(request: pytest.FixtureRequest, org: Org) -> World:
    return World(request, org)


def _client(principal: str, world: World) -> Client:
    if principal in _MANAGERS:
        client = Client()
        client.force_login(world.user(_MANAGERS[principal]))
        return client
    if principal == "portal":
        return open_portal(world.device.token)
    if principal == "device":
        return Client(headers={"Authorization": f"Bearer {world.device.token}"})
    if principal == "bi":
        return Client(headers={"Authorization": f"Bearer {world.bi_token}"})
    if principal == "enroll":
        return Client(headers={"X-Enrollment-Key": get_enrollment_key()})
    assert principal == "anon"
    return Client()


def _page_url(name: str, world: World) -> str:
    args = ROUTE_ARGS[name]
    given: dict[str, object] = {"kind": "global"}
    if "token_id" in args:
        given["token_id"] = world.bi_token_id()
    if "code" in args:
        given["code"] = do_issue_portal_link(world.device.device, ip=None).code
    # admin_id: alice's, an admin who is none of the callers.
    return _url(name, args, world.org, world.user("alice"), **given)


def _api_call(key: str, world: World) -> tuple[str, str, dict[str, Any]]:
    """(method, URL, client keyword arguments): a valid call of that operation."""
    method, path = key.split(" ", 1)
    path = path.replace("{employee_id}", str(world.target.public_id))
    today = timezone.localdate()
    kwargs: dict[str, Any] = {}
    if path.endswith("/usage"):
        kwargs["data"] = {"start": str(today - timedelta(days=6)), "end": str(today), "by": "day"}
    elif path.endswith("/batches"):
        started = timezone.now().replace(microsecond=0) - timedelta(hours=1)
        kwargs = {"data": json.dumps(batch([span(started)])), "content_type": "application/json"}
    elif path.endswith("/enroll"):
        body = {
            "username": "jdupont",
            "hostname": "PC-NICE-42",
            "os": "Windows 11",
            "agent_version": "0.1.0",
            "time_zone": "Europe/Paris",
        }
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return method.lower(), path, kwargs


def call(key: str, principal: str, world: World) -> Any:
    """`principal`'s answer to the route or operation `key`."""
    client = _client(principal, world)
    if key in OPERATIONS:
        method, url, kwargs = _api_call(key, world)
        return getattr(client, method)(url, **kwargs)
    if key.startswith("POST "):
        return client.post(_page_url(key.removeprefix("POST "), world))
    # A range for the pages that read one (a fragment or a download without one is a 400).
    return client.get(_page_url(key, world), SAMPLE_DATES)


def outcome(response: Any) -> str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return "login"
    return str(response.status_code)


@pytest.mark.parametrize("principal", COLUMNS)
@pytest.mark.parametrize("key", ALL_KEYS)
def test_access(world: World, key: str, principal: str) -> None:
    response = call(key, principal, world)
    assert outcome(response) == EXPECTED[key][principal], (key, principal)
    if response.status_code >= 400 and response.request["PATH_INFO"].startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"code", "message"}


# --- Beyond the table: the APIs' methods, and a token's scope --------------------------


def _paths() -> list[tuple[str, set[str]]]:
    """Every path of both schemas, with the methods it serves."""
    methods: dict[str, set[str]] = {}
    for key in OPERATIONS:
        method, path = key.split(" ", 1)
        methods.setdefault(path, set()).add(method)
    return sorted(methods.items())


@pytest.mark.parametrize(("path", "served"), _paths())
def test_every_api_path_refuses_other_methods_as_json(
    client: Client, world: World, path: str, served: set[str]
) -> None:
    url = path.replace("{employee_id}", str(world.target.public_id))
    for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - served):
        response = getattr(client, method.lower())(url)
        assert response.status_code == 405, (method, path)
        assert set(response.json()) == {"code", "message"}
        assert set(response["Allow"].replace(" ", "").split(",")) == served


# A BI token opens what its owner's pages open: its owner's scope, live (bi/auth.py).
# Each BI operation asks about the target (nice_facturation) or its team (Nice/Facturation).
TOKEN_OWNERS = {"admin_in": 200, "admin_out": 404, "service_admin": 404, "super": 200, "dpo": 401}
BI_OPERATIONS = [key for key, name in sorted(OPERATIONS.items()) if name.startswith("bi_api:")]


@pytest.mark.parametrize("owner", TOKEN_OWNERS)
@pytest.mark.parametrize("key", BI_OPERATIONS)
def test_a_bi_token_reaches_its_owners_scope_only(
    client: Client, world: World, key: str, owner: str
) -> None:
    method, url, kwargs = _api_call(key, world)
    if "{employee_id}" not in key:
        kwargs.setdefault("data", {}).update(agency="Nice", service="Facturation")
    # The dpo cannot make one on the tokens page (404); one made before a role change opens nothing.
    token = token_for(world.user(_MANAGERS[owner]))
    response = getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert response.status_code == TOKEN_OWNERS[owner], response.content
    if response.status_code >= 400:
        assert set(response.json()) == {"code", "message"}
