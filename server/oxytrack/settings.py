"""Django settings, read from the environment (see docs/configuration.md).

Embedded mode (no DATABASE_URL): SQLite under var/, a secret key generated
once into var/. Production: DATABASE_URL and SECRET_KEY are required.
"""

from __future__ import annotations

import hashlib
import importlib.util
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from oxytrack.env import env_bool, env_int, env_list, env_str, env_time_zone
from oxytrack.plotly_csp import plotly_style_sources
from oxytrack_agent.redaction import default_rules_json

PACKAGE_DIR = Path(__file__).resolve().parent
# The checkout's root when installed editable (the supported layout).
REPO_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("OXYTRACK_VAR_DIR") or REPO_DIR / "var").resolve()

DEBUG = env_bool("DEBUG", False)
HTTPS = env_bool("OXYTRACK_HTTPS", False)

_database_url = env_str("DATABASE_URL")
EMBEDDED = not _database_url


def _secret_key() -> str:
    configured = env_str("SECRET_KEY")
    if configured:
        if len(configured) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
        return configured
    if not EMBEDDED:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DATABASE_URL is set (production mode)"
        )
    # Embedded mode: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # Only for its bundled Swagger UI files (no CDN) on the agent API docs page.
    "ninja",
    "django_tables2",
    "axes",
    # The managers' second factor (accounts/second_factor.py): TOTP, and
    # single-use recovery codes as django-otp's static tokens.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oxytrack.web",
    "oxytrack.accounts",
    "oxytrack.org",
    "oxytrack.activity",
    "oxytrack.categories",
    "oxytrack.ingest",
    "oxytrack.audit",
    "oxytrack.policy",
    "oxytrack.dashboard",
    "oxytrack.analytics",
    "oxytrack.compliance",
    "oxytrack.portal",
    # The weekly e-mail to managers (`oxytrack send_weekly_report`) and its opt-out.
    "oxytrack.reports",
    # The read API for BI (/api/v1/) and its personal access tokens.
    "oxytrack.bi",
    "oxytrack.demo",
    # `oxytrack serve` and the start-up checks (static files collected).
    "oxytrack.ops",
]

MIDDLEWARE = [
    # First, so it sees every answer, a bad Host's 400 from CommonMiddleware
    # included: errors under /api/ become JSON {code, message}.
    "oxytrack.api_errors.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed the second factor; then ours,
    # which keeps an unverified session on the second-factor pages.
    "django_otp.middleware.OTPMiddleware",
    "oxytrack.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oxytrack.urls"
WSGI_APPLICATION = "oxytrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

SQLITE_PATH = VAR_DIR / "oxytrack.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        _database_url or f"sqlite:///{SQLITE_PATH}",
        # Kept open between requests: a new SQLite connection starts with an
        # empty page cache and parses the schema again.
        conn_max_age=600,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets pages read while an upload writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue on the busy timeout instead of
    # failing with "database is locked" when one upgrades its read lock.
    DATABASES["default"]["OPTIONS"] = {
        # Seconds a writer waits for the lock before "database is locked".
        "timeout": env_int("OXYTRACK_SQLITE_TIMEOUT_S", 5, minimum=1),
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32000; "
            # Uploads checkpoint the log after each batch, outside the write
            # lock (ingest/writelock.py); SQLite's own checkpoint, which runs
            # inside a commit, is only a backstop, at 10,000 pages (40 MB).
            "PRAGMA wal_autocheckpoint=10000"
        ),
    }
    if EMBEDDED:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured("DATABASE_URL must point to SQLite or PostgreSQL")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------

# One cache for all of the server's gunicorn processes, in files: a team's sums over
# a year (seconds of database work) are paid once per server, not once per worker,
# and they survive a restart. Every entry is keyed by what it depends on
# (docs/architecture.md, "Cache"), so nothing stale can be read from it. The API's
# call counts stay in each process's memory ("calls"): one entry per device would
# crowd the sums out of the files, and every call would list the directory.
CACHE_DIR = Path(env_str("OXYTRACK_CACHE_DIR") or VAR_DIR / "cache").resolve()


def _code_version() -> str:
    """A digest of the server's code and of Django's version, the cache's key prefix.

    Entries are pickles of the code's own classes, and the cache outlives restarts:
    an upgraded server must never read what the version before it wrote.
    """
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CACHE_DIR),
        "KEY_PREFIX": _code_version(),
        # Entries under old tokens are never read again; a third is dropped past this.
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
    "calls": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "calls"},
}

# --- Accounts, sessions, login throttling -----------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# 15 minutes without a request logs out: the cookie's age is renewed on each request.
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

AXES_FAILURE_LIMIT = env_int("OXYTRACK_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form keeps Django's field name `username` (holding the email);
# axes would otherwise look for USERNAME_FIELD ("email"), find nothing and
# count every failure against an empty name: no lock-out for the real one.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The second factor: the name authenticator apps show; wrong codes are throttled by
# django-otp per device (1, 2, 4, 8... s between attempts), recovery codes too.
OTP_TOTP_ISSUER = "OxyTrack"

# --- Security headers --------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("OXYTRACK_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("OXYTRACK_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("OXYTRACK_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a one-way submission to browser vendors and pointless
        # for an intranet host name: opt-in only, so its warning is expected.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The address of a reverse proxy whose X-Forwarded-For we believe; empty: none.
TRUSTED_PROXIES = env_list("OXYTRACK_TRUSTED_PROXIES", [])
if TRUSTED_PROXIES and HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

_plotly = importlib.util.find_spec("plotly")
if _plotly is None or not _plotly.submodule_search_locations:
    raise ImproperlyConfigured("the plotly package is not installed")
_PLOTLY_DIR = Path(next(iter(_plotly.submodule_search_locations))) / "package_data"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Two hashes for the styles plotly.js injects itself, one of them empty
        # (plotly_csp.py): no 'unsafe-inline'.
        "style-src": [SELF, *plotly_style_sources(_PLOTLY_DIR / "plotly.min.js")],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation ------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_time_zone("OXYTRACK_TIME_ZONE", "Europe/Paris")

# --- Static files (whitenoise; assets come from installed packages) -----------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("OXYTRACK_STATIC_ROOT") or VAR_DIR / "static").resolve()
STATICFILES_DIRS = [
    # The project's own CSS and JS (oxytrack/ itself is not an app, so no app finder sees it).
    PACKAGE_DIR / "static",
    ("plotly", _PLOTLY_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- OxyTrack -------------------------------------------------------------------------

# Retention per kind of data (days), applied by `oxytrack purge_activity`
# (activity/actions.py). Raw spans older than their retention are also refused
# on upload. Rollups are what every page reads for a range: they must outlive
# the spans they sum, or a day would keep spans that no rollup describes.
if env_str("OXYTRACK_RETENTION_DAYS") is not None:
    raise ImproperlyConfigured(
        "OXYTRACK_RETENTION_DAYS was replaced by OXYTRACK_SPAN_RETENTION_DAYS (raw spans) "
        "and OXYTRACK_ROLLUP_RETENTION_DAYS (daily rollups): see docs/configuration.md"
    )
OXYTRACK_SPAN_RETENTION_DAYS = env_int("OXYTRACK_SPAN_RETENTION_DAYS", 30, minimum=1)
OXYTRACK_ROLLUP_RETENTION_DAYS = env_int("OXYTRACK_ROLLUP_RETENTION_DAYS", 180, minimum=1)
if OXYTRACK_ROLLUP_RETENTION_DAYS < OXYTRACK_SPAN_RETENTION_DAYS:
    raise ImproperlyConfigured(
        f"OXYTRACK_ROLLUP_RETENTION_DAYS={OXYTRACK_ROLLUP_RETENTION_DAYS} must be at least "
        f"OXYTRACK_SPAN_RETENTION_DAYS={OXYTRACK_SPAN_RETENTION_DAYS}"
    )
OXYTRACK_AUDIT_RETENTION_DAYS = env_int("OXYTRACK_AUDIT_RETENTION_DAYS", 365, minimum=1)
# An employee with no activity (no upload, no contact of an agent) for this
# long is deleted with all their data.
OXYTRACK_DEPARTED_AFTER_DAYS = env_int("OXYTRACK_DEPARTED_AFTER_DAYS", 90, minimum=1)
# Printed in the compliance kit's documents (information notice, register,
# DPIA): the employer's name and how to reach its data protection officer.
OXYTRACK_CONTROLLER_NAME = env_str("OXYTRACK_CONTROLLER_NAME", "") or ""
OXYTRACK_DPO_CONTACT = env_str("OXYTRACK_DPO_CONTACT", "") or ""
# When on, a manager gives a short reason before seeing one employee's
# activity; it is written into the audit entries (audit/reason.py).
OXYTRACK_ACCESS_REASON = env_bool("OXYTRACK_ACCESS_REASON", False)
# The home page flags a device whose agent has not reported for this long.
OXYTRACK_SILENT_AFTER_HOURS = env_int("OXYTRACK_SILENT_AFTER_HOURS", 24, minimum=1)
# Defaults handed to agents; the super-admin overrides them globally, per
# agency or per service (policy app).
OXYTRACK_POLICY_DEFAULTS = {
    "sample_interval_s": 1,
    "upload_interval_s": 600,
    "idle_threshold_s": 180,
    "titles": "full",
    "redact": [],
    "exclude_apps": [],
    "input_counts": True,
    # The built-in deny-list lives with the code that applies it (the agent's
    # redaction module, which the policy page also previews with).
    "redact_rules": default_rules_json(),
    "browser_sites": True,
    # Working hours (policy/schedule.py): None collects at any hour.
    "schedule": None,
    # The employee's private pause per day; 0 disables it.
    "pause_max_minutes_per_day": 60,
}
# Agent API limits (DESIGN.md, wire protocol).
OXYTRACK_MAX_BATCH_SPANS = env_int("OXYTRACK_MAX_BATCH_SPANS", 5000, minimum=1)
# Calls of one device (uploads and policy reads) per minute before 429:
# a safety ceiling against a runaway agent, far above what one uploads.
OXYTRACK_DEVICE_CALLS_PER_MINUTE = env_int("OXYTRACK_DEVICE_CALLS_PER_MINUTE", 600, minimum=1)
# Calls of one BI API token (/api/v1/) per minute before 429: a BI tool paging
# through a year of titles makes a few dozen; a loop makes thousands.
OXYTRACK_API_CALLS_PER_MINUTE = env_int("OXYTRACK_API_CALLS_PER_MINUTE", 300, minimum=1)
# A team's usage by title, app or category reads ~20 rollup rows per employee
# and day: past this many employee-days (105 employees over a year, about 5 s
# on SQLite) the BI API asks for a shorter range or a smaller team (422).
OXYTRACK_API_MAX_EMPLOYEE_DAYS = env_int("OXYTRACK_API_MAX_EMPLOYEE_DAYS", 40_000, minimum=1)
# PostgreSQL: how long a batch's write transaction waits for a lock another session
# holds before the upload is retried, then answered 503 (SQLite: its busy timeout).
OXYTRACK_DB_LOCK_TIMEOUT_S = env_int("OXYTRACK_DB_LOCK_TIMEOUT_S", 5, minimum=1)
OXYTRACK_MAX_BATCH_BYTES = env_int("OXYTRACK_MAX_BATCH_BYTES", 4 * 1024 * 1024, minimum=1024)
OXYTRACK_MAX_TITLE_CHARS = 1024
OXYTRACK_MAX_FUTURE_S = 5 * 60
OXYTRACK_MAX_SPAN_S = 24 * 3600

# --- E-mail (the weekly report) ----------------------------------------------------------

_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    # Prints each message to standard output: to look at the reports before sending any.
    "console": "django.core.mail.backends.console.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "smtp") or "smtp"
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(f"EMAIL_BACKEND={_email_backend!r} is not smtp or console")
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
EMAIL_HOST = env_str("EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
# Seconds before a silent mail server counts as a failure (the next manager is tried).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OxyTrack <oxytrack@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where managers reach the site (https://oxytrack.example.com): e-mails link to
# it; empty, they say where to click instead. A command has no request to ask.
OXYTRACK_BASE_URL = env_str("OXYTRACK_BASE_URL", "") or ""
if OXYTRACK_BASE_URL and not OXYTRACK_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"OXYTRACK_BASE_URL={OXYTRACK_BASE_URL!r} must start with https://")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("OXYTRACK_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
