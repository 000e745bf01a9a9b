"""HTTPS through the Windows certificate store (truststore): a company CA there is trusted.

Collected on Windows only (see conftest.py). The CA goes into the machine's
Root store with certutil, as group policy would put it (the CI runner is an
administrator; the user's own store would ask in a dialog), and is removed
afterwards.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import truststore

from oxytrack_agent.http import TransportError, request, tls_context

from ..conftest import TOKEN, UNTRUSTED, FakeServer, TlsFiles

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def certutil(*args: str) -> None:
    subprocess.run(["certutil", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def company_ca_installed(tls_files: TlsFiles) -> Iterator[None]:
    certutil("-addstore", "Root", str(tls_files.ca))
    try:
        yield
    finally:
        certutil("-delstore", "Root", "OxyTrack test CA")


def test_the_system_store_is_verified_by_windows() -> None:
    assert isinstance(tls_context(True), truststore.SSLContext)


def test_an_unknown_ca_is_refused(tls_server: FakeServer) -> None:
    # truststore raises Windows' own text (CERT_E_UNTRUSTEDROOT), not OpenSSL's reason.
    with pytest.raises(TransportError, match=UNTRUSTED):
        request("GET", f"{tls_server.url}/api/agent/v1/policy", headers=AUTH,
                context=tls_context(True))  # fmt: skip


def test_a_company_ca_in_the_windows_store_is_trusted(
    tls_server: FakeServer, company_ca_installed: None
) -> None:
    response = request("GET", f"{tls_server.url}/api/agent/v1/policy", headers=AUTH,
                       context=tls_context(True))  # fmt: skip
    assert response.status == 200
