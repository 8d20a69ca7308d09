"""Backups: a consistent copy of the database and the evidence files, and their restore.

``problembild backup DIR`` writes into a new (or empty) directory, made readable by its
owner only (it holds everything the app holds):

* ``database.sqlite3``: SQLite's online backup API copies the database page by page in one
  read transaction, so the copy is consistent while the server keeps writing (WAL mode);
  or ``database.dump``: ``pg_dump --format=custom`` for PostgreSQL, taken in the snapshot
  in which the rows are counted (``--snapshot``), so the counts describe the dump exactly;
* ``evidence/``: the uploaded evidence files (:func:`problembild.core.uploads.evidence_root`),
  with their checksums in ``evidence.sha256`` (``sha256sum -c`` reads it);
* ``manifest.json``, written last (a directory without it is no finished backup): the
  engine, when (UTC), the Problembild and Django versions, the latest applied migration per
  app, the row count of every table and the number and size of the files.

``problembild restore DIR`` refuses a directory without a manifest, a manifest of another
engine, a backup made with migrations this version does not know, a damaged copy, and a
target database that holds data (unless ``force``). It then replaces the database
(SQLite's backup API again; ``pg_restore --clean --if-exists --no-owner --no-privileges``
in a single transaction), checks that every table has the manifest's row count, replaces
the evidence files and clears the page cache. The secret key is not part of a backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection, connections

from problembild import __version__
from problembild.core.uploads import human_size

__all__ = [
    "MANIFEST",
    "BackupError",
    "BackupRefused",
    "Summary",
    "backup",
    "database_is_empty",
    "read_manifest",
    "restore",
    "table_counts",
]

#: The manifest's file name; its presence marks a finished backup.
MANIFEST = "manifest.json"
#: The manifest's format; a restore refuses formats it does not know.
FORMAT = 1
#: The database copy's file name per engine (``django.db.connection.vendor``).
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
#: The folder of the evidence files in a backup, and their checksums.
EVIDENCE = "evidence"
CHECKSUMS = "evidence.sha256"
#: Tables that ``migrate`` fills by itself: rows there alone do not make a database "in use".
BOOKKEEPING_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})

_EVIDENCE_FILE = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f]{30})$")


class BackupError(Exception):
    """A backup or restore that failed (exit code 1); the message says what and where."""


class BackupRefused(BackupError):
    """Bad input, refused before anything was changed (exit code 2)."""


@dataclass
class Summary:
    """What a backup or restore did, as the command prints it."""

    action: str
    directory: str
    engine: str
    created: str
    version: str
    tables: int
    rows: int
    files: int
    file_bytes: int
    database_bytes: int
    seconds: float = 0.0
    #: Evidence files the database names but the backup lacks (backup only).
    missing_files: list[str] = field(default_factory=list)
    #: Migrations this version has and the restored database has not applied (restore only).
    pending_migrations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return asdict(self)

    def text(self) -> str:
        """One or two lines for people."""
        what = "Backup written to" if self.action == "backup" else "Restored from"
        lines = [
            f"{what} {self.directory} ({self.engine}, made {self.created} by Problembild {self.version}): "
            f"{self.tables} tables, {self.rows:,} rows, {human_size(self.database_bytes)} database; "
            f"{self.files} evidence file(s), {human_size(self.file_bytes)}; {self.seconds:.1f} s."
        ]
        if self.missing_files:
            lines.append(
                f"Warning: {len(self.missing_files)} evidence file(s) named in the database are missing "
                f"from the data directory: {', '.join(self.missing_files[:5])}"
                + (" …" if len(self.missing_files) > 5 else "")
            )
        if self.pending_migrations:
            lines.append(
                f"The restored database lacks {len(self.pending_migrations)} migration(s) of this version; "
                "run `problembild init` to apply them."
            )
        return "\n".join(lines)


# --- reading a database ---------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_names(cursor, vendor: str) -> list[str]:
    """The tables of the database behind ``cursor`` (SQLite's own tables left out)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = ANY (current_schemas(false))")
    return sorted(row[0] for row in cursor.fetchall())


def table_counts(cursor, vendor: str) -> dict[str, int]:
    """The number of rows of every table, by name, read through a DB-API ``cursor``."""
    counts = {}
    for name in _table_names(cursor, vendor):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")
        counts[name] = int(cursor.fetchone()[0])
    return counts


def _migration_state(cursor, tables: dict[str, int]) -> dict[str, str]:
    """The latest applied migration per app (none when the database was never migrated)."""
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return dict(cursor.fetchall())


def _referenced_files(cursor, tables: dict[str, int]) -> set[str]:
    """The evidence file keys that the rows name (every model with a ``file_key``; not the history)."""
    from django.apps import apps

    keys: set[str] = set()
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        table = model._meta.db_table
        if "file_key" in names and "history_id" not in names and table in tables:
            cursor.execute(f"SELECT file_key FROM {_quote(table)} WHERE file_key <> ''")
            keys.update(row[0] for row in cursor.fetchall())
    return keys


def database_is_empty() -> bool:
    """True when no table of the configured database holds rows (but :data:`BOOKKEEPING_TABLES`)."""
    with connection.cursor() as cursor:
        counts = table_counts(cursor, connection.vendor)
    return not any(n for name, n in counts.items() if name not in BOOKKEEPING_TABLES)


# --- files ----------------------------------------------------------------------------------


def _evidence_dir() -> Path:
    """Where the app keeps evidence files (``DATA_DIR/evidence``), without creating it."""
    return Path(settings.DATA_DIR) / "evidence"


def _evidence_files(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relative path, path)`` of every stored evidence file under ``root`` (no partial uploads)."""
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*")):
        rel = path.relative_to(root).as_posix()
        if _EVIDENCE_FILE.match(rel) and path.is_file():
            yield rel, path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_evidence(source: Path, target: Path) -> dict[str, str]:
    """Copy the evidence files from ``source`` to ``target`` (folders 0700, files 0600); return
    their checksums by relative path."""
    sums = {}
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for rel, path in _evidence_files(source):
        dest = target / rel
        dest.parent.mkdir(mode=0o700, exist_ok=True)
        shutil.copyfile(path, dest)
        dest.chmod(0o600)
        sums[rel] = _sha256(dest)
    return sums


def _read_checksums(directory: Path) -> dict[str, str]:
    path = directory / CHECKSUMS
    if not path.is_file():
        return {}
    sums = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, rel = line.partition("  ")
        if not (re.fullmatch(r"[0-9a-f]{64}", digest) and _EVIDENCE_FILE.match(rel)):
            raise BackupRefused(f"{path}:{number}: not a line '<sha256>  <folder>/<key>'.")
        sums[rel] = digest
    return sums


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (mode 0600) through a temporary file, so it appears whole."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)


# --- PostgreSQL tools -----------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: on PATH, else the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin; install the PostgreSQL "
        "client tools (Debian: apt-get install postgresql-client)."
    )


def _pg_env() -> dict[str, str]:
    """The environment that points libpq's tools at the configured database (password not on the
    command line)."""
    from django.db.backends.postgresql.client import DatabaseClient

    params = connection.settings_dict
    _args, extra = DatabaseClient.settings_to_cmd_args_env(params, [])
    env = {**os.environ, **(extra or {})}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("NAME", "PGDATABASE")):
        if params.get(key):
            env[var] = str(params[key])
    return env


def _run(args: list[str], what: str) -> None:
    result = subprocess.run(args, env=_pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


# --- backup -------------------------------------------------------------------------------------


@dataclass
class _Copy:
    """What the database copy holds, read from the copy itself (or its snapshot)."""

    counts: dict[str, int]
    migrations: dict[str, str]
    referenced: set[str]


def _backup_sqlite(target: Path) -> _Copy:
    """Copy the SQLite database to ``target`` with the online backup API and read the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): one read transaction, so the copy is one consistent state; in
        # WAL mode the server's writers go on meanwhile.
        connection.connection.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        cursor = copy.cursor()
        counts = table_counts(cursor, "sqlite")
        return _Copy(counts, _migration_state(cursor, counts), _referenced_files(cursor, counts))
    finally:
        copy.close()
        target.chmod(0o600)


def _backup_postgresql(target: Path) -> _Copy:
    """``pg_dump --format=custom`` into ``target`` in the snapshot the rows are counted in."""
    pg_dump = _pg_tool("pg_dump")
    db = connections.create_connection(connection.alias)
    try:
        db.ensure_connection()
        cursor = db.connection.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = table_counts(cursor, "postgresql")
        state = _Copy(counts, _migration_state(cursor, counts), _referenced_files(cursor, counts))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={target}",
                str(connection.settings_dict["NAME"]),
            ],
            "pg_dump",
        )
        cursor.execute("COMMIT")
        return state
    finally:
        db.close()


def backup(directory: Path) -> Summary:
    """Write a backup of the configured database and the evidence files into ``directory``.

    ``directory`` must be new or empty. Raises :class:`BackupRefused` for a directory that
    holds anything, :class:`BackupError` when copying fails (what was written is removed).
    """
    started = time.monotonic()
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise BackupRefused(f"{directory} is a file; give a new or empty directory.")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupRefused(f"{directory} is not empty; give a new or empty directory for the backup.")
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupRefused(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    created_dir = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        database = directory / DATABASE_FILES[vendor]
        copy = _backup_sqlite(database) if vendor == "sqlite" else _backup_postgresql(database)
        # The files after the database: a file uploaded meanwhile is copied unreferenced,
        # never a row copied without its file (unless the file was deleted meanwhile).
        sums = _copy_evidence(_evidence_dir(), directory / EVIDENCE)
        present = {rel.split("/")[1] for rel in sums}
        _write_private(directory / CHECKSUMS, "".join(f"{d}  {rel}\n" for rel, d in sums.items()))
        file_bytes = sum((directory / EVIDENCE / rel).stat().st_size for rel in sums)
        manifest = {
            "format": FORMAT,
            "engine": vendor,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "problembild_version": __version__,
            "django_version": django.get_version(),
            "database": {
                "file": database.name,
                "bytes": database.stat().st_size,
                "sha256": _sha256(database),
            },
            "migrations": copy.migrations,
            "tables": copy.counts,
            "rows": sum(copy.counts.values()),
            "files": {"folder": EVIDENCE, "count": len(sums), "bytes": file_bytes, "checksums": CHECKSUMS},
        }
        _write_private(directory / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    except BaseException:
        if created_dir:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for child in directory.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink(missing_ok=True)
        raise
    return Summary(
        action="backup",
        directory=str(directory),
        engine=vendor,
        created=manifest["created"],
        version=__version__,
        tables=len(copy.counts),
        rows=manifest["rows"],
        files=len(sums),
        file_bytes=file_bytes,
        database_bytes=manifest["database"]["bytes"],
        seconds=round(time.monotonic() - started, 2),
        missing_files=sorted(copy.referenced - present),
    )


# --- restore ------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the backup in ``directory``, checked for the configured engine.

    Raises :class:`BackupRefused` naming the file when it is missing, unreadable, of an
    unknown format or of another engine, or when the database copy is missing.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupRefused(f"{directory} is not a directory (no backup there).")
    if not path.is_file():
        raise BackupRefused(f"{path} does not exist: {directory} holds no finished backup.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupRefused(f"{path} is not a readable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(
            f"{path}: unknown manifest format {manifest.get('format')!r} (expected {FORMAT})."
        )
    for key in ("engine", "created", "tables", "migrations", "database", "files"):
        if key not in manifest:
            raise BackupRefused(f"{path}: the manifest lacks {key!r}.")
    engine = manifest["engine"]
    if engine != connection.vendor:
        raise BackupRefused(
            f"{path}: the backup is of a {engine} database, but the configured database is "
            f"{connection.vendor}; restore it into a {engine} database (DATABASE_URL)."
        )
    database = directory / DATABASE_FILES[engine]
    if not database.is_file():
        raise BackupRefused(f"{database} does not exist, though {path} names it.")
    return manifest


def _check_migrations_known(manifest: dict[str, Any], path: Path) -> None:
    """Refuse a backup whose database has migrations this version does not have."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = [
        f"{app}.{name}"
        for app, name in manifest["migrations"].items()
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations
    ]
    if unknown:
        raise BackupRefused(
            f"{path}: the backup's database has migration(s) {', '.join(unknown)}, which this version of "
            f"Problembild ({__version__}) does not have; restore it with Problembild "
            f"{manifest.get('problembild_version', '?')} or later."
        )


def _mismatches(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    lines = []
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if want is None and got == 0:
            continue  # an empty table the target has and the backup lacks (PostgreSQL)
        if want != got:
            lines.append(
                f"{name}: {'missing' if got is None else got} row(s), manifest "
                f"{'has no such table' if want is None else f'says {want}'}"
            )
    return lines


def _verify_backup_files(directory: Path, manifest: dict[str, Any], path: Path) -> None:
    """Check the copy and the evidence files against the manifest before anything is replaced."""
    sums = _read_checksums(directory)
    files = dict(_evidence_files(directory / EVIDENCE))
    expected = manifest["files"].get("count", 0)
    if len(files) != expected or set(files) != set(sums):
        raise BackupRefused(
            f"{directory / EVIDENCE}: {len(files)} evidence file(s), but {path} lists {expected} "
            f"and {directory / CHECKSUMS} {len(sums)}."
        )
    for rel, file in files.items():
        if _sha256(file) != sums[rel]:
            raise BackupRefused(f"{file} is damaged: its checksum differs from {directory / CHECKSUMS}.")
    database = directory / DATABASE_FILES[manifest["engine"]]
    digest = manifest["database"].get("sha256")
    if digest and _sha256(database) != digest:
        raise BackupRefused(f"{database} is damaged: its checksum differs from {path}.")
    if manifest["engine"] == "sqlite":
        copy = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupRefused(f"{database} is damaged: {check}")
            wrong = _mismatches(manifest["tables"], table_counts(copy.cursor(), "sqlite"))
        finally:
            copy.close()
        if wrong:
            raise BackupRefused(f"{database} does not match {path}: " + "; ".join(wrong[:10]))


def _restore_sqlite(database: Path) -> None:
    """Replace the configured SQLite database by the copy (online backup API, into the open file)."""
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(connection.connection, pages=-1)
    finally:
        source.close()
        connection.close()


def _restore_postgresql(database: Path) -> None:
    """``pg_restore`` the dump into the configured database, all or nothing."""
    pg_restore = _pg_tool("pg_restore")
    connection.close()
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(database),
        ],
        "pg_restore",
    )


@contextmanager
def _swap_folder(target: Path) -> Iterator[Path]:
    """Yield a new folder beside ``target``; on success it replaces ``target`` (the old one is removed)."""
    new = target.with_name(f"{target.name}.restoring-{uuid.uuid4().hex[:8]}")
    new.mkdir(mode=0o700, parents=True)
    try:
        yield new
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    old = target.with_name(f"{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _pending_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def restore(directory: Path, *, force: bool = False) -> Summary:
    """Replace the configured database and the evidence files by the backup in ``directory``.

    Raises :class:`BackupRefused` (nothing changed) for a missing or foreign manifest, a
    damaged copy, or a target that holds data when ``force`` is false; :class:`BackupError`
    when the restore fails or the restored row counts differ from the manifest.
    """
    started = time.monotonic()
    directory = Path(directory)
    manifest = read_manifest(directory)
    path = directory / MANIFEST
    _check_migrations_known(manifest, path)
    evidence = _evidence_dir()
    if not force:
        in_use = [] if database_is_empty() else ["the database holds data"]
        if any(True for _ in _evidence_files(evidence)):
            in_use.append(f"{evidence} holds evidence files")
        if in_use:
            raise BackupRefused(
                f"The target is not empty ({' and '.join(in_use)}); a restore replaces everything in it. "
                "Restore with --force to replace it, or point DATABASE_URL / PROBLEMBILD_DATA_DIR at an "
                "empty database."
            )
    _verify_backup_files(directory, manifest, path)

    database = directory / DATABASE_FILES[manifest["engine"]]
    if manifest["engine"] == "sqlite":
        _restore_sqlite(database)
    else:
        _restore_postgresql(database)
    with connection.cursor() as cursor:
        counts = table_counts(cursor, connection.vendor)
    wrong = _mismatches(manifest["tables"], counts)
    if wrong:
        raise BackupError(
            f"The restored database does not match {path} ({len(wrong)} table(s) differ): "
            + "; ".join(wrong[:10])
            + ("; …" if len(wrong) > 10 else "")
        )

    from problembild.core.uploads import evidence_root

    evidence = evidence_root()  # (refuses a folder that a web server would publish)
    with _swap_folder(evidence) as new:
        _copy_evidence(directory / EVIDENCE, new)
    from django.core.cache import cache

    cache.clear()  # page fragments of the data that was replaced
    # The refresh's kept incident columns describe the replaced store: an older one restored
    # has the same store version, and its next rows would reuse the ids the kept ones cover.
    if getattr(settings, "INCIDENT_SNAPSHOTS", None):
        shutil.rmtree(settings.INCIDENT_SNAPSHOTS, ignore_errors=True)
    return Summary(
        action="restore",
        directory=str(directory),
        engine=manifest["engine"],
        created=manifest["created"],
        version=str(manifest.get("problembild_version", "")),
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=manifest["files"].get("count", 0),
        file_bytes=manifest["files"].get("bytes", 0),
        database_bytes=manifest["database"].get("bytes", 0),
        seconds=round(time.monotonic() - started, 2),
        pending_migrations=_pending_migrations(),
    )
