"""Indicator counts per area and period, rates per residents, shares and ranks.

The incident frame read by the Django side has one row per incident report:

``area_id``
    Area the incident lies in (int; NA for incidents in no area).
``indicator``
    Indicator group code from :data:`problembild.analysis.vocabulary.INDICATORS`.
``occurred_at``
    tz-aware time (Europe/Stockholm or UTC; naive is taken as local).
``municipality``, ``police_area`` (optional)
    Municipality code (4 digits) and police area code, for other groupings.

Tables are long ("tidy"): one row per key, indicator and period, so that a period
without incidents is a row with ``count == 0`` rather than a missing row.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from ._validation import positive
from .periods import check_period, complete_periods, period_start
from .vocabulary import ALL, INDICATOR_CODES

__all__ = ["count_table", "rank", "rates", "shares"]

#: Column order of :func:`count_table` after the ``by`` columns.
COUNT_COLUMNS: Final[tuple[str, ...]] = ("indicator", "period_start", "count")
_ORDER: Final[dict[str, int]] = {code: i for i, code in enumerate((*INDICATOR_CODES, ALL))}
_REQUIRED: Final[tuple[str, ...]] = ("indicator", "occurred_at")


def require_columns(frame: Any, columns: Iterable[str], name: str) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding ``columns``; raise ``ValueError`` naming ``name``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
    return frame


def indicator_order(values: pd.Series) -> pd.Series:
    """Sort key placing indicator codes in vocabulary order, then ``"all"``, then unknown codes."""
    return values.map(_ORDER).fillna(len(_ORDER)).astype(np.int64)


def check_indicator_codes(values: pd.Series, name: str, *, allow_all: bool) -> None:
    """Raise ``ValueError`` naming ``name`` if ``values`` holds missing or unknown codes."""
    if values.isna().any():
        raise ValueError(f"{name} has {int(values.isna().sum())} missing indicator code(s)")
    allowed = set(INDICATOR_CODES) | ({ALL} if allow_all else set())
    unknown = sorted({str(v) for v in values.unique()} - allowed)
    if unknown:
        raise ValueError(f"{name} has unknown indicator code(s) {unknown[:10]}; known: {sorted(allowed)}")


def _by_columns(by: Any) -> list[str]:
    if isinstance(by, str):
        by = (by,)
    try:
        cols = list(by)
    except TypeError:
        raise ValueError(f"by must be a sequence of column names, got {by!r}") from None
    if not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
        raise ValueError(f"by must be distinct column names, got {by!r}")
    clash = set(cols) & {*COUNT_COLUMNS, "occurred_at"}
    if clash:
        raise ValueError(f"by must not contain {sorted(clash)}")
    return cols


def _out_indicators(indicators: Iterable[str] | None) -> list[str]:
    if indicators is None:
        return [*INDICATOR_CODES, ALL]
    if isinstance(indicators, str):
        indicators = [indicators]
    codes = list(dict.fromkeys(indicators))
    check_indicator_codes(pd.Series(codes, dtype=object), "indicators", allow_all=True)
    return codes


def _keys_frame(keys: Any, by: list[str], frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(keys, pd.DataFrame):
        require_columns(keys, by, "keys")
        out = keys[by].copy()
    elif len(by) == 1:
        out = pd.DataFrame({by[0]: list(keys)})
    else:
        raise ValueError(f"keys must be a DataFrame with columns {by} when grouping by several columns")
    for col in by:
        try:
            out[col] = out[col].astype(frame[col].dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"keys[{col!r}] does not match frame[{col!r}]'s type: {exc}") from None
    return out


def _empty_counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    columns: dict[str, Any] = {c: frame[c].iloc[:0] for c in by}
    columns["indicator"] = pd.Series([], dtype="str")
    columns["period_start"] = pd.Series([], dtype="datetime64[us]")
    columns["count"] = pd.Series([], dtype=np.int64)
    return pd.DataFrame({k: v.reset_index(drop=True) for k, v in columns.items()})


def count_table(
    frame: pd.DataFrame,
    *,
    period: str,
    by: Sequence[str] = ("area_id",),
    indicators: Iterable[str] | None = None,
    first: Any = None,
    last: Any = None,
    keys: pd.DataFrame | Iterable[Hashable] | None = None,
) -> pd.DataFrame:
    """Count incidents per key, indicator and period, with explicit zeros.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per incident with ``indicator``, ``occurred_at`` and the ``by``
        columns (see the module docstring). Times are bucketed in Europe/Stockholm
        local time.
    period : {"week", "month", "quarter", "year"}
        Period length (see :mod:`problembild.analysis.periods`).
    by : sequence of str
        Key columns, e.g. ``("area_id",)``, ``("municipality",)`` or ``()`` for
        national totals. Rows with a missing key (e.g. incidents in no area) form
        their own group with an NA key, so totals still add up; drop them if unwanted.
    indicators : iterable of str, optional
        Indicator codes to report, in that order; may include ``"all"``. Default:
        every code of the vocabulary followed by ``"all"``. ``"all"`` always counts
        every incident in ``frame``, whatever else is selected.
    first, last : datetime-like, optional
        Period range to report (inclusive, any time inside the first/last period).
        Incidents outside it are ignored. Default: the first and last period with
        an incident in ``frame``.
    keys : DataFrame or iterable, optional
        Keys to report even if they have no incidents (e.g. every area in the
        register): a DataFrame with the ``by`` columns, or for a single ``by`` column
        an iterable of values. Observed keys are always reported.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, indicator, period_start, count``: one row for every key x
        indicator x period in the range (zeros included), ``period_start`` a naive
        local ``datetime64[us]`` and ``count`` an int64 number of incidents. Sorted
        by key, indicator (vocabulary order, ``"all"`` last) and period. Empty (with
        these columns) when there is nothing to report.

    Raises
    ------
    ValueError
        If ``frame`` lacks a column, has missing times or missing/unknown indicator
        codes, or if an argument is invalid.
    """
    check_period(period)
    by_cols = _by_columns(by)
    require_columns(frame, [*_REQUIRED, *by_cols], "frame")
    out_codes = _out_indicators(indicators)
    check_indicator_codes(frame["indicator"], "frame['indicator']", allow_all=False)
    starts = period_start(frame["occurred_at"], period)
    if starts.isna().any():
        raise ValueError(f"frame['occurred_at'] has {int(starts.isna().sum())} missing time(s)")

    events = pd.DataFrame({c: frame[c] for c in by_cols}, index=frame.index)
    # Grouping on category codes is many times faster than on millions of strings.
    events["indicator"] = frame["indicator"].astype("category")
    events["period_start"] = starts
    events["_key"] = 0  # lets by=() share the cross-join code path
    lo = None if first is None else period_start(first, period)
    hi = None if last is None else period_start(last, period)
    if lo is not None:
        events = events[events["period_start"] >= lo]
    if hi is not None:
        events = events[events["period_start"] <= hi]
    if lo is None or hi is None:
        if events.empty:
            return _empty_counts(frame, by_cols)
        lo = events["period_start"].min() if lo is None else lo
        hi = events["period_start"].max() if hi is None else hi
    if lo > hi:
        raise ValueError(f"first ({first!r}) is after last ({last!r})")

    key_cols = [*by_cols, "_key"]
    key_frame = events[key_cols].drop_duplicates()
    if keys is not None and by_cols:
        extra = _keys_frame(keys, by_cols, frame).assign(_key=0)
        key_frame = pd.concat([key_frame, extra], ignore_index=True).drop_duplicates()
    elif not by_cols:
        key_frame = pd.DataFrame({"_key": [0]})
    if key_frame.empty:
        return _empty_counts(frame, by_cols)

    grid = key_frame.merge(pd.DataFrame({"indicator": pd.Series(out_codes, dtype="str")}), how="cross")
    grid = grid.merge(pd.DataFrame({"period_start": complete_periods(lo, hi, period)}), how="cross")
    specific = (
        events.groupby([*key_cols, "indicator", "period_start"], dropna=False, observed=True)
        .size()
        .reset_index(name="count")
    )
    specific["indicator"] = specific["indicator"].astype("str")
    total = events.groupby([*key_cols, "period_start"], dropna=False).size().reset_index(name="count")
    total["indicator"] = ALL
    counted = pd.concat([specific, total], ignore_index=True)
    table = grid.merge(counted, on=[*key_cols, "indicator", "period_start"], how="left")
    table["count"] = table["count"].fillna(0).astype(np.int64)
    table["_order"] = indicator_order(table["indicator"])
    table = table.sort_values([*by_cols, "_order", "period_start"], na_position="last", kind="stable")
    return table[[*by_cols, *COUNT_COLUMNS]].reset_index(drop=True)


def population_series(population: Any, on: str, name: str = "population") -> pd.Series:
    """Residents per key as a float Series (NaN where unknown), validated.

    Accepts a Series indexed by the key, a DataFrame with columns ``on`` and
    ``residents``, or a DataFrame indexed by ``on`` with a ``residents`` column.
    """
    if isinstance(population, pd.Series):
        values = population
    elif isinstance(population, pd.DataFrame):
        if "residents" not in population.columns:
            raise ValueError(f"{name} must have a 'residents' column; it has {list(population.columns)}")
        if on in population.columns:
            values = population.set_index(on)["residents"]
        elif population.index.name == on:
            values = population["residents"]
        else:
            raise ValueError(f"{name} must have an {on!r} column or index")
    else:
        raise ValueError(f"{name} must be a pandas Series or DataFrame, got {type(population).__name__}")
    try:
        residents = pd.to_numeric(values, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} residents must be numeric: {exc}") from None
    residents = residents[residents.index.notna()]
    if residents.index.has_duplicates:
        dupes = residents.index[residents.index.duplicated()].unique().tolist()
        raise ValueError(f"{name} has duplicate {on} value(s) {dupes[:10]}")
    if (residents < 0).any() or np.isinf(residents).any():
        raise ValueError(f"{name} residents must be finite and >= 0 (missing may be NaN)")
    return residents


def rates(
    counts: pd.DataFrame, population: pd.Series | pd.DataFrame, per: float = 1000, *, on: str = "area_id"
) -> pd.DataFrame:
    """Add incident rates per ``per`` residents to a count table.

    Parameters
    ----------
    counts : pandas.DataFrame
        A table with ``on`` and ``count`` columns, e.g. from :func:`count_table`.
    population : pandas.Series or pandas.DataFrame
        Residents per ``on`` key: a Series indexed by the key, or a DataFrame with
        ``on`` (column or index) and ``residents``. Missing, NaN or 0 residents make
        the rate unavailable; nothing is divided by zero.
    per : float
        Rate denominator in residents (default 1,000).
    on : str
        Key column shared by ``counts`` and ``population``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``counts`` with ``residents`` (float, NaN if unknown), ``rate``
        (incidents per ``per`` residents *per period* -- not annualised; NaN where
        unavailable) and ``rate_available`` (bool).
    """
    require_columns(counts, [on, "count"], "counts")
    per = positive(per, "per")
    residents = population_series(population, on)
    out = counts.copy()
    out["residents"] = out[on].map(residents).astype(np.float64)
    available = (out["residents"] > 0).fillna(False).astype(bool)
    rate = np.full(len(out), np.nan)
    mask = available.to_numpy()
    rate[mask] = out["count"].to_numpy(dtype=np.float64)[mask] / out["residents"].to_numpy()[mask] * per
    out["rate"] = rate
    out["rate_available"] = mask
    return out


def shares(
    counts: pd.DataFrame, group_totals: pd.DataFrame, *, on: Sequence[str] | None = None
) -> pd.DataFrame:
    """Share of a larger unit's count that falls in each row (e.g. an area's share of its municipality).

    Parameters
    ----------
    counts : pandas.DataFrame
        Rows to express as shares, with ``count`` and the ``on`` columns, e.g.
        ``count_table(frame, period="year", by=("area_id", "municipality"))``.
    group_totals : pandas.DataFrame
        Totals of the larger units with ``count`` and the ``on`` columns, e.g.
        ``count_table(frame, period="year", by=("municipality",))`` -- computed from
        *all* incidents of the unit, including those in no area. One row per key.
    on : sequence of str, optional
        Join columns; default every column of ``group_totals`` except ``count``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``counts`` with ``group_total`` (float count, NaN when the unit is
        absent from ``group_totals``) and ``share`` (fraction 0-1 of ``group_total``;
        NaN where ``group_total`` is 0 or missing).
    """
    require_columns(group_totals, ["count"], "group_totals")
    join = [c for c in group_totals.columns if c != "count"] if on is None else list(on)
    if not join:
        raise ValueError("shares needs at least one join column (on)")
    require_columns(counts, [*join, "count"], "counts")
    require_columns(group_totals, join, "group_totals")
    totals = group_totals[[*join, "count"]].rename(columns={"count": "group_total"})
    if totals.duplicated(subset=join).any():
        raise ValueError(f"group_totals has several rows for the same {join}")
    out = counts.merge(totals, on=join, how="left")
    out.index = counts.index
    total = out["group_total"].astype(np.float64)
    out["group_total"] = total
    with np.errstate(divide="ignore", invalid="ignore"):
        share = out["count"].to_numpy(dtype=np.float64) / total.to_numpy()
    share[~(total.to_numpy() > 0)] = np.nan
    out["share"] = share
    return out


def rank(values: Any, *, groups: Any = None) -> pd.DataFrame:
    """Dense rank of values (1 = highest), overall and within groups.

    Ties share a rank and the next distinct value gets the next integer
    (``10, 8, 8, 5`` -> ``1, 2, 2, 3``), so a rank says how many *distinct* values
    are higher, not how many areas; ``n_ranked`` and ``group_n`` give the number of
    ranked areas. Missing values (e.g. a rate without population) are not ranked.

    Parameters
    ----------
    values : pandas.Series or array-like
        Values to rank, e.g. rates per 1,000 residents indexed by ``area_id``. To rank
        a long table per indicator and period, apply this per group.
    groups : pandas.Series, mapping or array-like, optional
        Category of each value (e.g. the area category). A Series or mapping is
        aligned on ``values``' index; an array must have the same length.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``values``: ``value`` (float), ``rank`` (Int64, NA if unranked)
        and ``n_ranked`` (int); with ``groups`` also ``group``, ``group_rank`` (Int64)
        and ``group_n`` (Int64: ranked values in the same group).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    try:
        numeric = pd.to_numeric(series, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values must be numeric: {exc}") from None
    if np.isinf(numeric).any():
        raise ValueError("values contains infinite values")
    out = pd.DataFrame({"value": numeric}, index=series.index)
    out["rank"] = numeric.rank(method="dense", ascending=False).astype("Int64")
    out["n_ranked"] = int(numeric.notna().sum())
    if groups is None:
        return out
    if isinstance(groups, pd.Series):
        group = groups.reindex(series.index)
    elif isinstance(groups, dict):
        group = pd.Series([groups.get(k) for k in series.index], index=series.index, dtype=object)
    else:
        arr = np.asarray(groups, dtype=object)
        if arr.shape != (len(series),):
            raise ValueError(f"groups must have the same length as values ({len(series)}), got {arr.shape}")
        group = pd.Series(arr, index=series.index)
    out["group"] = group
    ranked = numeric.where(group.notna())
    out["group_rank"] = ranked.groupby(group).rank(method="dense", ascending=False).astype("Int64")
    sizes = ranked.groupby(group).count()
    out["group_n"] = group.map(sizes).astype("Int64")
    return out
