"""The main menu: one entry per page a user can go to, shown when the user may use it.

A new domain app adds its entries here (URL names only: the shell imports no domain app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from problembild.core.imports import import_kinds
from problembild.core.roles import AUDIT_ROLES, IMPORT_ROLES, has_role


def everyone(user) -> bool:
    return True


def importers(user) -> bool:
    """Who may import (the import page's own rule): the import roles, Django staff, or a kind's roles."""
    return bool(user.is_staff or has_role(user, IMPORT_ROLES) or import_kinds(user))


def auditors(user) -> bool:
    return has_role(user, AUDIT_ROLES)


def staff(user) -> bool:
    return bool(user.is_staff)


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    #: Who sees the entry: a function of the user, or its dotted path (an app's own rule,
    #: imported when the menu is drawn, so the shell imports no domain app).
    visible: Callable[[object], bool] | str = everyone
    #: A URL namespace whose every page counts as this entry's (a section of several pages).
    section: str = ""

    def is_current(self, view_name: str) -> bool:
        return view_name == self.url_name or bool(self.section and view_name.startswith(self.section + ":"))


MENU: tuple[MenuItem, ...] = (
    MenuItem(_("Översikt"), "picture:overview"),
    MenuItem(_("Händelseflödet"), "incidents:feed"),
    MenuItem(_("Resurser"), "resources:index", section="resources"),
    MenuItem(_("Styrning"), "followup:index", section="followup"),
    MenuItem(
        _("Kompetens"), "competence:index", "problembild.competence.access.sees_menu", section="competence"
    ),
    MenuItem(_("Bedömning"), "assessment:index", section="assessment"),
    MenuItem(_("Revision"), "audit:dashboard", section="audit"),
    MenuItem(_("Import"), "core:import", importers),
    MenuItem(_("Åtkomstlogg"), "core:access_log", auditors),
    MenuItem(_("Behörighetsgranskning"), "core:access_review", auditors),
    MenuItem(_("Administration"), "admin:index", staff),
)


#: The entries' URLs by (URL name, script prefix, URL configuration): reversed once per process,
#: not on every page (the menu is drawn on every page, and ``reverse`` is the costly part of it).
_URLS: dict[tuple[str, str, str], str] = {}


def _url(name: str) -> str:
    key = (name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = reverse(name)
    return url


def menu(request) -> list[dict]:
    """The entries ``request.user`` may use, with their URLs and which one is the current page."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return []
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    # Once per request and page: the shell's cache key and the template both ask for it.
    found = getattr(request, "_problembild_menu", None)
    if found is not None and found[0] == (user.pk, current):
        return found[1]
    entries = [
        {"label": item.label, "url": _url(item.url_name), "current": item.is_current(current)}
        for item in MENU
        if (import_string(item.visible) if isinstance(item.visible, str) else item.visible)(user)
    ]
    request._problembild_menu = ((user.pk, current), entries)
    return entries
