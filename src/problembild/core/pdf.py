"""PDFs rendered on the server with WeasyPrint: offline, with shipped fonts.

Police networks are closed, so rendering a PDF must never reach out to the internet.
:func:`html_to_pdf` therefore gives WeasyPrint a URL fetcher that serves only

* the project's own static files: ``/static/...`` on the document's own host (the host of
  ``base_url``, or :data:`INTERNAL_HOST` when there is none), read from disk through the
  staticfiles finders (and, for collected or hashed names, the static files storage);
* the shipped fonts: ``file://`` URLs inside :data:`FONTS_DIR`;
* ``data:`` URLs (the data is in the URL itself);

and refuses every other URL (another host, ``http:``/``https:`` off the project's static
files, other ``file://`` paths, ``ftp:`` …) without opening a connection. A refused URL is
logged as a warning on this module's logger and the resource is left out; the rest of the
document still renders. So a template linking a CDN can never make the server fetch it.

The fonts (DejaVu Sans, ``static/core/fonts/``, see SOURCE.md there) are registered with
WeasyPrint under the family name :data:`FONT_FAMILY`, and the base print stylesheet
``core/pdf.css`` (A4, "sida X av Y", the document's h1 in the header, table header rows
repeated on every page) is applied to every document, so a PDF looks the same whatever
fonts the machine has.

WeasyPrint (and with it Pango) is imported only when a PDF is rendered: the rest of the
application starts without it. It needs Debian's ``libpango-1.0-0`` and
``libpangoft2-1.0-0`` (``scripts/system-deps.sh`` installs them).
"""

from __future__ import annotations

import functools
import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify

logger = logging.getLogger(__name__)

#: The shipped font files; ``file://`` URLs are served only from inside this folder.
FONTS_DIR = Path(__file__).resolve().parent / "static" / "core" / "fonts"

#: The family name under which the shipped fonts are registered.
FONT_FAMILY = "Problembild Sans"

#: (font-weight, font-style) -> file in :data:`FONTS_DIR`.
FONT_FILES = {
    ("normal", "normal"): "DejaVuSans.ttf",
    ("bold", "normal"): "DejaVuSans-Bold.ttf",
    ("normal", "oblique"): "DejaVuSans-Oblique.ttf",
    ("bold", "oblique"): "DejaVuSans-BoldOblique.ttf",
}

#: The base print stylesheet (a static file name), applied to every document first.
BASE_STYLESHEET = "core/pdf.css"

#: The host of documents rendered without a base URL. ``.invalid`` is reserved (RFC 2606)
#: and never resolves; nothing is ever fetched from it anyway: only its static files are
#: served, from disk.
INTERNAL_HOST = "problembild.invalid"
INTERNAL_BASE_URL = f"https://{INTERNAL_HOST}/"


class RefusedURL(ValueError):
    """A URL the PDF renderer will not fetch: PDFs are rendered offline."""


def _static_prefix() -> str:
    """The path under which static files are served, e.g. ``/static/``."""
    return urlsplit(settings.STATIC_URL).path or "/static/"


def font_face_css() -> str:
    """``@font-face`` rules mapping :data:`FONT_FAMILY` to the shipped fonts."""
    rules = []
    for (weight, style), name in FONT_FILES.items():
        # Oblique fonts also serve font-style: italic (WeasyPrint matches both).
        rules.append(
            "@font-face {"
            f' font-family: "{FONT_FAMILY}";'
            f' src: url("{(FONTS_DIR / name).as_uri()}") format("truetype");'
            f" font-weight: {weight}; font-style: {style}; }}"
        )
    return "\n".join(rules)


def _static_file(path: str) -> Path | None:
    """The file on disk of the static file at URL path ``path`` (``/static/...``), or None."""
    prefix = _static_prefix()
    if not path.startswith(prefix):
        return None
    name = unquote(path[len(prefix) :])
    if not name or name.endswith("/"):
        return None
    try:
        found = finders.find(name)
    except SuspiciousFileOperation:
        return None
    if found:
        return Path(found)
    # Collected files, e.g. the hashed names ManifestStaticFilesStorage hands out in production.
    try:
        if staticfiles_storage.exists(name):
            return Path(staticfiles_storage.path(name))
    except (SuspiciousFileOperation, ImproperlyConfigured, NotImplementedError):
        return None
    return None


def resolve_url(url: str, *, own_hosts: frozenset[str] = frozenset({INTERNAL_HOST})) -> Path | None:
    """The local file that serves ``url``; None for a ``data:`` URL (its data is in the URL).

    Raises :class:`RefusedURL` for everything else; never touches the network.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return None
        if scheme in ("http", "https") and (parts.hostname or "").lower() in own_hosts:
            found = _static_file(parts.path)
            if found is not None and found.is_file():
                return found
            raise RefusedURL(f"PDF: refused to fetch {url}: not a static file of the project")
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_relative_to(FONTS_DIR) and path.is_file():
                return path
    except RefusedURL:
        raise
    except (OSError, ValueError) as error:  # a malformed URL or path (e.g. a NUL byte)
        raise RefusedURL(f"PDF: refused to fetch {url}: {error}") from error
    raise RefusedURL(
        f"PDF: refused to fetch {url}: PDFs are rendered offline, only the project's static "
        "files (/static/...) and the shipped fonts are served"
    )


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OfflineURLFetcher(URLFetcher):
        """WeasyPrint's fetcher, cut down to :func:`resolve_url`: no network, ever."""

        def __init__(self, own_hosts: frozenset[str]) -> None:
            super().__init__(allowed_protocols=("data", "file", "http", "https"), allow_redirects=False)
            self.own_hosts = own_hosts

        def fetch(self, url, headers=None):
            try:
                path = resolve_url(url, own_hosts=self.own_hosts)
            except RefusedURL as refused:
                logger.warning("%s", refused)
                raise
            if path is None:  # data: URL, decoded by urllib's DataHandler
                return super().fetch(url, headers)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            logger.debug("PDF: served %s from %s", url, path)
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    return OfflineURLFetcher


def offline_url_fetcher(base_url: str | None = None) -> Any:
    """A WeasyPrint URL fetcher serving only what :func:`resolve_url` allows.

    The host of an ``http(s)`` ``base_url`` (the page's own address) counts as the
    project's own, besides :data:`INTERNAL_HOST`: its ``/static/...`` URLs are read from disk.
    """
    own_hosts = {INTERNAL_HOST}
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            own_hosts.add(parts.hostname.lower())
    return _fetcher_class()(frozenset(own_hosts))


def html_to_pdf(html: str, *, base_url: str | None = None, stylesheets: list[str] | None = None) -> bytes:
    """Render ``html`` to PDF bytes, offline, with the shipped fonts and ``core/pdf.css``.

    ``base_url`` is the address relative URLs in ``html`` are read against (the page's own
    URL, e.g. ``request.build_absolute_uri()``); without one, ``/static/...`` still works.
    ``stylesheets`` are further static files (names as for ``{% static %}``, e.g.
    ``"picture/print.css"``) applied after the base stylesheet; a missing one raises
    WeasyPrint's ``URLFetchingError``. A refused or missing resource linked from ``html``
    only logs a warning and is left out.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    base_url = base_url or INTERNAL_BASE_URL
    fetcher = offline_url_fetcher(base_url)
    font_config = FontConfiguration()
    prefix = _static_prefix()
    sheets = [CSS(string=font_face_css(), font_config=font_config, url_fetcher=fetcher)]
    for name in [BASE_STYLESHEET, *(stylesheets or [])]:
        url = urljoin(INTERNAL_BASE_URL, prefix + name.removeprefix(prefix).lstrip("/"))
        sheets.append(CSS(url=url, font_config=font_config, url_fetcher=fetcher))
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=sheets, font_config=font_config)


def pdf_response(
    request: HttpRequest, html: str, filename: str, *, stylesheets: list[str] | None = None
) -> HttpResponse:
    """``html`` as a PDF download named ``filename`` (slugified, ``.pdf`` added)."""
    pdf = html_to_pdf(html, base_url=request.build_absolute_uri(), stylesheets=stylesheets)
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slugify(stem) or "dokument"}.pdf"'
    return response
