"""Reading the incident store into NumPy arrays for the analytics.

Ten million incidents must load in seconds and little memory, so this avoids the ORM
and Python objects per row: the database converts times to epoch seconds and indicator
codes to small integers, and rows arrive in chunks that go straight into arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection

from problembild.analysis.vocabulary import INDICATOR_CODES
from problembild.incidents.models import Incident

CHUNK = 500_000


@dataclass
class IncidentArrays:
    """Counted incidents with coordinates or an area, as parallel arrays.

    ``area`` is -1 for incidents in no area (or only approximately matched: those count
    at municipality level, not in an area's indicators); ``indicator`` indexes
    :data:`INDICATOR_CODES`; ``t`` is UTC epoch seconds; ``x``/``y`` are SWEREF99 TM
    metres (NaN without coordinates).
    """

    id: np.ndarray
    area: np.ndarray
    indicator: np.ndarray
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    synthetic: np.ndarray
    source: np.ndarray  # index into the ``sources`` list given to :func:`load_incidents`

    def __len__(self) -> int:
        return len(self.id)

    def take(self, index: np.ndarray) -> IncidentArrays:
        return IncidentArrays(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    def times(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.t.astype("datetime64[s]")).tz_localize("UTC")

    def frame(self) -> pd.DataFrame:
        """The long incident frame the analytics' count functions read."""
        return pd.DataFrame(
            {
                "area_id": pd.arrays.IntegerArray(self.area.astype(np.int64), mask=self.area < 0),
                "indicator": pd.Categorical.from_codes(self.indicator, categories=list(INDICATOR_CODES)),
                "occurred_at": self.times(),
            }
        )


def _epoch_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"  # %% : the query has parameters


def source_names() -> list[str]:
    """Every source name in the store, sorted."""
    return sorted(Incident.objects.order_by().values_list("source", flat=True).distinct())


def load_incidents(sources: list[str] | None = None) -> IncidentArrays:
    """Every incident that counts in an indicator and is placed (exact area or coordinates).

    ``source`` codes index ``sources`` (default: :func:`source_names`); -1 for others.
    """
    table = Incident._meta.db_table
    sources = source_names() if sources is None else sources
    case = " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(INDICATOR_CODES))
    source_case = " ".join(f"WHEN %s THEN {i}" for i in range(len(sources)))
    source_sql = f"CASE source {source_case} ELSE -1 END" if sources else "-1"
    sql = (
        f"SELECT id, CASE WHEN area_match = 'exact' THEN area_id ELSE -1 END, "
        f"CASE indicator {case} ELSE -1 END, {_epoch_sql('occurred_at')}, x, y, "
        f"CASE WHEN synthetic THEN 1 ELSE 0 END, {source_sql} FROM {table} "
        f"WHERE indicator <> '' AND (area_match = 'exact' OR x IS NOT NULL)"
    )
    parts: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, list(sources))
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                break
            parts.append(np.array(rows, dtype=np.float64))
    data = np.concatenate(parts) if parts else np.empty((0, 8))
    keep = data[:, 2] >= 0  # indicators the vocabulary knows (a stale taxonomy is ignored)
    data = data[keep]
    return IncidentArrays(
        id=data[:, 0].astype(np.int64),
        area=data[:, 1].astype(np.int64),
        indicator=data[:, 2].astype(np.int8),
        t=data[:, 3].astype(np.int64),
        x=data[:, 4],
        y=data[:, 5],
        synthetic=data[:, 6] > 0,
        source=data[:, 7].astype(np.int16),
    )
