"""Pages around a cached body: the page shell rendered once per user and page, then filled in.

A cached page (the overview, an area) keeps its body in the fragment cache (``cache.py``);
what is left per request is the shell around it: the base template with the menu, the
user and unit, the language switch, the page's heading and scripts. Rendering it cost more
than all the rest of such a request. It depends on who asks and on the page, but within
one user and page only three values change from request to request: the CSRF token, the
CSP nonce and the body. So the shell is rendered once with markers in their places and
kept in the process's memory (:data:`shells`), and a request only joins the pieces with
its own token, nonce and body.

The key names everything else the shell shows: the template, the page's own key parts
(the view names them: whatever of its context the page template shows), the language, the
path, and the parts the shell's app registers (:func:`register_shell_key`: the user, the
user's unit, the menu). A user's shell is never another user's: the user is in the key.
A request with messages to show is rendered in full (they are shown once), and so is every
request under ``DEBUG``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

#: Functions of the request that name what the shell shows of the user (the shell's app
#: registers them in ``ready``); the shell is cached only when at least one is registered.
_KEY_PARTS: list[Callable[[HttpRequest], Hashable]] = []

# Markers for the per-request values: random per process, so no page content can contain one.
_CSRF = f"pbcsrf{secrets.token_hex(16)}"
_NONCE = f"pbnonce{secrets.token_hex(16)}"
_BODY = f"pbbody{secrets.token_hex(16)}"
_MARKS = re.compile(f"({_CSRF}|{_NONCE}|{_BODY})")


def register_shell_key(part: Callable[[HttpRequest], Hashable]) -> None:
    """Make ``part(request)`` a part of every shell's key (what the base template shows of the user)."""
    if part not in _KEY_PARTS:
        _KEY_PARTS.append(part)


class Shells:
    """The rendered shells of one process, most recently used kept (at most ``size``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[str, ...] | None:
        with self._lock:
            pieces = self._items.get(key)
            if pieces is not None:
                self._items.move_to_end(key)
            return pieces

    def put(self, key: Hashable, pieces: tuple[str, ...]) -> None:
        with self._lock:
            self._items[key] = pieces
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: About 5 kB each without the body.
shells = Shells(2000)


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    body_name: str,
    body: SafeString,
    key: Hashable,
) -> HttpResponse:
    """``render(request, template, {**context, body_name: body})``, from the shell kept for this user and page.

    ``key`` must name everything of ``context`` that ``template`` shows (a page template
    that shows a new value adds it to its view's key); ``body`` is the cached body.
    """
    # Under DEBUG (the development server) in full: an edited template shows at once.
    if not _KEY_PARTS or settings.DEBUG or get_messages(request):
        return render(request, template, {**context, body_name: body})
    full_key = (
        template,
        key,
        get_language(),
        request.get_full_path(),
        *(part(request) for part in _KEY_PARTS),
    )
    pieces = shells.get(full_key)
    if pieces is None:
        html = render_to_string(
            template,
            {**context, body_name: mark_safe(_BODY), "csrf_token": _CSRF, "csp_nonce": _NONCE},
            request,
        )
        pieces = tuple(_MARKS.split(html))
        if pieces[1::2].count(_BODY) != 1:  # the body shown twice or not at all: no shell to fill
            return render(request, template, {**context, body_name: body})
        shells.put(full_key, pieces)
    # As the template would: a token or a nonce only when the page shows one (the CSRF and
    # CSP middleware then set the cookie and the header as they do for a full render).
    values = {}
    if _CSRF in pieces[1::2]:
        values[_CSRF] = get_token(request)
    if _NONCE in pieces[1::2]:
        values[_NONCE] = str(get_nonce(request))
    values[_BODY] = conditional_escape(body)  # as the template would show it
    return HttpResponse("".join(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces)))
