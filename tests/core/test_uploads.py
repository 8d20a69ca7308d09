"""Evidence uploads (core/uploads.py): allowed by content, stored outside the web root, served
only as downloads."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from problembild.core.uploads import (
    ALLOWED,
    HEAD_BYTES,
    UploadRefused,
    delete,
    detect,
    download_response,
    evidence_root,
    path_of,
    store,
)

# --- tiny real files -------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
MACRO_TYPES = (
    b'<Types><Override ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # (OpenDocument's mimetype is stored uncompressed, as the standard asks)
            archive.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ooxml(main: str, extra: dict[str, bytes] | None = None, content_types: bytes = CONTENT_TYPES) -> bytes:
    members = {"[Content_Types].xml": content_types, "_rels/.rels": b"<Relationships/>", main: b"<x/>"}
    return zipped(members | (extra or {}))


def xlsx() -> bytes:
    """A real workbook, written by openpyxl."""
    book = Workbook()
    book.active["A1"] = "Åtgärd"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def odf(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}".encode()
    members = {"mimetype": mimetype, "content.xml": b"<x/>", "META-INF/manifest.xml": b"<manifest/>"}
    return zipped(members | (extra or {}))


DOCX = ooxml("word/document.xml")
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"\n  <!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + bytes(48)
    + b"This program cannot be run in DOS mode."
)


@pytest.fixture
def data_dir(settings, tmp_path):
    """DATA_DIR in a temporary folder, laid out as in production (static and media inside)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.STATIC_ROOT = tmp_path / "data" / "static"
    settings.MEDIA_ROOT = tmp_path / "data" / "uploads"
    return settings.DATA_DIR


def refusal(content: bytes, name: str) -> str:
    with pytest.raises(UploadRefused) as caught:
        detect(content, name)
    return str(caught.value)


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        ("protokoll.pdf", PDF, "pdf"),
        ("bild.png", png(), "png"),
        ("foto.jpg", JPEG, "jpg"),
        ("FOTO.JPEG", JPEG, "jpg"),
        ("rapport.docx", DOCX, "docx"),
        ("tabell.xlsx", xlsx(), "xlsx"),
        ("bilder.pptx", ooxml("ppt/presentation.xml"), "pptx"),
        ("text.odt", odf("text"), "odt"),
        ("kalkyl.ods", odf("spreadsheet"), "ods"),
        ("anteckning.txt", "Åtgärd: möte med fastighetsägare\n".encode(), "txt"),
        ("med-bom.txt", b"\xef\xbb\xbfHej\r\n", "txt"),
        ("lista.csv", "område;antal\nRinkeby;3\n".encode(), "csv"),
    ],
)
def test_each_allowed_type_is_accepted(name, content, extension):
    kind = detect(content, name)
    assert kind is ALLOWED[extension]
    assert name.rpartition(".")[2].lower() in kind.extensions


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("report.pdf", HTML, "report.pdf is not a PDF: its content is an HTML page"),
        ("report.pdf", EXE, "report.pdf is not a PDF: its content is a Windows program"),
        ("logo.png", SVG, "logo.png is not a PNG image: its content is an SVG image"),
        ("x.exe", PDF, "x.exe: the content is a PDF but the name ends .exe; a PDF's name must end .pdf"),
        ("x.exe", EXE, "x.exe: its content is a Windows program (EXE or DLL), which is not allowed"),
        ("report.pdf", b"\x7fELF\x02\x01\x01" + bytes(9), "its content is a Linux program"),
        ("report.pdf", b"  %PDF-1.4\n", "report.pdf is not a PDF: its content is a text file"),
        (
            "scan.jpg",
            png(),
            "scan.jpg is not a JPEG image: its content is a PNG image. Rename it to end .png",
        ),
        ("report.docx", xlsx(), "report.docx is not a Word document: its content is an Excel workbook"),
        ("report", PDF, "report: the name has no extension; the content is a PDF, so the name must end .pdf"),
        ("report.", PDF, "the name has no extension"),
        (".pdf", PDF, "the name has no extension"),
        ("page.html", HTML, "page.html: its content is an HTML page, which is not allowed"),
        ("notes.txt", HTML, "notes.txt: its content is an HTML page, which is not allowed"),
        ("notes.txt", b"Hello <script>alert(1)</script>", "text with HTML, SVG or XML markup"),
        ("notes.txt", b"Hi <SVG onload=alert(1)>", "text with HTML, SVG or XML markup"),
        (
            "data.csv",
            b'<?xml version="1.0"?><a/>',
            "data.csv: its content is an XML document, which is not allowed",
        ),
        ("notes.txt", b"<3 everyone", "HTML or XML markup"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "its content is a script"),
        ("notes.txt", b"abc\x00def", "binary data (it contains NUL bytes)"),
        ("notes.txt", "Åtgärd".encode("cp1252"), "not UTF-8, which is not allowed. Save it as UTF-8 text"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8), "old-format or encrypted Office file"),
        ("bild.png", b"GIF89a\x01\x00", "its content is a GIF image. Save it as PNG or JPEG"),
        ("x.docx", zipped({"a.txt": b"a", "b.bin": b"\x00"}), "a ZIP archive that is not a Word"),
        ("x.zip", zipped({"a.txt": b"a"}), "x.zip: its content is a ZIP archive that is not a Word"),
        (
            "x.docm",
            ooxml("word/document.xml", {"word/vbaProject.bin": b"\xd0\xcf"}, MACRO_TYPES),
            "x.docm: its content is a Word document with macros",
        ),
        ("x.docx", ooxml("word/document.xml", {"word/vbaProject.bin": b"\xd0\xcf"}), "with macros"),
        ("x.docx", ooxml("word/document.xml", content_types=MACRO_TYPES), "with macros"),
        ("x.xlsx", ooxml("xl/workbook.xml", {"xl/macrosheets/sheet1.xml": b"<x/>"}), "with macros"),
        (
            "x.docx",
            ooxml("word/document.xml", {"word/activeX/activeX1.xml": b"<x/>"}),
            "with macros or controls",
        ),
        ("x.odt", odf("text", {"Basic/Standard/Module1.xml": b"<x/>"}), "OpenDocument text with macros"),
        ("x.odp", odf("presentation"), "an OpenDocument file of another kind"),
        ("x.docx", DOCX[:200], "a damaged or unreadable ZIP archive"),
    ],
)
def test_forbidden_and_disguised_files_are_refused_saying_why(name, content, said):
    message = refusal(content, name)
    assert said in message
    # The message names the file as uploaded
    assert message.startswith(name.rpartition("/")[2])


def test_a_refusal_lists_what_is_allowed():
    message = refusal(EXE, "report.pdf")
    assert "Allowed types: .pdf, .png, .jpg/.jpeg, .docx, .xlsx, .pptx, .odt, .ods, .txt, .csv." in message


def test_the_name_in_a_message_has_no_path_or_control_characters():
    message = refusal(EXE, "C:\\Users\\x\\re\x1bport.pdf")
    assert message.startswith("report.pdf is not a PDF")


def test_markup_is_looked_for_only_in_the_head_of_a_text():
    assert detect(b"a" * HEAD_BYTES + b"<script>", "long.txt") is ALLOWED["txt"]


def test_text_cut_inside_a_character_at_the_end_of_the_head_is_text():
    content = b"a" * (HEAD_BYTES - 1) + "å".encode()
    assert detect(content, "x.txt") is ALLOWED["txt"]


@given(
    st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=300).map(lambda b: b"%PDF-" + b),
        st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
    )
)
def test_random_bytes_named_pdf_are_a_pdf_only_when_they_start_like_one(content):
    if content.startswith(b"%PDF-"):
        assert detect(content, "x.pdf") is ALLOWED["pdf"]
    else:
        with pytest.raises(UploadRefused, match=r"^x\.pdf"):
            detect(content, "x.pdf")


SIGNATURES = [b"", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"PK\x03\x04", b"MZ", b"<svg", b"Hej "]
EXTENSIONS = ["pdf", "png", "jpg", "JPEG", "docx", "txt", "csv", "exe", "html", "svg", "js", ""]


@given(
    st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=200)).map(b"".join),
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
    st.sampled_from(EXTENSIONS),
)
def test_a_file_is_accepted_only_under_an_extension_of_its_type(content, stem, extension):
    name = f"{stem}.{extension}" if extension else stem
    try:
        kind = detect(content, name)
    except UploadRefused as refused:
        assert str(refused).startswith(name)
        return
    assert extension.lower() in kind.extensions


# --- storing ---------------------------------------------------------------------------------


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_stored_file_lies_outside_the_web_root_named_only_by_its_key(data_dir, settings):
    stored = store(SimpleUploadedFile("../../etc/Mitt protokoll.pdf", PDF, content_type="text/html"))
    path = path_of(stored.key)
    assert path == data_dir / "evidence" / stored.key[:2] / stored.key
    assert path.read_bytes() == PDF
    assert not path.is_relative_to(settings.STATIC_ROOT) and not path.is_relative_to(settings.MEDIA_ROOT)
    assert path.suffix == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(evidence_root().stat().st_mode) == 0o700
    assert stored.original_name == "Mitt_protokoll.pdf"
    # The type is the one found in the content, not the one the browser sent
    assert (stored.content_type, stored.extension) == ("application/pdf", "pdf")
    assert stored.size == len(PDF) and stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert len(stored.key) == 32 and stored_files(data_dir) == [path]


def test_a_large_office_file_is_stored_after_its_zip_is_checked(data_dir):
    # Incompressible content makes the file larger than the head that is checked first.
    content = ooxml("word/document.xml", {"word/media/image1.bin": os.urandom(3 * HEAD_BYTES)})
    assert len(content) > 2 * HEAD_BYTES
    upload = SimpleUploadedFile("Rapport.DOCX", content)
    stored = store(upload)
    assert stored.extension == "docx" and stored.original_name == "Rapport.DOCX"
    assert path_of(stored.key).read_bytes() == content


def test_a_refused_zip_leaves_nothing_on_disk(data_dir):
    with pytest.raises(UploadRefused, match="with macros"):
        store(SimpleUploadedFile("x.docx", ooxml("word/document.xml", {"word/vbaProject.bin": b"x" * 100})))
    assert stored_files(data_dir) == []
    assert list((data_dir / "evidence").iterdir()) == []


def test_a_disguised_file_is_refused_before_anything_is_written(data_dir):
    with pytest.raises(UploadRefused, match="is not a PDF"):
        store(SimpleUploadedFile("report.pdf", HTML))
    assert not (data_dir / "evidence").exists()


def test_an_empty_file_is_refused(data_dir):
    with pytest.raises(UploadRefused, match=r"^empty\.pdf is empty\.$"):
        store(SimpleUploadedFile("empty.pdf", b""))


def test_a_file_larger_than_allowed_is_refused(data_dir, settings):
    settings.MAX_UPLOAD_MB = 1
    with pytest.raises(UploadRefused, match=r"big\.pdf is too large \(1\.0 MB\); at most 1\.0 MB"):
        store(SimpleUploadedFile("big.pdf", PDF + bytes(1024 * 1024 - len(PDF) + 1)))
    with pytest.raises(UploadRefused, match="too large"):
        store(SimpleUploadedFile("small.pdf", PDF), max_bytes=10)
    assert stored_files(data_dir) == []


class LyingUpload:
    """An upload whose declared size is smaller than what it sends."""

    name = "lies.pdf"
    size = 10

    def __init__(self, chunks: list[bytes]):
        self._chunks = chunks

    def chunks(self):
        yield from self._chunks


def test_the_size_is_checked_again_while_the_file_arrives(data_dir):
    chunks = [PDF] + [bytes(HEAD_BYTES)] * 4
    with pytest.raises(UploadRefused, match="too large"):
        store(LyingUpload(chunks), max_bytes=2 * HEAD_BYTES)
    assert stored_files(data_dir) == []
    assert store(LyingUpload(chunks), max_bytes=5 * HEAD_BYTES).size == len(PDF) + 4 * HEAD_BYTES


def test_a_text_file_is_checked_over_its_whole_length(data_dir):
    head = b"ok;1\n" * (2 * HEAD_BYTES // 5)
    with pytest.raises(UploadRefused, match="contains NUL bytes"):
        store(SimpleUploadedFile("lista.csv", head + b"\x00"))
    with pytest.raises(UploadRefused, match="not UTF-8"):
        store(SimpleUploadedFile("lista.csv", head + b"\xff"))
    with pytest.raises(UploadRefused, match="not UTF-8"):
        store(SimpleUploadedFile("lista.csv", head + b"\xc3"))  # ends inside a character
    assert stored_files(data_dir) == []
    assert store(SimpleUploadedFile("lista.csv", head + "å\n".encode())).content_type == "text/csv"


@pytest.mark.parametrize("setting", ["STATIC_ROOT", "MEDIA_ROOT"])
def test_evidence_is_never_stored_in_a_published_folder(data_dir, settings, setting):
    setattr(settings, setting, data_dir)
    with pytest.raises(ImproperlyConfigured, match=setting):
        evidence_root()
    with pytest.raises(ImproperlyConfigured):
        store(SimpleUploadedFile("x.pdf", PDF))
    with pytest.raises(ImproperlyConfigured):
        store(SimpleUploadedFile("x.pdf", PDF), root=data_dir / "static" / "evidence")


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "abc", "", "A" * 32, "g" * 32, "0" * 32 + "\n", "0" * 31 + "/", "0" * 33]
)
def test_a_key_that_is_not_32_hex_digits_is_refused(data_dir, key):
    with pytest.raises(ValueError, match="not an evidence file key"):
        path_of(key)
    with pytest.raises(Http404):
        download_response(key, "x.pdf", "application/pdf")
    with pytest.raises(ValueError):
        delete(key)


def test_delete_removes_the_file_and_its_empty_folder(data_dir):
    stored = store(SimpleUploadedFile("x.pdf", PDF))
    delete(stored.key)
    assert not path_of(stored.key).parent.exists()
    delete(stored.key)  # gone already: nothing to do


# --- serving ---------------------------------------------------------------------------------


def body(response) -> bytes:
    """The streamed content, the file closed (closing the response would signal request_finished,
    which touches the database connection a previous test in the process left open)."""
    try:
        return b"".join(response.streaming_content)
    finally:
        response.file_to_stream.close()


def test_a_file_is_served_only_as_a_download(data_dir):
    stored = store(SimpleUploadedFile("protokoll.pdf", PDF))
    response = download_response(stored.key, stored.original_name, stored.content_type)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="protokoll.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    assert body(response) == PDF


def test_text_is_served_as_utf8_plain_text_under_its_swedish_name(data_dir):
    content = "Åtgärd\n".encode()
    stored = store(SimpleUploadedFile("Åtgärder maj.txt", content))
    response = download_response(stored.key, stored.original_name, stored.content_type)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%85tg%C3%A4rder_maj.txt"
    assert body(response) == content


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("x.html", "text/html"),  # not in the allow-list
        ("x.svg", "image/svg+xml"),
        ("x.html", "application/pdf"),  # allowed type, name of another
        ('x.pdf"; filename=evil.html', "text/html; charset=utf-8"),
    ],
)
def test_a_record_altered_to_a_dangerous_type_is_served_as_opaque_bytes(data_dir, name, content_type):
    stored = store(SimpleUploadedFile("x.pdf", PDF))
    response = download_response(stored.key, name, content_type)
    assert response["Content-Type"] == "application/octet-stream"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.bin"')
    assert '"' not in disposition.removeprefix('attachment; filename="').removesuffix('"')
    assert response["X-Content-Type-Options"] == "nosniff"
    body(response)


def test_a_missing_file_is_not_found(data_dir):
    with pytest.raises(Http404):
        download_response("0" * 32, "x.pdf", "application/pdf")
