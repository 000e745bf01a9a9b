"""Settings for the test suite: the production settings, with static files
served from the installed packages (no collectstatic step before tests)."""

from oxytrack.settings import *  # noqa: F403
from oxytrack.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
