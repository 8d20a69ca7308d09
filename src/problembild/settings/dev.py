"""Development settings: the default for ``problembild`` and ``manage.py``."""

from __future__ import annotations

import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR, SECRET_KEY

DEBUG = True

if not SECRET_KEY:
    # A per-installation key kept in the data directory, so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
