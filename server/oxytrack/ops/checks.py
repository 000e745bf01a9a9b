"""Start-up checks: refuse to serve rather than answer 500 on every page.

With DEBUG off, `{% static %}` looks each file up in the manifest that
`collectstatic` writes (whitenoise's CompressedManifestStaticFilesStorage,
strict): without it, every page that links a stylesheet fails with
"Missing staticfiles manifest entry". The WSGI application calls
`static_files_problem()` before serving, so gunicorn stops with the message
instead; `oxytrack check --deploy` reports the same. Likewise
`cache_problem()`: the cache is files (settings.CACHES), read and written by
most pages and every API call.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core import checks
from django.core.cache import cache
from django.core.files.storage import storages

# What `collectstatic` skips by default, so it is not reported as missing.
_IGNORED = ["CVS", ".*", "*~"]
_FIX = (
    "Start the server with `oxytrack serve` (it collects them, then starts gunicorn), "
    "or run `oxytrack collectstatic --noinput` before starting gunicorn."
)


def static_files_problem() -> str | None:
    """Why pages would answer 500 for want of collected static files, or None.

    Only with DEBUG off and a manifest storage: otherwise files are looked up
    where they are. Also catches a manifest older than the installed code (a
    file added by an upgrade), which would fail the pages that link it.
    """
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return None
    manifest_path = os.path.join(settings.STATIC_ROOT, storage.manifest_name)
    if storage.read_manifest() is None:
        return (
            "OxyTrack cannot serve its pages: the static files (CSS, JavaScript) are not "
            f"collected ({manifest_path} is missing). {_FIX}"
        )
    paths, _digest = storage.load_manifest()
    collected = set(paths)
    missing = sorted(name for name in _findable() if name not in collected)
    if missing:
        return (
            f"OxyTrack cannot serve its pages: {len(missing)} static file(s) of this version "
            f"are not collected yet (e.g. {missing[0]}; the manifest {manifest_path} is from "
            f"an older version). {_FIX}"
        )
    return None


def _findable() -> set[str]:
    """The names `collectstatic` would collect, as the manifest spells them."""
    names = set()
    for finder in get_finders():
        for path, source in finder.list(_IGNORED):
            # A STATICFILES_DIRS entry ("plotly", dir) collects under its prefix.
            prefix = getattr(source, "prefix", None)
            names.add((os.path.join(prefix, path) if prefix else path).replace(os.sep, "/"))
    return names


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_files(**kwargs: Any) -> list[checks.CheckMessage]:
    """`oxytrack check --deploy`: the static files are collected for this version."""
    problem = static_files_problem()
    if problem is None:
        return []
    return [checks.Error(problem, id="oxytrack.E001")]


def cache_problem() -> str | None:
    """Why pages and API calls would answer 500 for want of a usable cache, or None.

    Writes, reads and deletes one entry, as the pages do.
    """
    key = f"oxytrack:start-check:{os.getpid()}"
    try:
        cache.set(key, True, 60)
        readable = cache.get(key) is True
        cache.delete(key)
    except OSError as exc:
        return (
            f"OxyTrack cannot use its cache directory {settings.CACHE_DIR}: {exc}. Make it "
            "writable by the server's user, or set OXYTRACK_CACHE_DIR to a directory that is."
        )
    if not readable:
        return f"OxyTrack cannot read back what it writes in its cache ({settings.CACHE_DIR})."
    return None


@checks.register(deploy=True)
def check_cache(**kwargs: Any) -> list[checks.CheckMessage]:
    """`oxytrack check --deploy`: the cache directory is usable."""
    problem = cache_problem()
    return [] if problem is None else [checks.Error(problem, id="oxytrack.E002")]
