"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.urls import get_script_prefix

from problembild import __version__
from problembild.core.scoping import unit_for

from .navigation import menu


def shell_key(request) -> tuple:
    """Everything :func:`site` and base.html show that is not the same for every request of a page.

    The key of the page shells kept by ``core.shell``: the user, the user's unit and menu (the
    language, the path and the page's own parts are added there). Whatever base.html comes to
    show of the user or the site must be added here too.
    """
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return ("anonymous",)
    unit = unit_for(user)
    entries = tuple((str(item["label"]), item["url"], item["current"]) for item in menu(request))
    return (
        user.pk,
        user.get_username(),
        (unit.pk, unit.name) if unit else None,
        entries,
        __version__,
        settings.TILE_URL,
        get_script_prefix(),
    )


def site(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = getattr(user, "is_authenticated", False)
    return {
        "problembild_version": __version__,
        "tile_url": settings.TILE_URL,
        "user_unit": unit_for(user) if authenticated else None,
        "menu": menu(request),
    }
