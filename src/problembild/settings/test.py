"""Test settings: in-memory SQLite unless DATABASE_URL names PostgreSQL."""

from __future__ import annotations

import os

import dj_database_url

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]

if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Tests roll their database back, which a kept copy of the incident columns would not see:
# the tests of picture/refresh/snapshot.py point it at a temporary folder of their own.
INCIDENT_SNAPSHOTS = None

# Serve static files from the apps' folders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None

# A per-process cache (xdist workers never share it); tests/conftest.py clears it before each test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": 600}}
