"""Incident rows without Django: reading files in chunks, validating them, and turning
them into database rows.

Everything here is plain pandas/NumPy/pyarrow, so a worker process can prepare the next
chunk of a large import while the main process writes the current one
(:mod:`problembild.incidents.importers`). Nothing in this module touches a database.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.analysis.spatial import AreaIndex, inside_sweden, to_sweref
from problembild.analysis.vocabulary import LOCAL_TIMEZONE
from problembild.core.errors import ImportFailed, RowError

from .taxonomy import Taxonomy

#: ``Incident.area_match`` values (see :class:`problembild.incidents.models.AreaMatch`).
MATCH_EXACT = "exact"
MATCH_NONE = ""

FIELDS = ("id", "occurred_at", "type", "x", "y", "lat", "lon", "municipality", "title", "url")
REQUIRED = ("id", "occurred_at", "type")
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".geojson", ".json")
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")


#: Rows validated, checked and written at a time: bounds memory for files of any size.
CHUNK_ROWS = 500_000


class Table:
    """A file of incidents read in chunks of at most ``chunk_rows`` rows of strings.

    ``columns`` is known on opening; iterating yields ``(frame, line numbers)``. ``unit``
    names what a line number counts (``line`` of a CSV file, ``row`` of a Parquet file,
    ``feature`` of a GeoJSON file); ``estimated_rows`` sizes the progress bar.
    """

    def __init__(self, path: Path, chunk_rows: int = CHUNK_ROWS):
        self.path = path
        self.chunk_rows = chunk_rows
        name = path.name.lower()
        self.kind = (
            "csv"
            if name.endswith((".csv", ".csv.gz"))
            else "parquet"
            if name.endswith(".parquet")
            else "json"
        )
        self.unit = {"csv": "line", "parquet": "row", "json": "feature"}[self.kind]
        self._frame: pd.DataFrame | None = None
        try:
            if self.kind == "csv":
                self.columns = _csv_header(path)
                self.estimated_rows = _estimate_csv_rows(path)
            elif self.kind == "parquet":
                import pyarrow.parquet as pq

                meta = pq.ParquetFile(path)
                self.columns = list(meta.schema_arrow.names)
                self.estimated_rows = meta.metadata.num_rows
            else:
                self._frame = _read_geojson(path)
                self.columns = list(self._frame.columns)
                self.estimated_rows = len(self._frame)
        except ImportFailed:
            raise
        except Exception as exc:  # parsers raise many types
            raise self.failed(exc) from None

    def rows_at(self, lines: set[int]) -> dict[int, dict]:
        """The raw rows at ``lines`` (line numbers as reported), read again from the file."""
        found: dict[int, dict] = {}
        for chunk, numbers in self:
            for position in np.flatnonzero(np.isin(numbers, list(lines))):
                found[int(numbers[position])] = chunk.iloc[position].to_dict()
        return found

    def failed(self, exc: Exception) -> ImportFailed:
        return ImportFailed([RowError(str(self.path), None, "file", f"cannot read the file: {exc}")])

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        self._invalid: list = []
        try:
            yield from self._chunks()
        except ImportFailed:
            raise
        except Exception as exc:
            if self._invalid:
                raise self._invalid_row(self._invalid[0]) from None
            raise self.failed(exc) from None

    def _invalid_row(self, row) -> ImportFailed:
        """The error for a CSV record with the wrong number of fields, with its line."""
        line = None
        text = row.text.rstrip("\r\n")
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        with opener(self.path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            for number, candidate in enumerate(handle, start=1):
                if candidate.rstrip("\r\n") == text:
                    line = number
                    break
        return ImportFailed(
            [
                RowError(
                    str(self.path),
                    line,
                    "file",
                    f"expected {row.expected_columns} fields, found {row.actual_columns}: {text[:120]!r}",
                )
            ]
        )

    def _on_invalid_row(self, row) -> str:
        self._invalid.append(row)
        return "error"

    def _chunks(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        first = 2 if self.kind == "csv" else 1  # line 1 of a CSV file is its header
        if self._frame is not None:
            yield self._frame, np.arange(first, len(self._frame) + first)
            return
        done = 0
        for frame in self._frames():
            # Records with embedded line breaks would shift CSV line numbers; they are rare
            # in incident exports, and the record number is still reported.
            yield frame, np.arange(first + done, first + done + len(frame))
            done += len(frame)

    def _frames(self) -> Iterator[pd.DataFrame]:
        import pyarrow as pa

        if self.kind == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.chunk_rows):
                frame = batch.to_pandas()
                yield frame.astype({c: "string" for c in frame.columns}).fillna("").astype(object)
            return
        import pyarrow.csv as pacsv

        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=16 << 20, use_threads=True),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=self._on_invalid_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in self.columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending: list = []
        size = 0
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            if size >= self.chunk_rows:
                yield _to_frame(pending)
                pending, size = [], 0
        if pending:
            yield _to_frame(pending)


def _to_frame(batches: list) -> pd.DataFrame:
    import pyarrow as pa

    table = pa.Table.from_batches(batches)
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get)


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header or not any(h.strip() for h in header):
        raise ImportFailed([RowError(str(path), 1, "file", "the file has no header line")])
    return header


def _estimate_csv_rows(path: Path) -> int:
    """Rows of a CSV file, estimated from the size and the first megabyte."""
    if path.name.lower().endswith(".gz"):
        return 0
    size = path.stat().st_size
    with open(path, "rb") as handle:
        sample = handle.read(1 << 20)
    lines = sample.count(b"\n")
    if len(sample) == size:
        return max(lines - 1 + (not sample.endswith(b"\n")), 0)
    return int(size / (len(sample) / max(lines, 1)))


def _read_geojson(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features") if isinstance(data, dict) else None
    if features is None:
        raise ValueError("not a GeoJSON FeatureCollection")
    records = []
    for feature in features:
        props = dict(feature.get("properties") or {})
        geom = feature.get("geometry") or {}
        if geom.get("type") == "Point":
            lon, lat = geom["coordinates"][:2]
            props.setdefault("lon", lon)
            props.setdefault("lat", lat)
        records.append({k: "" if v is None else str(v) for k, v in props.items()})
    return pd.DataFrame.from_records(records).astype(object)


def parse_times(values: pd.Series) -> pd.Series:
    """ISO 8601 strings -> UTC timestamps (NaT where invalid).

    Values without an offset are Europe/Stockholm local time; in the autumn's repeated
    hour they are read as summer time, and spring's missing hour moves forward.
    """
    s = values.astype(str).str.strip()
    has_offset = s.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool)
    naive = ~has_offset & (s != "").to_numpy(dtype=bool)
    # Microseconds cover any plausible date; nanoseconds would overflow on garbage years.
    out = np.full(len(s), np.datetime64("NaT", "us"), dtype="datetime64[us]")
    if has_offset.any():
        parsed = pd.to_datetime(s[has_offset], format="ISO8601", utc=True, errors="coerce")
        out[has_offset] = parsed.dt.tz_localize(None).dt.as_unit("us").to_numpy()
    if naive.any():
        local = pd.DatetimeIndex(pd.to_datetime(s[naive], format="ISO8601", errors="coerce")).as_unit("us")
        local = local.tz_localize(LOCAL_TIMEZONE, ambiguous=True, nonexistent="shift_forward")
        out[naive] = local.tz_convert("UTC").tz_localize(None).to_numpy()
    with np.errstate(invalid="ignore"):
        implausible = (out < np.datetime64("1900-01-01", "us")) | (out >= np.datetime64("2100-01-01", "us"))
    out[implausible] = np.datetime64("NaT", "us")
    return pd.Series(pd.DatetimeIndex(out).tz_localize("UTC"), index=s.index)


def normalise_name(name: str) -> str:
    return " ".join(name.replace("-", " ").casefold().split())


def _numbers(values: pd.Series) -> np.ndarray:
    """Stripped decimal strings (point or comma) -> floats; NaN where empty or not a number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values, type=pa.large_string())
        text = pc.replace_substring(text, ",", ".")
        # Arrow's parser is ten times faster than pandas' but stops at the first bad value;
        # then pandas finds every one of them.
        return pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)


def validate_chunk(
    frame: pd.DataFrame, source: str, lookup: dict[str, str] | None
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, str]]]:
    """Parse one chunk of renamed columns into store rows; ``bad`` maps field -> (rows, message)."""
    n = len(frame)
    bad: dict[str, tuple[np.ndarray, str]] = {}

    def flag(field: str, mask, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            prev = bad.get(field)
            bad[field] = (mask | prev[0], message) if prev else (mask, message)

    ids = frame["id"].astype(str).str.strip()
    flag("id", (ids == "").to_numpy(), "empty id")
    flag("id", (ids.str.len() > 100).to_numpy(), "id longer than 100 characters")
    when = parse_times(frame["occurred_at"].astype(str))
    flag("occurred_at", when.isna().to_numpy(), "not an ISO 8601 date and time")
    types = frame["type"].astype(str).str.strip()
    flag("type", (types == "").to_numpy(), "empty type")
    flag("type", (types.str.len() > 120).to_numpy(), "type longer than 120 characters")

    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    has_xy = "x" in frame.columns
    if has_xy or "lat" in frame.columns:
        a, b = ("x", "y") if has_xy else ("lon", "lat")
        sa = frame[a].astype(str).str.strip()
        sb = frame[b].astype(str).str.strip()
        va, vb = _numbers(sa), _numbers(sb)
        empty = (sa == "").to_numpy() & (sb == "").to_numpy()
        flag(a, ~empty & ~np.isfinite(va), "not a number")
        flag(b, ~empty & ~np.isfinite(vb), "not a number")
        ok = np.isfinite(va) & np.isfinite(vb)
        if not has_xy:
            inside_degrees = (np.abs(va) <= 180) & (np.abs(vb) <= 90)
            flag(b, ok & ~inside_degrees, "latitude/longitude out of range")
            ok &= inside_degrees
            x[ok], y[ok] = to_sweref(va[ok], vb[ok])
        else:
            x[ok], y[ok] = va[ok], vb[ok]
        outside = ok & ~inside_sweden(x, y)
        flag(
            a,
            outside,
            "coordinates outside Sweden (x, y must be SWEREF99 TM metres)"
            if has_xy
            else "coordinates outside Sweden",
        )
        x[~ok | outside] = np.nan
        y[~ok | outside] = np.nan

    muni = np.full(n, "", dtype=object)
    if lookup is not None:
        names = frame["municipality"].astype(str).str.strip()
        codes = names.map(lambda v: lookup.get(normalise_name(v), lookup.get(v)) if v else "")
        flag("municipality", codes.isna().to_numpy(), "unknown municipality (give an SCB code or a name)")
        muni = codes.fillna("").to_numpy(dtype=object)

    out = pd.DataFrame(
        {
            "source": source,
            "external_id": ids.array,
            "occurred_at": pd.DatetimeIndex(when),
            "raw_type": types.array,
            "x": x,
            "y": y,
            "municipality_code": muni,
            "title": frame["title"].astype(str).str.slice(0, 300).array if "title" in frame.columns else "",
            "summary": "",
            "url": frame["url"].astype(str).str.slice(0, 400).array if "url" in frame.columns else "",
            "synthetic": False,
        }
    )
    out["content_hash"] = content_hash(out)
    return out, bad


def row_errors(fname: str, frame: pd.DataFrame, lines: np.ndarray, bad: dict) -> list[RowError]:
    errors: list[RowError] = []
    if not bad:
        return errors
    for field, (mask, message) in bad.items():
        for i in np.flatnonzero(mask):
            errors.append(RowError(fname, int(lines[i]), field, message, frame.iloc[i].to_dict()))
    errors.sort(key=lambda e: (e.line or 0, e.field))
    return errors


#: Frame columns -> database columns of ``Incident``.
COLUMNS = (
    "source",
    "external_id",
    "occurred_at",
    "raw_type",
    "indicator",
    "x",
    "y",
    "area_id",
    "area_match",
    "municipality_code",
    "county_code",
    "title",
    "summary",
    "url",
    "synthetic",
    "content_hash",
    "import_record_id",
)

#: The :data:`COLUMNS` that hold text (the others are ids, times, numbers and flags).
TEXT_COLUMNS = tuple(
    c
    for c in COLUMNS
    if c
    not in (
        "external_id",
        "occurred_at",
        "x",
        "y",
        "area_id",
        "synthetic",
        "content_hash",
        "import_record_id",
    )
)

HASHED = ("external_id", "occurred_at", "raw_type", "x", "y", "municipality_code", "title", "summary")


def content_hash(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's content, to tell a repeat from a changed row."""
    cols = [c for c in HASHED if c in frame.columns]
    return pd.util.hash_pandas_object(frame[cols], index=False).to_numpy().view(np.int64)


def id_keys(ids) -> np.ndarray:
    """64-bit keys of external ids (SipHash of the text), for membership tests in memory."""
    return pd.util.hash_array(np.asarray(ids, dtype=object)).view(np.int64)


def _db_datetimes(values: pd.Series, vendor: str) -> list[str]:
    """UTC datetimes in the text form the database ``vendor`` stores and compares."""
    utc = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
    text = np.datetime_as_string(utc.to_numpy(dtype="datetime64[s]"), unit="s")
    if vendor == "sqlite":
        # Django's SQLite backend stores "YYYY-MM-DD HH:MM:SS" and compares as text.
        return np.strings.replace(text, "T", " ").tolist()
    return np.strings.add(text, "+00:00").tolist()


def _nullable(values: np.ndarray) -> list:
    arr = np.asarray(values, dtype=float)
    out = arr.astype(object)
    out[np.isnan(arr)] = None
    return out.tolist()


@dataclass
class IncidentRows:
    """Database rows of incidents: the varying ``columns`` as tuples in ``rows``, and the
    columns whose value is the same in every row as ``constants`` (written once into the
    statement instead of bound per row: binding is a large share of SQLite's insert time)."""

    columns: tuple[str, ...]
    constants: dict[str, object]
    rows: list[tuple]

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, keep: np.ndarray) -> IncidentRows:
        """The rows where ``keep`` is true."""
        if keep.all():
            return self
        rows = [r for r, k in zip(self.rows, keep, strict=True) if k]
        return IncidentRows(self.columns, self.constants, rows)


def incident_values(frame: pd.DataFrame, *, vendor: str, import_record_id: int | None = None) -> IncidentRows:
    """The rows of ``frame`` in the storage form of the database ``vendor``. Needs no
    database connection, so it can run in a worker process."""
    n = len(frame)
    if n == 0:
        return IncidentRows(COLUMNS, {}, [])
    area = frame["area_id"].to_numpy(dtype=np.int64)

    def text(col: str):
        return frame[col].fillna("").astype(str) if col in frame.columns else None

    constants: dict[str, object] = {"import_record_id": import_record_id}
    synthetic = frame["synthetic"].to_numpy(dtype=bool)
    if synthetic.all() or not synthetic.any():
        constants["synthetic"] = bool(synthetic[0])
    if (area < 0).all():
        constants["area_id"] = None
    texts = {}
    for col in TEXT_COLUMNS:
        values = text(col)
        if values is None:
            constants[col] = ""
        elif "\x00" not in (first := values.iat[0]) and (values == first).all():
            constants[col] = first  # the same in every row: an SQL literal (no NUL allowed)
        else:
            texts[col] = values

    def column(name: str) -> list:
        if name in texts:
            return texts[name].tolist()
        if name == "external_id":
            return frame["external_id"].astype(str).tolist()
        if name == "occurred_at":
            return _db_datetimes(frame["occurred_at"], vendor)
        if name in ("x", "y"):
            return _nullable(frame[name].to_numpy())
        if name == "area_id":
            values = area.astype(object)
            values[area < 0] = None
            return values.tolist()
        if name == "synthetic":
            return synthetic.tolist()
        if name == "content_hash":
            return frame["content_hash"].to_numpy(dtype=np.int64).tolist()
        raise KeyError(name)

    varying = tuple(c for c in COLUMNS if c not in constants)
    return IncidentRows(varying, constants, list(zip(*(column(c) for c in varying), strict=True)))


def exact_match_labels(area_ids: np.ndarray) -> np.ndarray:
    """``area_match`` values for coordinate-based assignment."""
    return np.where(np.asarray(area_ids) >= 0, MATCH_EXACT, MATCH_NONE).astype(object)


@dataclass
class PreparedChunk:
    """One chunk of a file, validated and turned into database rows."""

    lines: np.ndarray  # line (row, feature) number of each row of the chunk
    errors: list[RowError]  # field errors of the chunk's rows
    positions: np.ndarray  # positions of the valid rows in the chunk
    ids: pd.Series  # their external ids
    hashes: np.ndarray  # their content hashes
    keys: np.ndarray  # their id keys (:func:`id_keys`)
    area: np.ndarray  # their area ids (-1: none)
    values: IncidentRows  # their database rows


@dataclass
class ChunkPreparer:
    """Turns raw chunks of one file into :class:`PreparedChunk` s; picklable.

    ``renamed`` maps the file's columns to fields, ``lookup`` municipality names and
    codes to codes (None: the file has no municipality column), ``taxonomy`` the raw
    types' indicator groups, ``index`` the registered
    areas (None: no area has a boundary), ``vendor`` the database's storage form.
    """

    fname: str
    renamed: dict[str, str]
    source: str
    lookup: dict[str, str] | None
    taxonomy: Taxonomy
    index: AreaIndex | None
    vendor: str

    def __call__(self, chunk: pd.DataFrame, lines: np.ndarray) -> PreparedChunk:
        frame = chunk[list(self.renamed)].rename(columns=self.renamed)
        out, bad = validate_chunk(frame, self.source, self.lookup)
        valid = np.ones(len(out), dtype=bool)
        for mask, _ in bad.values():
            valid &= ~mask
        positions = np.flatnonzero(valid)
        if not valid.all():
            out = out.iloc[positions].reset_index(drop=True)
        xs, ys = out["x"].to_numpy(), out["y"].to_numpy()
        area = self.index.assign(xs, ys) if self.index is not None else np.full(len(out), -1, dtype=np.int64)
        out = out.assign(
            indicator=self.taxonomy.map_array(out["raw_type"]),
            area_id=area,
            area_match=exact_match_labels(area),
            county_code="",
        )
        return PreparedChunk(
            lines=lines,
            errors=row_errors(self.fname, chunk, lines, bad),
            positions=positions,
            ids=out["external_id"],
            hashes=out["content_hash"].to_numpy(dtype=np.int64),
            keys=id_keys(out["external_id"].to_numpy()),
            area=np.asarray(area, dtype=np.int64),
            values=incident_values(out, vendor=self.vendor),
        )


def _prepare_file(path: str, chunk_rows: int, preparer: ChunkPreparer, out, skip: int) -> None:
    """Worker process: read the file like the caller does and send each chunk prepared,
    but the first ``skip`` (the caller prepares those while this process starts)."""
    try:
        for number, (chunk, lines) in enumerate(Table(Path(path), chunk_rows)):
            if number >= skip:
                out.put(("chunk", preparer(chunk, lines)))
        out.put(("done", None))
    except BaseException as exc:  # handed to the caller, raised there
        out.put(("error", exc))


def prepared_chunks(table: Table, preparer: ChunkPreparer, *, parallel: bool) -> Iterator[PreparedChunk]:
    """Each chunk of ``table`` prepared, in file order.

    With ``parallel``, a worker process reads the file and prepares chunk *k + 1* while
    the caller writes chunk *k*, so parsing and the database write each get a core. The
    caller prepares the first chunk itself while the worker starts. The worker is started
    with ``spawn``: forking a process that holds threads and connections is unsafe.
    """
    if not parallel:
        for chunk, lines in table:
            yield preparer(chunk, lines)
        return
    import multiprocessing
    import queue

    context = multiprocessing.get_context("spawn")
    results = context.Queue(maxsize=2)
    worker = context.Process(
        target=_prepare_file, args=(str(table.path), table.chunk_rows, preparer, results, 1), daemon=True
    )
    worker.start()

    def receive():
        while True:
            try:
                return results.get(timeout=1.0)
            except queue.Empty:
                if not worker.is_alive():
                    raise RuntimeError(
                        f"the worker preparing {table.path} stopped (exit code {worker.exitcode})"
                    ) from None

    try:
        for chunk, lines in table:
            yield preparer(chunk, lines)
            break
        while True:
            kind, payload = receive()
            if kind == "error":
                raise payload
            if kind == "done":
                return
            yield payload
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        results.close()
