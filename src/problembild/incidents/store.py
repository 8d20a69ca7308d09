"""Writing incidents fast and idempotently, and assigning them to areas.

Importers hand over a pandas frame with the columns of :data:`COLUMNS`; this module finds
which rows are new, which repeat a stored row (skipped) and which reuse a stored id with
different content (an error), assigns coordinates to areas, and writes the new rows with
the database's bulk path (``COPY`` on PostgreSQL, ``executemany`` on SQLite).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from problembild.analysis.spatial import AreaIndex
from problembild.areas.models import Area
from problembild.core.db import bulk_insert

from .models import AreaMatch, Incident

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

HASHED = ("external_id", "occurred_at", "raw_type", "x", "y", "municipality_code", "title", "summary")


def content_hash(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's content, to tell a repeat from a changed row."""
    cols = [c for c in HASHED if c in frame.columns]
    return pd.util.hash_pandas_object(frame[cols], index=False).to_numpy().view(np.int64)


def area_index() -> AreaIndex | None:
    """An index of every registered area with a boundary (current and historical)."""
    rows = list(Area.objects.exclude(geometry=None).order_by("pk").values_list("pk", "geometry"))
    if not rows:
        return None
    import shapely

    ids = np.array([pk for pk, _ in rows], dtype=np.int64)
    geoms = [shapely.from_wkb(bytes(wkb)) for _, wkb in rows]
    return AreaIndex(geoms, ids)


def assign_areas(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Area id for each point (SWEREF99 TM metres), -1 where none or no coordinates."""
    index = area_index()
    if index is None or len(x) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    return index.assign(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def existing_hashes(source: str, ids: pd.Series) -> pd.Series:
    """Stored content hashes of ``ids`` in ``source`` (index: external id)."""
    if not Incident.objects.filter(source=source).exists():
        return pd.Series(dtype="int64")
    wanted = set(ids.tolist())
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, content_hash FROM {Incident._meta.db_table} WHERE source = %s", [source]
        )
        while batch := cursor.fetchmany(100_000):
            for ext, h in batch:
                if ext in wanted:
                    found[ext] = h
    return pd.Series(found, dtype="int64")


def _db_datetimes(values: pd.Series) -> list[str]:
    """UTC datetimes in the text form the database backend stores and compares."""
    utc = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
    text = np.datetime_as_string(utc.to_numpy(dtype="datetime64[s]"), unit="s")
    if connection.vendor == "sqlite":
        # Django's SQLite backend stores "YYYY-MM-DD HH:MM:SS" and compares as text.
        return [t.replace("T", " ") for t in text.tolist()]
    return [t + "+00:00" for t in text.tolist()]


def _nullable(values: np.ndarray) -> list:
    arr = np.asarray(values, dtype=float)
    out = arr.astype(object)
    out[np.isnan(arr)] = None
    return out.tolist()


def write_incidents(frame: pd.DataFrame, *, import_record_id: int | None = None) -> int:
    """Insert the rows of ``frame`` (already validated and new). Returns rows written."""
    n = len(frame)
    if n == 0:
        return 0
    area = frame["area_id"].to_numpy(dtype=np.int64)
    area_obj = area.astype(object)
    area_obj[area < 0] = None

    def text(col: str) -> list:
        if col in frame.columns:
            return frame[col].fillna("").astype(str).tolist()
        return [""] * n

    columns = {
        "source": text("source"),
        "external_id": text("external_id"),
        "occurred_at": _db_datetimes(frame["occurred_at"]),
        "raw_type": text("raw_type"),
        "indicator": text("indicator"),
        "x": _nullable(frame["x"].to_numpy()),
        "y": _nullable(frame["y"].to_numpy()),
        "area_id": area_obj.tolist(),
        "area_match": text("area_match"),
        "municipality_code": text("municipality_code"),
        "county_code": text("county_code"),
        "title": text("title"),
        "summary": text("summary"),
        "url": text("url"),
        "synthetic": frame["synthetic"].astype(bool).tolist(),
        "content_hash": frame["content_hash"].astype(np.int64).tolist(),
        "import_record_id": [import_record_id] * n,
    }
    return bulk_insert(Incident._meta.db_table, COLUMNS, zip(*(columns[c] for c in COLUMNS), strict=True))


def exact_match_labels(area_ids: np.ndarray) -> np.ndarray:
    """``area_match`` values for coordinate-based assignment."""
    return np.where(np.asarray(area_ids) >= 0, AreaMatch.EXACT.value, AreaMatch.NONE.value).astype(object)
