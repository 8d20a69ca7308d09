"""Settings shared by every environment.

Secrets and the database come from the environment (``SECRET_KEY``, ``DATABASE_URL``);
the embedded SQLite database lives in ``PROBLEMBILD_DATA_DIR`` (default ``./var``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from problembild.analysis.vocabulary import LOCAL_TIMEZONE

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PROBLEMBILD_DATA_DIR", "var")).resolve()
#: Where ``refresh`` keeps the incident columns it read, to read only new rows next time
#: (picture/refresh/snapshot.py); None: read the whole store on every run.
INCIDENT_SNAPSHOTS: Path | None = DATA_DIR / "snapshots" / "incidents"

DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
SECRET_KEY = os.environ.get("SECRET_KEY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "axes",
    "ninja",
    "simple_history",
    "problembild.core",
    "problembild.areas",
    "problembild.incidents",
    "problembild.picture",
    "problembild.resources",
    "problembild.followup",
    "problembild.competence",
    "problembild.audit",
    "problembild.assessment",
    "problembild.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Who made each edit, for the history of edits (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "problembild.core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: refuses logins from a locked user or address.
    "axes.middleware.AxesMiddleware",
]

# Brute-force protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords a user name is
# locked for every address, and an address for every user name, for AXES_COOLOFF_TIME hours.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PROBLEMBILD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("PROBLEMBILD_LOGIN_LOCK_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/login_locked.html"
AXES_HTTP_RESPONSE_CODE = 429
# The access log records every login and every failed one (core.access, signals).
AXES_VERBOSE = False

ROOT_URLCONF = "problembild.urls"
WSGI_APPLICATION = "problembild.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "problembild.web.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'problembild.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (the web pages) work while an import writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        "transaction_mode": "IMMEDIATE",
    }
    # Connections are kept between requests (CONN_MAX_AGE as above), as on PostgreSQL: a new one
    # reads the whole schema again (about 2.3 ms of each page view). An idle connection holds no
    # lock and no snapshot, so imports, the refresh and `restore` (SQLite's backup API, into the
    # same file) are seen by the next request as before.

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache of rendered page fragments (core/cache.py): files in the data directory, shared by every
# worker process with no extra service. PROBLEMBILD_CACHE_URL may name another directory
# (file:///path), a per-process cache (locmem://) or none (dummy://).
_cache_url = os.environ.get("PROBLEMBILD_CACHE_URL", "")
if _cache_url.startswith("locmem://"):
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
elif _cache_url.startswith("dummy://"):
    _cache = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
elif not _cache_url or _cache_url.startswith("file://"):
    _cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": _cache_url.removeprefix("file://") or str(DATA_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
else:
    raise ImproperlyConfigured(
        f"PROBLEMBILD_CACHE_URL: use file:///path, locmem:// or dummy://, not {_cache_url!r}"
    )
CACHES = {"default": {**_cache, "TIMEOUT": 600}}
# Sessions are read on every request. With a cache every worker shares (files), a session is read
# from it and written to it and to the database (cached_db): no query and no signature check per
# request. A session missing from the cache (culled, cleared, e.g. by `restore`) is read from the
# database again. Without a shared cache they stay in the database alone: a session ended in one
# worker must not live on in another's memory (docs/deployment.md, Sessions).
if _cache["BACKEND"].endswith(".FileBasedCache"):
    SESSION_ENGINE = "problembild.core.sessions"  # cached_db; a failing cache costs a query, not the page

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "picture:overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = LOCAL_TIMEZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "uploads"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
# The largest file the import page accepts, in MB (DATA_UPLOAD_MAX_MEMORY_SIZE does not limit
# file uploads). Larger files are refused with a form error; import them with the command line.
MAX_UPLOAD_MB = int(os.environ.get("PROBLEMBILD_MAX_UPLOAD_MB", "500"))
#: The largest evidence file (audit follow-up) accepted, in MB: documents, not data sets.
EVIDENCE_MAX_MB = int(os.environ.get("PROBLEMBILD_EVIDENCE_MAX_MB", "25"))

# Nothing loads from outside the server: scripts, styles, images and fonts are our own.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# A tile server may be configured for the maps; it is then the only outside origin allowed.
TILE_URL = os.environ.get("PROBLEMBILD_TILE_URL", "")
if TILE_URL:
    from urllib.parse import urlsplit

    _tile = urlsplit(TILE_URL.replace("{s}", "a"))
    SECURE_CSP["img-src"].append(f"{_tile.scheme}://{_tile.netloc.replace('a.', '*.', 1)}")

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Taxonomy (incident type -> indicator group) and harm weights; administrators may point these elsewhere.
TAXONOMY_FILE = os.environ.get("PROBLEMBILD_TAXONOMY", str(PACKAGE_DIR / "incidents" / "taxonomy.toml"))
HARM_WEIGHTS_FILE = os.environ.get(
    "PROBLEMBILD_HARM_WEIGHTS", str(PACKAGE_DIR / "analysis" / "harm_weights.toml")
)
# Which categories the "one area officer per 5,000 residents" rule applies to (configurable scope).
OFFICER_RULE_CATEGORIES = [
    c.strip()
    for c in os.environ.get(
        "PROBLEMBILD_OFFICER_RULE_CATEGORIES", "utsatt område,riskområde,särskilt utsatt område"
    ).split(",")
    if c.strip()
]
RESIDENTS_PER_OFFICER = int(os.environ.get("PROBLEMBILD_RESIDENTS_PER_OFFICER", "5000"))
# Share of area officers' hours that should be spent in their own area (protected time).
PROTECTED_TIME_THRESHOLD = float(os.environ.get("PROBLEMBILD_PROTECTED_TIME_THRESHOLD", "0.8"))
# Presence hours in the area that one area officer gives in a week (the hours plan's budget).
PRESENCE_HOURS_PER_OFFICER = float(os.environ.get("PROBLEMBILD_PRESENCE_HOURS_PER_OFFICER", "24"))

NINJA_PAGINATION_PER_PAGE = 100
# The API's schema (/api/openapi.json) and docs (/api/docs) answer only signed-in users (session
# or token) unless this is set (PROBLEMBILD_PUBLIC_API_SCHEMA=1).
PUBLIC_API_SCHEMA = os.environ.get("PROBLEMBILD_PUBLIC_API_SCHEMA", "0") == "1"
