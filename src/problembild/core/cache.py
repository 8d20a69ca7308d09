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
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
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
    try:
        stored = cache.get(key)
    except Exception:  # a broken cache costs time, never the page
        log.exception("could not read the cached fragment %s", name)
        stored = None
    if stored is not None:
        html, meta = stored
        return Fragment(mark_safe(html), meta, hit=True)  # rendered by our own templates
    html, meta = render()
    html = str(html)
    try:
        cache.set(key, (html, meta), timeout)
    except Exception:
        log.exception("could not store the fragment %s", name)
    return Fragment(mark_safe(html), meta)
