"""Log-linear trend of one count series: the annual rate ratio with its 95 % CI.

:func:`fit_trend` fits a Poisson regression of the counts on time in years, with the
period length in days as exposure and annual Fourier terms for the season; when the
counts vary more than Poisson counts its standard errors are quasi-Poisson ones
(scaled by the Pearson dispersion, Student's t reference), which hold their level
on overdispersed series where negative-binomial Wald tests do not.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from ._validation import as_1d_float
from .periods import check_period, period_days, period_start, to_local
from .vocabulary import DOWN, UP

__all__ = [
    "FAMILIES",
    "MIN_TREND_EVENTS",
    "MIN_TREND_PERIODS",
    "OVERDISPERSION_THRESHOLD",
    "TrendResult",
    "fit_trend",
    "seasonal_design",
]

#: ``family`` choices of :func:`fit_trend`.
FAMILIES: Final[tuple[str, ...]] = ("auto", "poisson", "negbin")
#: Pearson chi²/df above which a series is called overdispersed in :func:`fit_trend`'s
#: message. (It once switched ``family="auto"`` to a negative binomial; that pre-test
#: inflated the level, so ``"auto"`` now scales by any dispersion above 1.)
OVERDISPERSION_THRESHOLD: Final = 1.5
#: Fewest periods :func:`fit_trend` fits.
MIN_TREND_PERIODS: Final = 6
#: Fewest events :func:`fit_trend` tests for a trend. With 2 or 3 events in a series the
#: Wald test marked a quarter and a tenth of trendless series; from 4 on it holds its level.
MIN_TREND_EVENTS: Final = 4

_MAX_FOURIER: Final[dict[str, int]] = {"week": 2, "month": 2, "quarter": 1, "year": 0}
_DAYS_PER_YEAR: Final = 365.25


@dataclass(frozen=True, slots=True, eq=False)
class TrendResult:
    """Result of :func:`fit_trend`.

    Attributes
    ----------
    status : str
        ``"ok"``; ``"too_few_periods"`` (fewer than 6); ``"all_zero"`` (no events);
        ``"too_few_events"`` (fewer than :data:`MIN_TREND_EVENTS` (4) events, or events in
        fewer than 2 periods: the slope is not identified or its test not trustworthy);
        ``"fit_failed"`` (no model converged, or the slope or its interval is
        beyond any plausible value, |log rate ratio| > 50 per year, as nearly separated
        series give). Only ``"ok"`` has estimates.
    message : str
        One sentence on the status or the family chosen, for display.
    family : str
        ``"poisson"`` (Poisson errors), ``"quasipoisson"`` (Poisson estimates,
        standard errors scaled by the Pearson dispersion, t reference), ``"negbin"``
        (NB2, dispersion estimated; only with ``family="negbin"``) or ``""``.
    rate_ratio : float
        Estimated multiplicative change of the rate per year, ``exp(beta_time)``
        (1.3 = +30 % per year); NaN unless ``status == "ok"``.
    ci_low, ci_high : float
        95 % Wald confidence interval of ``rate_ratio`` (t quantiles for
        ``"quasipoisson"``).
    p_value : float
        Wald test of no trend (``rate_ratio == 1``); a t test with the residual degrees
        of freedom for ``"quasipoisson"``.
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
    note: str


def seasonal_design(
    starts: pd.DatetimeIndex, period: str, seasonal: bool = True
) -> tuple[NDArray[np.float64], int]:
    """Design matrix of :func:`fit_trend`: intercept, centred years, annual Fourier pairs.

    Parameters
    ----------
    starts : pandas.DatetimeIndex
        Period starts in time order (naive local times).
    period : {"week", "month", "quarter", "year"}
    seasonal : bool
        Include the Fourier pairs where the span allows (see :func:`fit_trend`).

    Returns
    -------
    x : ndarray, shape (T, 2 + 2 K)
        Columns ``1``, ``t_years - mean(t_years)``, then ``sin, cos(2 pi j phase)`` for
        ``j = 1..K`` (phase: the period's mid-point as a fraction of its year).
    k : int
        Number of Fourier pairs ``K``.
    """
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
        res = GLM(y, x, family=families.Poisson(), offset=offset).fit(scale="X2" if quasi else None)
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

    With ``family="auto"`` the estimates are the Poisson fit's and the test carries the
    fit's Pearson dispersion ``phi = chi² / df``: when ``phi > 1`` the standard errors
    are multiplied by ``sqrt(phi)`` and the Wald statistic, p-value and interval use
    Student's t with the residual degrees of freedom (quasi-Poisson, exactly
    ``statsmodels`` ``GLM(..., Poisson).fit(scale="X2", use_t=True)``); when ``phi <= 1``
    they are the Poisson fit's (normal reference). There is no pre-test deciding between
    models, so a series just under a threshold is not tested as Poisson. Simulated
    level at 5 % (no trend; ``benchmarks/bench_statistics.py``): at most 5.6 % for
    Poisson and negative-binomial series of 48 months at 0.05-30 events a month with
    ``alpha`` up to 0.3, where the former switch to a negative binomial at
    ``phi > 1.5`` gave up to 8.4 % (and 10 % of the sparsest series, which now need
    :data:`MIN_TREND_EVENTS` events).

    ``"poisson"`` forces Poisson errors whatever the dispersion (too small standard
    errors on overdispersed data). ``"negbin"`` fits a negative binomial (NB2,
    ``statsmodels`` ``NegativeBinomial``, ``alpha`` by maximum likelihood) with Wald
    errors, falling back to quasi-Poisson errors when it does not converge; its Wald
    test runs above its level on short series (about 8-10 % at 5 % on 24 months).

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
        Never raises for sparse data: too few periods (< 6), all zeros, fewer than 4
        events or events in fewer than two periods give a ``status`` explaining why there
        is no fit.

    Raises
    ------
    ValueError
        For invalid input (negative or fractional counts, length mismatch, duplicate
        periods, unknown ``period``/``family``).
    """
    check_period(period)
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    y_in, starts_in = _checked_series(series_counts, period_starts, period)
    base: dict[str, Any] = {
        "n_periods": len(y_in),
        "total_count": int(y_in.sum()),
        "period_starts": starts_in,
    }
    unfit = _too_sparse(y_in)
    if unfit is not None:
        return _no_fit(*unfit, base)

    order = np.argsort(starts_in.to_numpy(), kind="stable")
    starts = starts_in[order]
    y = y_in[order]
    x, k = seasonal_design(starts, period, seasonal)
    offset = np.log(period_days(starts, period))

    try:
        poisson, poisson_ok = _fit_poisson(y, x, offset, quasi=False)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        # Extreme series (e.g. one huge spike among zeros) can overflow the IRLS weights.
        return _no_fit("fit_failed", "the model could not be fitted", base)
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid) if poisson.df_resid > 0 else math.nan
    base.update(dispersion=dispersion, fourier_terms=k)
    fit: _Fit | None = None
    if family == "negbin":
        fit = _overdispersed_fit(y, x, offset, poisson=poisson if poisson_ok else None, dispersion=dispersion)
    elif poisson_ok and family == "auto" and dispersion > 1:
        fit = _quasi_fit(poisson, dispersion)
    elif poisson_ok:
        params = np.asarray(poisson.params, dtype=np.float64)
        ci = np.asarray(poisson.conf_int())[1]
        note = f"Poisson (Pearson chi²/df {dispersion:.2f})"
        fit = _Fit("poisson", params, ci, float(poisson.pvalues[1]), math.nan, note)
    if fit is None:
        return _no_fit("fit_failed", "the model did not converge", base)
    if not np.all(np.isfinite([*fit.params[:2], *fit.ci])) or max(abs(fit.params[1]), *np.abs(fit.ci)) > 50:
        # Nearly separated data (e.g. events only in two adjacent months of three
        # years) give a slope and interval the model cannot pin down: exp() of them is
        # astronomically large or overflows. No estimate is better than a wild one.
        return _no_fit(
            "fit_failed", "the trend is not identified (too few events spread over the period)", base
        )

    return _fitted_result(fit, x, offset, order, base)


def _fitted_result(
    fit: _Fit,
    x: NDArray[np.float64],
    offset: NDArray[np.float64],
    order: NDArray[np.intp],
    base: dict[str, Any],
) -> TrendResult:
    """The ``"ok"`` result: estimates, and fitted values back in input order."""
    fitted = np.empty(len(order))
    trend = np.empty(len(order))
    fitted[order] = np.exp(x @ fit.params + offset)
    trend[order] = np.exp(x[:, :2] @ fit.params[:2] + offset)
    rr = math.exp(fit.params[1])
    return TrendResult(
        "ok",
        f"{fit.note}; rate ratio {rr:.3g} per year (95 % CI {math.exp(fit.ci[0]):.3g}-{math.exp(fit.ci[1]):.3g})",
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


def _checked_series(
    series_counts: ArrayLike, period_starts: Any, period: str
) -> tuple[NDArray[np.float64], pd.DatetimeIndex]:
    """The counts and their period starts (input order), or ``ValueError`` naming the argument."""
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
    return y_in, starts_in


def _too_sparse(y: NDArray[np.float64]) -> tuple[str, str] | None:
    """Status and message when the series is too short or too sparse for a trend, else None."""
    n = len(y)
    if n < MIN_TREND_PERIODS:
        return "too_few_periods", f"{n} period(s); a trend needs at least {MIN_TREND_PERIODS}"
    if int(y.sum()) == 0:
        return "all_zero", "no events in the series"
    if np.count_nonzero(y) < 2:
        return "too_few_events", "events in only one period; the trend is not identified"
    if int(y.sum()) < MIN_TREND_EVENTS:
        return (
            "too_few_events",
            f"{int(y.sum())} events; a trend needs at least {MIN_TREND_EVENTS} to be tested",
        )
    return None


def _no_fit(status: str, message: str, base: dict[str, Any]) -> TrendResult:
    nan_fit = np.full(base["n_periods"], np.nan)
    return TrendResult(status, message, fitted=nan_fit, trend=nan_fit, **base)


def _overdispersed_fit(
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    offset: NDArray[np.float64],
    *,
    poisson: Any | None,
    dispersion: float,
) -> _Fit | None:
    """Negative binomial started from a converged Poisson fit, else quasi-Poisson, else None."""
    nb = (
        _fit_negbin(y, x, offset, np.asarray(poisson.params, dtype=np.float64))
        if poisson is not None
        else None
    )
    if nb is not None:
        params = np.asarray(nb.params, dtype=np.float64)
        note = f"overdispersed (Pearson chi²/df {dispersion:.2f}); negative binomial"
        return _Fit(
            "negbin", params[:-1], np.asarray(nb.conf_int())[1], float(nb.pvalues[1]), float(params[-1]), note
        )
    if poisson is None:
        return None
    fit = _quasi_fit(poisson, max(dispersion, 1.0))
    if fit is None:
        return None
    note = "negative binomial did not converge; quasi-Poisson standard errors"
    return _Fit(fit.family, fit.params, fit.ci, fit.p_time, math.nan, note)


def _quasi_fit(poisson: Any, dispersion: float) -> _Fit | None:
    """Quasi-Poisson inference on the trend from a converged Poisson fit.

    Standard errors times ``sqrt(dispersion)``; t reference with the residual degrees of
    freedom (``statsmodels``' ``fit(scale="X2", use_t=True)``, without refitting).
    """
    df = float(poisson.df_resid)
    if not df > 0:
        return None
    params = np.asarray(poisson.params, dtype=np.float64)
    se = float(np.asarray(poisson.bse)[1]) * math.sqrt(dispersion)
    if not (math.isfinite(se) and se > 0):
        return None
    t_value = float(params[1]) / se
    quantile = float(stats.t.ppf(0.975, df))
    ci = np.array([params[1] - quantile * se, params[1] + quantile * se])
    p_time = float(2 * stats.t.sf(abs(t_value), df))
    label = "overdispersed" if dispersion > OVERDISPERSION_THRESHOLD else "mildly overdispersed"
    note = f"{label} (Pearson chi²/df {dispersion:.2f}); quasi-Poisson, t test with {df:.0f} df"
    return _Fit("quasipoisson", params, ci, p_time, math.nan, note)
