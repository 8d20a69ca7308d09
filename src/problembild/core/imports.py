"""What every importer shares: row errors that name file, line and field; all-or-nothing
commits; rejects files; the record of each import; previews; and background imports.

An importer parses and validates the whole file first, collecting :class:`RowError`
objects (the first :data:`MAX_ERRORS` in full, the rest only counted: see
:class:`ErrorCollector`). With errors and without ``skip_invalid`` it raises
:class:`ImportFailed` and writes nothing but the import record; otherwise it writes the
valid rows in one transaction (idempotently: the same file twice adds nothing) and, with
a rejects path, writes every rejected row with its reason. The import record is written in
the same transaction as the rows, so committed rows always have their record.

The pattern every importer follows — validate, then inside :func:`recorded_import` call
:func:`finish_validation`, then write — also gives the preview: under
:func:`validate_only`, :func:`recorded_import` opens no transaction and writes no record,
and :func:`finish_validation` ends the block before the first write. A preview therefore
never takes the database's write lock (on SQLite every transaction does, see
``transaction_mode`` in the settings), and any write statement it tries is refused.

Each app registers the kinds of file it imports (:class:`ImportKind`, in its
``AppConfig.ready``); the import page (:mod:`problembild.core.views.imports`) offers
every registered kind, so a new domain app adds its importer without touching core.
Large files are imported in the background (:class:`ImportJob`); uploads live in
:func:`upload_root` and are deleted after a day (:func:`purge_uploads`).
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import getpass
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .errors import MAX_ERRORS, ErrorCollector, ImportFailed, RowError
from .models import ImportRecord

__all__ = [
    "IMPORT_KINDS",
    "MAX_ERRORS",
    "ErrorCollector",
    "ImportFailed",
    "ImportJob",
    "ImportKind",
    "ImportResult",
    "RowError",
    "finish_validation",
    "import_job",
    "job_progress",
    "parse_mapping",
    "purge_uploads",
    "recorded_import",
    "register_import_kind",
    "validate_only",
    "validating",
]


@dataclass
class ImportResult:
    """What an import did. ``added`` counts new rows; repeated imports add 0.

    ``errors`` holds the first :data:`MAX_ERRORS` errors, ``total_errors`` counts them all.
    In a preview (:func:`validate_only`) ``added`` is None unless the importer counts the
    rows it would add without writing them.
    """

    kind: str
    file: str
    accepted: int = 0
    rejected: int = 0
    added: int | None = 0
    errors: list[RowError] = field(default_factory=list)
    total_errors: int = 0
    record_id: int | None = None
    details: dict = field(default_factory=dict)


ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` by long imports; the CLI draws a progress bar from it,
a background import (:class:`ImportJob`) shows it on the import page."""


def os_user() -> str:
    """The operating-system user running this process ("" when it cannot be told)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return os.environ.get("USER", "")


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


# --- previews: validate without writing ------------------------------------------------

_VALIDATING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "problembild_import_preview", default=False
)

#: Statements a preview must not run: writes, and transactions (which take SQLite's write lock).
_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|UPSERT|MERGE|CREATE|DROP|ALTER|TRUNCATE|BEGIN|SAVEPOINT|COPY)\b",
    re.IGNORECASE,
)


class PreviewWrote(RuntimeError):
    """An importer tried to write during a preview (a bug in the importer)."""


class _Validated(Exception):
    """Ends an importer's :func:`recorded_import` block in a preview, before its writes."""


@contextmanager
def validate_only() -> Iterator[None]:
    """Run the importers inside as a preview: they validate and count, and write nothing.

    :func:`recorded_import` opens no transaction and writes no import record, and
    :func:`finish_validation` ends the importer's block once the counts are known. Every
    statement that would write or open a transaction is refused with :class:`PreviewWrote`,
    so a preview can never hold the database's write lock, however large the file.
    """

    def refuse_writes(execute, sql, params, many, context):
        if _WRITES.match(sql):
            raise PreviewWrote(f"a preview must not write to the database: {sql[:120]}")
        return execute(sql, params, many, context)

    token = _VALIDATING.set(True)
    try:
        with connection.execute_wrapper(refuse_writes):
            yield
    finally:
        _VALIDATING.reset(token)


def validating() -> bool:
    """True inside :func:`validate_only`: importers must not write (and need not count writes)."""
    return _VALIDATING.get()


# --- background imports ------------------------------------------------------------------


class ImportJob:
    """An import running in the background: its record and its state file.

    The page starts it in a thread and polls its state, which the import writes to
    :data:`FILE` in the upload's folder: ``state`` (running, done), ``done`` and
    ``total`` rows, the ``outcome`` once done, and ``updated``, a heartbeat renewed every
    :data:`HEARTBEAT` seconds while it runs. The progress is kept in this file and not in
    the record because the running import holds the database's write lock (on SQLite)
    until it commits: no other connection could update the record meanwhile, and the
    import's own updates would be invisible until the end.
    """

    FILE = "job.json"
    #: Seconds between heartbeats while the import runs.
    HEARTBEAT = 5.0
    #: Seconds between progress writes at most.
    PROGRESS_EVERY = 0.5

    def __init__(self, folder: str | os.PathLike, record_id: int):
        self.folder = Path(folder)
        self.record_id = record_id
        self._state: dict = {"record": record_id, "state": "running", "done": 0, "total": 0}
        self._lock = threading.Lock()
        self._last_progress = 0.0

    @property
    def path(self) -> Path:
        return self.folder / self.FILE

    def _write(self, **changes) -> None:
        with self._lock:
            self._state.update(changes, updated=time.time())
            partial = self.folder / f".{self.FILE}.{threading.get_ident()}"
            partial.write_text(json.dumps(self._state, ensure_ascii=False, default=str), encoding="utf-8")
            os.replace(partial, self.path)  # readers never see half a file

    def start(self) -> ImportJob:
        self._write(state="running", started=time.time())
        return self

    def progress(self, done: int, total: int) -> None:
        """A :data:`ProgressCallback`: ``done`` of about ``total`` rows."""
        now = time.monotonic()
        if now - self._last_progress >= self.PROGRESS_EVERY or (total and done >= total):
            self._last_progress = now
            self._write(done=int(done), total=int(total))

    def beat(self) -> None:
        self._write()

    def finish(self, outcome: dict) -> None:
        self._write(state="done", outcome=outcome)

    @classmethod
    def read(cls, folder: str | os.PathLike) -> dict | None:
        """The state written by the job in ``folder`` (None: no job, or unreadable)."""
        try:
            return json.loads((Path(folder) / cls.FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


_JOB: contextvars.ContextVar[ImportJob | None] = contextvars.ContextVar(
    "problembild_import_job", default=None
)


@contextmanager
def import_job(job: ImportJob) -> Iterator[ImportJob]:
    """Run the import inside as ``job``: :func:`recorded_import` completes the job's record
    (instead of creating one), :func:`job_progress` reports to it, and a heartbeat thread
    shows that it is alive until the block ends."""
    token = _JOB.set(job)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(job.HEARTBEAT):
            job.beat()

    beating = threading.Thread(target=heartbeat, name="import-heartbeat", daemon=True)
    beating.start()
    try:
        yield job
    finally:
        stop.set()
        beating.join()
        _JOB.reset(token)


def job_progress() -> ProgressCallback | None:
    """The progress callback of the running :func:`import_job`, if any (for the runners)."""
    job = _JOB.get()
    return job.progress if job is not None else None


# --- uploads -------------------------------------------------------------------------------

#: Seconds an upload folder is kept: older ones are deleted whenever the import page is used,
#: and by ``problembild import clean-uploads``.
UPLOAD_MAX_AGE = 24 * 3600
_UPLOAD_FOLDER = re.compile(r"^[0-9a-f]{32}$")


def upload_root() -> Path:
    """Where the import page keeps uploads: one folder per preview (``DATA_DIR/uploads/<token>``)."""
    return Path(settings.DATA_DIR) / "uploads"


def purge_uploads(max_age: float = UPLOAD_MAX_AGE) -> int:
    """Delete upload folders untouched for ``max_age`` seconds; return how many.

    A folder's age is that of its newest entry, so a running import (whose heartbeat
    renews its state file) is never deleted.
    """
    root = upload_root()
    if not root.is_dir():
        return 0
    cutoff = time.time() - max_age
    removed = 0
    for folder in root.iterdir():
        if not (_UPLOAD_FOLDER.match(folder.name) and folder.is_dir()):
            continue
        try:
            newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
        except OSError:
            continue  # deleted meanwhile
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# --- recording, all or nothing --------------------------------------------------------------


@contextmanager
def recorded_import(
    kind: str,
    path: str | os.PathLike,
    *,
    user=None,
    options: dict | None = None,
) -> Iterator[ImportResult]:
    """Run an import inside one transaction and record it, whether it commits or fails.

    The body fills in the yielded :class:`ImportResult`. The record of a successful
    import is written inside the import's transaction: a process killed at any moment
    leaves either the rows with their record or neither. Raising (:class:`ImportFailed`
    or anything else) rolls back every row; the failed attempt is then recorded in a
    transaction of its own. Inside :func:`import_job` the job's record is completed
    instead of a new one created; inside :func:`validate_only` nothing is written.
    """
    result = ImportResult(kind=kind, file=str(path))
    if validating():
        result.added = None
        with contextlib.suppress(_Validated):
            yield result
        return
    started = timezone.now()
    job = _JOB.get()
    # Hashing a large file takes seconds; hashlib releases the GIL, so it runs beside the import.
    digest: dict[str, str] = {"sha": ""}
    hasher = threading.Thread(
        target=lambda: digest.update(sha=file_sha256(path) if Path(path).is_file() else ""), daemon=True
    )
    hasher.start()

    def record(status: str, message: str = "") -> int:
        hasher.join()
        values = {
            "kind": kind,
            "file_name": str(path),
            "sha256": digest["sha"],
            "finished_at": timezone.now(),
            "accepted": result.accepted,
            "rejected": result.rejected,
            "added": result.added or 0,
            "status": status,
            "message": message[:10000],
            "options": options or {},
        }
        if job is not None:
            ImportRecord.objects.filter(pk=job.record_id).update(**values)
            return job.record_id
        return ImportRecord.objects.create(
            user=user if getattr(user, "is_authenticated", False) else None,
            username=getattr(user, "username", "") or os_user(),
            started_at=started,
            **values,
        ).pk

    try:
        with transaction.atomic():
            yield result
            status = ImportRecord.Status.COMMITTED if result.added else ImportRecord.Status.UNCHANGED
            result.record_id = record(status)
    except ImportFailed as exc:
        result.record_id = record(ImportRecord.Status.FAILED, str(exc))
        raise
    except Exception as exc:
        # If the database itself failed, recording fails too: the original error is what matters.
        with contextlib.suppress(Exception):
            result.record_id = record(ImportRecord.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise


def finish_validation(
    result: ImportResult,
    errors: list[RowError] | ErrorCollector,
    *,
    skip_invalid: bool,
    rejects: str | os.PathLike | None,
    accepted: int,
) -> None:
    """Apply the all-or-nothing rule once parsing has found ``errors``.

    Without ``skip_invalid`` any error stops the import. With it, the rejected rows go
    to ``rejects`` (when given) and the import goes on with the ``accepted`` rows. In a
    preview (:func:`validate_only`) this ends the importer's block: what follows writes.
    ``errors`` is a list of every error, or an :class:`ErrorCollector` of the first ones
    with the counts.
    """
    found = errors if isinstance(errors, ErrorCollector) else ErrorCollector.of(errors)
    result.accepted = accepted
    # A row with several bad fields is one rejected row (with one error per field).
    result.rejected = found.rejected
    result.errors = found.errors
    result.total_errors = found.total
    if found.total and not skip_invalid:
        raise ImportFailed(found.errors, total=found.total)
    if validating():
        raise _Validated
    if rejects is not None:
        if found.write_rejects is not None:
            found.write_rejects(rejects)
        else:
            write_rejects(rejects, found.kept)


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
      ``options``); the page runs it inside :func:`validate_only` for the preview and,
      for large files, inside :func:`import_job` in the background (a runner whose
      importer reports progress passes it :func:`job_progress`);
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
    #: Roles that may import this kind besides the import roles (e.g. HR its staff files).
    roles: frozenset[str] = frozenset()

    def allowed(self, user) -> bool:
        """``user`` may import this kind: Django staff, the import roles, or the kind's own roles."""
        from .roles import IMPORT_ROLES, has_role

        return bool(user.is_staff or has_role(user, IMPORT_ROLES | self.roles))

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


def import_kinds(user=None) -> list[ImportKind]:
    """The registered kinds in the order the page lists them (those ``user`` may import, if given)."""
    kinds = sorted(IMPORT_KINDS.values(), key=lambda k: (k.order, k.code))
    return kinds if user is None else [k for k in kinds if k.allowed(user)]
