"""Each period against the previous period and the same period last year.

:func:`change_table` compares the counts of a count table with an exact test of equal
daily rates (:func:`problembild.analysis.ratetest.poisson_rate_test_many`). p-values
are per comparison and *not* adjusted for multiplicity: with many areas x indicators,
about ``alpha`` of the comparisons are marked by chance alone.

Trends (:mod:`problembild.analysis.trend`), control flags
(:mod:`problembild.analysis.control`) and the rate tests
(:mod:`problembild.analysis.ratetest`) were in this module; their names are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._validation import positive
from .control import control_flags
from .indicators import checked_counts, checked_period_starts, key_columns, require_columns
from .periods import check_period, period_days, period_label, previous, same_last_year
from .ratetest import ALTERNATIVES, RateTestResult, poisson_rate_test, poisson_rate_test_many
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
    counts: pd.DataFrame, period: str, *, alpha: float = 0.05, keys: Sequence[str] | None = None
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

    Returns
    -------
    pandas.DataFrame
        Same rows and order as ``counts``: the key columns, ``period_start``,
        ``period_label``, ``count`` and, for ``previous`` (the period before) and
        ``last_year`` (the same period a year earlier, see
        :func:`problembild.analysis.periods.same_last_year`):

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
            Exact two-sided test of equal *daily* rates (:func:`poisson_rate_test`
            with period lengths in days as exposures, so a 28-day February is fair
            against a 31-day January); NaN when unavailable, 1.0 when both are 0.
        ``<c>_mark``
            ``"↑"`` or ``"↓"`` when ``p < alpha`` (direction of the daily-rate
            ratio), else ``""``.
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

    out = counts[key_cols].reset_index(drop=True)
    out["period_start"] = starts
    out["period_label"] = np.asarray(period_label(starts, period), dtype=object)
    out["count"] = values.astype(np.int64)
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
            tested = poisson_rate_test_many(
                values[have], days[have], ref_counts[have], period_days(refs[have], period)
            )
            p_value[have] = tested["p_value"].to_numpy()
            ratio[have] = tested["ratio"].to_numpy()
        out[f"{prefix}_p_value"] = p_value
        out[f"{prefix}_mark"] = _marks(ratio, p_value, alpha)
    out.index = counts.index
    return out
