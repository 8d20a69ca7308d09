"""Server-side PDFs (core/pdf.py): offline, with the shipped fonts, Swedish text intact."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.contrib.staticfiles import finders
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from problembild.core.pdf import FONTS_DIR, RefusedURL, html_to_pdf, pdf_response, resolve_url

SWEDISH = "Åtgärder för Rinkeby/Tensta – öppen"


@pytest.fixture(autouse=True)
def network_attempts(monkeypatch):
    """Every way out to the network fails loudly and is recorded; none may be tried."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access while rendering a PDF: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request.HTTPHandler, "http_open", refuse)
    monkeypatch.setattr(urllib.request.HTTPSHandler, "https_open", refuse)
    monkeypatch.setattr(urllib.request.FTPHandler, "ftp_open", refuse)
    yield attempts
    # WeasyPrint turns a fetcher's exception into a warning, so check the record as well.
    assert attempts == [], "PDF rendering tried to reach the network"


@pytest.fixture
def pdf_log(caplog):
    caplog.set_level(logging.DEBUG, logger="problembild.core.pdf")
    return caplog


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in _reader(pdf).pages]


def _embedded_fonts(pdf: bytes) -> dict[str, str]:
    """BaseFont name -> PostScript name (name ID 6) of the embedded font program."""
    fonts = {}
    for page in _reader(pdf).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
            fonts[str(font["/BaseFont"])] = program["name"].getDebugName(6)
    return fonts


def test_the_network_guard_catches_an_ordinary_fetch(network_attempts):
    from weasyprint.urls import URLFetcher

    with pytest.raises(AssertionError, match="network access"):
        URLFetcher()("http://example.com/a.png")
    assert network_attempts
    network_attempts.clear()


def test_renders_a_pdf_with_swedish_text_intact():
    pdf = html_to_pdf(f"<html lang='sv'><body><h1>{SWEDISH}</h1><p>Fältet är tomt.</p></body></html>")
    assert pdf.startswith(b"%PDF")
    text = _texts(pdf)[0]
    assert SWEDISH in text
    assert "Fältet är tomt." in text


def test_fonts_are_the_shipped_dejavu_even_without_any_machine_fonts(tmp_path):
    # A Fontconfig setup with no font folders at all: only the shipped fonts exist. Rendered in
    # a child process: should the shipped fonts ever fail to load, Pango with no fonts at all
    # crashes the process instead of failing the test.
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd"><fontconfig></fontconfig>'
    )
    html = (
        f"<h1>{SWEDISH}</h1><p>vanlig <i>kursiv</i> <b>fet <i>fet kursiv</i></b>"
        " <span style='font-family: serif'>serif</span></p>"
    )
    script = (
        "import sys, django; django.setup()\n"
        "from problembild.core.pdf import html_to_pdf\n"
        "sys.stdout.buffer.write(html_to_pdf(sys.stdin.buffer.read().decode()))\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "DJANGO_SETTINGS_MODULE": "problembild.settings.test"}
    child = subprocess.run(
        [sys.executable, "-c", script], input=html.encode(), capture_output=True, env=env, timeout=120
    )
    assert child.returncode == 0, child.stderr.decode()
    pdf = child.stdout
    assert SWEDISH in _texts(pdf)[0]
    fonts = _embedded_fonts(pdf)
    # WeasyPrint names the fonts after the @font-face family; the programs are DejaVu Sans,
    # also for the serif text: there is no other font to fall back to.
    assert all("Problembild-Sans" in base for base in fonts), fonts
    assert set(fonts.values()) == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSans-Oblique",
        "DejaVuSans-BoldOblique",
    }


def test_fonts_are_embedded_as_dejavu_on_this_machine_too():
    fonts = _embedded_fonts(html_to_pdf(f"<p>{SWEDISH}</p>"))
    assert fonts
    assert all("DejaVu" in name for name in fonts.values()), fonts


def test_remote_stylesheet_and_image_are_refused_without_network(pdf_log, network_attempts):
    html = (
        "<html><head><link rel='stylesheet' href='https://cdn.example.com/x.css'></head>"
        f"<body><h1>{SWEDISH}</h1><img src='http://example.com/a.png' alt=''></body></html>"
    )
    pdf = html_to_pdf(html)
    assert SWEDISH in _texts(pdf)[0]
    refused = [
        r.getMessage()
        for r in pdf_log.records
        if r.name == "problembild.core.pdf" and r.levelno == logging.WARNING
    ]
    assert any("refused to fetch https://cdn.example.com/x.css" in m for m in refused), refused
    assert any("refused to fetch http://example.com/a.png" in m for m in refused), refused
    assert network_attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/x.css",
        "http://example.com/a.png",
        "https://cdn.example.com/static/core/pdf.css",  # another host's /static/ is not ours
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        (FONTS_DIR / ".." / "pdf.css").as_uri(),  # file:// only inside the font folder
        "https://problembild.invalid/static/../settings/base.py",
        "https://problembild.invalid/static/%2e%2e/%2e%2e/settings/base.py",
        "https://problembild.invalid/admin/",
    ],
)
def test_the_fetcher_refuses_everything_but_static_files_fonts_and_data(url):
    with pytest.raises(RefusedURL, match="refused to fetch"):
        resolve_url(url)


def test_the_fetcher_serves_static_files_fonts_and_data():
    pdf_css = resolve_url("https://problembild.invalid/static/core/pdf.css")
    assert pdf_css is not None
    assert str(pdf_css) == finders.find("core/pdf.css")
    font = resolve_url((FONTS_DIR / "DejaVuSans.ttf").as_uri())
    assert font == FONTS_DIR / "DejaVuSans.ttf"
    assert resolve_url("data:text/css,p%7Bcolor:red%7D") is None  # read from the URL itself
    assert resolve_url(
        "http://intranet.example/static/core/pdf.css", own_hosts=frozenset({"intranet.example"})
    )


def test_static_pdf_css_is_read_from_the_project(pdf_log):
    html = f"<html><head><link rel='stylesheet' href='/static/core/pdf.css'></head><body><p>{SWEDISH}</p></body></html>"
    pdf = html_to_pdf(html)
    served = [r.getMessage() for r in pdf_log.records if r.name == "problembild.core.pdf"]
    assert (
        f"PDF: served https://problembild.invalid/static/core/pdf.css from {finders.find('core/pdf.css')}"
        in served
    )
    # The base stylesheet's A4 page (595 x 842 points).
    box = _reader(pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_a_missing_stylesheet_is_an_error_not_a_silent_gap():
    from weasyprint.urls import URLFetchingError

    with pytest.raises(URLFetchingError, match=r"core/missing\.css"):
        html_to_pdf("<p>x</p>", stylesheets=["core/missing.css"])


def test_two_pages_are_numbered_and_carry_the_title_in_the_header():
    html = f"<h1>{SWEDISH}</h1><p>Första sidan.</p><p style='break-before: page'>Andra sidan.</p>"
    first, second = _texts(html_to_pdf(html))
    assert "sida 1 av 2" in first
    assert "sida 2 av 2" in second
    assert SWEDISH in second  # the h1, through string-set, in the header of page 2


def test_table_header_row_repeats_on_every_page():
    rows = "".join(f"<tr><td>Område {i}</td><td>{i * 7}</td></tr>" for i in range(120))
    html = f"<h1>Tabell</h1><table><thead><tr><th>Rubrikrad</th><th>Antal</th></tr></thead><tbody>{rows}</tbody></table>"
    texts = _texts(html_to_pdf(html))
    assert len(texts) >= 2
    assert all("Rubrikrad" in text for text in texts)


def test_pdf_response_is_a_download_with_a_slugified_name(rf, pdf_log):
    request = rf.get("/omraden/rinkeby/utskrift/")
    html = f"<html><head><link rel='stylesheet' href='/static/core/pdf.css'></head><body><h1>{SWEDISH}</h1></body></html>"
    response = pdf_response(request, html, "Åtgärder Rinkeby/Tensta 2025.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="atgarder-rinkebytensta-2025.pdf"'
    assert response.content.startswith(b"%PDF")
    served = [r.getMessage() for r in pdf_log.records if r.name == "problembild.core.pdf"]
    # The page's own host (testserver) counts as the project's: its /static/ is read from disk.
    assert any(m.startswith("PDF: served http://testserver/static/core/pdf.css from ") for m in served), (
        served
    )
