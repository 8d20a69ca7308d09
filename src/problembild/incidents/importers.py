"""``problembild import incidents FILE``: incidents from CSV, Parquet or GeoJSON.

Default columns: ``id``, ``occurred_at`` (ISO 8601; without an offset it means
Europe/Stockholm), ``type`` (the source's own type), optional ``x``, ``y`` (SWEREF99 TM
metres) or ``lat``, ``lon`` (WGS84 degrees), optional ``municipality`` (4-digit code or
name), optional ``title`` and ``url``. Other names are mapped with ``their_column=field``
(``their_column=`` ignores a column). Every problem is reported with file, line and field;
nothing is written unless every row is valid, or ``skip_invalid`` is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.analysis.spatial import inside_sweden, to_sweref
from problembild.areas.models import Municipality
from problembild.core.imports import (
    ImportFailed,
    ImportResult,
    ProgressCallback,
    RowError,
    check_file,
    finish_validation,
    recorded_import,
)

from .store import assign_areas, content_hash, exact_match_labels, existing_hashes, write_incidents
from .taxonomy import load_taxonomy

FIELDS = ("id", "occurred_at", "type", "x", "y", "lat", "lon", "municipality", "title", "url")
REQUIRED = ("id", "occurred_at", "type")
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".geojson", ".json")
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")
LOCAL_TZ = "Europe/Stockholm"


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``their_column=field`` pairs; an empty field ignores the column."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--map {pair!r}: expected their_column=field")
        theirs, ours = (s.strip() for s in pair.split("=", 1))
        if ours and ours not in FIELDS:
            raise ValueError(f"--map {pair!r}: unknown field {ours!r}; fields are {', '.join(FIELDS)}")
        mapping[theirs] = ours
    return mapping


def read_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Read a file into a frame of strings; return (frame, line numbers, unit of line)."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, engine="c")
            # Line 1 is the header; rows with embedded line breaks would shift this, so we
            # report the record number in that (rare) case too.
            return frame, np.arange(2, len(frame) + 2), "line"
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
            frame = frame.astype({c: "string" for c in frame.columns}).fillna("").astype(object)
            return frame, np.arange(1, len(frame) + 1), "row"
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
        return pd.DataFrame.from_records(records), np.arange(1, len(records) + 1), "feature"
    except (ValueError, UnicodeDecodeError, OSError, KeyError, TypeError) as exc:
        raise ImportFailed([RowError(str(path), None, "file", f"cannot read the file: {exc}")]) from None
    except Exception as exc:  # pandas/pyarrow parser errors have many types
        raise ImportFailed([RowError(str(path), None, "file", f"cannot read the file: {exc}")]) from None


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
        local = local.tz_localize(LOCAL_TZ, ambiguous=True, nonexistent="shift_forward")
        out[naive] = local.tz_convert("UTC").tz_localize(None).to_numpy()
    with np.errstate(invalid="ignore"):
        implausible = (out < np.datetime64("1900-01-01", "us")) | (out >= np.datetime64("2100-01-01", "us"))
    out[implausible] = np.datetime64("NaT", "us")
    return pd.Series(pd.DatetimeIndex(out).tz_localize("UTC"), index=s.index)


def municipality_lookup() -> dict[str, str]:
    """Municipality names (case-folded, hyphens as spaces) and codes -> code."""
    table: dict[str, str] = {}
    for code, name in Municipality.objects.values_list("code", "name"):
        table[code] = code
        table[normalise_name(name)] = code
    return table


def normalise_name(name: str) -> str:
    return " ".join(name.replace("-", " ").casefold().split())


def import_incidents(
    path: str | Path,
    *,
    source: str = "import",
    mapping: dict[str, str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Validate and import an incident file; see the module docstring."""
    p = check_file(path, SUFFIXES)
    if not source or len(source) > 40:
        raise ImportFailed([RowError(str(p), None, "source", "source must be 1 to 40 characters")])
    frame, lines, unit = read_table(p)
    fname = str(p)
    mapping = mapping or {}
    renamed: dict[str, str] = {}
    unknown = []
    for col in frame.columns:
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
                    1 if unit == "line" else None,
                    c,
                    f"unknown column; map it with --map {c}=FIELD "
                    f"(fields: {', '.join(FIELDS)}) or ignore it with --map {c}=",
                )
                for c in unknown
            ]
        )
    frame = frame[list(renamed)].rename(columns=renamed)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ImportFailed([RowError(fname, None, c, "required column is missing") for c in missing])
    if progress:
        progress(0, len(frame))

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
    raw = frame["occurred_at"].astype(str)
    when = parse_times(raw)
    flag("occurred_at", when.isna().to_numpy(), "not an ISO 8601 date and time")
    types = frame["type"].astype(str).str.strip()
    flag("type", (types == "").to_numpy(), "empty type")
    flag("type", (types.str.len() > 120).to_numpy(), "type longer than 120 characters")

    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    has_xy = "x" in frame.columns or "y" in frame.columns
    has_ll = "lat" in frame.columns or "lon" in frame.columns
    if has_xy and has_ll:
        raise ImportFailed([RowError(fname, None, "x", "give either x, y or lat, lon, not both")])
    if has_xy or has_ll:
        a, b = ("x", "y") if has_xy else ("lon", "lat")
        for col in (a, b):
            if col not in frame.columns:
                raise ImportFailed(
                    [RowError(fname, None, col, "column is missing (coordinates come in pairs)")]
                )
        sa = frame[a].astype(str).str.strip()
        sb = frame[b].astype(str).str.strip()
        va = pd.to_numeric(sa.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        vb = pd.to_numeric(sb.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        empty = (sa == "").to_numpy() & (sb == "").to_numpy()
        flag(a, ~empty & ~np.isfinite(va), "not a number")
        flag(b, ~empty & ~np.isfinite(vb), "not a number")
        ok = np.isfinite(va) & np.isfinite(vb)
        if has_ll:
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
    if "municipality" in frame.columns:
        lookup = municipality_lookup()
        names = frame["municipality"].astype(str).str.strip()
        codes = names.map(lambda v: lookup.get(normalise_name(v), lookup.get(v)) if v else "")
        flag("municipality", codes.isna().to_numpy(), "unknown municipality (give an SCB code or a name)")
        muni = codes.fillna("").to_numpy(dtype=object)

    any_bad = np.zeros(n, dtype=bool)
    for mask, _ in bad.values():
        any_bad |= mask

    out = pd.DataFrame(
        {
            "source": source,
            "external_id": ids,
            "occurred_at": when,
            "raw_type": types,
            "x": x,
            "y": y,
            "municipality_code": muni,
            "title": frame["title"].astype(str).str.slice(0, 300) if "title" in frame.columns else "",
            "summary": "",
            "url": frame["url"].astype(str).str.slice(0, 400) if "url" in frame.columns else "",
            "synthetic": False,
        }
    )
    out["content_hash"] = content_hash(out)
    out["_line"] = lines

    errors = _row_errors(fname, frame, lines, bad)
    valid = out[~any_bad]
    errors += duplicate_errors(fname, valid, source)
    good = valid[~valid["_reject"]] if "_reject" in valid.columns else valid

    with recorded_import(
        "incidents", p, user=user, options={"source": source, "map": mapping, "skip_invalid": skip_invalid}
    ) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        new = good[~good["_existing"]]
        taxonomy = load_taxonomy()
        new = new.assign(indicator=taxonomy.map_array(new["raw_type"]))
        area = assign_areas(new["x"].to_numpy(), new["y"].to_numpy())
        new = new.assign(area_id=area, area_match=exact_match_labels(area), county_code="")
        result.added = _write_with_progress(new, progress)
        result.details = {"assigned": int((area >= 0).sum()), "source": source}
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


def _row_errors(fname: str, frame: pd.DataFrame, lines: np.ndarray, bad: dict) -> list[RowError]:
    errors: list[RowError] = []
    if not bad:
        return errors
    for field, (mask, message) in bad.items():
        for i in np.flatnonzero(mask):
            errors.append(RowError(fname, int(lines[i]), field, message, frame.iloc[i].to_dict()))
    errors.sort(key=lambda e: (e.line or 0, e.field))
    return errors


def duplicate_errors(fname: str, frame: pd.DataFrame, source: str) -> list[RowError]:
    """Flag ids repeated with different content, in the file or against stored rows.

    Adds boolean columns ``_reject`` (row is an error) and ``_existing`` (identical row
    already stored, or repeated earlier in the file): both are skipped on write.
    """
    errors: list[RowError] = []
    frame["_reject"] = False
    first = ~frame["external_id"].duplicated(keep="first")
    firsts = frame.loc[first, ["external_id", "content_hash"]].set_index("external_id")["content_hash"]
    repeat = ~first
    if repeat.any():
        expected = frame.loc[repeat, "external_id"].map(firsts)
        differs = expected.to_numpy() != frame.loc[repeat, "content_hash"].to_numpy()
        rows = frame.loc[repeat][differs]
        frame.loc[rows.index, "_reject"] = True
        for _, r in rows.iterrows():
            errors.append(
                RowError(
                    fname, int(r["_line"]), "id", f"duplicate id {r['external_id']!r} with different content"
                )
            )
    stored = existing_hashes(source, frame.loc[first, "external_id"])
    frame["_existing"] = repeat.to_numpy()
    if len(stored):
        known = frame["external_id"].map(stored)
        in_db = known.notna().to_numpy()
        same = in_db & (known.fillna(0).astype(np.int64).to_numpy() == frame["content_hash"].to_numpy())
        conflict = in_db & ~same & ~frame["_reject"].to_numpy()
        frame.loc[conflict, "_reject"] = True
        frame["_existing"] = frame["_existing"].to_numpy() | same
        for _, r in frame[conflict].iterrows():
            errors.append(
                RowError(
                    fname,
                    int(r["_line"]),
                    "id",
                    f"id {r['external_id']!r} was imported before (source {source!r}) with different content",
                )
            )
    return errors
