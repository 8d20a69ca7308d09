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

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from ._validation import as_1d_float, positive
from .periods import check_period, complete_periods, period_start, to_local
from .vocabulary import ALL, INDICATOR_CODES

__all__ = [
    "count_table",
    "day_cube",
    "day_cube_table",
    "group_rates",
    "rank",
    "rate_intervals",
    "rates",
    "shares",
    "shrunk_rates",
]

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


def key_columns(table: pd.DataFrame, keys: Sequence[str] | None, name: str) -> list[str]:
    """Key columns of a count table: ``keys`` (checked to exist), or by default every
    column but ``period_start`` and ``count``; ``ValueError`` naming ``name``."""
    if keys is None:
        return [c for c in table.columns if c not in ("period_start", "count")]
    cols = [keys] if isinstance(keys, str) else list(keys)
    require_columns(table, cols, name)
    return cols


def checked_counts(table: pd.DataFrame, name: str) -> NDArray[np.float64]:
    """The ``count`` column of a count table as float64, checked to hold whole numbers >= 0."""
    values = table["count"]
    if values.isna().any():
        raise ValueError(f"{name}['count'] has missing values")
    counts = as_1d_float(values.to_numpy(dtype=np.float64, na_value=np.nan), f"{name}['count']")
    if np.any(counts < 0) or np.any(counts != np.floor(counts)):
        raise ValueError(f"{name}['count'] must be non-negative whole numbers")
    return counts


def checked_period_starts(table: pd.DataFrame, period: str, name: str) -> pd.DatetimeIndex:
    """The ``period_start`` column of a count table as naive local times, checked to be
    starts of ``period`` (see :func:`problembild.analysis.periods.period_start`)."""
    starts = to_local(table["period_start"], f"{name}['period_start']")
    if starts.isna().any():
        raise ValueError(f"{name}['period_start'] has missing values")
    if not (period_start(starts, period) == starts).all():
        raise ValueError(f"{name}['period_start'] must hold {period} starts (see periods.period_start)")
    return starts


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
    out_codes = sorted(_out_indicators(indicators), key=_ORDER.__getitem__)
    check_indicator_codes(frame["indicator"], "frame['indicator']", allow_all=False)
    starts = period_start(frame["occurred_at"], period)
    if starts.isna().any():
        raise ValueError(f"frame['occurred_at'] has {int(starts.isna().sum())} missing time(s)")

    start_values = starts.to_numpy()
    lo = None if first is None else period_start(first, period)
    hi = None if last is None else period_start(last, period)
    inside = np.ones(len(frame), dtype=bool)
    if lo is not None:
        inside &= start_values >= lo.to_datetime64()
    if hi is not None:
        inside &= start_values <= hi.to_datetime64()
    if lo is None or hi is None:
        if not inside.any():
            return _empty_counts(frame, by_cols)
        lo = pd.Timestamp(start_values[inside].min()) if lo is None else lo
        hi = pd.Timestamp(start_values[inside].max()) if hi is None else hi
    if lo > hi:
        raise ValueError(f"first ({first!r}) is after last ({last!r})")

    extra = _keys_frame(keys, by_cols, frame) if keys is not None and by_cols else None
    key_index, key_frame = _key_codes(frame.loc[inside, by_cols], extra, by_cols)
    if len(key_frame) == 0:
        return _empty_counts(frame, by_cols)

    # Counting is one bincount over (key, indicator, period) codes into a dense cube:
    # the table has a row for every cell anyway, and ten million incidents count in
    # well under a second where a groupby and merges take several.
    periods_index = complete_periods(lo, hi, period)
    # numpy's searchsorted on the raw values: pandas' own validates and converts units first.
    period_code = np.searchsorted(periods_index.to_numpy().astype(start_values.dtype), start_values[inside])
    vocab = pd.Categorical(frame.loc[inside, "indicator"], categories=list(INDICATOR_CODES)).codes
    n_keys, n_vocab, n_periods = len(key_frame), len(INDICATOR_CODES), len(periods_index)
    flat = (key_index * n_vocab + vocab.astype(np.int64)) * n_periods + period_code
    cube = np.bincount(flat, minlength=n_keys * n_vocab * n_periods).reshape(n_keys, n_vocab, n_periods)
    layers = [cube.sum(axis=1) if code == ALL else cube[:, _ORDER[code], :] for code in out_codes]
    counts = np.stack(layers, axis=1).astype(np.int64)  # (key, indicator, period)

    return _long_table(key_frame, out_codes, periods_index, counts)


def _long_table(
    keys: pd.DataFrame, codes: list[str], periods_index: pd.DatetimeIndex, counts: NDArray[np.int64]
) -> pd.DataFrame:
    """The long count table of ``counts`` (key x indicator x period, in ``keys``' rows,
    ``codes`` and ``periods_index`` order): ``*by, indicator, period_start, count``."""
    n_keys, n_out, n_periods = counts.shape
    columns: dict[str, Any] = {
        c: keys[c].take(np.repeat(np.arange(n_keys), n_out * n_periods)).reset_index(drop=True)
        for c in keys.columns
    }
    columns["indicator"] = pd.Series(
        np.tile(np.repeat(np.array(codes, dtype=object), n_periods), n_keys), dtype="str"
    )
    columns["period_start"] = pd.Series(np.tile(periods_index.to_numpy(), n_keys * n_out))
    columns["count"] = counts.ravel()
    return pd.DataFrame(columns)


def day_cube(
    key_index: NDArray[np.integer],
    indicator: NDArray[np.integer],
    day: NDArray[np.integer],
    *,
    n_keys: int,
    first_day: int,
    n_days: int,
) -> NDArray[np.int64]:
    """Incidents per key, indicator and local day, as a dense cube.

    Parameters
    ----------
    key_index : array of int
        Each incident's key, ``0 <= key_index < n_keys``.
    indicator : array of int
        Each incident's indicator as a position in ``INDICATOR_CODES``.
    day : array of int
        Each incident's local day: days since 1970-01-01 of its Europe/Stockholm wall-clock
        date (:func:`~problembild.analysis.periods.local_days`). Incidents outside
        ``[first_day, first_day + n_days)`` are not counted.
    n_keys, first_day, n_days : int
        The cube's extent.

    Returns
    -------
    numpy.ndarray of int64, shape ``(n_keys, len(INDICATOR_CODES), n_days)``
        Cubes add: the cube of two sets of incidents is the sum of their cubes, so a cube
        kept between runs grows by the cube of the new incidents alone.
    """
    key_index, indicator, day = (np.asarray(a, dtype=np.int64) for a in (key_index, indicator, day))
    if not (len(key_index) == len(indicator) == len(day)):
        raise ValueError("key_index, indicator and day must have the same length")
    n_vocab = len(INDICATOR_CODES)
    shift = day - first_day
    keep = (shift >= 0) & (shift < n_days)
    if not keep.all():
        key_index, indicator, shift = key_index[keep], indicator[keep], shift[keep]
    flat = (key_index * n_vocab + indicator) * n_days + shift
    size = n_keys * n_vocab * n_days
    return np.bincount(flat, minlength=size).reshape(n_keys, n_vocab, n_days)


def day_cube_table(
    cube: NDArray[np.integer],
    keys: pd.DataFrame,
    *,
    first_day: int,
    period: str,
    first: Any,
    last: Any,
    always: NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """:func:`count_table` of the incidents counted in ``cube`` (from :func:`day_cube`).

    ``keys`` has the ``by`` columns, one row per key of the cube, in the order the table
    lists them. Periods run from the one containing ``first`` to the one containing
    ``last`` (both required); a key is listed when it has an incident in them or
    ``always`` is true for it (``count_table``'s ``keys``). The result equals
    ``count_table(frame, period=period, by=keys.columns, first=first, last=last, keys=…)``
    of the same incidents (``tests/analysis/test_indicators.py`` checks it), at the cost
    of the cube instead of the incidents: the days of a period are contiguous, so each
    period is one sum over the day axis.
    """
    check_period(period)
    cube = np.asarray(cube)
    if cube.ndim != 3 or cube.shape[1] != len(INDICATOR_CODES) or cube.shape[0] != len(keys):
        raise ValueError(f"cube must have shape (len(keys), {len(INDICATOR_CODES)}, days), got {cube.shape}")
    by_cols = list(keys.columns)
    lo, hi = period_start(first, period), period_start(last, period)
    if lo > hi:
        raise ValueError(f"first ({first!r}) is after last ({last!r})")
    periods_index = complete_periods(lo, hi, period)
    n_periods = len(periods_index)
    n_days = cube.shape[2]
    days = (np.arange(n_days, dtype=np.int64) + first_day).astype("datetime64[D]")
    day_starts = period_start(pd.DatetimeIndex(days), period).to_numpy()
    code = np.searchsorted(periods_index.to_numpy().astype(day_starts.dtype), day_starts)
    inside = np.flatnonzero((day_starts >= lo.to_datetime64()) & (day_starts <= hi.to_datetime64()))
    counts = np.zeros((cube.shape[0], cube.shape[1], n_periods), dtype=np.int64)
    if len(inside):
        codes = code[inside]  # non-decreasing: a period's days lie together
        breaks = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        counts[:, :, codes[breaks]] = np.add.reduceat(cube[:, :, inside], breaks, axis=2)
    listed = counts.any(axis=(1, 2))
    if always is not None:
        listed |= np.asarray(always, dtype=bool)
    rows = np.flatnonzero(listed)
    if len(rows) == 0:
        return _empty_counts(keys, by_cols)
    counts = counts[rows]
    counts = np.concatenate([counts, counts.sum(axis=1, keepdims=True)], axis=1)  # "all" last
    picked = keys.iloc[rows].reset_index(drop=True)
    return _long_table(picked, [*INDICATOR_CODES, ALL], periods_index, counts)


def _key_codes(
    events: pd.DataFrame, extra: pd.DataFrame | None, by: list[str]
) -> tuple[NDArray[np.int64], pd.DataFrame]:
    """Code each event's key and list the keys (observed and ``extra``), sorted, NA last."""
    n = len(events)
    if not by:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    combined = np.zeros(n + (0 if extra is None else len(extra)), dtype=np.int64)
    uniques = []
    for col in by:
        values = events[col] if extra is None else pd.concat([events[col], extra[col]], ignore_index=True)
        codes, levels = pd.factorize(values, sort=True, use_na_sentinel=False)
        combined = combined * len(levels) + codes
        uniques.append(levels)
    if len(by) == 1:
        key_index, present = combined, np.arange(len(uniques[0]))
    else:
        # factorize hashes: far faster than np.unique's sort on millions of events.
        key_index, present = pd.factorize(combined, sort=True)
    key_frame = {}
    rest = present
    for col, levels in zip(reversed(by), reversed(uniques), strict=True):
        rest, code = np.divmod(rest, len(levels))
        key_frame[col] = pd.Series(levels.take(code), dtype=events[col].dtype)
    return key_index[:n].astype(np.int64), pd.DataFrame({c: key_frame[c] for c in by})


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


def rank(values: Any, *, groups: Any = None, column: str | None = None) -> pd.DataFrame:
    """Dense rank of values (1 = highest), overall and within groups.

    Ties share a rank and the next distinct value gets the next integer
    (``10, 8, 8, 5`` -> ``1, 2, 2, 3``), so a rank says how many *distinct* values
    are higher, not how many areas; ``n_ranked`` and ``group_n`` give the number of
    ranked areas. Missing values (e.g. a rate without population) are not ranked.

    Parameters
    ----------
    values : pandas.Series, pandas.DataFrame or array-like
        Values to rank, e.g. rates per 1,000 residents indexed by ``area_id``, or
        better the shrunk rates of :func:`shrunk_rates` (raw rates of small areas
        rank by chance). To rank a long table per indicator and period, apply this
        per group.
    groups : pandas.Series, mapping or array-like, optional
        Category of each value (e.g. the area category). A Series or mapping is
        aligned on ``values``' index; an array must have the same length.
    column : str, optional
        With a DataFrame ``values``, the column to rank (e.g. ``"shrunk_rate"`` of
        :func:`shrunk_rates`); required for a DataFrame.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``values``: ``value`` (float), ``rank`` (Int64, NA if unranked)
        and ``n_ranked`` (int); with ``groups`` also ``group``, ``group_rank`` (Int64)
        and ``group_n`` (Int64: ranked values in the same group).
    """
    if isinstance(values, pd.DataFrame):
        if column is None:
            raise ValueError("column must name the column of values to rank when values is a DataFrame")
        require_columns(values, [column], "values")
        values = values[column]
    elif column is not None:
        raise ValueError("column is only for a DataFrame of values")
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


def rate_intervals(counts: Any, population: Any, *, per: float = 1000, level: float = 0.95) -> pd.DataFrame:
    """Rates per ``per`` residents with exact Poisson confidence intervals.

    Parameters
    ----------
    counts : pandas.Series or array-like
        Events per area over one window (whole numbers >= 0), e.g. twelve months.
    population : pandas.Series, mapping or array-like
        Residents per area: a Series or mapping is aligned on ``counts``' index, an
        array must have the same length. Missing, NaN or 0 residents make the rate
        unavailable (NaN).
    per : float
        Rate denominator in residents (default 1,000).
    level : float
        Confidence level in (0, 1) (default 0.95).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``counts``: ``count``, ``residents``, ``rate`` (``count /
        residents * per``; per the window, not annualised), ``rate_low`` and
        ``rate_high``.

    Notes
    -----
    The exact (Garwood) interval of a Poisson mean from ``y`` events is
    ``[chi2.ppf(a/2, 2y) / 2, chi2.ppf(1 - a/2, 2y + 2) / 2]`` with ``a = 1 - level``
    (lower limit 0 when ``y = 0``), divided by the residents and multiplied by ``per``.
    It covers the true rate with probability at least ``level`` whatever the count.

    References
    ----------
    .. [1] Garwood, F. (1936). Fiducial limits for the Poisson distribution.
       Biometrika, 28(3/4), 437-442.
    """
    y, n, index = _counts_and_residents(counts, population)
    per = positive(per, "per")
    a = 1.0 - _level(level)
    available = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(available, per / n, np.nan)
    low = np.where(y > 0, stats.chi2.ppf(a / 2, 2 * y) / 2, 0.0)
    high = stats.chi2.ppf(1 - a / 2, 2 * y + 2) / 2
    return pd.DataFrame(
        {
            "count": y,
            "residents": np.where(np.isnan(n), np.nan, n),
            "rate": y * scale,
            "rate_low": low * scale,
            "rate_high": high * scale,
        },
        index=index,
    )


def shrunk_rates(counts: Any, population: Any, *, per: float = 1000, level: float = 0.95) -> pd.DataFrame:
    """Empirical-Bayes rates: small areas' rates shrunk towards the common rate.

    Parameters
    ----------
    counts, population, per, level
        As in :func:`rate_intervals` (events per area over one window, residents).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``counts``: the columns of :func:`rate_intervals` (raw rate and
        its exact interval) and ``shrunk_rate``, ``shrunk_low``, ``shrunk_high`` (the
        posterior mean and the equal-tailed ``level`` interval of the area's rate per
        ``per`` residents) and ``weight`` (the share of the area's own rate in the
        shrunk one, 0-1). ``frame.attrs`` holds ``prior_mean`` and ``prior_variance``
        (per ``per`` residents and its square) and ``method``. Areas without residents
        get NaN and do not enter the estimates.

    Notes
    -----
    Marshall's global moment estimator [1]_: with rates ``r_i = y_i / n_i``, the
    common rate ``m = sum(y) / sum(n)`` and ``s² = sum(n_i (r_i - m)²) / sum(n)``, the
    variance of the true rates between areas is ``A = s² - m / mean(n)`` (0 if negative:
    the rates vary no more than Poisson counts would). The shrunk rate is
    ``m + w_i (r_i - m)`` with ``w_i = A / (A + m / n_i)``: small areas, whose raw
    rate is mostly noise, move most towards ``m``. This equals
    ``esda.smoothing.Empirical_Bayes(y, n).r`` (where ``A > 0``) and the posterior mean
    of a Poisson-gamma model whose gamma prior has mean ``m`` and variance ``A``
    (shape ``m²/A``, rate ``m/A``); the interval is that posterior's
    (``Gamma(m²/A + y_i, m/A + n_i)``). When ``A = 0`` every area gets ``m`` and the
    exact interval of the common rate (``sum(y)`` events over ``sum(n)`` residents).
    Rank areas by ``shrunk_rate`` (:func:`rank` with ``column="shrunk_rate"``).

    References
    ----------
    .. [1] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical
       Bayes estimators. Journal of the Royal Statistical Society C, 40(2), 283-294.
    .. [2] Clayton, D. & Kaldor, J. (1987). Empirical Bayes estimates of
       age-standardized relative risks for use in disease mapping. Biometrics, 43(3),
       671-681.
    """
    out = rate_intervals(counts, population, per=per, level=level)
    a = 1.0 - _level(level)
    y = out["count"].to_numpy(dtype=np.float64)
    n = out["residents"].to_numpy(dtype=np.float64)
    used = n > 0
    for column in ("shrunk_rate", "shrunk_low", "shrunk_high", "weight"):
        out[column] = np.nan
    out.attrs.update(
        prior_mean=math.nan, prior_variance=math.nan, method="Marshall (1991) global moment estimator"
    )
    if not used.any() or y[used].sum() == 0:
        if used.any():  # no events anywhere: every rate is 0, the interval the common one's
            out.loc[used, ["shrunk_rate", "shrunk_low", "weight"]] = 0.0
            out.loc[used, "shrunk_high"] = stats.chi2.ppf(1 - a / 2, 2) / 2 / n[used].sum() * per
            out.attrs.update(prior_mean=0.0, prior_variance=0.0)
        return out
    yu, nu = y[used], n[used]
    m = yu.sum() / nu.sum()
    r = yu / nu
    s2 = float(np.sum(nu * (r - m) ** 2) / nu.sum())
    between = max(s2 - m / nu.mean(), 0.0)
    if between > 0:
        weight = between / (between + m / nu)
        shape = m * m / between + yu
        rate = m / between + nu
        shrunk = shape / rate
        low = stats.gamma.ppf(a / 2, shape, scale=1 / rate)
        high = stats.gamma.ppf(1 - a / 2, shape, scale=1 / rate)
    else:
        weight = np.zeros(nu.size)
        total_y, total_n = yu.sum(), nu.sum()
        shrunk = np.full(nu.size, m)
        low = np.full(nu.size, stats.chi2.ppf(a / 2, 2 * total_y) / 2 / total_n)
        high = np.full(nu.size, stats.chi2.ppf(1 - a / 2, 2 * total_y + 2) / 2 / total_n)
    out.loc[used, "shrunk_rate"] = shrunk * per
    out.loc[used, "shrunk_low"] = low * per
    out.loc[used, "shrunk_high"] = high * per
    out.loc[used, "weight"] = weight
    out.attrs.update(prior_mean=float(m * per), prior_variance=float(between * per * per))
    return out


def group_rates(counts: Any, population: Any, groups: Any, *, per: float = 1000) -> pd.DataFrame:
    """Population-weighted rate of each group of areas (e.g. the mean of a category).

    Parameters
    ----------
    counts, population
        As in :func:`rate_intervals`.
    groups : pandas.Series, mapping or array-like
        Group of each area (aligned like ``population``); areas with no group are
        left out.
    per : float
        Rate denominator in residents (default 1,000).

    Returns
    -------
    pandas.DataFrame
        Indexed by group: ``count`` and ``residents`` (sums over the group's areas with
        residents) and ``rate`` = ``sum(count) / sum(residents) * per``, the rate of the
        group as a whole. The plain mean of the areas' rates would give a village the
        weight of a district.
    """
    y, n, index = _counts_and_residents(counts, population)
    per = positive(per, "per")
    group = _aligned(groups, index, "groups")
    frame = pd.DataFrame({"count": y, "residents": n, "group": group.to_numpy()}, index=index)
    frame = frame[(frame["residents"] > 0) & frame["group"].notna()]
    out = frame.groupby("group", sort=True)[["count", "residents"]].sum()
    out["rate"] = out["count"] / out["residents"] * per
    return out


def _level(level: Any) -> float:
    value = positive(level, "level")
    if value >= 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return value


def _aligned(values: Any, index: pd.Index, name: str) -> pd.Series:
    """``values`` aligned on ``index``: a Series/mapping by key, an array by position."""
    if isinstance(values, pd.Series):
        return values.reindex(index)
    if isinstance(values, dict):
        return pd.Series([values.get(k) for k in index], index=index, dtype=object)
    arr = np.asarray(values, dtype=object)
    if arr.shape != (len(index),):
        raise ValueError(f"{name} must have the same length as counts ({len(index)}), got {arr.shape}")
    return pd.Series(arr, index=index)


def _counts_and_residents(
    counts: Any, population: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], pd.Index]:
    """Checked counts and residents (NaN where unknown) and the index of ``counts``."""
    series = counts if isinstance(counts, pd.Series) else pd.Series(np.asarray(counts))
    try:
        y = series.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"counts must be numeric: {exc}") from None
    if y.ndim != 1 or not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.floor(y)):
        raise ValueError("counts must be whole numbers >= 0, one per area")
    residents = _aligned(population, series.index, "population")
    try:
        n = pd.to_numeric(residents, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"population must be numeric: {exc}") from None
    if np.any(n < 0) or np.any(np.isinf(n)):
        raise ValueError("population must be finite and >= 0 (missing may be NaN)")
    return y.astype(np.float64), n.astype(np.float64), series.index
