"""When incidents happen: counts by weekday and hour (the hour-of-week profile).

Hours are Europe/Stockholm wall-clock hours: a UTC timestamp is converted first,
a naive one is taken as local time. On the night summer time starts (last Sunday
of March) the local hour 02 does not exist and gets no incidents; on the night it
ends (last Sunday of October) hour 02 happens twice and collects both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, same_length
from .indicators import check_indicator_codes, indicator_order, require_columns
from .periods import to_local
from .vocabulary import ALL

__all__ = ["WEEKDAYS", "hour_of_week", "hour_of_week_cells", "hour_of_week_table"]

#: Row labels of :func:`hour_of_week` (ISO order, Monday first), Swedish abbreviations.
WEEKDAYS: Final[tuple[str, ...]] = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
_CELLS: Final = 7 * 24


def _cells(timestamps: Any, name: str) -> NDArray[np.intp]:
    local = to_local(timestamps, name)
    missing = int(np.count_nonzero(local.isna()))
    if missing:
        raise ValueError(f"{name} has {missing} missing time(s)")
    return np.asarray(local.day_of_week * 24 + local.hour, dtype=np.intp)


def hour_of_week_cells(timestamps: Any) -> NDArray[np.intp]:
    """Cell of each incident in the hour-of-week matrix: ``weekday * 24 + local hour``.

    Parameters
    ----------
    timestamps : array-like of datetimes
        As for :func:`hour_of_week`.

    Returns
    -------
    numpy.ndarray of int
        Values 0-167 (Monday 00 is 0, Sunday 23 is 167); ``np.bincount(cells,
        minlength=168).reshape(7, 24)`` is :func:`hour_of_week`. Useful to count many
        groups in one pass.

    Raises
    ------
    ValueError
        On missing or non-datetime timestamps.
    """
    return _cells(timestamps, "timestamps")


def hour_of_week(timestamps: Any, weights: ArrayLike | None = None) -> NDArray[Any]:
    """Count (or sum weights of) incidents per weekday and local hour.

    Parameters
    ----------
    timestamps : array-like of datetimes
        Incident times; tz-aware values are converted to Europe/Stockholm, naive
        values are taken as local time.
    weights : array-like, optional
        One finite weight per timestamp (e.g. harm weights); default 1 each.

    Returns
    -------
    numpy.ndarray, shape (7, 24)
        Row 0 = Monday ... row 6 = Sunday, column = local hour 0-23. int64 counts
        without weights, float64 sums with weights.

    Raises
    ------
    ValueError
        On missing or non-datetime timestamps, or weights of the wrong length or
        with NaN/inf.
    """
    cells = _cells(timestamps, "timestamps")
    if weights is None:
        return np.bincount(cells, minlength=_CELLS).astype(np.int64).reshape(7, 24)
    w = as_1d_float(weights, "weights")
    same_length(timestamps=cells, weights=w)
    return np.bincount(cells, weights=w, minlength=_CELLS).reshape(7, 24)


def hour_of_week_table(frame: pd.DataFrame, by: Sequence[str] = ("area_id", "indicator")) -> pd.DataFrame:
    """Long hour-of-week table per group of an incident frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Incidents with ``occurred_at`` and the ``by`` columns (see
        :mod:`problembild.analysis.indicators`).
    by : sequence of str
        Grouping columns; ``()`` for one national profile. When ``"indicator"`` is
        among them, an ``"all"`` group (every incident of the other keys) is added,
        as in :func:`problembild.analysis.indicators.count_table`. Missing keys (e.g.
        incidents in no area) form their own NA group.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, weekday, hour, count``: 168 rows per observed group (zeros
        included), ``weekday`` 0 = Monday ... 6 = Sunday and ``hour`` 0-23 in local
        time (both int64), ``count`` int64. Sorted by group (indicators in
        vocabulary order, ``"all"`` last), weekday and hour. Empty frame -> empty
        table with these columns.
    """
    by_cols = [by] if isinstance(by, str) else list(by)
    require_columns(frame, ["occurred_at", *by_cols], "frame")
    if "indicator" in by_cols:
        check_indicator_codes(frame["indicator"], "frame['indicator']", allow_all=False)
    cells = _cells(frame["occurred_at"], "frame['occurred_at']")
    parts = [(frame[by_cols].reset_index(drop=True), cells)]
    if "indicator" in by_cols:
        everything = frame[by_cols].reset_index(drop=True).assign(indicator=ALL)
        parts.append((everything, cells))
    pieces = []
    for keys, part_cells in parts:
        if len(part_cells) == 0:
            continue
        if by_cols:
            grouped = keys.groupby(by_cols, dropna=False, sort=True)
            codes = grouped.ngroup().to_numpy()
            key_frame = grouped.size().index.to_frame(index=False)
        else:
            codes = np.zeros(len(part_cells), dtype=np.intp)
            key_frame = pd.DataFrame(index=range(1))
        counts = np.bincount(codes * _CELLS + part_cells, minlength=len(key_frame) * _CELLS)
        piece = key_frame.loc[np.repeat(np.arange(len(key_frame)), _CELLS)].reset_index(drop=True)
        piece["weekday"] = np.tile(np.repeat(np.arange(7, dtype=np.int64), 24), len(key_frame))
        piece["hour"] = np.tile(np.arange(24, dtype=np.int64), 7 * len(key_frame))
        piece["count"] = counts.astype(np.int64)
        pieces.append(piece)
    if not pieces:
        empty: dict[str, Any] = {c: frame[c].iloc[:0].reset_index(drop=True) for c in by_cols}
        for col in ("weekday", "hour", "count"):
            empty[col] = pd.Series([], dtype=np.int64)
        return pd.DataFrame(empty)
    table = pd.concat(pieces, ignore_index=True)
    sort_cols = [*by_cols, "weekday", "hour"]
    if "indicator" in by_cols:
        table["indicator"] = table["indicator"].astype("str")
        table["_order"] = indicator_order(table["indicator"])
        sort_cols = [("_order" if c == "indicator" else c) for c in sort_cols]
    table = table.sort_values(sort_cols, na_position="last", kind="stable")
    return table[[*by_cols, "weekday", "hour", "count"]].reset_index(drop=True)
