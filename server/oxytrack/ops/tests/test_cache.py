"""The server's cache (settings.CACHES): files that outlive a restart, never an upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from oxytrack import settings as production

# `once`: settings only, no database.
pytestmark = pytest.mark.once


def test_the_key_prefix_changes_with_any_change_to_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "team.py").write_text("class Summary: pass\n")
    (tmp_path / "models.py").write_text("X = 1\n")
    monkeypatch.setattr(production, "PACKAGE_DIR", tmp_path)
    before = production._code_version()
    assert production._code_version() == before  # the same code, the same entries

    (tmp_path / "views" / "team.py").write_text("class Summary:\n    total = 0\n")

    assert production._code_version() != before


def test_the_running_server_is_keyed_by_its_own_code() -> None:
    assert settings.CACHES["default"]["KEY_PREFIX"] == production._code_version()
    assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
