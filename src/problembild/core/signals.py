"""Logins into the access log: every login, every failed one and every lockout (brottsdatalagen)."""

from __future__ import annotations

from types import SimpleNamespace

from .access import log_access
from .models import AccessLogEntry


def _address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def logged_in(sender, request, user, **kwargs) -> None:
    log_access(
        user,
        AccessLogEntry.Action.LOGIN,
        object_type="auth.user",
        object_id=user.pk,
        object_repr=f"login from {_address(request) or 'unknown address'}",
        path=request.get_full_path() if request is not None else "",
    )


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    who = SimpleNamespace(username=str(credentials.get("username") or "")[:150], is_authenticated=False)
    log_access(
        who,
        AccessLogEntry.Action.DENIED,
        object_type="auth.user",
        object_repr=f"failed login from {_address(request) or 'unknown address'}",
        path=request.get_full_path() if request is not None else "",
    )


def locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    who = SimpleNamespace(username=str(username or "")[:150], is_authenticated=False)
    log_access(
        who,
        AccessLogEntry.Action.DENIED,
        object_type="auth.user",
        object_repr=f"login refused: too many failed attempts (user or address {ip_address or 'unknown'} locked)",
        path=request.get_full_path() if request is not None else "",
    )


def connect() -> None:
    """Connect the receivers (from ``CoreConfig.ready``)."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(logged_in, dispatch_uid="problembild.core.logged_in")
    user_login_failed.connect(login_failed, dispatch_uid="problembild.core.login_failed")
    user_locked_out.connect(locked_out, dispatch_uid="problembild.core.locked_out")
