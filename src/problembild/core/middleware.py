"""Responses to signed-in users are never stored by browsers or proxies."""

from __future__ import annotations

from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in user that sets no policy of its own.

    Pages, exports and API answers hold police data: a shared computer's browser cache or
    a proxy must not keep them. Answers that state their own policy (the public
    municipality map, static files) keep it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if not response.has_header("Cache-Control") and getattr(user, "is_authenticated", False):
            patch_cache_control(response, no_store=True, private=True)
        return response
