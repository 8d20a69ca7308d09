"""Sessions read from the shared cache and kept in the database (``SESSION_ENGINE``, settings/base.py).

Django's ``cached_db`` store: a request reads its session from the cache (one small file) instead
of a query and a signature check; every write goes to the database and the cache, and a session
missing from the cache is read from the database again. The database stays the record: the user,
their password hash (the session's auth hash) and their roles and unit are still read from it on
every request, so a deactivated user or a changed role counts at once.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    """``cached_db``, except that a cache that fails costs a query, never the page.

    Django's store already survives a cache that fails to read or to save; not one that fails
    while a session read from the database is put back, or while it checks that a key exists.
    Ending a session (logout) is left as Django does it: a cache that cannot delete raises,
    rather than a logout that looks done while the cache still holds the session.
    """

    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # as Django's: an unreadable entry is read from the database
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            log.exception("could not keep the session in the cache; it is read from the database")
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            log.exception("could not look the session key up in the cache")
        return DBStore.exists(self, session_key)
