"""Stage *load*, kept between runs: the incident columns of the last refresh, extended by the new rows.

A daily refresh follows an import that added a few thousand rows to millions. Reading
every row again is most of its load (about 9 s at ten million), so the columns a run read
are kept in the data directory (``INCIDENT_SNAPSHOTS``: ``DATA_DIR/snapshots/incidents``,
one ``.npy`` per column) with the highest id they cover, and the next run reads only the
rows above it and keeps them as one more segment beside the others.

Kept columns are used only while nothing else changed:

* the :class:`~problembild.picture.models.StoreVersion` (``token``, ``version``) is as it
  was: database triggers raise it on every ``UPDATE``, ``DELETE`` or ``TRUNCATE`` of the
  incident table, whoever writes, and a new database (or one emptied) has a new token;
* the indicator vocabulary is the same (the columns hold its codes);
* the store still reaches the kept id; on PostgreSQL the rows up to it are still as many as
  when they were read (a transaction that took a lower id and committed after the read
  would be missed otherwise; SQLite has one writer at a time, so its ids are committed in
  order). All rows are counted, not only those a load returns: the count then reads the
  primary key alone (0.6–0.9 s at ten million rows against 1.5–1.9 s for the load's
  condition), and as deletes and updates change the store version, only inserts can change
  the count. A whole read counts too (before its rows), so that the next run can check.

Anything else, or ``reuse=False`` (``refresh --full``), reads the whole store and keeps it
anew. Concurrent runs (chunks of a fan-out) each write their own segment folder and swap
the pointer file that lists the segments, so a reader sees one whole snapshot or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from problembild.analysis.vocabulary import INDICATOR_CODES
from problembild.incidents.models import Incident

from ..models import StoreVersion
from .load import IncidentArrays, load_incidents

#: Bumped when the kept files' layout or meaning changes: older snapshots are read no more.
#: 2: the pointer counts every stored row up to its id (``stored``), not the loaded ones.
FORMAT = 2
_POINTER = "current.json"


@dataclass
class Loaded:
    """How the incidents were loaded: from the kept columns plus new rows, or all read."""

    kept_rows: int = 0
    new_rows: int = 0
    #: ``reused`` (kept columns and the rows above them), ``read`` (the whole store), and why.
    how: str = "read"
    reason: str = ""
    #: Where the rows are kept: the folder and row count of each segment, in row order
    #: (empty when nothing is kept). Not reported: :meth:`report` leaves it out.
    segments: list[tuple[Path, int]] = field(default_factory=list)

    def report(self) -> dict:
        """What the refresh summary says about the load."""
        return {k: v for k, v in self.__dict__.items() if k != "segments"}


def directory() -> Path | None:
    """Where the columns are kept (``INCIDENT_SNAPSHOTS``: ``DATA_DIR/snapshots/incidents``); None: nowhere."""
    where = getattr(settings, "INCIDENT_SNAPSHOTS", None)
    return None if where is None else Path(where)


def stamp() -> tuple[str, int]:
    """The store version (token, version); the row is created anew (new token) when missing.

    Clears ``changed`` first, so that the next change of a stored incident raises the
    version again (SQLite's triggers raise it once until then).
    """
    with transaction.atomic():
        StoreVersion.objects.filter(changed=True).update(changed=False)
        row = StoreVersion.objects.order_by("pk").values_list("token", "version").first()
        if row is None:
            created = StoreVersion.objects.create(token=uuid.uuid4().hex)
            row = (created.token, created.version)
    return str(row[0]), int(row[1])


def load(
    sources: list[str], *, reuse: bool = True, where: Path | None = None
) -> tuple[IncidentArrays, Loaded]:
    """The incidents as :func:`~.load.load_incidents` reads them; from kept columns when valid.

    ``sources``: the source names the ``source`` codes index. Keeps what it returns for the
    next run (``where``, default :func:`directory`; when that is None, reads the whole store
    and keeps nothing): the first time all of it, later only the new rows, as one more
    segment (up to :data:`MAX_SEGMENTS`, then all as one again).
    """
    where = directory() if where is None else where
    if where is None:
        data = load_incidents(sources)
        return data, Loaded(new_rows=len(data), how="read", reason="not kept (INCIDENT_SNAPSHOTS)")
    version = stamp()  # before the rows: a change after it is seen by the next run
    upto = max_id()
    pointer, reason = _pointer(where, version, upto) if reuse else (None, "full")
    data = None
    if pointer is not None:
        # Counted before the rows are read: a row committed in between is then read but not
        # counted, and the next run reads everything again, rather than the reverse (missed).
        stored = _stored(upto, above=int(pointer["upto"]), base=pointer.get("stored"))
        new = load_incidents(sources, after=int(pointer["upto"]), upto=upto)
        try:
            data = _read_segments(where, pointer["segments"], sources, new)
        except (OSError, ValueError, KeyError, TypeError):
            pointer, reason = None, "kept columns unreadable"
    if data is None:  # nothing kept, or the kept columns unusable
        stored = _stored(upto)
        data = load_incidents(sources, upto=upto)
        segments = [_write_segment(where, data, sources)]
        _keep(where, segments, version, upto, stored)
        return data, Loaded(new_rows=len(data), how="read", reason=reason, segments=_placed(where, segments))
    segments = list(pointer["segments"])
    if len(new) or int(pointer["upto"]) != upto:
        if len(segments) >= MAX_SEGMENTS:
            segments = [_write_segment(where, data, sources)]
        else:
            segments.append(_write_segment(where, new, sources))
        _keep(where, segments, version, upto, stored)
    return data, Loaded(
        kept_rows=len(data) - len(new), new_rows=len(new), how="reused", segments=_placed(where, segments)
    )


def _placed(where: Path, segments: list[dict]) -> list[tuple[Path, int]]:
    return [(where / str(s["folder"]), int(s["rows"])) for s in segments]


def column(
    data: IncidentArrays,
    loaded: Loaded,
    name: str,
    key: str,
    compute: Callable[[IncidentArrays], np.ndarray],
) -> np.ndarray:
    """A column computed from the incidents (``compute(rows)``, one value per row), kept
    beside the segments (:func:`per_segment`): a daily run computes it for the new rows only.

    ``key`` names everything besides the rows that the values depend on (a municipality
    index, the time zone rules): another key computes them again. Without kept segments
    (:attr:`Loaded.segments`), or when a file cannot be written, the values are computed
    and not kept.
    """
    parts = [
        p["values"] for p in per_segment(data, loaded, name, key, lambda rows: {"values": compute(rows)})
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def per_segment(
    data: IncidentArrays,
    loaded: Loaded,
    name: str,
    key: str,
    compute: Callable[[IncidentArrays], dict[str, np.ndarray]],
) -> list[dict[str, np.ndarray]]:
    """A summary of each segment's rows (``compute(rows)``: named arrays), kept beside it.

    For summaries that add up (counts): the caller combines the segments' parts, and a
    daily run computes the part of the new rows only. Kept as ``<name>-<hash of key>.npz``,
    ``key`` as for :func:`column`. Without kept segments: one part, of all rows, not kept.
    """
    if sum(rows for _, rows in loaded.segments) != len(data) or not loaded.segments:
        return [compute(data)]
    label = f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    parts = []
    start = 0
    for folder, rows in loaded.segments:
        path = folder / f"{label}.npz"
        part = None
        try:
            with np.load(path, allow_pickle=False) as stored:
                part = {k: stored[k] for k in stored.files}
        except (OSError, ValueError):
            pass
        if part is None or int(part.get("rows", -1)) != rows:
            part = {**compute(data.take(slice(start, start + rows))), "rows": np.array(rows)}
            _save(folder, label, name, part)
        start += rows
        parts.append(part)
    return parts


def _save(folder: Path, label: str, name: str, values: dict[str, np.ndarray]) -> None:
    """Write a segment's named arrays (atomically) and drop those of the same name and another key."""
    try:
        staged = folder / f".{label}-{uuid.uuid4().hex}.npz"
        np.savez(staged, allow_pickle=False, **values)
        os.replace(staged, folder / f"{label}.npz")
        for other in folder.glob(f"{name}-*.npz"):
            if other.name != f"{label}.npz":
                other.unlink(missing_ok=True)
    except OSError:  # the folder went (a concurrent run compacted it): computed, not kept
        pass


#: Segments (one per run that read new rows) before they are written as one again.
MAX_SEGMENTS = 32


def max_id() -> int:
    """The highest incident id in the store (0 when empty): an upper bound of the rows a load reads."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {Incident._meta.db_table}")
        (hi,) = cursor.fetchone()
    return int(hi or 0)


def _pointer(where: Path, version: tuple[str, int], upto: int) -> tuple[dict | None, str]:
    """The kept snapshot's description when it can be extended, or None and why not."""
    try:
        pointer = json.loads((where / _POINTER).read_text())
        kept_upto = int(pointer["upto"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, "no kept columns"
    if pointer.get("format") != FORMAT or pointer.get("indicators") != list(INDICATOR_CODES):
        return None, "kept columns of another format"
    if [pointer.get("token"), pointer.get("version")] != list(version) or upto < kept_upto:
        return None, "stored incidents changed"
    if _stored(kept_upto) != pointer.get("stored"):
        return None, "rows committed late below the kept id"
    return pointer, ""


def _read_segments(
    where: Path, segments: list[dict], sources: list[str], new: IncidentArrays
) -> IncidentArrays:
    """The kept segments' rows followed by ``new``'s, each column read straight into its place.

    One array per column, filled from the files in order: reading the segments and then
    concatenating them would copy the whole store twice (over a second and 0.4 GB at ten
    million incidents). Source codes are recoded to ``sources`` in place.
    """
    rows = [int(segment["rows"]) for segment in segments]
    total = sum(rows) + len(new)
    columns = {}
    for name in _FIELDS:
        tail = getattr(new, name)
        out = np.empty(total, dtype=tail.dtype)
        start = 0
        for segment, n in zip(segments, rows, strict=True):
            part = out[start : start + n]
            _read_into(where / str(segment["folder"]) / f"{name}.npy", part)
            if name == "source":
                part[:] = _recode(part, list(segment["sources"]), sources)
            start += n
        out[start:] = tail
        columns[name] = out
    return IncidentArrays(**columns)


def _read_into(path: Path, out: np.ndarray) -> None:
    """Fill ``out`` (a contiguous 1-D array) from the ``.npy`` file at ``path``, which must hold
    an array of exactly its length and type (ValueError otherwise)."""
    with path.open("rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"{path}: .npy format {version}")
        if shape != out.shape or dtype != out.dtype:
            raise ValueError(f"{path}: {shape} {dtype}, expected {out.shape} {out.dtype}")
        if f.readinto(out.view(np.uint8)) != out.nbytes:
            raise ValueError(f"{path}: shorter than its header says")


def _stored(upto: int, *, above: int = 0, base: int | None = 0) -> int | None:
    """On PostgreSQL the stored rows (all of them, counted or not) with an id up to ``upto``:
    ``base`` (the count up to ``above``, already checked) plus those in ``(above, upto]``,
    which the primary key finds without reading the rest. None on SQLite, whose ids are
    committed in order (nothing to check).
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Incident._meta.db_table} WHERE id > %s AND id <= %s", [above, upto]
        )
        (n,) = cursor.fetchone()
    return int(base or 0) + int(n)


def _recode(codes: np.ndarray, old: list[str], new: list[str]) -> np.ndarray:
    """Source codes indexing ``old`` as codes indexing ``new`` (-1 stays -1, as do names gone)."""
    if old == new:
        return codes
    position = {name: i for i, name in enumerate(new)}
    table = np.array([position.get(name, -1) for name in old] + [-1], dtype=codes.dtype)
    return table[codes]  # -1 indexes the table's last entry, -1


_FIELDS = tuple(IncidentArrays.__dataclass_fields__)


def _write_segment(where: Path, data: IncidentArrays, sources: list[str]) -> dict:
    """Write ``data``'s columns to a new folder; its entry in the pointer file."""
    where.mkdir(parents=True, exist_ok=True)
    folder = f"snap-{uuid.uuid4().hex}"
    (where / folder).mkdir()
    for name in _FIELDS:
        np.save(where / folder / f"{name}.npy", getattr(data, name), allow_pickle=False)
    return {"folder": folder, "rows": len(data), "sources": list(sources)}


def _keep(where: Path, segments: list[dict], version: tuple[str, int], upto: int, stored: int | None) -> None:
    """Point at ``segments`` (atomically: readers see the old list or the new) and remove the rest.

    ``stored``: :func:`_stored` up to ``upto`` when the rows were read.
    """
    pointer = {
        "format": FORMAT,
        "token": version[0],
        "version": version[1],
        "upto": upto,
        "stored": stored,
        "indicators": list(INDICATOR_CODES),
        "segments": segments,
    }
    staged = where / f".{segments[-1]['folder']}.json"
    staged.write_text(json.dumps(pointer))
    os.replace(staged, where / _POINTER)
    keep = {s["folder"] for s in segments}
    for other in where.glob("snap-*"):
        if other.name not in keep:
            shutil.rmtree(other, ignore_errors=True)
