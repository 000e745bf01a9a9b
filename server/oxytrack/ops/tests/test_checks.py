"""`static_files_problem()` and `cache_problem()`: what the WSGI application, `oxytrack serve`
and `check --deploy` refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from oxytrack.ops.checks import cache_problem, check_cache, check_static_files, static_files_problem

# `once`: static files only, no database; the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.once

MANIFEST = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def production_static(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "static"
    with override_settings(DEBUG=False, STATIC_ROOT=root, STORAGES=MANIFEST):
        yield root


def test_missing_manifest_is_refused_with_the_command_to_run(production_static: Path) -> None:
    problem = static_files_problem()
    assert problem is not None
    assert str(production_static / "staticfiles.json") in problem
    assert "`oxytrack serve`" in problem and "`oxytrack collectstatic --noinput`" in problem
    assert [error.id for error in check_static_files()] == ["oxytrack.E001"]


def test_collected_files_are_fine_until_an_upgrade_adds_one(
    production_static: Path, tmp_path: Path
) -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    assert static_files_problem() is None
    assert check_static_files() == []
    added = tmp_path / "added"
    (added / "oxytrack").mkdir(parents=True)
    (added / "oxytrack" / "new.css").write_text("body {}")
    with override_settings(STATICFILES_DIRS=[*settings.STATICFILES_DIRS, added]):
        problem = static_files_problem()
    assert problem is not None
    assert "1 static file(s) of this version are not collected yet" in problem
    assert "oxytrack/new.css" in problem


def test_debug_and_plain_storage_need_no_manifest(tmp_path: Path) -> None:
    with override_settings(DEBUG=True, STATIC_ROOT=tmp_path, STORAGES=MANIFEST):
        assert static_files_problem() is None
    # The test settings serve files where they are, as DEBUG does.
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path):
        assert static_files_problem() is None


def _file_cache(location: Path) -> dict[str, dict[str, Any]]:
    return {"default": {**settings.CACHES["default"], "LOCATION": str(location)}}


def test_a_cache_directory_that_cannot_be_made_is_refused_with_the_setting(
    tmp_path: Path,
) -> None:
    # Under a regular file: no directory can be made there, not even by root.
    (tmp_path / "a-file").write_text("")
    location = tmp_path / "a-file" / "cache"
    with override_settings(CACHES=_file_cache(location), CACHE_DIR=location):
        problem = cache_problem()
        assert problem is not None
        assert str(location) in problem and "OXYTRACK_CACHE_DIR" in problem
        assert [error.id for error in check_cache()] == ["oxytrack.E002"]


def test_a_usable_cache_directory_passes_and_keeps_nothing(tmp_path: Path) -> None:
    location = tmp_path / "cache"
    with override_settings(CACHES=_file_cache(location), CACHE_DIR=location):
        assert cache_problem() is None
        assert check_cache() == []
    assert list(location.iterdir()) == []
