"""Change over time: exact rate comparisons, change tables, trends and control flags.

* :func:`poisson_rate_test` / :func:`poisson_rate_test_many` -- exact conditional
  test that two Poisson rates are equal (Przyborowski & Wilenski 1940): given
  ``n = a + b`` events, ``a ~ Binomial(n, e_a / (e_a + e_b))`` under the null.
* :func:`change_table` -- each period against the previous period and the same
  period last year, with p-values and arrows.
* :func:`fit_trend` -- Poisson (or negative binomial) regression of a count series
  on time in years with seasonal Fourier terms; annual rate ratio with 95 % CI.
* :func:`control_flags` -- CompStat-style weekly flags from a Poisson upper control
  limit on the area's own preceding weeks.

p-values are per comparison and *not* adjusted for multiplicity: with many areas x
indicators, about ``alpha`` of the comparisons are marked by chance alone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from ._validation import as_1d_float, positive
from .indicators import require_columns
from .periods import check_period, period_days, period_label, period_start, previous, same_last_year, to_local

__all__ = [
    "ALTERNATIVES",
    "FAMILIES",
    "OVERDISPERSION_THRESHOLD",
    "RateTestResult",
    "TrendResult",
    "change_table",
    "control_flags",
    "fit_trend",
    "poisson_rate_test",
    "poisson_rate_test_many",
]

#: Alternatives of the rate tests (``"greater"``: rate a > rate b).
ALTERNATIVES: Final[tuple[str, ...]] = ("two-sided", "greater", "less")
#: ``family`` choices of :func:`fit_trend`.
FAMILIES: Final[tuple[str, ...]] = ("auto", "poisson", "negbin")
#: Pearson chi²/df above which :func:`fit_trend` (``family="auto"``) uses a negative binomial.
OVERDISPERSION_THRESHOLD: Final = 1.5
#: Fewest periods :func:`fit_trend` fits.
MIN_TREND_PERIODS: Final = 6

UP: Final = "↑"
DOWN: Final = "↓"
_RERR: Final = 1 + 1e-7  # scipy.stats.binomtest's relative tolerance for "as likely as observed"
_MAX_FOURIER: Final[dict[str, int]] = {"week": 2, "month": 2, "quarter": 1, "year": 0}
_DAYS_PER_YEAR: Final = 365.25


# --------------------------------------------------------------------------- rate tests


@dataclass(frozen=True, slots=True)
class RateTestResult:
    """Result of :func:`poisson_rate_test`.

    Attributes
    ----------
    count_a, count_b : int
        Event counts.
    exposure_a, exposure_b : float
        Exposures (e.g. days, or person-years) the counts were observed over.
    ratio : float
        Rate ratio ``(count_a / exposure_a) / (count_b / exposure_b)``; ``inf`` when
        only ``count_b`` is 0, NaN when both counts are 0.
    p_value : float
        Exact conditional p-value; 1.0 when both counts are 0 (no events carry no
        evidence of a difference).
    alternative : str
        ``"two-sided"``, ``"greater"`` (rate a > rate b) or ``"less"``.
    """

    count_a: int
    exposure_a: float
    count_b: int
    exposure_b: float
    ratio: float
    p_value: float
    alternative: str

    @property
    def rate_a(self) -> float:
        """Events per unit of exposure in a."""
        return self.count_a / self.exposure_a

    @property
    def rate_b(self) -> float:
        """Events per unit of exposure in b."""
        return self.count_b / self.exposure_b


def _check_alternative(alternative: Any) -> str:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return str(alternative)


def _finite(value: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    return as_1d_float(arr.ravel() if arr.ndim > 1 and arr.size == 1 else arr, name)


def _counts(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(value, name)
    if np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be non-negative whole numbers")
    return arr


def _exposures(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(value, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be positive")
    return arr


def _search(
    fun: Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]],
    target: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Lane-wise copy of scipy's ``_binary_search_for_binom_tst``.

    Returns, per lane, the ``i`` in ``[lo, hi]`` with ``fun(i) <= target < fun(i + 1)``
    (``fun`` ascending). Finished lanes are frozen, exactly as the scalar search stops.
    """
    lo, hi = lo.copy(), hi.copy()
    active = np.flatnonzero(lo < hi)
    while active.size:
        mid = lo[active] + (hi[active] - lo[active]) // 2
        value = fun(mid, active)
        goal = target[active]
        below, above, equal = value < goal, value > goal, value == goal
        lo[active[below]] = mid[below] + 1
        hi[active[above]] = mid[above] - 1
        lo[active[equal]] = mid[equal]
        hi[active[equal]] = mid[equal]
        active = active[lo[active] < hi[active]]
    every = np.arange(lo.size)
    return np.where(fun(lo, every) <= target, lo, lo - 1)


def _binom_p_values(
    k: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64], alternative: str
) -> NDArray[np.float64]:
    """scipy.stats.binomtest p-values for arrays (n >= 1), same algorithm as scipy."""
    binom = stats.binom
    if alternative == "less":
        return np.asarray(binom.cdf(k, n, p), dtype=np.float64)
    if alternative == "greater":
        return np.asarray(binom.sf(k - 1, n, p), dtype=np.float64)
    # Two-sided "minlike" p-value: the probability of every outcome no more likely
    # than the observed one, found on the other side of the mode by bisection.
    d = np.asarray(binom.pmf(k, n, p), dtype=np.float64)
    out = np.empty_like(d)
    low = k < p * n
    if low.any():
        kk, nn, pp, dd = k[low], n[low], p[low], d[low]

        def neg_pmf(x: NDArray[np.float64], lanes: NDArray[np.intp]) -> NDArray[np.float64]:
            return -np.asarray(binom.pmf(x, nn[lanes], pp[lanes]), dtype=np.float64)

        ix = _search(neg_pmf, -dd * _RERR, np.ceil(pp * nn), nn)
        y = nn - ix + (dd * _RERR == binom.pmf(ix, nn, pp))
        out[low] = binom.cdf(kk, nn, pp) + binom.sf(nn - y, nn, pp)
    high = ~low
    if high.any():
        kk, nn, pp, dd = k[high], n[high], p[high], d[high]

        def pmf(x: NDArray[np.float64], lanes: NDArray[np.intp]) -> NDArray[np.float64]:
            return np.asarray(binom.pmf(x, nn[lanes], pp[lanes]), dtype=np.float64)

        ix = _search(pmf, dd * _RERR, np.zeros_like(nn), np.floor(pp * nn))
        y = ix + 1
        out[high] = binom.cdf(y - 1, nn, pp) + binom.sf(kk - 1, nn, pp)
    return np.minimum(1.0, out)


def _rate_ratio(
    a: NDArray[np.float64], ea: NDArray[np.float64], b: NDArray[np.float64], eb: NDArray[np.float64]
) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / ea) / (b / eb)
    return np.where(a + b == 0, np.nan, ratio)


def poisson_rate_test(
    count_a: int,
    exposure_a: float,
    count_b: int,
    exposure_b: float,
    alternative: str = "two-sided",
) -> RateTestResult:
    """Exact conditional test that two Poisson rates are equal.

    Under ``H0: rate_a == rate_b`` and given ``n = count_a + count_b``,
    ``count_a ~ Binomial(n, exposure_a / (exposure_a + exposure_b))``; the p-value is
    :func:`scipy.stats.binomtest`'s (two-sided: sum of the probabilities of outcomes
    no more likely than the observed one). This differs from
    :func:`scipy.stats.poisson_means_test`, which is the unconditional E-test.

    Parameters
    ----------
    count_a, count_b : int
        Event counts (whole numbers >= 0).
    exposure_a, exposure_b : float
        Positive exposures in the same unit (days, residents x years, ...).
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: rate a > rate b.

    Returns
    -------
    RateTestResult
        ``n == 0`` gives ``p_value = 1`` and ``ratio = NaN``: with no events there is
        no evidence either way, and the ratio 0/0 is undefined.
    """
    alt = _check_alternative(alternative)
    a = _counts(count_a, "count_a")
    b = _counts(count_b, "count_b")
    ea = _exposures(exposure_a, "exposure_a")
    eb = _exposures(exposure_b, "exposure_b")
    if not a.size == b.size == ea.size == eb.size == 1:
        raise ValueError("poisson_rate_test takes scalars; use poisson_rate_test_many for arrays")
    n = int(a[0] + b[0])
    if n == 0:
        p_value = 1.0
    else:
        p_value = float(stats.binomtest(int(a[0]), n, float(ea[0] / (ea[0] + eb[0])), alternative=alt).pvalue)
    return RateTestResult(
        count_a=int(a[0]),
        exposure_a=float(ea[0]),
        count_b=int(b[0]),
        exposure_b=float(eb[0]),
        ratio=float(_rate_ratio(a, ea, b, eb)[0]),
        p_value=p_value,
        alternative=alt,
    )


def poisson_rate_test_many(
    count_a: ArrayLike,
    exposure_a: ArrayLike,
    count_b: ArrayLike,
    exposure_b: ArrayLike,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Vectorised :func:`poisson_rate_test` for whole tables.

    Arguments broadcast against each other (e.g. a scalar exposure). The p-values
    follow :func:`scipy.stats.binomtest`'s algorithm step by step, with
    ``scipy.stats.binom`` evaluated on arrays, and agree with it to rounding.

    Returns
    -------
    pandas.DataFrame
        Columns ``count_a``, ``exposure_a``, ``count_b``, ``exposure_b`` (floats),
        ``ratio`` (rate ratio a/b; NaN when both counts are 0, ``inf`` when only b is
        0) and ``p_value`` (1.0 when both counts are 0).
    """
    alt = _check_alternative(alternative)
    try:
        arrays = np.broadcast_arrays(
            _counts(count_a, "count_a"),
            _exposures(exposure_a, "exposure_a"),
            _counts(count_b, "count_b"),
            _exposures(exposure_b, "exposure_b"),
        )
    except ValueError as exc:
        raise ValueError(f"count and exposure arrays do not broadcast: {exc}") from None
    a, ea, b, eb = (np.array(x, dtype=np.float64) for x in arrays)
    n = a + b
    p_values = np.ones_like(a)
    some = n > 0
    if some.any():
        p_values[some] = _binom_p_values(a[some], n[some], ea[some] / (ea[some] + eb[some]), alt)
    return pd.DataFrame(
        {
            "count_a": a,
            "exposure_a": ea,
            "count_b": b,
            "exposure_b": eb,
            "ratio": _rate_ratio(a, ea, b, eb),
            "p_value": p_values,
        }
    )


# --------------------------------------------------------------------------- change table


def _key_columns(table: pd.DataFrame, keys: Sequence[str] | None, name: str) -> list[str]:
    if keys is None:
        return [c for c in table.columns if c not in ("period_start", "count")]
    cols = [keys] if isinstance(keys, str) else list(keys)
    require_columns(table, cols, name)
    return cols


def _checked_counts(table: pd.DataFrame, name: str) -> NDArray[np.float64]:
    values = table["count"]
    if values.isna().any():
        raise ValueError(f"{name}['count'] has missing values")
    counts = as_1d_float(values.to_numpy(dtype=np.float64, na_value=np.nan), f"{name}['count']")
    if np.any(counts < 0) or np.any(counts != np.floor(counts)):
        raise ValueError(f"{name}['count'] must be non-negative whole numbers")
    return counts


def _checked_starts(table: pd.DataFrame, period: str, name: str) -> pd.DatetimeIndex:
    starts = to_local(table["period_start"], f"{name}['period_start']")
    if starts.isna().any():
        raise ValueError(f"{name}['period_start'] has missing values")
    if not (period_start(starts, period) == starts).all():
        raise ValueError(f"{name}['period_start'] must hold {period} starts (see periods.period_start)")
    return starts


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
    key_cols = _key_columns(counts, keys, "counts")
    values = _checked_counts(counts, "counts")
    starts = _checked_starts(counts, period, "counts")
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


# --------------------------------------------------------------------------- trend


@dataclass(frozen=True, slots=True, eq=False)
class TrendResult:
    """Result of :func:`fit_trend`.

    Attributes
    ----------
    status : str
        ``"ok"``; ``"too_few_periods"`` (fewer than 6); ``"all_zero"`` (no events);
        ``"too_few_events"`` (events in fewer than 2 periods, so the slope is not
        identified); ``"fit_failed"`` (no model converged, or the slope or its interval is
        beyond any plausible value, |log rate ratio| > 50 per year, as nearly separated
        series give). Only ``"ok"`` has estimates.
    message : str
        One sentence on the status or the family chosen, for display.
    family : str
        ``"poisson"``, ``"negbin"`` (NB2, dispersion estimated), ``"quasipoisson"``
        (fallback when the negative binomial does not converge) or ``""``.
    rate_ratio : float
        Estimated multiplicative change of the rate per year, ``exp(beta_time)``
        (1.3 = +30 % per year); NaN unless ``status == "ok"``.
    ci_low, ci_high : float
        95 % Wald confidence interval of ``rate_ratio``.
    p_value : float
        Wald test of no trend (``rate_ratio == 1``).
    dispersion : float
        Pearson chi²/df of the Poisson fit (about 1 for Poisson data).
    nb_alpha : float
        Negative-binomial dispersion ``alpha`` (Var = mu + alpha mu²) or NaN.
    n_periods, total_count : int
        Number of periods and of events in the series.
    fourier_terms : int
        Number of annual sine/cosine pairs used for seasonality (0 = none).
    period_starts : pandas.DatetimeIndex
        Period starts in input order.
    fitted : numpy.ndarray
        Fitted expected count per period (trend and season), input order; NaN if no fit.
    trend : numpy.ndarray
        Fitted expected count without the seasonal terms (the smooth trend line;
        still proportional to each period's length in days).
    """

    status: str
    message: str
    family: str = ""
    rate_ratio: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    dispersion: float = math.nan
    nb_alpha: float = math.nan
    n_periods: int = 0
    total_count: int = 0
    fourier_terms: int = 0
    period_starts: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))
    fitted: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    trend: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    @property
    def ok(self) -> bool:
        """True when the model was fitted."""
        return self.status == "ok"

    @property
    def annual_change(self) -> float:
        """``rate_ratio - 1``: relative change per year (0.3 = +30 %)."""
        return self.rate_ratio - 1.0

    def mark(self, alpha: float = 0.05) -> str:
        """``"↑"``/``"↓"`` if the trend is significant at ``alpha``, else ``""``."""
        if not self.ok or not self.p_value < alpha:
            return ""
        return UP if self.rate_ratio > 1 else DOWN if self.rate_ratio < 1 else ""


@dataclass(frozen=True, slots=True)
class _Fit:
    family: str
    params: NDArray[np.float64]
    ci: NDArray[np.float64]
    p_time: float
    nb_alpha: float


def _design(starts: pd.DatetimeIndex, period: str, seasonal: bool) -> tuple[NDArray[np.float64], int]:
    days = period_days(starts, period)
    t = ((starts - starts.min()) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64) / _DAYS_PER_YEAR
    # Centring keeps the intercept and slope nearly uncorrelated for the IRLS.
    columns = [np.ones(len(starts)), t - t.mean()]
    span = (float(t.max()) * _DAYS_PER_YEAR + float(days[np.argmax(t)])) / _DAYS_PER_YEAR
    k = 0
    if seasonal:
        k = min(_MAX_FOURIER[period], 2 if span >= 2 - 1e-9 else 1 if span >= 1 - 1e-9 else 0)
    # Leave at least 2 residual degrees of freedom for the dispersion estimate.
    while k and len(starts) - (2 + 2 * k) < 2:
        k -= 1
    if k:
        mid = starts + pd.to_timedelta(days / 2, unit="D")
        year_start = mid.to_period("Y").to_timestamp()
        year_len = np.where(mid.is_leap_year, 366.0, 365.0)
        phase = ((mid - year_start) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64) / year_len
        for j in range(1, k + 1):
            columns += [np.sin(2 * np.pi * j * phase), np.cos(2 * np.pi * j * phase)]
    return np.column_stack(columns), k


_FIT_WARNINGS: Final = (ConvergenceWarning, HessianInversionWarning, RuntimeWarning)


def _fit_poisson(
    y: NDArray[np.float64], x: NDArray[np.float64], offset: NDArray[np.float64], quasi: bool
) -> tuple[Any, bool]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(scale="X2" if quasi else None)
    good = bool(getattr(res, "converged", True)) and bool(np.all(np.isfinite(res.bse)))
    return res, good and not any(issubclass(w.category, _FIT_WARNINGS) for w in caught)


def _fit_negbin(
    y: NDArray[np.float64], x: NDArray[np.float64], offset: NDArray[np.float64], start: NDArray[np.float64]
) -> Any | None:
    mu = np.exp(x @ start + offset)
    alpha0 = max(float(np.sum(((y - mu) ** 2 - y) / mu**2) / max(len(y) - x.shape[1], 1)), 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = NegativeBinomial(y, x, loglike_method="nb2", offset=offset).fit(
                start_params=np.append(start, alpha0), method="newton", maxiter=200, disp=False
            )
        except (np.linalg.LinAlgError, ValueError):
            return None
    converged = bool(res.mle_retvals.get("converged", False))
    finite = np.all(np.isfinite(res.bse)) and np.all(np.isfinite(res.params))
    if not converged or not finite or any(issubclass(w.category, _FIT_WARNINGS) for w in caught):
        return None
    return res


def fit_trend(
    series_counts: ArrayLike,
    period_starts: Any,
    *,
    period: str = "month",
    seasonal: bool = True,
    family: str = "auto",
) -> TrendResult:
    """Fit a log-linear trend (annual rate ratio) to one count series.

    Model: ``log E[count_t] = log(days_t) + b0 + b_time * t_years + season(t)``, a
    Poisson GLM with log link. ``t_years`` is time since the first period in years
    (365.25 days), the offset makes it a model of the *daily* rate so that unequal
    month lengths do not look like seasonality, and ``season`` is ``K`` annual
    Fourier pairs ``sin/cos(2 pi j phase)`` of the period's mid-point: ``K = 2`` for
    weekly and monthly data spanning at least two years, ``K = 1`` for one to two
    years or for quarterly data, none for yearly data, shorter spans or
    ``seasonal=False``. Fourier terms rather than month dummies keep the model
    small and avoid infinite estimates when a month never has an event.

    With ``family="auto"`` the Poisson fit's Pearson chi²/df is checked; above
    :data:`OVERDISPERSION_THRESHOLD` (1.5) the Poisson standard errors would be too
    small, so a negative binomial (NB2, ``statsmodels`` ``NegativeBinomial``,
    ``alpha`` by maximum likelihood) is fitted instead. Should it not converge,
    quasi-Poisson standard errors (scaled by the Pearson dispersion) are used.
    ``"poisson"`` and ``"negbin"`` force a family.

    Parameters
    ----------
    series_counts : array-like
        Counts per period (whole numbers >= 0). Missing periods may simply be left
        out, but a period with no events must be given as 0.
    period_starts : array-like of datetimes
        Start (or any time) of each count's period; distinct periods, any order.
    period : {"week", "month", "quarter", "year"}
    seasonal : bool
        Include seasonal terms where the span allows (see above).
    family : {"auto", "poisson", "negbin"}

    Returns
    -------
    TrendResult
        Never raises for sparse data: too few periods (< 6), all zeros or events in
        fewer than two periods give a ``status`` explaining why there is no fit.

    Raises
    ------
    ValueError
        For invalid input (negative or fractional counts, length mismatch, duplicate
        periods, unknown ``period``/``family``).
    """
    check_period(period)
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    y_in = as_1d_float(series_counts, "series_counts")
    if np.any(y_in < 0) or np.any(y_in != np.floor(y_in)):
        raise ValueError("series_counts must be non-negative whole numbers")
    starts_in = period_start(to_local(period_starts, "period_starts"), period)
    if len(starts_in) != len(y_in):
        raise ValueError(
            f"series_counts and period_starts must have the same length: {len(y_in)} != {len(starts_in)}"
        )
    if starts_in.isna().any():
        raise ValueError("period_starts has missing values")
    if starts_in.has_duplicates:
        raise ValueError("period_starts has several counts for the same period")
    n, total = len(y_in), int(y_in.sum())
    base: dict[str, Any] = {"n_periods": n, "total_count": total, "period_starts": starts_in}
    nan_fit = np.full(n, np.nan)
    if n < MIN_TREND_PERIODS:
        msg = f"{n} period(s); a trend needs at least {MIN_TREND_PERIODS}"
        return TrendResult("too_few_periods", msg, fitted=nan_fit, trend=nan_fit, **base)
    if total == 0:
        return TrendResult("all_zero", "no events in the series", fitted=nan_fit, trend=nan_fit, **base)
    if np.count_nonzero(y_in) < 2:
        msg = "events in only one period; the trend is not identified"
        return TrendResult("too_few_events", msg, fitted=nan_fit, trend=nan_fit, **base)

    order = np.argsort(starts_in.to_numpy(), kind="stable")
    starts = starts_in[order]
    y = y_in[order]
    x, k = _design(starts, period, seasonal)
    offset = np.log(period_days(starts, period))

    try:
        poisson, poisson_ok = _fit_poisson(y, x, offset, quasi=False)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        # Extreme series (e.g. one huge spike among zeros) can overflow the IRLS weights.
        return TrendResult(
            "fit_failed", "the model could not be fitted", fitted=nan_fit, trend=nan_fit, **base
        )
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid) if poisson.df_resid > 0 else math.nan
    base.update(dispersion=dispersion, fourier_terms=k)
    want_nb = family == "negbin" or (family == "auto" and dispersion > OVERDISPERSION_THRESHOLD)
    fit: _Fit | None = None
    note = ""
    if want_nb:
        nb = _fit_negbin(y, x, offset, np.asarray(poisson.params, dtype=np.float64)) if poisson_ok else None
        if nb is not None:
            params = np.asarray(nb.params, dtype=np.float64)
            fit = _Fit(
                "negbin", params[:-1], np.asarray(nb.conf_int())[1], float(nb.pvalues[1]), float(params[-1])
            )
            note = f"overdispersed (Pearson chi²/df {dispersion:.2f}); negative binomial"
        else:
            try:
                quasi, quasi_ok = _fit_poisson(y, x, offset, quasi=True)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                quasi_ok = False
            if quasi_ok:
                params = np.asarray(quasi.params, dtype=np.float64)
                ci = np.asarray(quasi.conf_int())[1]
                fit = _Fit("quasipoisson", params, ci, float(quasi.pvalues[1]), math.nan)
                note = "negative binomial did not converge; quasi-Poisson standard errors"
    elif poisson_ok:
        params = np.asarray(poisson.params, dtype=np.float64)
        fit = _Fit("poisson", params, np.asarray(poisson.conf_int())[1], float(poisson.pvalues[1]), math.nan)
        note = f"Poisson (Pearson chi²/df {dispersion:.2f})"
    if fit is None:
        return TrendResult("fit_failed", "the model did not converge", fitted=nan_fit, trend=nan_fit, **base)
    if not np.all(np.isfinite([*fit.params[:2], *fit.ci])) or max(abs(fit.params[1]), *np.abs(fit.ci)) > 50:
        # Nearly separated data (e.g. events only in two adjacent months of three
        # years) give a slope and interval the model cannot pin down: exp() of them is
        # astronomically large or overflows. No estimate is better than a wild one.
        return TrendResult(
            "fit_failed",
            "the trend is not identified (too few events spread over the period)",
            fitted=nan_fit,
            trend=nan_fit,
            **base,
        )

    fitted = np.empty(n)
    trend = np.empty(n)
    fitted[order] = np.exp(x @ fit.params + offset)
    trend[order] = np.exp(x[:, :2] @ fit.params[:2] + offset)
    rr = math.exp(fit.params[1])
    return TrendResult(
        "ok",
        f"{note}; rate ratio {rr:.3g} per year (95 % CI {math.exp(fit.ci[0]):.3g}-{math.exp(fit.ci[1]):.3g})",
        family=fit.family,
        rate_ratio=rr,
        ci_low=math.exp(fit.ci[0]),
        ci_high=math.exp(fit.ci[1]),
        p_value=fit.p_time,
        nb_alpha=fit.nb_alpha,
        fitted=fitted,
        trend=trend,
        **base,
    )


# --------------------------------------------------------------------------- control flags


def _flags_one(
    counts: NDArray[np.float64], baseline: int, min_history: int, quantile: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """History length, expected count and upper limit per week, from earlier weeks only."""
    n = counts.size
    # Integer cumulative sums make each window sum exact, independent of later weeks.
    cum = np.concatenate([[0], np.cumsum(counts.astype(np.int64))])
    idx = np.arange(n)
    history = np.minimum(idx, baseline)
    window = cum[idx] - cum[idx - history]
    enough = history >= min_history
    expected = np.full(n, np.nan)
    expected[enough] = window[enough] / history[enough]
    upper = np.full(n, np.nan)
    upper[enough] = stats.poisson.ppf(quantile, expected[enough])
    return history.astype(np.int64), expected, upper


def control_flags(
    weekly_counts: pd.Series | pd.DataFrame,
    *,
    baseline_weeks: int = 52,
    alpha: float = 0.01,
    min_history: int | None = None,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Flag weeks whose count exceeds a Poisson upper control limit from earlier weeks.

    For week ``i`` the expected count is the mean of the (up to) ``baseline_weeks``
    weeks *before* it -- never the week itself or later ones -- and the upper limit
    is ``scipy.stats.poisson.ppf(1 - alpha, expected)``; the week is flagged when
    ``count > upper_limit``. A baseline mean of 0 gives a limit of 0, so any event
    after a quiet year is flagged. The limit assumes Poisson variation; seasonal or
    overdispersed series will be flagged more often than ``alpha``.

    Parameters
    ----------
    weekly_counts : pandas.Series or pandas.DataFrame
        Either one series indexed by ISO-week starts (Mondays), or a long table with
        ``period_start`` (week starts), ``count`` and key columns (e.g. from
        ``count_table(frame, period="week")``). Weeks must be consecutive within a
        key (zeros present) -- a gap would silently shift the baseline.
    baseline_weeks : int
        Length of the baseline window in weeks (default 52).
    alpha : float
        One-sided false-alarm probability per week under the Poisson model (0.01).
    min_history : int, optional
        Weeks of history needed to evaluate a week (default ``baseline_weeks``:
        only full baselines).
    keys : sequence of str, optional
        Key columns of a table; default every column except ``period_start`` and
        ``count``.

    Returns
    -------
    pandas.DataFrame
        For a Series: indexed by week with ``count``; for a table: its key columns,
        ``period_start`` and ``count`` in the input's row order. Plus
        ``history_weeks`` (int, weeks in the baseline), ``expected`` (mean count per
        week, NaN without enough history), ``upper_limit`` (NaN likewise), ``flag``
        (bool; False without enough history) and ``reason`` (``""`` when evaluated,
        ``"insufficient_history"`` otherwise).
    """
    if (
        isinstance(baseline_weeks, bool)
        or not isinstance(baseline_weeks, int | np.integer)
        or baseline_weeks < 1
    ):
        raise ValueError(f"baseline_weeks must be an integer >= 1, got {baseline_weeks!r}")
    if min_history is None:
        min_history = int(baseline_weeks)
    if (
        isinstance(min_history, bool)
        or not isinstance(min_history, int | np.integer)
        or not 1 <= min_history <= baseline_weeks
    ):
        raise ValueError(f"min_history must be an integer in [1, baseline_weeks], got {min_history!r}")
    alpha = positive(alpha, "alpha")
    if alpha >= 1:
        raise ValueError(f"alpha must be below 1, got {alpha!r}")

    if isinstance(weekly_counts, pd.Series):
        table = pd.DataFrame({"period_start": weekly_counts.index, "count": weekly_counts.to_numpy()})
        key_cols: list[str] = []
        name = "weekly_counts"
    elif isinstance(weekly_counts, pd.DataFrame):
        require_columns(weekly_counts, ["period_start", "count"], "weekly_counts")
        key_cols = _key_columns(weekly_counts, keys, "weekly_counts")
        table = weekly_counts[[*key_cols, "period_start", "count"]].reset_index(drop=True)
        name = "weekly_counts"
    else:
        raise ValueError(
            f"weekly_counts must be a pandas Series or DataFrame, got {type(weekly_counts).__name__}"
        )
    values = _checked_counts(table, name)
    starts = _checked_starts(table, "week", name)
    table["period_start"] = starts
    table["count"] = values.astype(np.int64)

    n = len(table)
    history = np.zeros(n, dtype=np.int64)
    expected = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    groups = table.groupby(key_cols, dropna=False, sort=False).indices if key_cols else {(): np.arange(n)}
    week = np.timedelta64(7, "D")
    for key, members in groups.items():
        rows = np.asarray(members)[np.argsort(starts.to_numpy()[members], kind="stable")]
        gaps = np.diff(starts.to_numpy()[rows])
        if np.any(gaps != week):
            what = f" for key {key!r}" if key_cols else ""
            raise ValueError(
                f"{name} must have consecutive, distinct weeks{what} (fill missing weeks with 0)"
            )
        h, e, u = _flags_one(values[rows], int(baseline_weeks), int(min_history), 1.0 - alpha)
        history[rows], expected[rows], upper[rows] = h, e, u
    evaluated = ~np.isnan(expected)
    table["history_weeks"] = history
    table["expected"] = expected
    table["upper_limit"] = upper
    table["flag"] = evaluated & (values > np.nan_to_num(upper, nan=np.inf))
    table["reason"] = np.where(evaluated, "", "insufficient_history")
    if isinstance(weekly_counts, pd.Series):
        return table.set_index("period_start")
    table.index = weekly_counts.index
    return table
