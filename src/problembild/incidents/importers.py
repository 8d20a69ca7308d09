"""``problembild import incidents FILE``: incidents from CSV, Parquet or GeoJSON.

Default columns: ``id``, ``occurred_at`` (ISO 8601; without an offset it means
Europe/Stockholm), ``type`` (the source's own type), optional ``x``, ``y`` (SWEREF99 TM
metres) or ``lat``, ``lon`` (WGS84 degrees), optional ``municipality`` (4-digit code or
name), optional ``title`` and ``url``. Other names are mapped with ``their_column=field``
(``their_column=`` ignores a column). Every problem is reported with file, line and field;
nothing is written unless every row is valid, or ``skip_invalid`` is set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.areas.models import Municipality
from problembild.core import imports
from problembild.core.imports import (
    MAX_ERRORS,
    ErrorCollector,
    ImportFailed,
    ImportResult,
    ProgressCallback,
    RowError,
    check_file,
    finish_validation,
    recorded_import,
)

from . import bulk
from .rows import (
    CHUNK_ROWS,
    FIELDS,
    REQUIRED,
    SUFFIXES,
    ChunkPreparer,
    RejectedRows,
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
    first_of_each,
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
    common.setdefault("progress", imports.job_progress())
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


class PreviewIds:
    """The ids a preview would have written, to find a repeated id across chunks without
    writing (an import finds those among the rows it wrote). Ids are compared by two
    independent 64-bit keys of their text (:func:`~problembild.incidents.rows.id_keys`
    and a second SipHash), so two different ids are taken for one only if both keys
    collide; an import settles that case against the stored text instead."""

    _SECOND_KEY = "problembild.id.2"  # 16 bytes: a SipHash key

    def __init__(self) -> None:
        self._keys = np.empty(0, np.int64)
        self._second = np.empty(0, np.int64)
        self._hashes = np.empty(0, np.int64)

    def _second_keys(self, ids: pd.Series) -> np.ndarray:
        return pd.util.hash_array(ids.to_numpy(dtype=object), hash_key=self._SECOND_KEY).view(np.int64)

    def check(
        self, ids: pd.Series, hashes: np.ndarray, keys: np.ndarray, candidates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(repeat, changed) masks of the ``candidates`` (rows new so far) against earlier chunks."""
        n = len(ids)
        repeat = np.zeros(n, dtype=bool)
        changed = np.zeros(n, dtype=bool)
        # Within the chunk the first row of an id decides (DuplicateChecker did the rest).
        first = candidates & first_of_each(ids, keys)
        rows = np.flatnonzero(first)
        if len(rows) and len(self._keys):
            pos = np.minimum(np.searchsorted(self._keys, keys[rows]), len(self._keys) - 1)
            found = self._keys[pos] == keys[rows]
            same = found & (self._hashes[pos] == hashes[rows])
            repeat[rows[same]] = True
            other = rows[found & ~same]
            if len(other):
                second = self._second_keys(ids.reset_index(drop=True).iloc[other])
                changed[other[self._second[pos[found & ~same]] == second]] = True
        return repeat, changed

    def add(self, ids: pd.Series, hashes: np.ndarray, keys: np.ndarray) -> None:
        """Remember rows the preview counts as new."""
        if not len(keys):
            return
        # Merged into the sorted keys (see store.merge_pairs), not sorted again with them.
        order = np.argsort(keys, kind="stable")
        keys = np.asarray(keys, dtype=np.int64)[order]
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._second = np.insert(self._second, at, self._second_keys(ids)[order])
        self._hashes = np.insert(self._hashes, at, np.asarray(hashes, dtype=np.int64)[order])


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
    dropping an index there would lock readers out for the whole import); a large load
    refreshes the table's statistics after the commit (:mod:`~problembild.incidents.bulk`). ``parallel``
    (default: for files of more than two chunks) prepares chunks in a worker process
    while this one writes.

    Errors: the first :data:`~problembild.core.errors.MAX_ERRORS` are kept in full, the
    others only counted; the rejects file gets every rejected row, read again from the
    file at the end. In a preview (:func:`~problembild.core.imports.validate_only`) the
    rows are checked and counted exactly as an import would, and none is written.
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

    preview = imports.validating()
    errors = ErrorCollector()
    # Every rejected row's line and reason, when they are to be written to a rejects file.
    rejected_rows = RejectedRows() if rejects is not None and skip_invalid and not preview else None
    accepted = added = assigned = done = 0
    options = {"source": source, "map": mapping, "skip_invalid": skip_invalid}
    preparer = ChunkPreparer(
        fname=fname,
        renamed=renamed,
        source=source,
        lookup=lookup,
        taxonomy=configured_taxonomy(),
        index=area_index(),
        vendor=bulk.storage_form(),
    )
    if parallel is None:
        parallel = table.estimated_rows > 2 * chunk_rows and (os.cpu_count() or 1) > 1
    duplicates = (
        ("duplicate id {!r} with different content", "duplicate id with different content"),
        (
            f"id {{!r}} was imported before (source {source!r}) with different content",
            f"id was imported before (source {source!r}) with different content",
        ),
    )
    with recorded_import("incidents", p, user=user, options=options) as result:
        # The first chunk is prepared (and the worker process started) before the stored
        # ids are read, so that a re-import's worker prepares while this process reads;
        # the worker is stopped however the loop ends.
        with contextlib.closing(prepared_chunks(table, preparer, parallel=parallel)) as parts:
            first = next(parts, None)
            checker = DuplicateChecker(source, expected_rows=table.estimated_rows)
            previewed = PreviewIds() if preview else None
            may_defer = (
                not preview
                and bulk.defers_indexes()
                and table.estimated_rows >= DEFER_INDEXES_FROM
                and table.estimated_rows >= table_rows() // 2
            )
            indexes = DeferredIndexes(municipalities=lookup is not None)
            for part in itertools.chain([first] if first is not None else [], parts):
                if rejected_rows is not None:
                    rejected_rows.add(part.errors)
                repeat, in_file, stored = checker.check(part.ids, part.hashes, part.keys)
                if previewed is not None:
                    # An import finds a repeated id of an earlier chunk among the rows it wrote.
                    again, changed = previewed.check(
                        part.ids, part.hashes, part.keys, ~(repeat | in_file | stored)
                    )
                    repeat |= again
                    in_file |= changed
                found = list(part.errors.first)
                for mask, (message, reason) in zip((in_file, stored), duplicates, strict=True):
                    for n, i in enumerate(np.flatnonzero(mask)):
                        line = int(part.lines[part.positions[i]])
                        if n < MAX_ERRORS:  # the chunk's first errors are enough for the report
                            found.append(RowError(fname, line, "id", message.format(part.ids.iat[i])))
                        if rejected_rows is not None:
                            rejected_rows.add_one(line, "id", reason)
                repeated = int(in_file.sum() + stored.sum())
                found.sort(key=lambda e: (e.line or 0, e.field))
                errors.add_counted(
                    found, total=part.errors.total + repeated, rejected=part.errors.rejected + repeated
                )
                accepted += int(len(part.ids) - repeated)
                new = ~(repeat | in_file | stored)
                if previewed is not None:
                    previewed.add(part.ids[new], part.hashes[new], part.keys[new])
                    added += int(new.sum())
                else:
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
        without_row = [i for i, e in enumerate(errors.kept) if e.row is None]
        if without_row:
            # The rows of duplicate ids, for the report: read again (errors are rare).
            raw = table.rows_at({errors.kept[i].line for i in without_row})
            for i in without_row:
                errors.kept[i] = dataclasses.replace(errors.kept[i], row=raw.get(errors.kept[i].line))
        errors.sort()
        if rejected_rows is not None:
            errors.write_rejects = lambda target: rejected_rows.write(table, target)
        result.added = added
        result.details = {
            "assigned": assigned,
            "source": source,
            "indexes_rebuilt": indexes.dropped,
            "parallel": parallel,
        }
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=accepted)
        indexes.restore()
        if not preview:
            bulk.refresh_statistics(added)  # once committed, and only after a large load
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
    repeat, in_file, stored = DuplicateChecker(source, expected_rows=len(frame)).check(
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
