"""What every importer shares: row errors that name file, line and field; all-or-nothing
commits; rejects files; and the record of each import.

An importer parses and validates the whole file first, collecting :class:`RowError`
objects. With errors and without ``skip_invalid`` it raises :class:`ImportFailed` and
writes nothing but the import record; otherwise it writes the valid rows in one
transaction (idempotently: the same file twice adds nothing) and, with a rejects path,
writes every rejected row with its reason.

Each app registers the kinds of file it imports (:class:`ImportKind`, in its
``AppConfig.ready``); the import page (:mod:`problembild.core.views.imports`) offers
every registered kind, so a new domain app adds its importer without touching core.
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .errors import ImportFailed, RowError
from .models import ImportRecord

__all__ = [
    "IMPORT_KINDS",
    "ImportFailed",
    "ImportKind",
    "ImportResult",
    "RowError",
    "finish_validation",
    "parse_mapping",
    "recorded_import",
    "register_import_kind",
]


@dataclass
class ImportResult:
    """What an import did. ``added`` counts new rows; repeated imports add 0."""

    kind: str
    file: str
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    errors: list[RowError] = field(default_factory=list)
    record_id: int | None = None
    details: dict = field(default_factory=dict)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in blocks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_rejects(path: str | os.PathLike, errors: Sequence[RowError]) -> None:
    """Write every rejected row with its line, field and reason as CSV (UTF-8)."""
    columns: list[str] = []
    for error in errors:
        for key in error.row or {}:
            if key not in columns:
                columns.append(key)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "field", "reason", *columns])
        for error in errors:
            row = error.row or {}
            writer.writerow(
                [error.line if error.line is not None else "", error.field, error.message]
                + ["" if row.get(c) is None else row.get(c) for c in columns]
            )


def check_file(path: str | os.PathLike, suffixes: Sequence[str]) -> Path:
    """Return ``path`` as a Path if it exists and has one of ``suffixes``; else raise ImportFailed."""
    p = Path(path)
    if not p.is_file():
        raise ImportFailed([RowError(str(p), None, "file", "file does not exist")])
    name = p.name.lower()
    if not any(name.endswith(s) for s in suffixes):
        raise ImportFailed(
            [RowError(str(p), None, "file", f"unsupported file type; expected one of {', '.join(suffixes)}")]
        )
    return p


@contextmanager
def recorded_import(
    kind: str,
    path: str | os.PathLike,
    *,
    user=None,
    options: dict | None = None,
) -> Iterator[ImportResult]:
    """Run an import inside one transaction and record it, whether it commits or fails.

    The body fills in the yielded :class:`ImportResult`; raising :class:`ImportFailed`
    rolls back every row and still records the failed attempt.
    """
    started = timezone.now()
    result = ImportResult(kind=kind, file=str(path))
    # Hashing a large file takes seconds; hashlib releases the GIL, so it runs beside the import.
    digest: dict[str, str] = {"sha": ""}
    hasher = threading.Thread(
        target=lambda: digest.update(sha=file_sha256(path) if Path(path).is_file() else ""), daemon=True
    )
    hasher.start()

    def record(status: str, message: str = "") -> ImportRecord:
        hasher.join()
        return ImportRecord.objects.create(
            kind=kind,
            file_name=str(path),
            sha256=digest["sha"],
            user=user if getattr(user, "is_authenticated", False) else None,
            username=getattr(user, "username", "") or os.environ.get("USER", ""),
            started_at=started,
            finished_at=timezone.now(),
            accepted=result.accepted,
            rejected=result.rejected,
            added=result.added,
            status=status,
            message=message[:10000],
            options=options or {},
        )

    try:
        with transaction.atomic():
            yield result
    except ImportFailed as exc:
        record(ImportRecord.Status.FAILED, str(exc))
        raise
    status = ImportRecord.Status.COMMITTED if result.added else ImportRecord.Status.UNCHANGED
    result.record_id = record(status).pk


def finish_validation(
    result: ImportResult,
    errors: list[RowError],
    *,
    skip_invalid: bool,
    rejects: str | os.PathLike | None,
    accepted: int,
) -> None:
    """Apply the all-or-nothing rule once parsing has found ``errors``.

    Without ``skip_invalid`` any error stops the import. With it, the rejected rows go
    to ``rejects`` (when given) and the import goes on with the ``accepted`` rows.
    """
    result.accepted = accepted
    # A row with several bad fields is one rejected row (with one error per field).
    result.rejected = len({(e.file, e.line) for e in errors})
    result.errors = errors
    if errors and not skip_invalid:
        raise ImportFailed(errors)
    if rejects is not None:
        write_rejects(rejects, errors)


ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` by long imports; the CLI draws a progress bar from it."""


def parse_mapping(pairs: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """Parse ``their_column=field`` pairs; ``field`` must be one of ``fields``, empty ignores the column."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--map {pair!r}: expected their_column=field")
        theirs, ours = (s.strip() for s in pair.split("=", 1))
        if ours and ours not in fields:
            raise ValueError(f"--map {pair!r}: unknown field {ours!r}; fields are {', '.join(fields)}")
        mapping[theirs] = ours
    return mapping


#: Options of the import form, each used by the kinds that name it in ``ImportKind.options``.
FORM_OPTIONS = ("year", "categories", "source", "map")


@dataclass(frozen=True)
class ImportKind:
    """A kind of file users may import from the import page.

    ``runner`` and ``fields`` are dotted paths, imported only when used (the importers
    pull in GIS and data libraries that a page view does not need):

    * ``runner(path, options, *, skip_invalid, rejects, user) -> ImportResult`` runs the
      app's importer with ``options`` (a JSON-able dict of the form's options named in
      ``options``);
    * ``fields`` names the sequence of fields a column mapping may target (None: the kind
      takes no mapping).
    """

    code: str
    label: str
    suffixes: tuple[str, ...]
    runner: str
    options: tuple[str, ...] = ()
    fields: str | None = None
    order: int = 100

    def run(self, path: str | os.PathLike, options: dict, **common) -> ImportResult:
        return import_string(self.runner)(path, options, **common)

    def mapping(self, pairs: Sequence[str]) -> dict[str, str]:
        """``pairs`` parsed against this kind's fields (ValueError names a bad pair)."""
        if not pairs:
            return {}
        if self.fields is None:
            raise ValueError(f"{self.code} files take no column mapping")
        return parse_mapping(pairs, import_string(self.fields))


#: Registered kinds by code (see :func:`register_import_kind`).
IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> None:
    """Offer ``kind`` on the import page (call from the app's ``AppConfig.ready``)."""
    for option in kind.options:
        if option not in FORM_OPTIONS:
            raise ValueError(f"import kind {kind.code}: unknown option {option!r}; known: {FORM_OPTIONS}")
    IMPORT_KINDS[kind.code] = kind


def import_kinds() -> list[ImportKind]:
    """The registered kinds in the order the page lists them."""
    return sorted(IMPORT_KINDS.values(), key=lambda k: (k.order, k.code))
