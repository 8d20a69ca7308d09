"""Trend fits: planted trends, false-positive rate, overdispersion and sparse series."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.periods import period_days
from problembild.analysis.trend import TrendResult, fit_trend

MONTHS = pd.date_range("2019-01-01", periods=60, freq="MS")
SEASON = 1 + 0.3 * np.sin(2 * np.pi * np.arange(60) / 12)


def test_trend_finds_planted_increase_and_not_a_null_trend():
    years = period_days(MONTHS, "month").cumsum() / 365.25
    mean_up = 20 * SEASON * 1.3 ** (years - years.mean())  # about 20 events/month, +30 %/year
    detected = quiet = 0
    # Independent, fixed streams per run. The no-trend runs are tested at alpha = 0.05,
    # so about 5 in 100 are flagged by chance: ">= 95 quiet" is the nominal level and
    # holds for these seeds, not for every seed set; the calibration test below checks
    # the false-positive rate on a larger sample.
    for up_seed, flat_seed in zip(
        np.random.SeedSequence(1).spawn(100), np.random.SeedSequence(2024).spawn(100), strict=True
    ):
        up = fit_trend(np.random.default_rng(up_seed).poisson(mean_up), MONTHS)
        detected += up.ok and up.ci_low > 1 and up.mark() == "↑"
        flat = fit_trend(np.random.default_rng(flat_seed).poisson(20 * SEASON), MONTHS)
        quiet += flat.ok and flat.ci_low <= 1 <= flat.ci_high and flat.mark() == ""
    assert detected >= 95
    assert quiet >= 95


def test_trend_false_positive_rate_is_near_nominal():
    runs = 800
    flagged = sum(
        fit_trend(np.random.default_rng([7, seed]).poisson(20 * SEASON), MONTHS).p_value < 0.05
        for seed in range(runs)
    )
    # Wald z-tests run slightly above 5 % at 54 residual df; 8 % is > 3 SE above that.
    assert flagged / runs <= 0.08


def test_trend_estimate_is_close_and_shapes_follow_input_order():
    rng = np.random.default_rng(7)
    years = np.arange(60) / 12
    counts = rng.poisson(40 * SEASON * 1.3**years)
    fit = fit_trend(counts, MONTHS)
    assert fit.family == "poisson" and fit.fourier_terms == 2
    assert fit.ci_low < 1.3 < fit.ci_high and fit.annual_change == pytest.approx(fit.rate_ratio - 1)
    assert fit.fitted.sum() == pytest.approx(counts.sum(), rel=1e-6)  # Poisson MLE with intercept
    shuffle = rng.permutation(60)
    again = fit_trend(counts[shuffle], MONTHS[shuffle])
    assert again.rate_ratio == pytest.approx(fit.rate_ratio, rel=1e-8)
    np.testing.assert_allclose(again.fitted, fit.fitted[shuffle], rtol=1e-8)
    assert (again.period_starts == MONTHS[shuffle]).all()
    assert np.all(np.diff(fit.trend[[0, 12, 24, 36, 48]]) > 0)  # January to January rises


def test_overdispersion_switches_to_negative_binomial():
    rng = np.random.default_rng(3)
    counts = rng.negative_binomial(2, 2 / (2 + 20), 60)  # mean 20, variance 220
    auto = fit_trend(counts, MONTHS)
    assert auto.dispersion > 1.5 and auto.family == "negbin" and auto.nb_alpha > 0
    poisson = fit_trend(counts, MONTHS, family="poisson")
    assert poisson.family == "poisson"
    assert (auto.ci_high - auto.ci_low) > (poisson.ci_high - poisson.ci_low)
    assert fit_trend(rng.poisson(20, 60), MONTHS, family="negbin").family in {"negbin", "quasipoisson"}


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ([3, 4, 5, 6, 7], "too_few_periods"),
        ([], "too_few_periods"),
        ([0] * 24, "all_zero"),
        ([0] * 11 + [4], "too_few_events"),
    ],
)
def test_trend_statuses_without_a_fit(counts, status):
    result = fit_trend(counts, MONTHS[: len(counts)])
    assert isinstance(result, TrendResult)
    assert result.status == status and not result.ok and result.message
    assert math.isnan(result.rate_ratio) and result.mark() == ""
    assert result.fitted.shape == (len(counts),) and np.isnan(result.fitted).all()


def test_trend_other_periods():
    rng = np.random.default_rng(11)
    weeks = pd.date_range("2021-01-04", periods=156, freq="W-MON")
    assert fit_trend(rng.poisson(5, 156), weeks, period="week").fourier_terms == 2
    years = pd.date_range("2015-01-01", periods=8, freq="YS")
    yearly = fit_trend(rng.poisson(50, 8), years, period="year")
    assert yearly.ok and yearly.fourier_terms == 0
    short = fit_trend(rng.poisson(10, 8), MONTHS[:8])
    assert short.ok and short.fourier_terms == 0
    quarters = pd.date_range("2019-01-01", periods=12, freq="QS")
    assert fit_trend(rng.poisson(30, 12), quarters, period="quarter").fourier_terms == 1


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


def test_fit_trend_on_a_nearly_separated_series_gives_no_wild_estimate():
    """Two events in adjacent months of three years once overflowed exp() of the interval."""
    counts = np.zeros(36)
    counts[4] = counts[5] = 1
    fit = fit_trend(counts, pd.date_range("2023-01-01", periods=36, freq="MS"), period="month")
    assert fit.status in ("ok", "fit_failed")
    if fit.ok:
        assert math.isfinite(fit.ci_high) and fit.ci_high < 1e20
