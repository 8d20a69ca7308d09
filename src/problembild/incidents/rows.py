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
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from problembild.analysis.spatial import AreaIndex, inside_sweden, to_sweref
from problembild.analysis.vocabulary import LOCAL_TIMEZONE
from problembild.core.errors import MAX_ERRORS, ImportFailed, RowError
from problembild.core.processes import exit_with_parent

from .taxonomy import Taxonomy

#: ``Incident.area_match`` values (see :class:`problembild.incidents.models.AreaMatch`).
MATCH_EXACT = "exact"
MATCH_NONE = ""

FIELDS = ("id", "occurred_at", "type", "x", "y", "lat", "lon", "municipality", "title", "url")
REQUIRED = ("id", "occurred_at", "type")
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".geojson", ".json")
NUL_MESSAGE = "contains a NUL character (0x00), which the database cannot store"
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
                # The features' geometry problems travel in a column of their own (see
                # GEOMETRY_PROBLEM), which is not one of the file's columns.
                self.columns = [c for c in self._frame.columns if c != GEOMETRY_PROBLEM]
                self.estimated_rows = len(self._frame)
        except ImportFailed:
            raise
        except Exception as exc:  # parsers raise many types
            raise self.failed(exc) from None

    def rows_at(self, lines: set[int]) -> dict[int, dict]:
        """The raw rows at ``lines`` (line numbers as reported), read again from the file."""
        found: dict[int, dict] = {}
        for chunk, numbers in self:
            positions = np.flatnonzero(np.isin(numbers, list(lines)))
            raw = as_text(chunk.drop(columns=[GEOMETRY_PROBLEM], errors="ignore").iloc[positions])
            for i, position in enumerate(positions):
                found[int(numbers[position])] = raw.iloc[i].to_dict()
        return found

    def failed(self, exc: Exception) -> ImportFailed:
        if _is_encoding_error(exc):
            found = _first_non_utf8_line(self.path, numbered=self.kind == "csv")
            if found is not None:
                return found
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
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.chunk_rows):
                yield _parquet_frame(batch)
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


#: The text columns of a chunk: Arrow-backed strings, as pyarrow's CSV reader gives them.
_TEXT = {pa.string(): pd.StringDtype(na_value=np.nan)}


def _to_frame(batches: list) -> pd.DataFrame:
    table = pa.Table.from_batches(batches)
    return table.to_pandas(types_mapper=_TEXT.get)


def _parquet_frame(batch: pa.RecordBatch) -> pd.DataFrame:
    """A Parquet batch as text, every null as "" (as an empty CSV cell), but for its
    ``float64`` columns, which stay numbers (NaN for null) until :func:`as_text`.

    Text columns stay Arrow strings, and coordinates stay numbers: writing ten million
    coordinates as text only to parse them again was most of a Parquet import's reading
    time. A column of any other type is turned into text by pandas exactly as before (a
    number, a time: its ``str``), one column at a time.
    """
    text = [
        i
        for i, column in enumerate(batch.columns)
        if pa.types.is_string(column.type)
        or pa.types.is_large_string(column.type)
        or pa.types.is_string_view(column.type)
    ]
    names = batch.schema.names
    columns: dict[str, object] = {}
    if text:
        frame = pa.table(
            [pc.fill_null(batch.column(i).cast(pa.string()), "") for i in text],
            names=[names[i] for i in text],
        ).to_pandas(types_mapper=_TEXT.get)
        columns.update((name, frame[name].array) for name in frame.columns)
    for i, name in enumerate(names):
        if pa.types.is_float64(batch.column(i).type):
            columns[name] = batch.column(i).to_numpy(zero_copy_only=False)
        elif i not in text:
            # With the file's pandas metadata, so that a column keeps the type pandas wrote
            # (a nullable integer stays an integer: "7", not "7.0"); pandas' index column
            # becomes the frame's index.
            alone = batch.select([i]).to_pandas()
            values = alone.iloc[:, 0] if alone.shape[1] else alone.index.to_series()
            columns[name] = values.astype("string").fillna("").astype(object).to_numpy()
    return pd.DataFrame({name: columns[name] for name in names}, index=pd.RangeIndex(batch.num_rows))


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows of a chunk) with its number columns (a Parquet file's ``float64``)
    as the text they were read as before: ``str`` of each number, "" for NaN."""
    numbers = [name for name, dtype in frame.dtypes.items() if dtype == np.float64]
    if not numbers:
        return frame
    return frame.assign(**{name: frame[name].astype("string").fillna("").astype(object) for name in numbers})


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, 1, first, exc) from None
    header = next(csv.reader([text]), None)
    if not header or not any(h.strip() for h in header):
        raise ImportFailed([RowError(str(path), 1, "file", "the file has no header line")])
    return header


def _is_encoding_error(exc: Exception) -> bool:
    return isinstance(exc, UnicodeDecodeError) or "utf8" in str(exc).replace("-", "").lower()


def _not_utf8(
    path: Path, line: int, raw: bytes, exc: UnicodeDecodeError, *, numbered: bool = True
) -> ImportFailed:
    """The error for text that is not UTF-8 (a Latin-1 or Windows-1252 export, say) at
    ``line``: the error's line when lines are what the file's rows are numbered by (CSV),
    else named in the message (a GeoJSON file's errors are numbered by feature)."""
    byte = raw[exc.start : exc.start + 1].hex().upper()
    column = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
    where = "" if numbered else f" on line {line}"
    return ImportFailed(
        [
            RowError(
                str(path),
                line if numbered else None,
                "file",
                f"not UTF-8 text{where} (byte 0x{byte} at character {column}); the file must be UTF-8: "
                "save it as UTF-8 (in Excel: CSV UTF-8) and import it again",
            )
        ]
    )


def _first_non_utf8_line(path: Path, *, numbered: bool = True) -> ImportFailed | None:
    """The error naming the first line of ``path`` that is not UTF-8 (None: every line is)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return _not_utf8(path, number, raw, exc, numbered=numbered)
    return None


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


#: Column of a GeoJSON file's frame with each feature's problem as ``field<TAB>message``
#: ("" when none): a feature whose geometry cannot be used is an error of that feature, not
#: of the whole file. Not a column of the file (no property can have this name).
GEOMETRY_PROBLEM = "\x00problem"


def _point(geometry) -> tuple[float, float] | str | None:
    """A feature's (lon, lat); None without a geometry; otherwise the problem's message."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        return "the geometry is not a GeoJSON object"
    kind = geometry.get("type")
    if kind != "Point":
        return f"expected a Point (an incident's location), got {kind or 'no type'}"
    coordinates = geometry.get("coordinates")
    if coordinates is None:
        return "the Point has no coordinates (null)"
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return f"the Point's coordinates must be [longitude, latitude], got {json.dumps(coordinates)[:60]}"
    lon, lat = coordinates[:2]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat))
    if not numbers or not all(math.isfinite(v) for v in (lon, lat)):
        return f"the Point's coordinates are not two numbers: {json.dumps(coordinates)[:60]}"
    return lon, lat


def _read_geojson(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise ValueError("not a GeoJSON FeatureCollection")
    records = []
    for feature in features:
        if not isinstance(feature, dict):
            records.append({GEOMETRY_PROBLEM: "feature\tnot a GeoJSON Feature object"})
            continue
        properties = feature.get("properties")
        props = dict(properties) if isinstance(properties, dict) else {}
        point = _point(feature.get("geometry"))
        problem = ""
        if isinstance(point, str):
            problem = f"geometry\t{point}"
        elif point is not None:
            props.setdefault("lon", point[0])
            props.setdefault("lat", point[1])
        record = {k: "" if v is None else str(v) for k, v in props.items()}
        record[GEOMETRY_PROBLEM] = problem
        records.append(record)
    frame = pd.DataFrame.from_records(records).astype(object)
    if GEOMETRY_PROBLEM not in frame.columns:
        frame[GEOMETRY_PROBLEM] = ""
    # Properties some features lack are empty, as a CSV file's empty cells are.
    return frame.fillna("")


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


@dataclass
class CheckedRows:
    """One chunk's rows parsed into the store's fields (:func:`check_rows`), every row of
    the chunk, valid or not; ``keys`` are the ids' :func:`id_keys`."""

    external_id: pd.Series
    occurred_at: pd.Series  # UTC, microseconds
    raw_type: pd.Series
    x: np.ndarray
    y: np.ndarray
    municipality_code: np.ndarray
    title: pd.Series | str
    url: pd.Series | str
    keys: np.ndarray
    content_hash: np.ndarray


def check_rows(
    frame: pd.DataFrame, source: str, lookup: dict[str, str] | None
) -> tuple[CheckedRows, dict[tuple[str, str], np.ndarray]]:
    """Parse one chunk of renamed columns; ``bad`` maps (field, message) -> rows."""
    n = len(frame)
    bad: dict[tuple[str, str], np.ndarray] = {}
    # Coordinates a Parquet file holds as numbers are used as they are: the text they
    # would be read as (``str``, "" for NaN) parses back to the same numbers.
    numeric = [c for c in ("x", "y", "lat", "lon") if c in frame.columns and frame[c].dtype == np.float64]
    frame = as_text(frame.drop(columns=numeric)).join(frame[numeric]) if numeric else as_text(frame)

    def flag(field: str, mask, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            prev = bad.get((field, message))
            bad[field, message] = mask | prev if prev is not None else mask

    def coordinate(name: str) -> tuple[np.ndarray, np.ndarray]:
        """(values, empty) of a coordinate column."""
        if name in numeric:
            values = frame[name].to_numpy(dtype=float)
            return values, np.isnan(values)
        text = frame[name].astype(str).str.strip()
        return _numbers(text), (text == "").to_numpy()

    # PostgreSQL cannot store a NUL character in text: the row is refused on every database,
    # so that a file imports the same everywhere.
    for name in ("id", "type", "title", "url", "municipality"):
        if name in frame.columns:
            flag(name, frame[name].astype(str).str.contains("\x00", regex=False).to_numpy(), NUL_MESSAGE)
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
        (va, empty_a), (vb, empty_b) = coordinate(a), coordinate(b)
        empty = empty_a & empty_b
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
        # Each distinct name is looked up once (a file names a few hundred municipalities).
        found, distinct = pd.factorize(names)
        table = np.array(
            [lookup.get(normalise_name(v), lookup.get(v)) if v else "" for v in distinct] + [None],
            dtype=object,
        )
        codes = table[found]
        flag("municipality", pd.isna(codes), "unknown municipality (give an SCB code or a name)")
        muni = np.where(pd.isna(codes), "", codes).astype(object)

    title = frame["title"].astype(str).str.slice(0, 300) if "title" in frame.columns else ""
    url = frame["url"].astype(str).str.slice(0, 400) if "url" in frame.columns else ""
    keys = id_keys(ids)
    micros = pd.DatetimeIndex(when).as_unit("us").tz_localize(None).to_numpy()
    hashes = _content_hashes(keys, micros, types, x, y, muni, title)
    checked = CheckedRows(ids, when, types, x, y, muni, title, url, keys, hashes)
    return checked, bad


def validate_chunk(
    frame: pd.DataFrame, source: str, lookup: dict[str, str] | None
) -> tuple[pd.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """Parse one chunk of renamed columns into store rows; ``bad`` maps (field, message) -> rows."""
    rows, bad = check_rows(frame, source, lookup)
    out = pd.DataFrame(
        {
            "source": source,
            "external_id": rows.external_id.array,
            "occurred_at": pd.DatetimeIndex(rows.occurred_at),
            "raw_type": rows.raw_type.array,
            "x": rows.x,
            "y": rows.y,
            "municipality_code": rows.municipality_code,
            "title": rows.title.array if isinstance(rows.title, pd.Series) else rows.title,
            "summary": "",
            "url": rows.url.array if isinstance(rows.url, pd.Series) else rows.url,
            "synthetic": False,
        }
    )
    out["content_hash"] = rows.content_hash
    return out, bad


def problem_masks(chunk: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """The problems a reader found in a chunk's rows (a GeoJSON feature's geometry), as
    :func:`validate_chunk` reports its own: (field, message) -> rows."""
    if GEOMETRY_PROBLEM not in chunk.columns:
        return {}
    problems = chunk[GEOMETRY_PROBLEM].astype(str).to_numpy()
    return {
        tuple(text.split("\t", 1)): problems == text  # type: ignore[misc]
        for text in pd.unique(problems)
        if text
    }


@dataclass
class ChunkErrors:
    """The errors of one chunk: the first few in full, all of them as lines and reasons.

    ``lines`` and ``reasons`` (indexes into ``messages``: (field, message) pairs) hold
    every error in 12 bytes, enough to write the rejects file later by reading the rows
    again (:class:`RejectedRows`); ``first`` holds at most the limit's errors with their
    raw rows, for reports.
    """

    first: list[RowError] = field(default_factory=list)
    total: int = 0
    rejected: int = 0
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    reasons: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    messages: list[tuple[str, str]] = field(default_factory=list)


def chunk_errors(
    fname: str,
    chunk: pd.DataFrame,
    lines: np.ndarray,
    bad: dict[tuple[str, str], np.ndarray],
    *,
    limit: int = MAX_ERRORS,
) -> ChunkErrors:
    """The errors of the chunk's rows flagged in ``bad``, ordered by line and field."""
    if not bad:
        return ChunkErrors()
    messages = sorted(bad)
    found = [np.flatnonzero(bad[key]) for key in messages]
    positions = np.concatenate(found)
    reasons = np.concatenate([np.full(len(f), i, dtype=np.int32) for i, f in enumerate(found)])
    order = np.lexsort((reasons, positions))
    positions, reasons = positions[order], reasons[order]
    rejected = int(np.logical_or.reduce([bad[key] for key in messages]).sum())
    raw = as_text(chunk.drop(columns=[GEOMETRY_PROBLEM], errors="ignore").iloc[positions[:limit]])
    first = [
        RowError(fname, int(lines[p]), *messages[r], raw.iloc[i].to_dict())
        for i, (p, r) in enumerate(zip(positions[:limit], reasons[:limit], strict=True))
    ]
    return ChunkErrors(
        first=first,
        total=len(positions),
        rejected=rejected,
        lines=np.asarray(lines)[positions].astype(np.int64),
        reasons=reasons,
        messages=messages,
    )


class RejectedRows:
    """Every rejected row of an import as its line and reason (12 bytes each), so that the
    rejects file of a file with millions of bad rows is written without holding them: the
    rows are read again from the file (:meth:`write`)."""

    def __init__(self) -> None:
        self._lines: list[np.ndarray] = []
        self._reasons: list[np.ndarray] = []
        self.messages: list[tuple[str, str]] = []
        self._codes: dict[tuple[str, str], int] = {}

    def _code(self, message: tuple[str, str]) -> int:
        if message not in self._codes:
            self._codes[message] = len(self.messages)
            self.messages.append(message)
        return self._codes[message]

    def add(self, errors: ChunkErrors) -> None:
        """Every error of a chunk."""
        if errors.total:
            codes = np.array([self._code(m) for m in errors.messages], dtype=np.int32)
            self._lines.append(errors.lines)
            self._reasons.append(codes[errors.reasons])

    def add_one(self, line: int, field: str, message: str) -> None:
        self._lines.append(np.array([line], dtype=np.int64))
        self._reasons.append(np.array([self._code((field, message))], dtype=np.int32))

    def write(self, table: Table, path: str | os.PathLike) -> None:
        """The rejects file: line, field, reason and the row as the file has it, by line."""
        lines = np.concatenate(self._lines) if self._lines else np.empty(0, np.int64)
        reasons = np.concatenate(self._reasons) if self._reasons else np.empty(0, np.int32)
        fields = np.array([f for f, _ in self.messages] or [""], dtype=object)
        order = np.lexsort((fields[reasons].astype(str), lines)) if len(lines) else np.empty(0, np.int64)
        lines, reasons = lines[order], reasons[order]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "field", "reason", *table.columns])
            start = 0
            for chunk, numbers in table:
                if start >= len(lines):
                    break
                end = int(np.searchsorted(lines, numbers[-1], side="right"))
                if end == start:
                    continue
                # A chunk's line numbers are consecutive: a line's position is its offset.
                positions = lines[start:end] - numbers[0]
                rows = as_text(chunk[table.columns].iloc[positions]).astype(object).fillna("")
                for line, reason, row in zip(
                    lines[start:end], reasons[start:end], rows.itertuples(index=False, name=None), strict=True
                ):
                    writer.writerow([int(line), *self.messages[reason], *row])
                start = end


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


def _text_hashes(values: pd.Series | str, n: int) -> np.ndarray:
    """pandas' hash of each text (a Series, or one text in all ``n`` rows)."""
    if isinstance(values, str):
        return np.full(n, pd.util.hash_array(np.array([values], dtype=object))[0], dtype=np.uint64)
    return pd.util.hash_array(values.array)  # Arrow text: each distinct value hashed once


def _content_hashes(
    keys: np.ndarray,
    micros: np.ndarray,
    types: pd.Series,
    x: np.ndarray,
    y: np.ndarray,
    municipality: np.ndarray,
    title: pd.Series | str,
) -> np.ndarray:
    """:func:`content_hash` of a checked chunk without building its frame, bit for bit.

    A row's hash combines its columns' hashes as ``pandas.util.hash_pandas_object`` does
    (CPython's tuple hash); the id's column hash is its :func:`id_keys` key, which the
    import needs anyway, so each id is hashed once instead of twice. ``micros`` are the
    UTC times as ``datetime64[us]`` (the unit is part of the hash).
    """
    n = len(keys)
    columns = [
        keys.view(np.uint64),
        pd.util.hash_array(micros),
        _text_hashes(types, n),
        pd.util.hash_array(x),
        pd.util.hash_array(y),
        pd.util.hash_array(municipality),
        _text_hashes(title, n),
        _text_hashes("", n),  # summary
    ]
    out = np.full(n, 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, column in enumerate(columns):
        inverse = len(columns) - i
        out ^= column
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out.view(np.int64)


def id_keys(ids) -> np.ndarray:
    """64-bit keys of external ids (SipHash of the text), for membership tests in memory."""
    values = ids.to_numpy(dtype=object) if isinstance(ids, pd.Series) else np.asarray(ids, dtype=object)
    # Ids are nearly all distinct: hashing each one directly gives the same keys as pandas'
    # default (which first finds the distinct values) in a seventh of the time.
    return pd.util.hash_array(values, categorize=False).view(np.int64)


def _db_datetimes(values: pd.Series | np.ndarray, vendor: str) -> pa.Array:
    """UTC datetimes in the text form the database ``vendor`` stores and compares.

    ``values`` are aware datetimes, or ``datetime64[us]`` in UTC. Arrow's cast to text
    writes "YYYY-MM-DD HH:MM:SS[.ffffff]" several times faster than NumPy's
    ``datetime_as_string``.
    """
    if isinstance(values, np.ndarray):
        utc = values.astype("datetime64[us]")
    else:
        utc = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[us]")
    times = pa.array(utc, type=pa.timestamp("us"))
    text = pc.cast(pc.cast(times, pa.timestamp("s"), safe=False), pa.string())
    fraction = utc.astype(np.int64) % 1_000_000 != 0
    if fraction.any():
        # Microseconds only where there are some, as Django writes a datetime (isoformat).
        text = pc.if_else(pa.array(fraction), pc.cast(times, pa.string()), text)
    if vendor == "sqlite":
        # Django's SQLite backend stores "YYYY-MM-DD HH:MM:SS[.ffffff]" and compares as text.
        return text
    return pc.binary_join_element_wise(text, "+00:00", "")


@dataclass
class IncidentRows:
    """Database rows of incidents, column by column: the varying ``columns`` as an Arrow
    ``table`` in the database's storage form (text, numbers, nulls), and the columns
    whose value is the same in every row as ``constants`` (written once into the SQLite
    statement instead of bound per row).

    Arrow rather than Python tuples: a worker process hands a chunk over as a few
    buffers (pickling half a million tuples took longer than preparing them), and the
    writer turns only the rows it writes into Python values, or none at all
    (PostgreSQL's ``COPY`` gets CSV text Arrow writes).
    """

    table: pa.Table
    constants: dict[str, object]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.table.column_names)

    def __len__(self) -> int:
        return self.table.num_rows

    def subset(self, keep: np.ndarray) -> IncidentRows:
        """The rows where ``keep`` is true."""
        if keep.all():
            return self
        return IncidentRows(self.table.filter(pa.array(keep, type=pa.bool_())), self.constants)

    def python_columns(self) -> list[np.ndarray]:
        """Each varying column as an array that gives Python values (None for null) when
        stored into an object array, in the order of :attr:`columns`: what a database
        driver binds. Columns without nulls stay NumPy numbers (no copy)."""
        out = []
        for column in self.table.columns:
            if pa.types.is_dictionary(column.type):
                # The distinct texts once, shared by their rows (see _few_texts).
                parts = [
                    chunk.dictionary.to_numpy(zero_copy_only=False)[chunk.indices.to_numpy()]
                    for chunk in column.chunks
                ]
                values = np.concatenate(parts) if parts else np.empty(0, dtype=object)
            elif column.null_count:
                values = column.fill_null(_FILLER[column.type]).to_numpy().astype(object)
                values[column.is_null().to_numpy()] = None
            else:
                values = column.to_numpy()
            out.append(values)
        return out


#: A placeholder for nulls while a column becomes Python values (replaced by None).
_FILLER = {pa.float64(): 0.0, pa.int64(): 0, pa.string(): "", pa.bool_(): False}


def _few_texts(values: pa.Array | pa.ChunkedArray, n: int) -> pa.Array | pa.ChunkedArray:
    """``values`` dictionary-encoded when they are few distinct texts (a type, an indicator):
    a smaller chunk to hand over, and one Python text per distinct value for the writer
    (:meth:`IncidentRows.python_columns`) instead of one per row."""
    encoded = pc.dictionary_encode(values)
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    return encoded if sum(len(c.dictionary) for c in chunks) <= n // 2 else values


def _same(values: pa.Array | pa.ChunkedArray) -> bool:
    """True when every value equals the first (and there is one)."""
    return len(values) > 0 and values.null_count == 0 and pc.all(pc.equal(values, values[0])).as_py()


def build_rows(
    n: int,
    *,
    vendor: str,
    texts: dict[str, pa.Array | str],
    external_id: pa.Array,
    occurred_at: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    area: np.ndarray,
    synthetic: np.ndarray | bool,
    content_hash: np.ndarray,
    import_record_id: int | None = None,
) -> IncidentRows:
    """:class:`IncidentRows` of ``n`` incidents from their fields.

    ``texts`` holds the :data:`TEXT_COLUMNS` (Arrow text, or one text for every row; a
    missing one is ""), ``occurred_at`` the UTC times as ``datetime64[us]``, ``area`` the
    area ids (-1: none). Needs no database connection, so it can run in a worker process.
    """
    if n == 0:
        return IncidentRows(pa.table({}), {})
    constants: dict[str, object] = {"import_record_id": import_record_id}
    synthetic = np.broadcast_to(np.asarray(synthetic, dtype=bool), (n,))
    if synthetic.all() or not synthetic.any():
        constants["synthetic"] = bool(synthetic[0])
    if (area < 0).all():
        constants["area_id"] = None
    varying: dict[str, pa.Array] = {}
    for col in TEXT_COLUMNS:
        values = texts.get(col, "")
        if isinstance(values, str) and "\x00" not in values:
            constants[col] = values
            continue
        if isinstance(values, str):  # a NUL cannot be in an SQL literal: bound in every row
            values = pa.array([values] * n, type=pa.string())
        if "\x00" not in (first := values[0].as_py()) and _same(values):
            constants[col] = first  # the same in every row: an SQL literal
        else:
            varying[col] = _few_texts(values, n)
    fields = {
        "external_id": lambda: external_id,
        "occurred_at": lambda: _db_datetimes(occurred_at, vendor),
        "x": lambda: pa.array(x, type=pa.float64(), from_pandas=True),
        "y": lambda: pa.array(y, type=pa.float64(), from_pandas=True),
        "area_id": lambda: pa.array(area, type=pa.int64(), mask=area < 0),
        "synthetic": lambda: pa.array(synthetic, type=pa.bool_()),
        "content_hash": lambda: pa.array(content_hash, type=pa.int64()),
    }
    names = [c for c in COLUMNS if c not in constants]
    table = pa.table([varying[c] if c in varying else fields[c]() for c in names], names=names)
    return IncidentRows(table, constants)


def _text(values) -> pa.Array:
    """Text values (a Series, an array) as an Arrow string array."""
    if isinstance(values, pd.Series):
        values = values.array
    return pa.array(values, type=pa.string())


def incident_values(frame: pd.DataFrame, *, vendor: str, import_record_id: int | None = None) -> IncidentRows:
    """The rows of ``frame`` (the store's columns) in the storage form of the database
    ``vendor``. Needs no database connection, so it can run in a worker process."""
    n = len(frame)
    if n == 0:
        return IncidentRows(pa.table({}), {})
    when = pd.DatetimeIndex(frame["occurred_at"]).tz_convert("UTC").tz_localize(None)
    return build_rows(
        n,
        vendor=vendor,
        texts={col: _text(frame[col].fillna("").astype(str)) for col in TEXT_COLUMNS if col in frame.columns},
        external_id=_text(frame["external_id"].astype(str)),
        occurred_at=when.to_numpy(dtype="datetime64[us]"),
        x=frame["x"].to_numpy(dtype=float),
        y=frame["y"].to_numpy(dtype=float),
        area=frame["area_id"].to_numpy(dtype=np.int64),
        synthetic=frame["synthetic"].to_numpy(dtype=bool),
        content_hash=frame["content_hash"].to_numpy(dtype=np.int64),
        import_record_id=import_record_id,
    )


def exact_match_labels(area_ids: np.ndarray) -> np.ndarray:
    """``area_match`` values for coordinate-based assignment."""
    return np.where(np.asarray(area_ids) >= 0, MATCH_EXACT, MATCH_NONE).astype(object)


@dataclass
class PreparedChunk:
    """One chunk of a file, validated and turned into database rows."""

    lines: np.ndarray  # line (row, feature) number of each row of the chunk
    errors: ChunkErrors  # field errors of the chunk's rows
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
    areas (None: no area has a boundary), ``vendor`` the database's storage form,
    ``error_limit`` how many of a chunk's errors are built in full (with their rows).
    """

    fname: str
    renamed: dict[str, str]
    source: str
    lookup: dict[str, str] | None
    taxonomy: Taxonomy
    index: AreaIndex | None
    vendor: str
    error_limit: int = MAX_ERRORS

    def __call__(self, chunk: pd.DataFrame, lines: np.ndarray) -> PreparedChunk:
        frame = chunk[list(self.renamed)].rename(columns=self.renamed)
        rows, bad = check_rows(frame, self.source, self.lookup)
        problems = problem_masks(chunk)
        if problems:
            # A feature that is not an object is that one error, not one per missing field.
            not_feature = np.logical_or.reduce(
                [m for (f, _), m in problems.items() if f == "feature"] or [False]
            )
            bad = {key: mask & ~not_feature for key, mask in bad.items()} | problems
            bad = {key: mask for key, mask in bad.items() if mask.any()}
        valid = np.ones(len(frame), dtype=bool)
        for mask in bad.values():
            valid &= ~mask
        positions = np.flatnonzero(valid)

        def keep(values):
            return values if valid.all() else values[valid]

        ids = keep(rows.external_id).reset_index(drop=True)
        types = keep(rows.raw_type).reset_index(drop=True)
        x, y = keep(rows.x), keep(rows.y)
        n = len(ids)
        area = self.index.assign(x, y) if self.index is not None else np.full(n, -1, dtype=np.int64)
        area = np.asarray(area, dtype=np.int64)
        hashes = keep(rows.content_hash)
        micros = pd.DatetimeIndex(keep(rows.occurred_at)).tz_convert("UTC").tz_localize(None)
        texts = {
            "source": self.source,
            "raw_type": _text(types),
            "indicator": _text(self.taxonomy.map_array(types)),
            "area_match": _text(exact_match_labels(area)),
            "municipality_code": _text(keep(rows.municipality_code)),
            "county_code": "",
            "title": rows.title if isinstance(rows.title, str) else _text(keep(rows.title)),
            "summary": "",
            "url": rows.url if isinstance(rows.url, str) else _text(keep(rows.url)),
        }
        values = build_rows(
            n,
            vendor=self.vendor,
            texts=texts,
            external_id=_text(ids),
            occurred_at=micros.to_numpy(dtype="datetime64[us]"),
            x=x,
            y=y,
            area=area,
            synthetic=False,
            content_hash=hashes,
        )
        return PreparedChunk(
            lines=lines,
            errors=chunk_errors(self.fname, chunk, lines, bad, limit=self.error_limit),
            positions=positions,
            ids=ids,
            hashes=hashes,
            keys=keep(rows.keys),
            area=area,
            values=values,
        )


def _prepare_file(path: str, chunk_rows: int, preparer: ChunkPreparer, out, skip: int, parent: int) -> None:
    """Worker process: read the file like the caller does and send each chunk prepared,
    but the first ``skip`` (the caller prepares those while this process starts).

    The worker ends with its ``parent`` (the importing process), even when that one is
    killed with SIGKILL: a parent-death signal on Linux, else a thread watching the
    parent's pid; and it does not start at all when the parent is already gone.
    """
    exit_with_parent()
    if os.getppid() != parent:
        return
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
    with ``spawn``: forking a process that holds threads and connections is unsafe. It
    ends when this process ends, however that happens (see :func:`_prepare_file`); Linux
    sends the parent-death signal when the *thread* that started the worker ends, and
    this generator ends the worker itself before its thread can.
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
        target=_prepare_file,
        args=(str(table.path), table.chunk_rows, preparer, results, 1, os.getpid()),
        daemon=True,
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
