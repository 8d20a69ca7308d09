"""Rate tests: the exact Poisson test against scipy.stats.binomtest; the dispersion
estimate against statsmodels' quasi-Poisson GLM; the overdispersed test against
statsmodels' score test and a simulated level."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats import rates as sm_rates

from problembild.analysis.ratetest import (
    MIN_DISPERSION_PERIODS,
    dispersion_estimate,
    dispersion_estimates,
    estimate_dispersion,
    poisson_rate_test,
    poisson_rate_test_many,
    rate_test,
    rate_test_many,
)

ALTS = ("two-sided", "greater", "less")
exposures = st.floats(min_value=0.01, max_value=1000.0, allow_nan=False, allow_infinity=False)


def binomtest_p(a, ea, b, eb, alternative):
    n = int(a + b)
    return 1.0 if n == 0 else stats.binomtest(int(a), n, ea / (ea + eb), alternative=alternative).pvalue


@settings(max_examples=300, deadline=None)
@given(
    a=st.integers(0, 400),
    b=st.integers(0, 400),
    ea=exposures,
    eb=exposures,
    alternative=st.sampled_from(ALTS),
)
def test_scalar_and_vectorised_agree_with_binomtest(a, b, ea, eb, alternative):
    expected = binomtest_p(a, ea, b, eb, alternative)
    assert abs(poisson_rate_test(a, ea, b, eb, alternative).p_value - expected) <= 1e-12
    many = poisson_rate_test_many([a], [ea], [b], [eb], alternative)
    assert abs(many["p_value"].iloc[0] - expected) <= 1e-12


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 60), st.integers(0, 60), exposures, exposures), min_size=1, max_size=40
    ),
    alternative=st.sampled_from(ALTS),
)
def test_whole_tables_agree_with_binomtest(rows, alternative):
    a, b, ea, eb = (np.array(col) for col in zip(*rows, strict=True))
    got = poisson_rate_test_many(a, ea, b, eb, alternative)["p_value"].to_numpy()
    expected = [binomtest_p(ka, xa, kb, xb, alternative) for ka, kb, xa, xb in rows]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_large_seeded_batch_including_symmetric_and_large_counts():
    rng = np.random.default_rng(20240101)
    a = rng.integers(0, 3000, 400)
    b = np.where(rng.random(400) < 0.2, a, rng.integers(0, 3000, 400))  # many exact ties
    ea = np.where(rng.random(400) < 0.3, 7.0, rng.uniform(0.5, 40, 400))
    eb = np.where(ea == 7.0, 7.0, rng.uniform(0.5, 40, 400))
    for alternative in ALTS:
        got = poisson_rate_test_many(a, ea, b, eb, alternative)["p_value"].to_numpy()
        expected = [binomtest_p(*row, alternative) for row in zip(a, ea, b, eb, strict=True)]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_rate_test_edge_cases_and_fields():
    none = poisson_rate_test(0, 10, 0, 5)
    assert none.p_value == 1.0 and math.isnan(none.ratio)
    only_a = poisson_rate_test(6, 1, 0, 1)
    assert only_a.ratio == math.inf and only_a.p_value == pytest.approx(2 * 0.5**6)
    r = poisson_rate_test(30, 10, 10, 5, alternative="greater")
    assert r.ratio == pytest.approx(1.5) and (r.rate_a, r.rate_b) == (3.0, 2.0)
    table = poisson_rate_test_many([0, 4], 2.0, [0, 0], [1.0, 1.0])  # scalar exposure broadcasts
    assert table["p_value"].tolist()[0] == 1.0 and math.isnan(table["ratio"].iloc[0])
    assert list(table.columns) == ["count_a", "exposure_a", "count_b", "exposure_b", "ratio", "p_value"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count_a": -1}, "count_a must be non-negative whole numbers"),
        ({"count_b": 2.5}, "count_b must be non-negative whole numbers"),
        ({"exposure_a": 0}, "exposure_a must be positive"),
        ({"exposure_b": float("nan")}, "exposure_b contains NaN"),
        ({"count_a": "x"}, "count_a must be numeric"),
        ({"alternative": "bigger"}, "alternative must be one of"),
    ],
)
def test_rate_test_validation(kwargs, message):
    args = {"count_a": 3, "exposure_a": 1.0, "count_b": 4, "exposure_b": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        poisson_rate_test(**args)


def test_poisson_means_test_is_a_different_test():
    # The E-test (unconditional) and the conditional exact test need not agree.
    cond = poisson_rate_test(10, 1, 3, 1).p_value
    etest = stats.poisson_means_test(10, 1, 3, 1).pvalue
    assert cond == pytest.approx(binomtest_p(10, 1, 3, 1, "two-sided"), abs=1e-12)
    assert cond != pytest.approx(etest, abs=1e-6)


# --------------------------------------------------------------------------- dispersion


def negative_binomial(rng, mean, alpha, size):
    """NB2 counts: Poisson with a gamma(1/alpha, alpha * mean) mean; Var = mean + alpha mean²."""
    if alpha == 0:
        return rng.poisson(mean, size)
    return rng.poisson(rng.gamma(1 / alpha, alpha * np.broadcast_to(mean, size)))


def index_design(n, season=12):
    """The documented design without dates: 1, centred t, Fourier pairs of t / season."""
    t = np.arange(n) / season
    k = 2 if n >= 2 * season else 1 if n >= season else 0
    columns = [np.ones(n), t - t.mean()]
    for j in range(1, k + 1):
        columns += [np.sin(2 * np.pi * j * t), np.cos(2 * np.pi * j * t)]
    return np.column_stack(columns)


def calendar_design(starts):
    """The documented monthly design with dates, built here from pandas alone: years since
    the first month (365.25 days), centred; Fourier pairs of the mid-month's share of its
    year; log days as offset."""
    starts = pd.DatetimeIndex(starts)
    ends = starts + pd.offsets.MonthBegin(1)
    days = ((ends - starts) / pd.Timedelta(days=1)).to_numpy()
    years = ((starts - starts[0]) / pd.Timedelta(days=1)).to_numpy() / 365.25
    mid = starts + pd.to_timedelta(days / 2, unit="D")
    year_len = np.where(mid.is_leap_year, 366.0, 365.0)
    phase = ((mid - mid.to_period("Y").to_timestamp()) / pd.Timedelta(days=1)).to_numpy() / year_len
    columns = [np.ones(len(starts)), years - years.mean()]
    for j in (1, 2):
        columns += [np.sin(2 * np.pi * j * phase), np.cos(2 * np.pi * j * phase)]
    return np.column_stack(columns), np.log(days)


def statsmodels_scale(y, x, offset=None):
    fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    return float(fit.scale), float(fit.df_resid)


@pytest.mark.parametrize(
    ("n", "mean", "alpha", "seed"), [(48, 10, 0.3, 1), (24, 3, 0.0, 2), (15, 30, 0.1, 3)]
)
def test_dispersion_is_the_pearson_scale_of_statsmodels_quasi_poisson_glm(n, mean, alpha, seed):
    y = negative_binomial(np.random.default_rng(seed), mean, alpha, n)
    scale, df = statsmodels_scale(y, index_design(n))
    est = dispersion_estimate(y)
    assert est.dispersion == pytest.approx(scale, rel=1e-7) and est.df == df
    assert est.method == "pearson" and est.n_periods == n
    assert estimate_dispersion(y) == est.dispersion


def test_dispersion_with_month_starts_uses_days_and_calendar_season():
    starts = pd.date_range("2019-03-01", periods=40, freq="MS")
    y = negative_binomial(np.random.default_rng(4), 12 * (1 + 0.4 * np.sin(np.arange(40) / 2)), 0.2, 40)
    x, offset = calendar_design(starts)
    scale, df = statsmodels_scale(y, x, offset)
    shuffled = np.random.default_rng(5).permutation(40)  # any order
    est = dispersion_estimate(y[shuffled], period_starts=starts[shuffled])
    assert est.dispersion == pytest.approx(scale, rel=1e-7) and est.df == df


def test_dispersion_recovers_planted_overdispersion_on_average():
    """NB2 with mean 10 and alpha 0.3 has phi = 1 + 0.3 * 10 = 4; Poisson has phi = 1."""
    rng = np.random.default_rng(6)
    for alpha, phi in ((0.3, 4.0), (0.0, 1.0)):
        phis, _, _ = dispersion_estimates(negative_binomial(rng, 10, alpha, (400, 48)).astype(float))
        se = phis.std(ddof=1) / math.sqrt(phis.size)
        assert abs(phis.mean() - phi) <= 4 * se + 0.05 * phi


def test_dispersion_of_short_or_empty_series_is_poisson():
    short = dispersion_estimate(np.arange(MIN_DISPERSION_PERIODS - 1))
    assert (short.dispersion, short.df, short.method) == (1.0, math.inf, "none")
    assert dispersion_estimate(np.zeros(30)).method == "none"
    sparse = np.zeros(36)
    sparse[[4, 5]] = 1  # nearly separated: a fit may run away, the moment estimate does not
    assert math.isfinite(dispersion_estimate(sparse).dispersion)
    with pytest.raises(ValueError, match="counts must be non-negative whole numbers"):
        dispersion_estimate([1, 2, -1] * 5)
    with pytest.raises(ValueError, match="same length"):
        dispersion_estimate([1] * 12, period_starts=pd.date_range("2020-01-01", periods=11, freq="MS"))


# --------------------------------------------------------------------------- rate_test


def test_rate_test_without_overdispersion_is_the_exact_poisson_test():
    for a, ea, b, eb in ((12, 28, 10, 31), (0, 1, 5, 2), (40, 365, 61, 366)):
        for phi in (1.0, 0.6, 0.0):  # an estimate is 0 for a series its fit matches exactly
            got = rate_test(a, ea, b, eb, dispersion=phi)
            assert got.method == "exact_poisson" and got.dispersion == 1.0
            assert got.p_value == pytest.approx(stats.binomtest(a, a + b, ea / (ea + eb)).pvalue, abs=1e-12)


@pytest.mark.parametrize(("a", "ea", "b", "eb"), [(30, 12, 20, 12), (30, 31, 20, 28), (400, 365, 300, 365)])
@pytest.mark.parametrize(("phi", "df"), [(2.0, 40.0), (5.0, math.inf)])
def test_overdispersed_rate_test_is_the_scaled_score_test(a, ea, b, eb, phi, df):
    """statsmodels' score statistic of equal Poisson rates, divided by sqrt(phi), against
    Student's t (normal for df = inf); never below the exact Poisson p-value."""
    z = sm_rates.test_poisson_2indep(a, ea, b, eb, method="score").statistic / math.sqrt(phi)
    reference = stats.norm if math.isinf(df) else stats.t(df)
    expected = max(2 * reference.sf(abs(z)), stats.binomtest(a, a + b, ea / (ea + eb)).pvalue)
    got = rate_test(a, ea, b, eb, dispersion=phi, dispersion_df=df)
    assert got.p_value == pytest.approx(expected, rel=1e-9)
    assert (got.method, got.dispersion, got.dispersion_df) == ("quasi_poisson", phi, df)
    greater = rate_test(a, ea, b, eb, dispersion=phi, dispersion_df=df, alternative="greater")
    exact_greater = stats.binomtest(a, a + b, ea / (ea + eb), alternative="greater").pvalue
    assert greater.p_value == pytest.approx(max(reference.sf(z), exact_greater), rel=1e-9)
    table = rate_test_many([a, a], [ea, ea], [b, b], [eb, eb], dispersion=[phi, 1.0], dispersion_df=df)
    assert table["p_value"].iloc[0] == pytest.approx(got.p_value, rel=1e-12)
    assert table["method"].tolist() == ["quasi_poisson", "exact_poisson"]


def test_rate_test_holds_its_level_on_overdispersed_twelve_month_comparisons():
    """48 months without change, last 12 against the 12 before, dispersion from the series:
    at 5 % the share marked stays within 1.5 points of nominal (99 % lower Clopper-Pearson
    bound). The exact Poisson test marks 16 % at NB(10, 0.1) and 31 % at NB(10, 0.3)."""
    rng = np.random.default_rng(11)
    runs = 600
    for mean, alpha in ((10, 0.3), (30, 0.1), (10, 0.0)):
        y = negative_binomial(rng, mean, alpha, (runs, 48)).astype(float)
        phi, df, _ = dispersion_estimates(y)
        now, before = y[:, 36:].sum(axis=1), y[:, 24:36].sum(axis=1)
        p = rate_test_many(now, 12, before, 12, dispersion=phi, dispersion_df=df)["p_value"].to_numpy()
        marked = int((p < 0.05).sum())
        lower = stats.binomtest(marked, runs).proportion_ci(0.98, method="exact").low
        assert lower <= 0.065, f"NB({mean}, {alpha}): {marked}/{runs} marked"


def test_rate_test_detects_a_planted_doubling_despite_overdispersion():
    rng = np.random.default_rng(12)
    y = negative_binomial(rng, 30, 0.1, (200, 48)).astype(float)
    y[:, 36:] = negative_binomial(rng, 60, 0.1, (200, 12))
    phi, df, _ = dispersion_estimates(y)
    p = rate_test_many(
        y[:, 36:].sum(axis=1), 12, y[:, 24:36].sum(axis=1), 12, dispersion=phi, dispersion_df=df
    )
    assert (p["p_value"] < 0.05).mean() >= 0.95


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dispersion": -0.5}, "dispersion must be >= 0"),
        ({"dispersion": float("nan")}, "dispersion contains NaN"),
        ({"dispersion_df": 0}, "dispersion_df must be positive"),
        ({"alternative": "up"}, "alternative must be one of"),
        ({"count_a": -3}, "count_a must be non-negative whole numbers"),
    ],
)
def test_overdispersed_rate_test_validation(kwargs, message):
    args = {"count_a": 3, "exposure_a": 1.0, "count_b": 4, "exposure_b": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        rate_test(**args)
