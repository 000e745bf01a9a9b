"""Every URL that takes an employee id answers 404 to an admin out of scope.

The list of URLs comes from the URL conf itself, so a new page cannot escape.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from oxytrack.accounts.models import User
from oxytrack.conftest import Org


def _employee_urls() -> Iterator[str]:
    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, ns)
            elif "public_id" in p.pattern.regex.groupindex and p.name:
                yield f"{namespace}{p.name}"

    yield from walk(get_resolver().url_patterns, "")


EMPLOYEE_URLS = sorted(set(_employee_urls()))


def test_the_url_conf_has_employee_urls() -> None:
    # A guard against the walk above silently finding nothing.
    assert {"dashboard:employee", "org:employee_delete", "org:employee_transfer"} <= set(
        EMPLOYEE_URLS
    )


@pytest.mark.parametrize("name", EMPLOYEE_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_admin_out_of_scope_gets_404(
    client: Client, carol: User, org: Org, name: str, method: str
) -> None:
    client.force_login(carol)  # Fort-de-France/Facturation only
    url = reverse(name, args=[org.employees["nice_facturation"].public_id])
    response = getattr(client, method)(url)
    # 405 would leak nothing either, but GET-only views must still 404 on GET.
    assert response.status_code in ({404} if method == "get" else {404, 405})
    assert b"nice" not in response.content.lower()


@pytest.mark.parametrize("name", EMPLOYEE_URLS)
def test_a_missing_employee_is_the_same_404(client: Client, superadmin: User, name: str) -> None:
    client.force_login(superadmin)
    response = client.get(reverse(name, args=[uuid.uuid4()]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", EMPLOYEE_URLS)
def test_logged_out_goes_to_login(client: Client, org: Org, name: str) -> None:
    response = client.get(reverse(name, args=[org.employees["nice_facturation"].public_id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
