"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings

from problembild import __version__
from problembild.core.roles import ADMINISTRATOR, AUDIT_ROLES, IMPORT_ROLES, has_role
from problembild.core.scoping import unit_for


def site(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = getattr(user, "is_authenticated", False)
    return {
        "problembild_version": __version__,
        "tile_url": settings.TILE_URL,
        "user_unit": unit_for(user) if authenticated else None,
        "can_audit": authenticated and has_role(user, AUDIT_ROLES),
        "can_import": authenticated and has_role(user, IMPORT_ROLES),
        # The import page is for administrators (role or Django staff).
        "can_use_import_page": authenticated and (user.is_staff or has_role(user, {ADMINISTRATOR})),
    }
