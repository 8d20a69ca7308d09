"""WSGI entry point (gunicorn ``problembild.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "problembild.settings.production")

application = get_wsgi_application()


def _warm() -> None:
    """Do while the worker boots what its first request would do: import the URL configuration
    (every app's views, the API and its schemas), build the URL resolver's reverse tables and
    load the translations of every language. That first request took about 2 s, and under
    load every request queued behind a new worker's first one waited as long."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse(settings.LOGIN_URL)


_warm()
