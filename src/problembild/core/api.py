"""What every API router shares: authentication (session or token), pagination, logging."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from ninja import Schema
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from .models import ApiToken


class Message(Schema):
    """An error answer: what went wrong (403, 404, 422)."""

    detail: str


def user_for_key(key: str):
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    if token.expires and token.expires < timezone.now():
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
    return token.user


def request_user(request):
    """The signed-in user of ``request``: the session's, or the owner of a valid token (None: anonymous)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
    return user_for_key(key) if key else None


class TokenBearer(HttpBearer):
    """``Authorization: Bearer pb_…``."""

    def authenticate(self, request, token):
        user = user_for_key(token)
        if user is not None:
            request.user = user
        return user


class TokenHeader(APIKeyHeader):
    """``X-API-Key: pb_…`` for clients that cannot set a bearer token."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        user = user_for_key(key) if key else None
        if user is not None:
            request.user = user
        return user


class LoggedInSession(SessionAuth):
    """The browser session; read-only endpoints need no CSRF token."""

    csrf = False

    def authenticate(self, request, key):
        user = getattr(request, "user", AnonymousUser())
        return user if user.is_authenticated else None


API_AUTH = [LoggedInSession(), TokenBearer(), TokenHeader()]
