"""Trust on Linux: the system's hashed CA directory, read lazily (collected on Linux only).

A company CA installed the distribution's way (update-ca-certificates puts it,
hashed, in /etc/ssl/certs) is trusted without the agent parsing the whole
store up front; an unknown CA is still refused. Windows and macOS verify
against their own stores (truststore; tests/windows/test_tls_store.py), and
`openssl rehash` does not exist on Windows: conftest.py's `collect_ignore`.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxytrack_agent import http
from oxytrack_agent.http import TransportError, request, system_trust_context

from .conftest import FakeServer, TlsFiles
from .test_tls_trust import AUTH


def ca_directory(tmp_path: Path, *pems: Path) -> Path:
    """A directory as update-ca-certificates leaves it: each CA under its subject hash."""
    certs = tmp_path / "certs"
    certs.mkdir()
    for i, pem in enumerate(pems):
        shutil.copy(pem, certs / f"ca-{i}.pem")
    subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True, timeout=60)
    return certs


def other_ca(tmp_path: Path) -> Path:
    """A CA that signed nothing of ours."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=Some other CA", "-keyout", str(tmp_path / "other.key"),
         "-out", str(tmp_path / "other.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return tmp_path / "other.pem"


@pytest.fixture
def system_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The system store is the CA directory (no SSL_CERT_FILE naming a bundle)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    yield


def test_a_company_ca_in_the_hashed_system_directory_is_trusted_without_loading_the_store(
    tmp_path: Path,
    tls_server: FakeServer,
    tls_files: TlsFiles,
    system_dir: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    certs = ca_directory(tmp_path, other_ca(tmp_path), tls_files.ca)
    monkeypatch.setenv("SSL_CERT_DIR", str(certs))
    context = system_trust_context()
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing parsed up front
    response = request("GET", f"{tls_server.url}/api/agent/v1/policy", headers=AUTH,
                       context=context)  # fmt: skip
    assert response.status == 200
    assert response.json()["version"] == tls_server.policy["version"]
    # Only the CA that the chain needed was read.
    assert context.cert_store_stats()["x509_ca"] == 1


def test_a_ca_absent_from_the_system_directory_is_refused(
    tmp_path: Path, tls_server: FakeServer, system_dir: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(ca_directory(tmp_path, other_ca(tmp_path))))
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        request("GET", f"{tls_server.url}/api/agent/v1/policy", headers=AUTH,
                context=system_trust_context())  # fmt: skip


def test_a_chain_the_directory_misses_is_tried_against_the_whole_store(
    tmp_path: Path,
    tls_server: FakeServer,
    tls_files: TlsFiles,
    system_dir: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A CA appended by hand to the bundle only (stands in for the system bundle).
    monkeypatch.setenv("SSL_CERT_DIR", str(ca_directory(tmp_path, other_ca(tmp_path))))
    bundle_only = ssl.create_default_context(cafile=tls_files.ca)
    monkeypatch.setattr(http, "_whole_store_context", lambda: bundle_only)
    response = request("GET", f"{tls_server.url}/api/agent/v1/policy", headers=AUTH,
                       context=system_trust_context())  # fmt: skip
    assert response.status == 200


def test_without_a_hashed_directory_the_bundle_is_loaded(
    tmp_path: Path, system_dir: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fedora and RHEL keep a bundle only: the standard library's default then.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "README").write_text("no certificates here\n")
    monkeypatch.setenv("SSL_CERT_DIR", str(plain))
    assert not http.hashed_ca_dir(str(plain))
    context = system_trust_context()
    assert (
        context.cert_store_stats()["x509_ca"]
        == ssl.create_default_context().cert_store_stats()["x509_ca"]
    )
