"""``problembild import incidents FILE``: incidents from CSV, Parquet or GeoJSON.

Default columns: ``id``, ``occurred_at`` (ISO 8601; without an offset it means
Europe/Stockholm), ``type`` (the source's own type), optional ``x``, ``y`` (SWEREF99 TM
metres) or ``lat``, ``lon`` (WGS84 degrees), optional ``municipality`` (4-digit code or
name), optional ``title`` and ``url``. Other names are mapped with ``their_column=field``
(``their_column=`` ignores a column). Every problem is reported with file, line and field;
nothing is written unless every row is valid, or ``skip_invalid`` is set.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection

from problembild.areas.models import Municipality
from problembild.core import imports
from problembild.core.imports import (
    ImportFailed,
    ImportResult,
    ProgressCallback,
    RowError,
    check_file,
    finish_validation,
    recorded_import,
)

from .rows import (
    CHUNK_ROWS,
    FIELDS,
    REQUIRED,
    SUFFIXES,
    ChunkPreparer,
    Table,
    normalise_name,
    parse_times,
    prepared_chunks,
)
from .services import configured_taxonomy
from .store import (
    DeferredIndexes,
    DuplicateChecker,
    area_index,
    insert_incidents,
    table_rows,
    write_incidents,
)

__all__ = ["import_incidents", "normalise_name", "parse_mapping", "parse_times"]

#: From this many rows, the incident table's secondary indexes are rebuilt after the load.
DEFER_INDEXES_FROM = 1_000_000


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``their_column=field`` pairs against the incident fields; an empty field ignores the column."""
    return imports.parse_mapping(pairs, FIELDS)


def run_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner (:class:`~problembild.core.imports.ImportKind`) for incident files."""
    return import_incidents(
        path,
        source=options.get("source") or "import",
        mapping=parse_mapping(options.get("map") or []),
        **common,
    )


def municipality_names() -> dict[str, tuple[str, str]]:
    """The one way to name an incident's municipality: code or name -> (code, county code).

    Names are case-folded with hyphens as spaces (:func:`normalise_name`), so
    "Upplands Bro" finds Upplands-Bro. Importers of files and of the police feed use it.
    """
    table: dict[str, tuple[str, str]] = {}
    for code, name, county in Municipality.objects.values_list("code", "name", "county_code"):
        table[code] = (code, county)
        table[normalise_name(name)] = (code, county)
    return table


def municipality_lookup() -> dict[str, str]:
    """:func:`municipality_names` without the county: code or name -> code."""
    return {key: code for key, (code, _county) in municipality_names().items()}


def _columns(fname: str, table: Table, mapping: dict[str, str]) -> dict[str, str]:
    """The file's columns -> fields, checked before any row is read."""
    line = 1 if table.unit == "line" else None
    seen: set[str] = set()
    doubled = [c for c in table.columns if c in seen or seen.add(c)]
    if doubled:
        raise ImportFailed(
            [RowError(fname, line, c, "the column appears twice in the header") for c in doubled]
        )
    renamed: dict[str, str] = {}
    unknown = []
    for col in table.columns:
        target = mapping.get(col, col)
        if col in mapping and not target:
            continue
        if target not in FIELDS:
            unknown.append(col)
        renamed[col] = target
    if unknown:
        raise ImportFailed(
            [
                RowError(
                    fname,
                    line,
                    c,
                    f"unknown column; map it with --map {c}=FIELD "
                    f"(fields: {', '.join(FIELDS)}) or ignore it with --map {c}=",
                )
                for c in unknown
            ]
        )
    targets = list(renamed.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise ImportFailed([RowError(fname, line, t, "two columns are mapped to this field") for t in twice])
    missing = [c for c in REQUIRED if c not in targets]
    if missing:
        raise ImportFailed([RowError(fname, None, c, "required column is missing") for c in missing])
    has_xy = "x" in targets or "y" in targets
    has_ll = "lat" in targets or "lon" in targets
    if has_xy and has_ll:
        raise ImportFailed([RowError(fname, None, "x", "give either x, y or lat, lon, not both")])
    for pair in (("x", "y"), ("lon", "lat")):
        missing = [col for col in pair if col not in targets]
        if len(missing) == 1:
            raise ImportFailed(
                [RowError(fname, None, missing[0], "column is missing (coordinates come in pairs)")]
            )
    return renamed


def import_incidents(
    path: str | Path,
    *,
    source: str = "import",
    mapping: dict[str, str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
    progress: ProgressCallback | None = None,
    chunk_rows: int = CHUNK_ROWS,
    parallel: bool | None = None,
) -> ImportResult:
    """Validate and import an incident file; see the module docstring.

    The file is read, checked and written in chunks of ``chunk_rows`` rows inside one
    transaction, so memory stays bounded and a file with any error writes nothing
    (unless ``skip_invalid``). Large loads into SQLite rebuild the secondary indexes once
    at the end instead of maintaining them row by row (PostgreSQL's ``COPY`` keeps them:
    dropping an index there would lock readers out for the whole import). ``parallel``
    (default: for files of more than two chunks) prepares chunks in a worker process
    while this one writes.
    """
    p = check_file(path, SUFFIXES)
    fname = str(p)
    if not source or len(source) > 40:
        raise ImportFailed([RowError(fname, None, "source", "source must be 1 to 40 characters")])
    mapping = mapping or {}
    table = Table(p, chunk_rows)
    renamed = _columns(fname, table, mapping)
    lookup = municipality_lookup() if "municipality" in renamed.values() else None
    if progress:
        progress(0, table.estimated_rows)

    errors: list[RowError] = []
    without_row: list[int] = []  # errors whose raw row is filled in at the end
    accepted = added = assigned = done = 0
    options = {"source": source, "map": mapping, "skip_invalid": skip_invalid}
    preparer = ChunkPreparer(
        fname=fname,
        renamed=renamed,
        source=source,
        lookup=lookup,
        taxonomy=configured_taxonomy(),
        index=area_index(),
        vendor=connection.vendor,
    )
    if parallel is None:
        parallel = table.estimated_rows > 2 * chunk_rows and (os.cpu_count() or 1) > 1
    with recorded_import("incidents", p, user=user, options=options) as result:
        checker = DuplicateChecker(source)
        may_defer = (
            connection.vendor == "sqlite"
            and table.estimated_rows >= DEFER_INDEXES_FROM
            and table.estimated_rows >= table_rows() // 2
        )
        indexes = DeferredIndexes()
        for part in prepared_chunks(table, preparer, parallel=parallel):
            errors += part.errors
            repeat, in_file, stored = checker.check(part.ids, part.hashes, part.keys)
            for mask, message in (
                (in_file, "duplicate id {!r} with different content"),
                (stored, f"id {{!r}} was imported before (source {source!r}) with different content"),
            ):
                for i in np.flatnonzero(mask):
                    line = int(part.lines[part.positions[i]])
                    errors.append(RowError(fname, line, "id", message.format(part.ids.iat[i])))
                    without_row.append(len(errors) - 1)
            accepted += int(len(part.ids) - in_file.sum() - stored.sum())
            new = ~(repeat | in_file | stored)
            if may_defer and new.sum() >= len(new) // 2 > 0:
                indexes.drop()
            # Written even after an error: later chunks' duplicates are checked against them,
            # and the transaction is rolled back in the end anyway.
            added += insert_incidents(part.values.subset(new))
            checker.written(part.keys[new], part.hashes[new])
            assigned += int((part.area[new] >= 0).sum())
            done += len(part.lines)
            if progress:
                progress(done, max(table.estimated_rows, done))
        if without_row:
            # The rows of duplicate ids, for the rejects file: read again (errors are rare).
            raw = table.rows_at({errors[i].line for i in without_row})
            for i in without_row:
                errors[i] = dataclasses.replace(errors[i], row=raw.get(errors[i].line))
        errors.sort(key=lambda e: (e.line or 0, e.field))
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=accepted)
        rebuilt = indexes.dropped
        indexes.restore()
        result.added = added
        result.details = {
            "assigned": assigned,
            "source": source,
            "indexes_rebuilt": rebuilt,
            "parallel": parallel,
        }
    return result


def _write_with_progress(frame: pd.DataFrame, progress: ProgressCallback | None, chunk: int = 500_000) -> int:
    total = len(frame)
    written = 0
    for start in range(0, total, chunk):
        written += write_incidents(frame.iloc[start : start + chunk])
        if progress:
            progress(written, total)
    if progress and total == 0:
        progress(0, 0)
    return written


def duplicate_errors(fname: str, frame: pd.DataFrame, source: str) -> list[RowError]:
    """Flag ids repeated with different content, in the frame or against stored rows.

    Adds boolean columns ``_reject`` (row is an error) and ``_existing`` (identical row
    already stored, or repeated earlier in the frame): both are skipped on write. The
    frame needs ``external_id``, ``content_hash`` and ``_line``.
    """
    repeat, in_file, stored = DuplicateChecker(source).check(
        frame["external_id"], frame["content_hash"].to_numpy()
    )
    frame["_reject"] = in_file | stored
    frame["_existing"] = repeat
    errors = []
    for mask, message in (
        (in_file, "duplicate id {!r} with different content"),
        (stored, f"id {{!r}} was imported before (source {source!r}) with different content"),
    ):
        for i in np.flatnonzero(mask):
            errors.append(
                RowError(fname, int(frame["_line"].iat[i]), "id", message.format(frame["external_id"].iat[i]))
            )
    return errors
