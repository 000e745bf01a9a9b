"""Settings for the test suite: the production settings, with static files
served from the installed packages (no collectstatic step before tests), and
a fast password hasher."""

import atexit
import shutil
import tempfile
from pathlib import Path

from oxytrack.settings import *  # noqa: F403
from oxytrack.settings import CACHES, PASSWORD_HASHERS, STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Argon2 is slow on purpose (a few hundred ms a hash on this machine kind) and the
# cast's fixtures hash one password per user per test: most of the server suite's
# time went there. The tests about the production hasher put it back
# (PRODUCTION_PASSWORD_HASHERS); every gunicorn the suite starts runs the
# production settings, argon2 included.
PRODUCTION_PASSWORD_HASHERS = PASSWORD_HASHERS
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each test process (each pytest-xdist worker has its own test database) has its own
# cache, the production file cache in a directory of its own: a device or a token of
# the same primary key in another worker's database must not share its call counts,
# and one test's `cache.clear()` must not empty another's.
CACHE_DIR = Path(tempfile.mkdtemp(prefix="oxytrack-test-cache-"))
atexit.register(shutil.rmtree, CACHE_DIR, ignore_errors=True)
CACHES = {**CACHES, "default": {**CACHES["default"], "LOCATION": str(CACHE_DIR)}}
