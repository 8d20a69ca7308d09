"""Trend fits against statsmodels (Poisson, quasi-Poisson and negative-binomial GLMs on a
design built here), their level on Poisson and overdispersed series, their power against
asymptotic theory, and sparse series."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from problembild.analysis.trend import MIN_TREND_EVENTS, TrendResult, fit_trend

MONTHS = pd.date_range("2019-01-01", periods=60, freq="MS")
SEASON = 1 + 0.3 * np.sin(2 * np.pi * np.arange(60) / 12)
NEXT = {"week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3)}


def reference_design(starts, period, k):
    """fit_trend's documented model, built here from pandas alone: intercept, years since the
    first period (365.25 days) centred, ``k`` Fourier pairs of the mid-period's share of its
    year; log days as offset."""
    starts = pd.DatetimeIndex(starts)
    ends = starts + NEXT.get(period, pd.DateOffset(years=1))
    days = ((ends - starts) / pd.Timedelta(days=1)).to_numpy()
    years = ((starts - starts[0]) / pd.Timedelta(days=1)).to_numpy() / 365.25
    mid = starts + pd.to_timedelta(days / 2, unit="D")
    year_len = np.where(mid.is_leap_year, 366.0, 365.0)
    phase = ((mid - mid.to_period("Y").to_timestamp()) / pd.Timedelta(days=1)).to_numpy() / year_len
    columns = [np.ones(len(starts)), years - years.mean()]
    for j in range(1, k + 1):
        columns += [np.sin(2 * np.pi * j * phase), np.cos(2 * np.pi * j * phase)]
    return np.column_stack(columns), np.log(days)


def glm(y, starts, period="month", k=2):
    x, offset = reference_design(starts, period, k)
    return sm.GLM(y, x, family=sm.families.Poisson(), offset=offset)


def negative_binomial(rng, mean, alpha, size):
    if alpha == 0:
        return rng.poisson(mean, size)
    return rng.poisson(rng.gamma(1 / alpha, alpha * np.broadcast_to(mean, size)))


def assert_same_inference(fit, oracle):
    """Rate ratio, 95 % interval and p-value of the slope, as statsmodels reports them."""
    assert fit.rate_ratio == pytest.approx(math.exp(oracle.params[1]), rel=1e-6)
    ci = np.exp(np.asarray(oracle.conf_int())[1])
    assert (fit.ci_low, fit.ci_high) == pytest.approx(tuple(ci), rel=1e-6)
    assert fit.p_value == pytest.approx(float(oracle.pvalues[1]), rel=1e-5, abs=1e-12)


def test_auto_is_statsmodels_quasi_poisson_when_overdispersed_and_poisson_otherwise():
    rng = np.random.default_rng(3)
    over = negative_binomial(rng, 20 * SEASON, 0.3, 60)
    fit = fit_trend(over, MONTHS)
    poisson = glm(over, MONTHS).fit()
    assert fit.dispersion == pytest.approx(poisson.pearson_chi2 / poisson.df_resid, rel=1e-8)
    assert fit.dispersion > 1 and fit.family == "quasipoisson" and math.isnan(fit.nb_alpha)
    assert_same_inference(fit, glm(over, MONTHS).fit(scale="X2", use_t=True))
    # Underdispersed (a flat, very regular series): Poisson errors, normal reference.
    regular = np.round(20 * SEASON).astype(int)
    flat = fit_trend(regular, MONTHS)
    assert flat.dispersion < 1 and flat.family == "poisson"
    assert_same_inference(flat, glm(regular, MONTHS).fit())


def test_forced_families_are_statsmodels_poisson_and_negative_binomial():
    rng = np.random.default_rng(4)
    counts = negative_binomial(rng, 20 * SEASON, 0.2, 60)
    assert_same_inference(fit_trend(counts, MONTHS, family="poisson"), glm(counts, MONTHS).fit())
    x, offset = reference_design(MONTHS, "month", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb = NegativeBinomial(counts, x, loglike_method="nb2", offset=offset).fit(disp=False, maxiter=500)
    fit = fit_trend(counts, MONTHS, family="negbin")
    assert fit.family == "negbin" and fit.nb_alpha == pytest.approx(nb.params[-1], rel=1e-4)
    assert fit.rate_ratio == pytest.approx(math.exp(nb.params[1]), rel=1e-5)
    assert fit.p_value == pytest.approx(nb.pvalues[1], rel=1e-3)


@pytest.mark.parametrize(
    ("period", "starts", "mean", "k"),
    [
        ("week", pd.date_range("2021-01-04", periods=156, freq="W-MON"), 5, 2),
        ("quarter", pd.date_range("2019-01-01", periods=12, freq="QS"), 30, 1),
        ("year", pd.date_range("2015-01-01", periods=8, freq="YS"), 50, 0),
        ("month", MONTHS[:8], 10, 0),  # under a year: no season
        ("month", MONTHS[:18], 10, 1),
    ],
)
def test_other_periods_match_statsmodels(period, starts, mean, k):
    counts = negative_binomial(np.random.default_rng(len(starts)), mean, 0.1, len(starts))
    fit = fit_trend(counts, starts, period=period)
    assert fit.ok and fit.fourier_terms == k
    poisson = glm(counts, starts, period, k).fit()
    dispersion = poisson.pearson_chi2 / poisson.df_resid
    assert fit.dispersion == pytest.approx(dispersion, rel=1e-8)
    oracle = glm(counts, starts, period, k).fit(scale="X2", use_t=True) if dispersion > 1 else poisson
    assert_same_inference(fit, oracle)


@pytest.mark.parametrize(
    ("months", "mean", "alpha", "runs"),
    [
        (60, 20, 0.0, 400),  # Poisson with a season
        (24, 5, 0.3, 1000),  # the case: 10.1 % with the negative-binomial switch
        (24, 5, 0.08, 400),  # mild overdispersion under the former 1.5 switch (7.7 %)
        (60, 10, 0.3, 400),
    ],
)
def test_no_trend_is_marked_at_most_nominal_plus_one_and_a_half_points(months, mean, alpha, runs):
    """Share of trendless series with p < 0.05: the 99 % lower Clopper-Pearson bound must
    not exceed 6.5 %."""
    starts = MONTHS[:months]
    rng = np.random.default_rng([8, months, int(alpha * 100)])
    means = mean * SEASON[:months]
    flagged = sum(
        fit_trend(negative_binomial(rng, means, alpha, months), starts).p_value < 0.05 for _ in range(runs)
    )
    lower = stats.binomtest(flagged, runs).proportion_ci(0.98, method="exact").low
    assert lower <= 0.065, f"{flagged}/{runs} trendless series marked"


@pytest.mark.parametrize("events", [MIN_TREND_EVENTS, 6, 10])
def test_few_events_without_a_trend_are_marked_at_most_nominal(events):
    """Given the number of events, a trendless series has its events in the months
    independently with probability proportional to the days (multinomial): the share
    marked stays within 1.5 points of 5 % from MIN_TREND_EVENTS on (with 2 events the
    Wald test marked 26 %, with 3 10 %)."""
    starts = MONTHS[:48]
    days = ((starts + pd.DateOffset(months=1) - starts) / pd.Timedelta(days=1)).to_numpy()
    rng = np.random.default_rng([9, events])
    runs = 600
    marked = sum(
        fit_trend(rng.multinomial(events, days / days.sum()), starts).mark() != "" for _ in range(runs)
    )
    lower = stats.binomtest(marked, runs).proportion_ci(0.98, method="exact").low
    assert lower <= 0.065, f"{marked}/{runs}"


def quasi_poisson_power(z, df, level=0.05):
    """Asymptotic power of fit_trend's test on Poisson data: the slope's z-statistic is
    N(z, 1) and, independently, the Pearson dispersion is chi²(df)/df; the test scales by
    max(1, dispersion) and uses Student's t(df) when the dispersion exceeds 1, else normal."""

    def reject(phi):
        normal = phi <= 1
        c = stats.norm.ppf(1 - level / 2) if normal else stats.t.ppf(1 - level / 2, df) * math.sqrt(phi)
        return stats.norm.sf(c - z) + stats.norm.cdf(-c - z)

    density = stats.chi2(df)
    return integrate.quad(lambda v: reject(v / df) * density.pdf(v), 0, np.inf, limit=200)[0]


def test_power_for_a_planted_trend_matches_asymptotic_theory():
    """+5 % per year at about 20 events a month with a season, 60 months: the share of
    series with a significant upward trend agrees with the power computed from the Fisher
    information of the true means (within the 99 % binomial interval and 0.03)."""
    x, offset = reference_design(MONTHS, "month", 2)
    years = ((MONTHS - MONTHS[0]) / pd.Timedelta(days=1)).to_numpy() / 365.25
    mean = 20 * SEASON * 1.05 ** (years - years.mean()) * np.exp(offset) / 30.4375
    information = x.T @ (mean[:, None] * x)
    z = math.log(1.05) / math.sqrt(np.linalg.inv(information)[1, 1])
    expected = quasi_poisson_power(z, df=len(MONTHS) - x.shape[1])
    runs = 400
    rng = np.random.default_rng(21)
    found = sum(fit_trend(rng.poisson(mean), MONTHS).mark() == "↑" for _ in range(runs))
    interval = stats.binomtest(found, runs).proportion_ci(0.99, method="exact")
    assert interval.low - 0.03 <= expected <= interval.high + 0.03, (found / runs, expected)


def test_trend_estimate_is_close_and_shapes_follow_input_order():
    rng = np.random.default_rng(7)
    years = np.arange(60) / 12
    counts = rng.poisson(40 * SEASON * 1.3**years)
    fit = fit_trend(counts, MONTHS)
    assert fit.family in {"poisson", "quasipoisson"} and fit.fourier_terms == 2
    assert fit.ci_low < 1.3 < fit.ci_high and fit.annual_change == pytest.approx(fit.rate_ratio - 1)
    assert fit.fitted.sum() == pytest.approx(counts.sum(), rel=1e-6)  # Poisson MLE with intercept
    shuffle = rng.permutation(60)
    again = fit_trend(counts[shuffle], MONTHS[shuffle])
    assert again.rate_ratio == pytest.approx(fit.rate_ratio, rel=1e-8)
    np.testing.assert_allclose(again.fitted, fit.fitted[shuffle], rtol=1e-8)
    assert (again.period_starts == MONTHS[shuffle]).all()
    assert np.all(np.diff(fit.trend[[0, 12, 24, 36, 48]]) > 0)  # January to January rises


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ([3, 4, 5, 6, 7], "too_few_periods"),
        ([], "too_few_periods"),
        ([0] * 24, "all_zero"),
        ([0] * 11 + [4], "too_few_events"),
        ([0] * 20 + [1, 0, 1, 0, 1], "too_few_events"),  # 3 events: fewer than MIN_TREND_EVENTS
    ],
)
def test_trend_statuses_without_a_fit(counts, status):
    result = fit_trend(counts, MONTHS[: len(counts)])
    assert isinstance(result, TrendResult)
    assert result.status == status and not result.ok and result.message
    assert math.isnan(result.rate_ratio) and result.mark() == ""
    assert result.fitted.shape == (len(counts),) and np.isnan(result.fitted).all()


def test_trend_validation():
    with pytest.raises(ValueError, match="same length"):
        fit_trend([1, 2, 3], MONTHS[:4])
    with pytest.raises(ValueError, match="several counts for the same period"):
        fit_trend([1] * 6, [MONTHS[0]] * 6)
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        fit_trend([1, 2, -3, 4, 5, 6], MONTHS[:6])
    with pytest.raises(ValueError, match="family must be one of"):
        fit_trend([1] * 6, MONTHS[:6], family="gaussian")
    with pytest.raises(ValueError, match="series_counts contains NaN"):
        fit_trend([1, np.nan, 3, 4, 5, 6], MONTHS[:6])


@pytest.mark.parametrize("events", [(4, 5, 6, 7), (4, 5, 30, 31), (0, 1, 2, 34, 35)])
def test_a_sparse_series_fails_exactly_when_statsmodels_slope_is_not_identified(events):
    """fit_trend refuses a fit that does not converge or whose slope or interval is beyond
    |log rate ratio| 50 per year (the documented rule); statsmodels' own Poisson fit of the
    same design says which case this is."""
    starts = pd.date_range("2023-01-01", periods=36, freq="MS")
    counts = np.zeros(36)
    counts[list(events)] = 1
    fit = fit_trend(counts, starts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = glm(counts, starts).fit()
    dispersion = poisson.pearson_chi2 / poisson.df_resid
    oracle = glm(counts, starts).fit(scale="X2", use_t=True) if dispersion > 1 else poisson
    extreme = max(abs(oracle.params[1]), *np.abs(np.asarray(oracle.conf_int())[1])) > 50
    wild = not poisson.converged or extreme
    assert fit.status == ("fit_failed" if wild else "ok")
    if fit.ok:
        assert_same_inference(fit, oracle)
