"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings

from problembild import __version__
from problembild.core.scoping import unit_for

from .navigation import menu


def site(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = getattr(user, "is_authenticated", False)
    return {
        "problembild_version": __version__,
        "tile_url": settings.TILE_URL,
        "user_unit": unit_for(user) if authenticated else None,
        "menu": menu(request),
    }
