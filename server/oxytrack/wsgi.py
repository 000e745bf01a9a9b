"""WSGI entry point for gunicorn (`oxytrack serve` starts it this way)."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oxytrack.settings")
application = get_wsgi_application()

# Refuse to start (gunicorn stops: "Worker failed to boot") rather than answer
# every page with a 500 because `collectstatic` has not run or the cache
# directory is not writable.
from oxytrack.ops.checks import cache_problem, static_files_problem  # noqa: E402  (needs Django)

_problem = static_files_problem() or cache_problem()
if _problem:
    raise ImproperlyConfigured(_problem)

# Fewer, cheaper garbage collections under load (ops/gc_tuning.py).
from oxytrack.ops import gc_tuning  # noqa: E402

gc_tuning.tune()
