"""Checks generated from the URL conf: every web page asks for a login,
refuses the HTTP methods it does not serve, and answers a date out of range
with a form error or a 4xx, never a 500."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from oxytrack.accounts.models import User
from oxytrack.categories.classify import current_categories
from oxytrack.categories.models import AppName, Category
from oxytrack.conftest import Org

# Reachable without a session: the login page itself, the language switch
# (also used on the login page), the agent API (token-authenticated) and the
# employee portal (its own session: portal/tests/test_portal_access.py).
PUBLIC = {"login", "set_language"}
PUBLIC_PREFIXES = ("api/", "portal/")

# Views that take only GET, only POST, or both; anything not listed is GET only.
POST_ONLY = {
    "org:agency_delete",
    "org:service_delete",
    "logout",
    "policy:preview",
    "categories:preview",
    "categories:delete",
    "categories:move",
    "categories:app_name_delete",
    "categories:app_names_reset",
    "bi:token_revoke",
    "accounts:otp_disable",
}
GET_AND_POST = {
    "org:employee_create",
    "org:employee_transfer",
    "org:employee_rename",
    "org:employee_delete",
    "org:settings",
    "org:enrollment_key",
    "accounts:admin_create",
    "accounts:admin_delete",
    "policy:edit_global",
    "policy:edit_agency",
    "policy:edit_service",
    "categories:create",
    "categories:edit",
    "categories:app_names",
    "categories:app_name_edit",
    "bi:tokens",
    "reports:preferences",
    "accounts:otp_verify",
    "accounts:otp_setup",
    "accounts:recovery_codes",
}
# The second factor's steps a verified super-admin has passed: they redirect away.
PASSED_STEPS = {"accounts:otp_verify", "accounts:otp_setup", "accounts:recovery_codes"}


def _named_urls(
    skip: tuple[str, ...] = PUBLIC_PREFIXES,
) -> Iterator[tuple[str, str, list[str]]]:
    """(name, route, argument names) of every named URL whose route does not start
    with one of `skip` (by default: every page outside the APIs and the portal)."""

    def walk(
        patterns: list[URLPattern | URLResolver], ns: str, prefix: str
    ) -> Iterator[tuple[str, str, list[str]]]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith(skip):
                continue
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, f"{ns}{p.namespace}:" if p.namespace else ns, route)
            elif p.name:
                yield f"{ns}{p.name}", route, list(p.pattern.regex.groupindex)

    yield from walk(get_resolver().url_patterns, "", "")


URLS = sorted({(name, tuple(args)) for name, _route, args in _named_urls()})


def _pk(name: str, org: Org) -> int:
    """The primary key a page of `name` takes: a service's, an agency's, a category's…"""
    if name.startswith("categories:"):
        current_categories()  # seeds the starter set in a flushed database
        model = AppName if name.startswith("categories:app_name") else Category
        pk = model.objects.order_by("pk").values_list("pk", flat=True).first()
        assert pk is not None
        return pk
    # A service's pages take a service's id, an agency's an agency's.
    return org.logistique.pk if "service" in name else org.marseille.pk


def _url(name: str, args: tuple[str, ...], org: Org, user: User, **given: object) -> str:
    """The URL of `name` for `org`'s nice_facturation and the admin `user`; `given`
    sets (or overrides) arguments; any other one gets a random UUID."""
    values = {
        "public_id": org.employees["nice_facturation"].public_id,
        "admin_id": user.public_id,
        # Ids of other tables: on PostgreSQL, sequences are not reset between tests.
        "pk": _pk(name, org),
        **given,
    }
    return reverse(name, kwargs={a: values.get(a, uuid.uuid4()) for a in args})


@pytest.mark.parametrize(("name", "args"), URLS)
def test_every_page_but_login_needs_a_session(
    client: Client, org: Org, alice: User, name: str, args: tuple[str, ...]
) -> None:
    if name in PUBLIC:
        return
    url = _url(name, args, org, alice)
    method = "post" if name in POST_ONLY else "get"
    response = getattr(client, method)(url)
    assert response.status_code == 302, url
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "args"), URLS)
def test_every_page_refuses_other_methods(
    client: Client, org: Org, superadmin: User, alice: User, name: str, args: tuple[str, ...]
) -> None:
    if name in PUBLIC or name == "logout":
        return
    client.force_login(superadmin)
    url = _url(name, args, org, alice)
    refused = ["put", "delete", "patch"]
    if name in POST_ONLY:
        refused.append("get")
    elif name not in GET_AND_POST:
        refused.append("post")
    for method in refused:
        assert getattr(client, method)(url).status_code == 405, (method, url)


# --- Dates out of range ---------------------------------------------------------------

RECORDED: set[str] = set()


class _RecordingQueryDict(QueryDict):
    """A query string that notes which parameters the view read."""

    def __getitem__(self, key: str) -> Any:
        RECORDED.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        RECORDED.add(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> Any:
        RECORDED.add(key)
        return super().getlist(key, default)


def _recording_middleware(get_response: Any) -> Any:
    def middleware(request: Any) -> Any:
        recording = _RecordingQueryDict(request.META.get("QUERY_STRING", ""), mutable=True)
        request.GET = recording
        return get_response(request)

    return middleware


def _body(response: Any) -> str:
    """The text of a page or of a streamed download (the audit CSV)."""
    return b"".join(response).decode("utf-8-sig")


GET_URLS = [
    (name, args)
    for name, args in URLS
    if name not in POST_ONLY and name not in PUBLIC and name not in PASSED_STEPS
]
SAMPLE_DATES = {"start": "2026-01-05", "end": "2026-01-11", "day": "2026-01-07"}
# Every name a date input of any page is given; each page reads some of them.
DATE_INPUT = re.compile(r'<input type="date" name="([a-z_]+)"')


@pytest.mark.parametrize(("name", "args"), GET_URLS)
@pytest.mark.parametrize("bad", ["0001-01-01", "9999-12-31"])
def test_no_page_fails_on_a_date_out_of_range(
    client: Client,
    org: Org,
    superadmin: User,
    alice: User,
    settings: Any,
    name: str,
    args: tuple[str, ...],
    bad: str,
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._recording_middleware"]
    client.force_login(superadmin)
    url = _url(name, args, org, alice)
    RECORDED.clear()
    page = client.get(url, SAMPLE_DATES)
    assert page.status_code == 200, url
    # The date parameters this page reads, and those it offers as a date input.
    date_names = (RECORDED & SAMPLE_DATES.keys()) | set(DATE_INPUT.findall(_body(page)))
    for date_name in sorted(date_names):
        query = {**SAMPLE_DATES, date_name: bad}
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, query, headers=headers)
            assert response.status_code < 500, (url, query)
            text = _body(response)
            # A whole page shows the form's error; a fragment (htmx) answers 400.
            if response.status_code < 400:
                assert "<html" in text, (url, query)
                assert "Choisissez une date entre" in text, (url, query)
