"""Writing incidents fast and idempotently, and assigning them to areas.

Importers hand over a pandas frame with the columns of :data:`COLUMNS`; this module finds
which rows are new, which repeat a stored row (skipped) and which reuse a stored id with
different content (an error), assigns coordinates to areas, and writes the new rows with
the database's bulk path (:mod:`~problembild.incidents.bulk`: ``COPY`` on PostgreSQL,
``executemany`` on SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
from django.db import connection

from problembild.analysis.spatial import AreaIndex
from problembild.areas.geometry import from_wkb
from problembild.areas.models import Area

from . import bulk
from .models import Incident
from .rows import COLUMNS, IncidentRows, content_hash, exact_match_labels, id_keys, incident_values

__all__ = [
    "COLUMNS",
    "DuplicateChecker",
    "area_index",
    "content_hash",
    "exact_match_labels",
    "id_keys",
    "incident_values",
    "insert_incidents",
    "write_incidents",
]


def area_index() -> AreaIndex | None:
    """An index of every registered area with a boundary (current and historical)."""
    rows = list(Area.objects.exclude(geometry=None).order_by("pk").values_list("pk", "geometry"))
    if not rows:
        return None
    ids = np.array([pk for pk, _ in rows], dtype=np.int64)
    geoms = [from_wkb(wkb) for _, wkb in rows]
    return AreaIndex(geoms, ids)


def _sorted_pairs(keys: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], hashes[order]


def merge_pairs(
    known: tuple[np.ndarray, np.ndarray], keys: np.ndarray, hashes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``known`` (keys sorted, with their hashes) with more pairs merged in, still sorted.

    Only the new pairs are sorted; merging them in costs a copy of the known ones. Equal
    keys keep the order a stable sort of all of them would give (the known ones first).
    """
    keys, hashes = _sorted_pairs(np.asarray(keys, dtype=np.int64), np.asarray(hashes, dtype=np.int64))
    at = np.searchsorted(known[0], keys, side="right")
    return np.insert(known[0], at, keys), np.insert(known[1], at, hashes)


def first_of_each(ids: pd.Series, keys: np.ndarray) -> np.ndarray:
    """True for the first row of each id (by text) of a chunk.

    Equal ids have equal keys, so when no key repeats every row is a first one, which
    sorting the keys shows faster than comparing the texts; otherwise the texts decide.
    """
    ordered = np.sort(np.asarray(keys))
    if not (ordered[1:] == ordered[:-1]).any():
        return np.ones(len(ids), dtype=bool)
    return ~ids.reset_index(drop=True).duplicated(keep="first").to_numpy()


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, value) of each query key in the sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=bool), np.zeros(len(query), dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    found = keys[pos] == query
    return found, np.where(found, values[pos], 0)


def _lookup_runs(
    runs: list[tuple[np.ndarray, np.ndarray]], query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_lookup` in sorted runs, the first run that has a key deciding."""
    found = np.zeros(len(query), dtype=bool)
    known = np.zeros(len(query), dtype=np.int64)
    for keys, values in runs:
        hit, value = _lookup(keys, values, query)
        first = hit & ~found
        known[first] = value[first]
        found |= hit
    return found, known


def stored_hashes(source: str, ids: list[str]) -> dict[str, int]:
    """Stored content hash of each of ``ids`` that exists in ``source`` (exact, by text)."""
    table = connection.ops.quote_name(Incident._meta.db_table)
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT external_id, content_hash FROM {table} WHERE source = %s AND external_id IN ({marks})",
                [source, *part],
            )
            found.update(cursor.fetchall())
    return found


def stored_ids(source: str, *, batch: int = 500_000) -> Iterator[tuple[list[str], np.ndarray]]:
    """The external ids of the stored incidents of ``source`` with their content hashes,
    ``batch`` ids at a time in the order of the (source, external_id) index.

    The database gathers each batch into two JSON arrays (``json_group_array`` on SQLite,
    ``json_agg`` on PostgreSQL), which Python's C JSON parser reads about three times
    faster than the driver builds a tuple per row; a batch starts after the last id of
    the one before, so each is one range of the index.
    """
    table = connection.ops.quote_name(Incident._meta.db_table)
    gather = "json_agg" if connection.vendor == "postgresql" else "json_group_array"
    after = None
    with connection.cursor() as cursor:
        while True:
            since = "" if after is None else "AND external_id > %s"
            cursor.execute(
                f"SELECT {gather}(external_id), {gather}(content_hash), max(external_id), count(*) "
                f"FROM (SELECT external_id, content_hash FROM {table} WHERE source = %s {since} "
                f"ORDER BY external_id LIMIT %s) AS part",
                [source, batch] if after is None else [source, after, batch],
            )
            ids, hashes, last, count = cursor.fetchone()
            if not count:
                return
            if isinstance(ids, str):  # SQLite answers JSON text; psycopg parses json itself
                ids, hashes = json.loads(ids), json.loads(hashes)
            yield ids, np.array(hashes, dtype=np.int64)
            if count < batch:
                return
            after = last


#: Imports of at most this many rows look their ids up in the database's (source,
#: external_id) index instead of reading every stored id: a day's few thousand rows are
#: checked in milliseconds, not in the seconds it takes to read ten million ids.
DIRECT_LOOKUP_ROWS = 20_000


class DuplicateChecker:
    """Tells new rows from repeats and reused ids, across the chunks of one import.

    The stored rows of ``source`` and the rows written so far are held as sorted 64-bit
    id keys with their content hashes (16 bytes a row, so ten million rows fit in 160 MB).
    A key match with the same content hash is a repeat; a key match with a different
    hash is confirmed against the stored text of the id, so a key collision can never
    reject a row.

    ``expected_rows``: how many rows the import brings, when known. At most
    :data:`DIRECT_LOOKUP_ROWS` and the stored ids are not read: each chunk's ids are looked
    up by text in the index (until the rows checked pass that number after all, when the
    stored ids are read once).
    """

    def __init__(self, source: str, *, batch: int = 500_000, expected_rows: int | None = None):
        self.source = source
        self.batch = batch
        self._stored: tuple[np.ndarray, np.ndarray] | None = None
        self._looked_up = 0
        if expected_rows is None or expected_rows > DIRECT_LOOKUP_ROWS:
            self._load()
        # Sorted runs of the rows written so far, oldest first (see :meth:`written`).
        self._written: list[tuple[np.ndarray, np.ndarray]] = []

    def _load(self) -> None:
        """Read every stored id of the source (with the rows this import wrote so far)."""
        keys: list[np.ndarray] = []
        hashes: list[np.ndarray] = []
        if Incident.objects.filter(source=self.source).exists():
            for ids, stored in stored_ids(self.source, batch=self.batch):
                keys.append(id_keys(ids))
                hashes.append(stored)
        self._stored = _sorted_pairs(
            np.concatenate(keys) if keys else np.empty(0, np.int64),
            np.concatenate(hashes) if hashes else np.empty(0, np.int64),
        )

    @property
    def direct(self) -> bool:
        """True while ids are looked up in the database rather than among the stored ones read."""
        return self._stored is None

    @property
    def stored_rows(self) -> int:
        """Stored ids read (0 while :attr:`direct`)."""
        return 0 if self._stored is None else len(self._stored[0])

    def check(
        self, ids: pd.Series, hashes: np.ndarray, keys: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Classify a chunk's rows: ``(repeat, changed_in_file, changed_stored)`` masks.

        ``keys`` are the rows' :func:`id_keys`, when the caller has them already.

        ``repeat``: identical to a stored row or to an earlier row of this import (skip).
        ``changed_in_file``: an earlier row of this import has the id with other content.
        ``changed_stored``: a stored row has the id with other content.
        """
        ids = ids.reset_index(drop=True)
        hashes = np.asarray(hashes, dtype=np.int64)
        n = len(ids)
        repeat = np.zeros(n, dtype=bool)
        in_file = np.zeros(n, dtype=bool)
        stored = np.zeros(n, dtype=bool)
        if keys is None:
            keys = id_keys(ids)
        # Repeats inside the chunk, exactly by text: the first occurrence decides.
        first = first_of_each(ids, keys)
        if not first.all():
            firsts = pd.Series(hashes[first], index=ids[first].to_numpy())
            expected = ids[~first].map(firsts).to_numpy(dtype=np.int64)
            later = np.flatnonzero(~first)
            same = expected == hashes[later]
            repeat[later[same]] = True
            in_file[later[~same]] = True
        idx = np.flatnonzero(first)
        keys = np.asarray(keys)[idx]
        if self._stored is None and self._looked_up + len(idx) > DIRECT_LOOKUP_ROWS:
            self._load()  # more rows than expected: one read of them all is cheaper
        for runs, mask in ((self._written, in_file), (None, stored)):
            if runs is None and self._stored is None:
                self._check_in_database(ids, hashes, idx, keys, repeat, in_file, stored)
                continue
            found, known = _lookup_runs(runs if runs is not None else [self._stored], keys)
            same = found & (known == hashes[idx])
            repeat[idx[same]] = True
            suspect = idx[found & ~same & ~repeat[idx]]
            if len(suspect):
                # Confirm by text (rows written earlier in this import are in the database too).
                actual = stored_hashes(self.source, ids.to_numpy()[suspect].tolist())
                for i in suspect:
                    h = actual.get(ids.iat[i])
                    if h is not None and h == hashes[i]:
                        repeat[i] = True
                    elif h is not None:
                        mask[i] = True
        # A repeat of an earlier row inside this chunk that itself was a repeat stays one.
        return repeat & ~in_file & ~stored, in_file, stored & ~in_file

    def _check_in_database(
        self,
        ids: pd.Series,
        hashes: np.ndarray,
        idx: np.ndarray,
        keys: np.ndarray,
        repeat: np.ndarray,
        in_file: np.ndarray,
        stored: np.ndarray,
    ) -> None:
        """The stored stage of :meth:`check` by looking the ids up, exactly by text.

        ``keys`` are the :func:`id_keys` of the rows ``idx``. Rows whose key this import
        wrote are not looked up: they are in the database too, and were settled against
        this import's own rows.
        """
        seen, _ = _lookup_runs(self._written, keys)
        todo = idx[~seen]
        self._looked_up += len(todo)
        actual = stored_hashes(self.source, ids.to_numpy()[todo].tolist())
        for i in todo:
            h = actual.get(ids.iat[i])
            if h is None:
                continue
            if h == hashes[i]:
                repeat[i] = True
            else:
                stored[i] = True

    def written(self, keys: np.ndarray, hashes: np.ndarray) -> None:
        """Remember rows this import has written, by their :func:`id_keys`.

        Each chunk's rows become a sorted run; a run is merged into the one before it
        while that one is at most twice as long, so a few runs hold all rows and each row
        is copied a few times, not once for every later chunk.
        """
        runs = self._written
        runs.append(_sorted_pairs(np.asarray(keys, dtype=np.int64), np.asarray(hashes, dtype=np.int64)))
        while len(runs) > 1 and len(runs[-2][0]) <= 2 * len(runs[-1][0]):
            newer = runs.pop()
            runs.append(merge_pairs(runs.pop(), *newer))


def table_rows() -> int:
    """The number of stored incidents (all sources)."""
    return Incident.objects.count()


class DeferredIndexes:
    """Drops the incident table's secondary indexes for a large load and builds them again.

    Building an index once over the finished table is much faster than keeping it up to
    date through millions of inserts. :meth:`drop` is called once a load turns out to add
    many rows (a repeated import adds none and keeps its indexes); :meth:`restore` builds
    them with the migrations' SQL (partial conditions included). Both run in the caller's
    transaction, so a failed import rolls the indexes back with the rows. The unique
    (source, external_id) index stays: it guards the data during the load.

    ``municipalities=False`` (a file without a municipality column) keeps the index of
    rows with a municipality, and the index of approximate matches is always kept: a
    file's rows enter neither, so keeping them costs nothing while building each again
    reads the whole table.
    """

    def __init__(self, *, municipalities: bool = True) -> None:
        self.dropped = False
        kept = {"incident_approx_area_time"} | (set() if municipalities else {"incident_muni_time"})
        self.indexes = [index for index in Incident._meta.indexes if index.name not in kept]

    def drop(self) -> None:
        if self.dropped:
            return
        with connection.cursor() as cursor:
            for index in self.indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")
        self.dropped = True

    def restore(self) -> None:
        if not self.dropped:
            return
        editor = connection.schema_editor(collect_sql=True)
        with connection.cursor() as cursor:
            for index in self.indexes:
                cursor.execute(str(index.create_sql(Incident, editor)))
        self.dropped = False


def insert_incidents(values: IncidentRows) -> int:
    """Insert rows made by :func:`incident_values`. Returns rows written."""
    return bulk.insert(values)


def write_incidents(frame: pd.DataFrame, *, import_record_id: int | None = None) -> int:
    """Insert the rows of ``frame`` (already validated and new). Returns rows written."""
    return insert_incidents(
        incident_values(frame, vendor=bulk.storage_form(), import_record_id=import_record_id)
    )
