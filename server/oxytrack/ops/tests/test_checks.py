"""`static_files_problem()`: what the WSGI application and `check --deploy` refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from oxytrack.ops.checks import check_static_files, static_files_problem

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
