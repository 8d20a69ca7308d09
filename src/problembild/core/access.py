"""Writing the access log: one function for pages, the API, exports and the CLI."""

from __future__ import annotations

from django.db import models

from .models import AccessLogEntry
from .roles import role_codes
from .scoping import unit_for


def log_access(
    user,
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    reason: str = "",
    recipient: str = "",
    path: str = "",
) -> AccessLogEntry:
    """Append one entry to the access log and return it.

    ``user`` may be an anonymous user or None (CLI runs without a login record the
    operating-system user as ``username`` through the caller).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    authenticated = getattr(user, "is_authenticated", False)
    unit = unit_for(user) if authenticated else None
    return AccessLogEntry.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else (getattr(user, "username", "") or "anonymous"),
        roles=",".join(sorted(role_codes(user))) if authenticated else "",
        unit=unit.name if unit else "",
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id)[:100],
        object_repr=object_repr[:300],
        reason=reason[:500],
        recipient=recipient[:300],
        path=path[:500],
    )


def log_request(request, action: str, **kwargs) -> AccessLogEntry:
    """:func:`log_access` for a request: the user and the path come from it."""
    kwargs.setdefault("path", request.get_full_path())
    return log_access(request.user, action, **kwargs)
