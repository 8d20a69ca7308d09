"""The JSON API (django-ninja): schema at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI

from problembild import __version__
from problembild.areas.api.views import router as areas_router
from problembild.core.access import log_request
from problembild.core.api import API_AUTH
from problembild.core.models import AccessLogEntry
from problembild.picture.api.views import router as picture_router

api = NinjaAPI(
    title="Problembild API",
    version=__version__,
    description="Read-only access to the register and the local problem picture, scoped to your org unit. "
    "Authenticate with the browser session or a token (`Authorization: Bearer pb_…` or `X-API-Key`).",
    auth=API_AUTH,
    urls_namespace="api",
)
api.add_router("/", areas_router)
api.add_router("/", picture_router)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    log_request(request, AccessLogEntry.Action.DENIED, object_repr=str(exc)[:300])
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found"}, status=404)


def api_urls():
    """The API's URL patterns, exempt from the login redirect: the API answers 401 itself."""
    patterns, app_name, namespace = api.urls
    for pattern in _walk(patterns):
        pattern.callback.login_required = False
    return patterns, app_name, namespace


def _walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            yield from _walk(p.url_patterns)
        else:
            yield p
