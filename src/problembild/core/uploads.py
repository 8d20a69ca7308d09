"""Uploaded evidence documents: checked by content, stored outside the web root, served
only as downloads.

An audit measure may carry evidence files (minutes, photos, spreadsheets). An upload is a
file from anyone with write access, so it is treated as hostile until checked:

* **Type by content, never by name.** :func:`detect` reads the file's first bytes (and,
  for the ZIP-based Office and OpenDocument formats, the ZIP's table of contents) and
  knows only the document types in :data:`ALLOWED`. The name must then end with one of
  the detected type's extensions: an HTML page, a program or an SVG image named
  ``report.pdf`` is refused, and so is a real PDF named ``x.exe`` (it would be saved and
  opened as a program). Programs, web pages, SVG (it can carry scripts), Office files
  with macros and unknown binary data are refused, each with a message that names the
  file, says what it is and what is allowed (the upload page shows it).
* **Size.** At most ``max_bytes`` (default ``settings.MAX_UPLOAD_MB``), checked against
  the size the client declared and again while the bytes arrive (the declaration may
  lie). Empty files are refused.
* **Stored outside the web root.** Files live in :func:`evidence_root`
  (``DATA_DIR/evidence``, mode 0700), which must not lie under ``STATIC_ROOT``,
  ``MEDIA_ROOT`` or a static files folder. A file's path is made only from a random key
  (``root/ab/abcdef…``, no extension, mode 0600): the uploader's name never reaches the
  file system, it is kept only for the download's ``Content-Disposition``.
* **Served only as a download** (:func:`download_response`): ``attachment``, a content
  type from the allow-list (``application/octet-stream`` otherwise), ``nosniff``, and a
  ``Content-Security-Policy`` of ``default-src 'none'; sandbox`` so that even a browser
  that displayed the file could run nothing in it.

ZIP-based types need the whole file (the ZIP's table of contents is at its end), so
:func:`store` first checks the first bytes and the name (refusing most bad files before
writing anything), then streams the file to a temporary file next to its final place
while hashing and counting it, checks the ZIP contents there, and only then renames it
into place. A refused file leaves nothing behind. Text files (txt, csv) are checked to
be UTF-8 without NUL bytes over their whole length, and not to look like HTML, SVG, XML
or a script in their first 64 KB.

The callers (the audit app's models and views) keep the :class:`StoredFile` fields in
their own records; this module has no model.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import itertools
import os
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.http import FileResponse, Http404
from django.utils.text import get_valid_filename

__all__ = [
    "ALLOWED",
    "HEAD_BYTES",
    "DocumentType",
    "StoredFile",
    "UploadRefused",
    "delete",
    "detect",
    "download_response",
    "evidence_root",
    "path_of",
    "store",
]

#: How many leading bytes :func:`detect` looks at (signatures, text and markup checks).
HEAD_BYTES = 64 * 1024

#: The longest display name kept (file systems allow 255 bytes; leave room for a suffix).
MAX_NAME_CHARS = 150

#: The most of ``[Content_Types].xml`` or of an OpenDocument ``mimetype`` member read: both
#: are small, and a cap keeps a ZIP bomb from inflating them into memory.
_MAX_MEMBER_READ = 1 << 20

OCTET_STREAM = "application/octet-stream"
_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class DocumentType:
    """One allowed kind of document: its canonical extension, content type and name."""

    extension: str
    content_type: str
    label: str
    extensions: tuple[str, ...]


PDF = DocumentType("pdf", "application/pdf", "PDF", ("pdf",))
PNG = DocumentType("png", "image/png", "PNG image", ("png",))
JPEG = DocumentType("jpg", "image/jpeg", "JPEG image", ("jpg", "jpeg"))
DOCX = DocumentType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
    ("docx",),
)
XLSX = DocumentType(
    "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook", ("xlsx",)
)
PPTX = DocumentType(
    "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "PowerPoint presentation",
    ("pptx",),
)
ODT = DocumentType("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text", ("odt",))
ODS = DocumentType(
    "ods", "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet", ("ods",)
)
TXT = DocumentType("txt", "text/plain", "text file", ("txt",))
CSV = DocumentType("csv", "text/csv", "CSV file", ("csv",))

#: Every document type accepted, by canonical extension.
ALLOWED: dict[str, DocumentType] = {
    t.extension: t for t in (PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, TXT, CSV)
}

_BY_EXTENSION = {ext: t for t in ALLOWED.values() for ext in t.extensions}
_BY_CONTENT_TYPE = {t.content_type: t for t in ALLOWED.values()}

# The main part that makes an Office Open XML package a document, workbook or presentation.
_OOXML_MAIN = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF_MIMETYPES = {ODT.content_type: ODT, ODS.content_type: ODS}

# Leading bytes of things that are refused, to say what a refused file is (and, where it
# helps, how to make it acceptable).
_OFFICE_ADVICE = "Save it as DOCX, XLSX, PPTX or PDF."
_IMAGE_ADVICE = "Save it as PNG or JPEG."
_NOT_UTF8 = "binary data or text that is not UTF-8"
_UTF8_ADVICE = "Save it as UTF-8 text (in Excel: “CSV UTF-8”)."
_FORBIDDEN_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", "a Windows program (EXE or DLL)", ""),
    (b"\x7fELF", "a Linux program (ELF)", ""),
    (b"\xfe\xed\xfa\xce", "a macOS program", ""),
    (b"\xfe\xed\xfa\xcf", "a macOS program", ""),
    (b"\xce\xfa\xed\xfe", "a macOS program", ""),
    (b"\xcf\xfa\xed\xfe", "a macOS program", ""),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program", ""),
    (b"#!", "a script", ""),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old-format or encrypted Office file (DOC, XLS, PPT)",
        _OFFICE_ADVICE,
    ),
    (b"{\\rtf", "an RTF document", _OFFICE_ADVICE),
    (b"GIF87a", "a GIF image", _IMAGE_ADVICE),
    (b"GIF89a", "a GIF image", _IMAGE_ADVICE),
    (b"II*\x00", "a TIFF image", _IMAGE_ADVICE),
    (b"MM\x00*", "a TIFF image", _IMAGE_ADVICE),
    (b"PK\x05\x06", "an empty ZIP archive", ""),
    (b"Rar!", "a RAR archive", ""),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", ""),
    (b"\x1f\x8b", "a gzip archive", ""),
)

# Text that a browser (or an XML viewer) would treat as a page, an image or a script.
_MARKUP = (b"<script", b"<html", b"<svg", b"<?xml", b"<!doctype", b"<iframe", b"<object", b"<embed")


class UploadRefused(ValueError):
    """An upload that is not accepted. The message names the file and says why."""

    def __init__(self, message: str, *, name: str = ""):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class StoredFile:
    """What a caller records about a stored file. Only ``key`` is ever used in a path."""

    key: str
    original_name: str
    content_type: str
    extension: str
    size: int
    sha256: str


class Upload(Protocol):
    """What :func:`store` needs of an upload (Django's ``UploadedFile`` has it)."""

    name: str | None
    size: int | None

    def chunks(self) -> Iterable[bytes]: ...


# --- names and messages ----------------------------------------------------------------


def _a(label: str) -> str:
    """``label`` with its indefinite article (every label here starts with a letter that
    is spoken as it is written)."""
    return f"an {label}" if label[:1].lower() in "aeiou" else f"a {label}"


def _allowed_text() -> str:
    return (
        "Allowed types: " + ", ".join("/".join(f".{e}" for e in t.extensions) for t in ALLOWED.values()) + "."
    )


def _shown(name: str) -> str:
    """The uploader's name as the message shows it: without path or control characters."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return (base[:MAX_NAME_CHARS] + "…") if len(base) > MAX_NAME_CHARS else base or "the file"


def _safe_name(name: str) -> str:
    """The name the file is downloaded under: no path, only letters, digits, ``-_.``, no
    leading dot (no hidden files), at most :data:`MAX_NAME_CHARS` characters with the
    extension kept. "" when nothing usable is left."""
    base = re.split(r"[\\/]", str(name))[-1]
    try:
        safe = get_valid_filename(base).lstrip(".")
    except SuspiciousFileOperation:
        return ""
    if len(safe) > MAX_NAME_CHARS:
        stem, dot, ext = safe.rpartition(".")
        ext = ext[:20] if dot else ""
        safe = (stem if dot else safe)[: MAX_NAME_CHARS - len(ext) - 1] + (f".{ext}" if ext else "")
    return safe


def _extension(safe_name: str) -> str:
    """The lower-cased extension of a name made by :func:`_safe_name` ("" when none)."""
    stem, dot, ext = safe_name.rpartition(".")
    return ext.lower() if dot and stem else ""


def human_size(n: int) -> str:
    """``n`` bytes for people: 512 bytes, 3.4 KB, 2.8 MB, 1.2 GB."""
    if n < 1024:
        return f"{n} bytes"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# --- detection ---------------------------------------------------------------------------


class _NotAllowed(Exception):
    """Content that is not allowed: ``what`` it is (with its article) and ``advice``."""

    def __init__(self, what: str, advice: str = ""):
        super().__init__(what)
        self.what = what
        self.advice = advice


class _Zip:
    """What :func:`_sniff` returns for a ZIP: the type needs its table of contents."""


_ZIP = _Zip()


def _markup(head: bytes) -> str | None:
    """What kind of markup ``head`` is or holds, or None when it holds none."""
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return "an SVG image"
        if text.startswith(b"<?xml"):
            return "an XML document"
        if any(m in text for m in (b"<html", b"<!doctype html", b"<script", b"<body", b"<head")):
            return "an HTML page"
        return "HTML or XML markup"
    found = [m.decode() for m in _MARKUP if m in text]
    if found:
        return f"text with HTML, SVG or XML markup in it ({found[0]}…)"
    return None


def _text_problem(data: bytes, *, final: bool) -> str | None:
    """Why ``data`` is not UTF-8 text (None when it is). ``final=False`` allows ``data`` to
    end inside a character (it is only the head of the file)."""
    if b"\x00" in data:
        return "binary data (it contains NUL bytes)"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError:
        return _NOT_UTF8
    return None


def _sniff(head: bytes) -> DocumentType | _Zip:
    """The type the first bytes show; :data:`_ZIP` when the ZIP's contents decide.

    Raises _NotAllowed (callers name the file) for anything not allowed.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _ZIP
    for signature, what, advice in _FORBIDDEN_SIGNATURES:
        if head.startswith(signature):
            raise _NotAllowed(what, advice)
    if markup := _markup(head):
        raise _NotAllowed(markup)
    if problem := _text_problem(head, final=len(head) < HEAD_BYTES):
        raise _NotAllowed(problem)
    return TXT


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        return member.read(_MAX_MEMBER_READ)


def _zip_type(whole: str | os.PathLike | IO[bytes]) -> DocumentType:
    """The type of a ZIP from its table of contents: Office Open XML or OpenDocument
    without macros, or _NotAllowed saying what it is."""
    try:
        with zipfile.ZipFile(whole) as archive:
            infos = archive.infolist()
            names = {i.filename.lower() for i in infos}
            if infos and infos[0].filename == "mimetype":
                # OpenDocument: the first member names the type (and is tiny).
                mimetype = _read_member(archive, infos[0]).decode("ascii", "replace").strip()
                kind = _ODF_MIMETYPES.get(mimetype)
                if kind is None:
                    raise _NotAllowed(f"an OpenDocument file of another kind ({mimetype[:80]})")
                if any(n.startswith(("basic/", "scripts/")) for n in names):
                    raise _NotAllowed(
                        f"{_a(kind.label)} with macros or scripts in it",
                        f"Save it without macros (as .{kind.extension}).",
                    )
                return kind
            content_types = next((i for i in infos if i.filename.lower() == "[content_types].xml"), None)
            mains = [t for part, t in _OOXML_MAIN.items() if part in names]
            if content_types is None or len(mains) != 1:
                raise _NotAllowed("a ZIP archive that is not a Word, Excel, PowerPoint or OpenDocument file")
            kind = mains[0]
            # Macros (VBA projects, Excel 4 macro sheets) and ActiveX controls run code when
            # the file is opened; the macro-enabled formats (docm, xlsm, pptm) say so in
            # their content types.
            macros = any(
                n.endswith(("vbaproject.bin", "vbadata.xml"))
                or "/macrosheets/" in f"/{n}"
                or "/activex/" in f"/{n}"
                for n in names
            )
            if macros or b"macroenabled" in _read_member(archive, content_types).lower():
                raise _NotAllowed(
                    f"{_a(kind.label)} with macros or controls in it (like .docm or .xlsm)",
                    f"Save it without macros (as .{kind.extension}).",
                )
            return kind
    except _NotAllowed:
        raise
    except (zipfile.BadZipFile, zlib.error, RuntimeError, EOFError, OSError, NotImplementedError, ValueError):
        # A ZIP cut short, damaged, encrypted or compressed with a method Python lacks.
        raise _NotAllowed("a damaged or unreadable ZIP archive") from None


def _refuse(name: str, ext: str, what: str, advice: str = "") -> UploadRefused:
    """The refusal of a file ``name`` whose content is ``what`` (a phrase with its article)."""
    shown = _shown(name)
    claimed = _BY_EXTENSION.get(ext)
    advice = advice or _allowed_text()
    # ("x.txt is not a text file: its content is text with markup" would read oddly)
    if claimed is not None and claimed not in (TXT, CSV):
        return UploadRefused(
            f"{shown} is not {_a(claimed.label)}: its content is {what}. {advice}", name=shown
        )
    return UploadRefused(f"{shown}: its content is {what}, which is not allowed. {advice}", name=shown)


def detect(head: bytes, name: str, *, whole: str | os.PathLike | IO[bytes] | None = None) -> DocumentType:
    """The allowed type of a file whose first bytes are ``head`` and whose name is ``name``.

    ``head`` should be at least the first :data:`HEAD_BYTES` bytes (or the whole file when
    it is shorter). ZIP-based types (docx, xlsx, pptx, odt, ods) are told by the ZIP's table
    of contents, at the end of the file: pass the complete file as ``whole`` (a path or a
    seekable binary file); without it ``head`` is taken to be the whole file, and a ZIP cut
    short is refused as damaged. Raises :class:`UploadRefused` when the content is not an
    allowed type or the name does not end with one of its extensions.
    """
    safe = _safe_name(name)
    ext = _extension(safe)
    if not head:
        raise UploadRefused(f"{_shown(name)} is empty.", name=_shown(name))
    try:
        kind = _sniff(head[:HEAD_BYTES])
        if isinstance(kind, _Zip):
            kind = _zip_type(whole if whole is not None else io.BytesIO(head))
    except _NotAllowed as refused:
        advice = _UTF8_ADVICE if refused.what == _NOT_UTF8 and ext in TXT.extensions + CSV.extensions else ""
        raise _refuse(name, ext, refused.what, refused.advice or advice) from None
    if kind is TXT and ext == "csv":
        kind = CSV
    if ext in kind.extensions:
        return kind
    shown = _shown(name)
    # (text may be named either way: which one is the uploader's to say)
    endings = " or ".join(f".{e}" for e in (kind.extensions if kind is not TXT else ("txt", "csv")))
    if not ext:
        raise UploadRefused(
            f"{shown}: the name has no extension; the content is {_a(kind.label)}, so the name must end {endings}.",
            name=shown,
        )
    if ext in _BY_EXTENSION:
        raise _refuse(name, ext, _a(kind.label), f"Rename it to end {endings}.")
    raise UploadRefused(
        f"{shown}: the content is {_a(kind.label)} but the name ends .{ext}; "
        f"{_a(kind.label)}'s name must end {endings}.",
        name=shown,
    )


# --- storage -----------------------------------------------------------------------------


def _check_outside_web_root(root: Path) -> None:
    """Refuse a storage folder that a web server or collectstatic would publish."""
    published = [
        ("STATIC_ROOT", getattr(settings, "STATIC_ROOT", None)),
        ("MEDIA_ROOT", getattr(settings, "MEDIA_ROOT", None)),
    ]
    for entry in getattr(settings, "STATICFILES_DIRS", ()) or ():
        published.append(("STATICFILES_DIRS", entry[1] if isinstance(entry, (tuple, list)) else entry))
    resolved = root.resolve()
    for setting, folder in published:
        if folder and resolved.is_relative_to(Path(folder).resolve()):
            raise ImproperlyConfigured(
                f"Evidence files would be stored in {resolved}, inside {setting} ({folder}), "
                "where they could be published; set DATA_DIR so that they are not."
            )


def evidence_root() -> Path:
    """``DATA_DIR/evidence``, created with mode 0700; never inside a published folder."""
    root = Path(settings.DATA_DIR) / "evidence"
    _check_outside_web_root(root)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def path_of(key: str, root: Path | None = None) -> Path:
    """Where the file with ``key`` lives (``root/ab/ab…``). Refuses anything but 32 hex
    digits, so a key from a record or a URL can never point elsewhere."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise UploadRefused(f"{str(key)[:80]!r} is not an evidence file key (32 hexadecimal digits).")
    root = evidence_root() if root is None else Path(root)
    return root / key[:2] / key


def _too_large(name: str, size: int, limit: int) -> UploadRefused:
    shown = _shown(name)
    return UploadRefused(
        f"{shown} is too large ({human_size(size)}); at most {human_size(limit)} is allowed.", name=shown
    )


def store(upload: Upload, *, max_bytes: int | None = None, root: Path | None = None) -> StoredFile:
    """Check ``upload`` and keep it under a new random key; raise UploadRefused if refused.

    ``upload`` is a Django ``UploadedFile`` or anything with ``name``, ``size`` and
    ``chunks()``. Nothing is left on disk when the file is refused (see the module
    docstring for the order of the checks).
    """
    name = str(upload.name or "")
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024 if max_bytes is None else max_bytes
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise _too_large(name, declared, limit)

    # The first bytes and the name decide most files before anything is written; a ZIP's
    # type needs its table of contents, at its end, so it is decided after writing.
    chunks = iter(upload.chunks())
    buffered: list[bytes] = []
    received = 0
    for chunk in chunks:
        buffered.append(chunk)
        received += len(chunk)
        if received > limit:
            raise _too_large(name, received, limit)
        if received >= HEAD_BYTES:
            break
    head = b"".join(buffered)[:HEAD_BYTES]
    zip_based = head.startswith(b"PK\x03\x04")
    kind = None if zip_based else detect(head, name)
    # Text is checked over its whole length: NUL bytes or bad UTF-8 after the head would
    # make it binary data after all.
    decoder = codecs.getincrementaldecoder("utf-8")() if kind in (TXT, CSV) else None

    if root is None:
        root = evidence_root()
    else:
        root = Path(root)
        _check_outside_web_root(root)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    target = path_of(key, root)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    # Written under a name that is no key (so never served), renamed when all is checked.
    partial = target.with_name(f"{key}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in itertools.chain(buffered, chunks):
                size += len(chunk)
                if size > limit:
                    raise _too_large(name, size, limit)
                if decoder is not None:
                    _check_text(decoder, chunk, name)
                digest.update(chunk)
                out.write(chunk)
            if decoder is not None:
                _check_text(decoder, b"", name, final=True)
            out.flush()
            os.fsync(out.fileno())
        if zip_based:
            kind = detect(head, name, whole=partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            target.parent.rmdir()  # only when empty
        raise
    assert kind is not None
    return StoredFile(
        key=key,
        original_name=_safe_name(name),
        content_type=kind.content_type,
        extension=kind.extension,
        size=size,
        sha256=digest.hexdigest(),
    )


def _check_text(decoder: codecs.IncrementalDecoder, chunk: bytes, name: str, *, final: bool = False) -> None:
    """Feed ``chunk`` of a text upload to ``decoder``; refuse NUL bytes and bad UTF-8."""
    problem = "binary data (it contains NUL bytes)" if b"\x00" in chunk else None
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError:
        problem = _NOT_UTF8
    if problem:
        raise _refuse(
            name, _extension(_safe_name(name)), problem, _UTF8_ADVICE if problem == _NOT_UTF8 else ""
        )


def delete(key: str, root: Path | None = None) -> None:
    """Remove the file with ``key`` (nothing when it is gone already)."""
    path = path_of(key, root)
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty: other keys share the folder


# --- serving -----------------------------------------------------------------------------


def download_response(
    stored_key: str, original_name: str, content_type: str, *, root: Path | None = None
) -> FileResponse:
    """The stored file as a download; Http404 when the key is invalid or the file is gone.

    The content type is the recorded one only when it is in the allow-list and the name
    ends with one of its extensions; otherwise the file is sent as
    ``application/octet-stream`` under its name plus ``.bin``, so that a record altered to
    say ``text/html`` or ``x.html`` can neither make a browser render the file nor make the
    saved copy open as a page.
    """
    try:
        path = path_of(stored_key, root)
    except ValueError:
        raise Http404("No such evidence file.") from None
    name = _safe_name(original_name) or "evidence"
    kind = _BY_CONTENT_TYPE.get(str(content_type).split(";")[0].strip().lower())
    if kind is not None and _extension(name) in kind.extensions:
        served = f"{kind.content_type}; charset=utf-8" if kind in (TXT, CSV) else kind.content_type
    else:
        served = OCTET_STREAM
        name = name if _extension(name) == "bin" else f"{name}.bin"
    try:
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except (FileNotFoundError, NotADirectoryError):
        raise Http404("No such evidence file.") from None
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=served)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def store_evidence(upload: Upload) -> StoredFile:
    """:func:`store` with the evidence size limit (``settings.EVIDENCE_MAX_MB``)."""
    from django.conf import settings

    return store(upload, max_bytes=settings.EVIDENCE_MAX_MB * 1024 * 1024)


def delete_files_with(model) -> None:
    """Delete a record's stored file (its ``file_key``) when a ``model`` row is deleted.

    Call from the app's ``AppConfig.ready``: nothing else refers to a stored file, so a file
    whose record is gone would stay on disk for ever.
    """
    from django.db.models.signals import post_delete

    def remove(sender, instance, **kwargs) -> None:
        if instance.file_key:
            delete(instance.file_key)

    post_delete.connect(remove, sender=model, weak=False, dispatch_uid=f"uploads-{model._meta.label_lower}")
