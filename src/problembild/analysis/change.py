"""Each period against the previous period and the same period last year.

:func:`change_table` compares the counts of a count table with a test of equal daily
rates that allows for overdispersion
(:func:`problembild.analysis.ratetest.rate_test_many`): each key's dispersion is
estimated from its own series (:func:`dispersion_table`), and series that vary no more
than Poisson counts get the exact Poisson test. p-values are per comparison and *not*
adjusted for multiplicity: with many areas x indicators, about ``alpha`` of the
comparisons are marked by chance alone.

Trends (:mod:`problembild.analysis.trend`), control flags
(:mod:`problembild.analysis.control`) and the rate tests
(:mod:`problembild.analysis.ratetest`) were in this module; their names are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._validation import positive
from .control import control_flags
from .indicators import checked_counts, checked_period_starts, key_columns, require_columns
from .periods import check_period, period_days, period_label, previous, same_last_year
from .ratetest import (
    ALTERNATIVES,
    RateTestResult,
    dispersion_estimates,
    poisson_rate_test,
    poisson_rate_test_many,
    rate_test_many,
)
from .trend import FAMILIES, MIN_TREND_PERIODS, OVERDISPERSION_THRESHOLD, TrendResult, fit_trend
from .vocabulary import DOWN, UP

# The rate tests, trends and control flags are re-exported for callers of the former module.
__all__ = [
    "ALTERNATIVES",
    "FAMILIES",
    "MIN_TREND_PERIODS",
    "OVERDISPERSION_THRESHOLD",
    "RateTestResult",
    "TrendResult",
    "change_table",
    "control_flags",
    "dispersion_table",
    "fit_trend",
    "poisson_rate_test",
    "poisson_rate_test_many",
]


def _lookup(
    table: pd.DataFrame, keys: list[str], refs: pd.DatetimeIndex, counts: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Count of the same key at period ``refs`` (NaN if that period is not in the table)."""
    known = table[keys].copy()
    known["_ref"] = table["_start"].to_numpy()
    known["_ref_count"] = counts
    probe = table[keys].copy()
    probe["_ref"] = refs.to_numpy()
    merged = probe.merge(known, on=[*keys, "_ref"], how="left")
    return merged["_ref_count"].to_numpy(dtype=np.float64, na_value=np.nan)


def _marks(ratio: NDArray[np.float64], p: NDArray[np.float64], alpha: float) -> NDArray[np.object_]:
    significant = np.nan_to_num(p, nan=1.0) < alpha
    return np.where(significant & (ratio > 1), UP, np.where(significant & (ratio < 1), DOWN, ""))


def change_table(
    counts: pd.DataFrame,
    period: str,
    *,
    alpha: float = 0.05,
    keys: Sequence[str] | None = None,
    dispersion: Any = "estimate",
) -> pd.DataFrame:
    """Compare each period with the previous period and the same period last year.

    Parameters
    ----------
    counts : pandas.DataFrame
        Long table with key columns, ``period_start`` and ``count``, e.g. from
        :func:`problembild.analysis.indicators.count_table`; each key's periods should
        be complete (zeros present), as ``count_table`` makes them.
    period : {"week", "month", "quarter", "year"}
        Period of ``counts``; ``period_start`` values must be its starts.
    alpha : float
        Significance level of the marks (default 0.05), per comparison, unadjusted.
    keys : sequence of str, optional
        Key columns; default every column except ``period_start`` and ``count``
        (so pass only keys, or name them, e.g. ``("area_id", "indicator")``).
    dispersion : "estimate", float, pandas.DataFrame or None
        The overdispersion ``phi`` (``Var = phi * mean``) the tests carry:

        ``"estimate"`` (default)
            Each key's own series in ``counts`` (:func:`dispersion_table`: Pearson
            chi²/df of a seasonal log-linear fit, from 12 periods on; shorter series
            count as Poisson). Yearly tables are too short for that: pass the monthly
            table's estimates (a DataFrame, below).
        float
            The same ``phi`` for every key (known, normal reference).
        pandas.DataFrame
            Key columns, ``dispersion`` and optionally ``dispersion_df`` (e.g.
            ``dispersion_table(monthly, "month", keys=...)``); every key of
            ``counts`` must have a row.
        None
            ``phi = 1``: the exact Poisson test of every comparison (the former
            behaviour).

    Returns
    -------
    pandas.DataFrame
        Same rows and order as ``counts``: the key columns, ``period_start``,
        ``period_label``, ``count``, ``dispersion`` and ``dispersion_df`` (the key's
        ``phi`` and its degrees of freedom; ``phi <= 1`` means the exact Poisson test)
        and, for ``previous`` (the period before) and ``last_year`` (the same period a
        year earlier, see :func:`problembild.analysis.periods.same_last_year`):

        ``<c>_start``
            Start of the comparison period.
        ``<c>_count``
            Its count (Int64; NA when that period is outside the table).
        ``<c>_change``
            ``count - <c>_count`` (Int64, incidents).
        ``<c>_rel_change``
            ``count / <c>_count - 1`` as a fraction (0.25 = +25 %); NaN when the
            comparison count is 0 or missing.
        ``<c>_p_value``
            Two-sided test of equal *daily* rates with period lengths in days as
            exposures (so a 28-day February is fair against a 31-day January):
            :func:`~problembild.analysis.ratetest.rate_test` with the key's dispersion,
            i.e. the exact Poisson test when ``phi <= 1`` and the quasi-Poisson test
            otherwise; NaN when unavailable, 1.0 when both are 0.
        ``<c>_mark``
            ``"↑"`` or ``"↓"`` when ``p < alpha`` (direction of the daily-rate
            ratio), else ``""``.

    Notes
    -----
    Calibration (simulated, ``benchmarks/bench_statistics.py``, 1,000 series of 48
    months per setting): with no change, the exact Poisson test marked 12-48 % of last
    months against the same month last year for negative-binomial counts of mean 10-30
    and ``alpha`` 0.1-0.3; with the estimated dispersion 1.8-3.7 % (nominal 5 %), and
    at most 4 % in any setting of 0.05-30 events a month, Poisson included.
    """
    check_period(period)
    require_columns(counts, ["period_start", "count"], "counts")
    alpha = positive(alpha, "alpha")
    if alpha >= 1:
        raise ValueError(f"alpha must be below 1, got {alpha!r}")
    key_cols = key_columns(counts, keys, "counts")
    values = checked_counts(counts, "counts")
    starts = checked_period_starts(counts, period, "counts")
    table = counts[key_cols].reset_index(drop=True)
    table["_start"] = starts
    if table.duplicated(subset=[*key_cols, "_start"]).any():
        raise ValueError(f"counts has several rows for the same {[*key_cols, 'period_start']}")
    phi, phi_df = _row_dispersion(dispersion, table, key_cols, values, period)

    out = counts[key_cols].reset_index(drop=True)
    out["period_start"] = starts
    out["period_label"] = np.asarray(period_label(starts, period), dtype=object)
    out["count"] = values.astype(np.int64)
    out["dispersion"] = phi
    out["dispersion_df"] = phi_df
    days = period_days(starts, period)
    for prefix, refs in (
        ("previous", previous(starts, period)),
        ("last_year", same_last_year(starts, period)),
    ):
        ref_counts = _lookup(table, key_cols, refs, values)
        have = ~np.isnan(ref_counts)
        out[f"{prefix}_start"] = refs
        out[f"{prefix}_count"] = pd.Series(ref_counts, index=out.index).astype("Int64")
        out[f"{prefix}_change"] = out["count"].astype("Int64") - out[f"{prefix}_count"]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = values / ref_counts - 1.0
        out[f"{prefix}_rel_change"] = np.where(have & (ref_counts > 0), rel, np.nan)
        p_value = np.full(len(out), np.nan)
        ratio = np.full(len(out), np.nan)
        if have.any():
            tested = rate_test_many(
                values[have],
                days[have],
                ref_counts[have],
                period_days(refs[have], period),
                dispersion=phi[have],
                dispersion_df=phi_df[have],
            )
            p_value[have] = tested["p_value"].to_numpy()
            ratio[have] = tested["ratio"].to_numpy()
        out[f"{prefix}_p_value"] = p_value
        out[f"{prefix}_mark"] = _marks(ratio, p_value, alpha)
    out.index = counts.index
    return out


def dispersion_table(counts: pd.DataFrame, period: str, *, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Each key's dispersion, estimated from its series in a count table.

    Parameters
    ----------
    counts : pandas.DataFrame
        Long table with key columns, ``period_start`` and ``count`` (as for
        :func:`change_table`); each key's periods complete and consecutive.
    period : {"week", "month", "quarter", "year"}
    keys : sequence of str, optional
        Key columns; default every column except ``period_start`` and ``count``.

    Returns
    -------
    pandas.DataFrame
        One row per key (in order of first appearance): the key columns,
        ``n_periods``, ``dispersion``, ``dispersion_df`` and ``dispersion_method``, as
        :func:`problembild.analysis.ratetest.dispersion_estimate` gives for the key's
        series (Pearson chi²/df of a Poisson fit with trend and annual Fourier terms;
        1 with ``"none"`` below 12 periods or without events). Keys with the same
        periods are fitted together in one batch.
    """
    check_period(period)
    require_columns(counts, ["period_start", "count"], "counts")
    key_cols = key_columns(counts, keys, "counts")
    values = checked_counts(counts, "counts")
    starts = checked_period_starts(counts, period, "counts")
    frame = counts[key_cols].reset_index(drop=True)
    frame["_start"] = starts
    if frame.duplicated(subset=[*key_cols, "_start"]).any():
        raise ValueError(f"counts has several rows for the same {[*key_cols, 'period_start']}")
    return _dispersion_by_key(frame, key_cols, values, period)


def _dispersion_by_key(
    table: pd.DataFrame, key_cols: list[str], values: NDArray[np.float64], period: str
) -> pd.DataFrame:
    """:func:`dispersion_table` on a checked table (key columns and ``_start``)."""
    if key_cols:
        codes = table.groupby(key_cols, dropna=False, sort=False).ngroup().to_numpy()
    else:
        codes = np.zeros(len(table), dtype=np.int64)
    n_keys = int(codes.max()) + 1 if len(codes) else 0
    first = np.full(n_keys, -1, dtype=np.int64)
    if n_keys:
        first = pd.Series(np.arange(len(codes))).groupby(codes).min().to_numpy()
    out = table.loc[first, key_cols].reset_index(drop=True) if key_cols else pd.DataFrame(index=range(n_keys))
    n_periods = np.zeros(n_keys, dtype=np.int64)
    phi = np.ones(n_keys)
    dof = np.full(n_keys, np.inf)
    method = np.full(n_keys, "none", dtype=object)
    start_values = table["_start"].to_numpy()
    order = np.lexsort((start_values, codes))
    bounds = np.searchsorted(codes[order], np.arange(n_keys + 1))
    # Keys over the same periods (all of them, for a count_table) are fitted as one batch.
    groups: dict[bytes, list[int]] = {}
    for key in range(n_keys):
        rows = order[bounds[key] : bounds[key + 1]]
        n_periods[key] = rows.size
        groups.setdefault(start_values[rows].tobytes(), []).append(key)
    for members in groups.values():
        rows = np.stack([order[bounds[k] : bounds[k + 1]] for k in members])
        key_starts = pd.DatetimeIndex(start_values[rows[0]])
        est_phi, est_df, est_method = dispersion_estimates(values[rows], starts=key_starts, period=period)
        phi[members], dof[members], method[members] = est_phi, est_df, est_method
    out["n_periods"] = n_periods
    out["dispersion"] = phi
    out["dispersion_df"] = dof
    out["dispersion_method"] = method.astype(str)
    return out


def _row_dispersion(
    dispersion: Any, table: pd.DataFrame, key_cols: list[str], values: NDArray[np.float64], period: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dispersion and its degrees of freedom for every row of ``table``, from ``dispersion``."""
    n = len(table)
    if dispersion is None:
        return np.ones(n), np.full(n, np.inf)
    if isinstance(dispersion, str):
        if dispersion != "estimate":
            raise ValueError(
                f"dispersion must be 'estimate', a number, a DataFrame or None, got {dispersion!r}"
            )
        per_key = _dispersion_by_key(table, key_cols, values, period)
    elif isinstance(dispersion, pd.DataFrame):
        require_columns(dispersion, [*key_cols, "dispersion"], "dispersion")
        per_key = dispersion[[*key_cols, "dispersion"]].copy()
        per_key["dispersion_df"] = (
            dispersion["dispersion_df"].to_numpy(dtype=np.float64)
            if "dispersion_df" in dispersion.columns
            else np.inf
        )
        if per_key.duplicated(subset=key_cols).any():
            raise ValueError(f"dispersion has several rows for the same {key_cols}")
    else:
        phi = positive(dispersion, "dispersion")
        return np.full(n, phi), np.full(n, np.inf)
    if not key_cols:
        row = per_key.iloc[0]
        return np.full(n, float(row["dispersion"])), np.full(n, float(row["dispersion_df"]))
    merged = table[key_cols].merge(per_key, on=key_cols, how="left")
    phi_rows = merged["dispersion"].to_numpy(dtype=np.float64, na_value=np.nan)
    df_rows = merged["dispersion_df"].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(phi_rows).any():
        missing = table.loc[np.isnan(phi_rows), key_cols].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"dispersion has no row for key(s) {missing}")
    bad = (phi_rows < 0) | ~(df_rows > 0)
    if bad.any():
        raise ValueError(
            "dispersion must hold dispersion values >= 0 and positive dispersion_df values; got "
            f"{list(zip(phi_rows[bad][:3].tolist(), df_rows[bad][:3].tolist(), strict=True))}"
        )
    return phi_rows, df_rows
