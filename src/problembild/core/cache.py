"""Cached page fragments, keyed on the data they show.

A fragment (the rendered, user-independent part of a page) is stored in Django's cache
(``CACHES``; by default files in the data directory, shared by every worker process)
under a key made of the fragment's name, the active language, the caller's key parts
(scope, filters …) and the *data stamp*: the latest finished ``RefreshRun`` and the
*register version*. The register version is a random token replaced on every change of
the register (areas, rounds, classifications, population, municipalities, org units):
by the model signals connected in the apps' ``ready`` and, for writes that send no
signals (``bulk_create``, ``QuerySet.update``), by :func:`register_changes` around the
loaders and importers. A token, not a counter: if the cache loses it, a new one simply
misses every old fragment instead of possibly matching one. Fragments also expire
after :data:`FRAGMENT_TIMEOUT` as a safety net.

Each process also keeps the fragments it used last in memory (:class:`LocalFragments`),
under the same keys and until the same expiry: a key names the stamp, so a new refresh or
register version misses there as it does in the shared cache, and a hit costs no file
read, decompression or unpickling.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from problembild import __version__

log = logging.getLogger(__name__)

REGISTER_VERSION_KEY = "problembild:register-version"
FRAGMENT_PREFIX = "problembild:fragment"
#: Seconds a fragment is kept at most, whatever the data stamp says.
FRAGMENT_TIMEOUT = 10 * 60

_state = threading.local()


def register_version() -> str:
    """The current register version (created on first use; a fresh one, so a miss, if the cache fails)."""
    fresh = uuid.uuid4().hex
    try:
        version = cache.get(REGISTER_VERSION_KEY)
        if version is None:
            cache.add(REGISTER_VERSION_KEY, fresh, timeout=None)
            version = cache.get(REGISTER_VERSION_KEY)
    except Exception:
        log.exception("could not read the register version")
        version = None
    return version or fresh


def _new_register_version() -> None:
    try:
        cache.set(REGISTER_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # a broken cache must not stop a write of the register
        log.exception("could not bump the register version; cached pages expire within %ss", FRAGMENT_TIMEOUT)


def bump_register_version() -> None:
    """Invalidate every fragment built from the register.

    Bumped at once (so reads in the same transaction see the change) and, inside a
    transaction, again when it commits: a page rendered by another process between the
    write and the commit saw the old rows, and must not be kept under the new version.
    """
    _new_register_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_new_register_version, robust=True)


@contextmanager
def register_changes() -> Iterator[None]:
    """Group the register writes of a loader or importer: one bump at the end, not one per row.

    Use it (as a context manager or decorator) around code that writes the register,
    in particular with ``bulk_create`` or ``QuerySet.update``, which send no signals.
    """
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0:
            bump_register_version()


def register_changed(sender, **kwargs) -> None:
    """Signal receiver: a register row was saved or deleted."""
    if getattr(_state, "depth", 0):
        return  # register_changes() bumps once at its end
    bump_register_version()


def watch_register(*models) -> None:
    """Bump the register version on every save and delete of ``models`` (call in ``ready``)."""
    for model in models:
        label = model._meta.label_lower
        post_save.connect(register_changed, sender=model, dispatch_uid=f"problembild.register.save.{label}")
        post_delete.connect(
            register_changed, sender=model, dispatch_uid=f"problembild.register.delete.{label}"
        )


#: Functions that each name one part of what cached pages are computed from (apps register
#: theirs in ``AppConfig.ready``: the problem picture its latest finished refresh).
_STAMP_PARTS: dict[str, Callable[[], str]] = {}


def register_stamp_part(name: str, part: Callable[[], str]) -> None:
    """Make ``part()`` a component of :func:`data_stamp` (an app's computed data, read per request)."""
    _STAMP_PARTS[name] = part


def data_stamp() -> str:
    """What the cached pages were computed from: the apps' stamp parts and the register version."""
    parts = [f"{name}={part()}" for name, part in sorted(_STAMP_PARTS.items())]
    return "/".join([*parts, register_version()])


def fragment_key(name: str, parts, *, stamp: str | None = None) -> str:
    """The cache key of fragment ``name`` for ``parts`` (JSON-able) in the active language.

    ``stamp`` is :func:`data_stamp` (read here when not given): read it before the data
    the fragment shows, so a fragment is never stored under a newer stamp than its data.
    """
    material = json.dumps(
        [__version__, get_language(), stamp or data_stamp(), parts],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return f"{FRAGMENT_PREFIX}:{name}:{hashlib.sha256(material.encode()).hexdigest()}"


class LocalFragments:
    """A process's most recently used fragments, bounded by their total size in characters.

    Only an addition to the shared cache (never the only copy): a worker keeps what it
    served until its expiry, so repeated requests skip the shared cache's file, zlib and
    pickle work. Thread-safe (gunicorn's threaded workers share it).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[str, tuple[float, SafeString, dict]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[SafeString, dict] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.time():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1], item[2]

    def put(self, key: str, html: SafeString, meta: dict, expires: float) -> None:
        if len(html) > self.limit // 4:
            return  # one huge fragment must not push out everything else
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (expires, html, meta)
            self._size += len(html)
            while self._size > self.limit:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    def _drop(self, key: str) -> None:
        self._size -= len(self._items.pop(key)[1])


#: Characters of fragments each process keeps in memory (about 100 overview pages; 2 bytes
#: per character at most for the Swedish text, so well under 100 MB per worker).
LOCAL_FRAGMENT_CHARS = 24_000_000
local_fragments = LocalFragments(LOCAL_FRAGMENT_CHARS)


@dataclass(frozen=True)
class Fragment:
    """Rendered HTML and whatever else the page needs from the render (``meta``, picklable)."""

    html: SafeString
    meta: dict = field(default_factory=dict)
    hit: bool = False


def cached_fragment(
    name: str,
    parts,
    render: Callable[[], tuple[str, dict]],
    *,
    stamp: str | None = None,
    timeout: int = FRAGMENT_TIMEOUT,
) -> Fragment:
    """Fragment ``name`` for ``parts``: from the cache, or ``render()`` ed and stored.

    ``render`` returns ``(html, meta)``. The HTML must depend only on ``parts``, the
    language and the data, never on the user, the session, the CSRF token or the CSP
    nonce; ``meta`` carries small values the page needs on every request.
    """
    key = fragment_key(name, parts, stamp=stamp)
    local = local_fragments.get(key)
    if local is not None:
        return Fragment(local[0], local[1], hit=True)
    try:
        stored = cache.get(key)
    except Exception:  # a broken cache costs time, never the page
        log.exception("could not read the cached fragment %s", name)
        stored = None
    if stored is not None and len(stored) == 3:
        html, meta, expires = stored
        html = mark_safe(html)  # rendered by our own templates
        local_fragments.put(key, html, meta, expires)
        return Fragment(html, meta, hit=True)
    html, meta = render()
    html = mark_safe(str(html))
    # The expiry travels with the fragment, so a copy in any process's memory ends with it.
    expires = time.time() + timeout
    try:
        cache.set(key, (str(html), meta, expires), timeout)
    except Exception:
        log.exception("could not store the fragment %s", name)
    local_fragments.put(key, html, meta, expires)
    return Fragment(html, meta)
