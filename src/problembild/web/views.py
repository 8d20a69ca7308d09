"""The shell's error pages."""

from __future__ import annotations

from django.shortcuts import render

from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry


def permission_denied(request, exception=None):
    """The 403 page; every refusal of a signed-in user is written to the access log."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        log_request(request, AccessLogEntry.Action.DENIED, object_repr=str(exception or "")[:300])
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
