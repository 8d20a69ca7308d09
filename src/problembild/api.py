"""The JSON API (django-ninja): schema at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from ninja import NinjaAPI

from problembild import __version__
from problembild.areas.api.views import router as areas_router
from problembild.assessment.api.views import router as assessment_router
from problembild.audit.api.views import router as audit_router
from problembild.competence.api.views import router as competence_router
from problembild.core.access import log_request
from problembild.core.api import API_AUTH, request_user
from problembild.core.models import AccessLogEntry
from problembild.followup.api.views import router as followup_router
from problembild.picture.api.views import router as picture_router
from problembild.resources.api.views import router as resources_router


def signed_in(view):
    """The schema and the docs for signed-in users (session or token) only, unless configured public.

    The API's routes answer 401 themselves; the schema names every route and parameter,
    which is not for anonymous visitors of a police system (``PROBLEMBILD_PUBLIC_API_SCHEMA``).
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if settings.PUBLIC_API_SCHEMA or request_user(request) is not None:
            return view(request, *args, **kwargs)
        return JsonResponse({"detail": "Authentication required: sign in or send an API token."}, status=401)

    return wrapped


api = NinjaAPI(
    title="Problembild API",
    version=__version__,
    description="Read-only access to the register and the local problem picture, scoped to your org unit. "
    "Authenticate with the browser session or a token (`Authorization: Bearer pb_…` or `X-API-Key`).",
    auth=API_AUTH,
    urls_namespace="api",
    docs_decorator=signed_in,
)
api.add_router("/", areas_router)
api.add_router("/", picture_router)
api.add_router("/", resources_router)
api.add_router("/", followup_router)
api.add_router("/", competence_router)
api.add_router("/", audit_router)
api.add_router("/", assessment_router)


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
