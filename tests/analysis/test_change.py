"""Exact rate tests against scipy, change tables, trend fits and control flags."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from problembild.analysis.change import (
    TrendResult,
    change_table,
    control_flags,
    fit_trend,
    poisson_rate_test,
    poisson_rate_test_many,
)
from problembild.analysis.indicators import count_table
from problembild.analysis.periods import period_days

T = pd.Timestamp
ALTS = ("two-sided", "greater", "less")
exposures = st.floats(min_value=0.01, max_value=1000.0, allow_nan=False, allow_infinity=False)


def binomtest_p(a, ea, b, eb, alternative):
    n = int(a + b)
    return 1.0 if n == 0 else stats.binomtest(int(a), n, ea / (ea + eb), alternative=alternative).pvalue


# --------------------------------------------------------------------------- rate tests


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


# --------------------------------------------------------------------------- change table


def monthly(values, start="2023-01-01", key=1):
    starts = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"area_id": key, "indicator": "drugs", "period_start": starts, "count": values})


def test_change_table_hand_computed():
    counts = monthly([10, 12, 0, 5, 0, 0, 1, 2, 3, 4, 5, 6, 30, 12])
    out = change_table(counts, "month")
    assert len(out) == len(counts) and out.index.equals(counts.index)
    first = out.iloc[0]
    assert pd.isna(first["previous_count"]) and pd.isna(first["last_year_count"])
    assert np.isnan(first["previous_p_value"]) and first["previous_mark"] == ""
    feb = out.iloc[1]
    assert feb["period_label"] == "2023-02"
    assert (feb["previous_count"], feb["previous_change"]) == (10, 2)
    assert feb["previous_rel_change"] == pytest.approx(0.2)
    # Daily rates: 12 in 28 days vs 10 in 31 days.
    expected = poisson_rate_test(12, 28, 10, 31).p_value
    assert feb["previous_p_value"] == pytest.approx(expected, abs=1e-12)
    apr = out.iloc[3]  # 5 after 0: relative change undefined, absolute change known
    assert np.isnan(apr["previous_rel_change"]) and apr["previous_change"] == 5
    jan24 = out.iloc[12]
    assert jan24["last_year_start"] == T("2023-01-01")
    assert (jan24["last_year_count"], jan24["last_year_change"]) == (10, 20)
    assert jan24["previous_mark"] == "↑" and jan24["last_year_mark"] == "↑"
    assert out.iloc[13]["previous_mark"] == "↓"
    assert out.iloc[13]["last_year_mark"] == ""  # 12 vs 12
    zero = out.iloc[5]
    assert zero["previous_p_value"] == 1.0 and zero["previous_mark"] == ""
    assert str(out["previous_count"].dtype) == "Int64"


def test_change_table_keys_do_not_mix():
    counts = pd.concat([monthly([1, 2, 3], key=1), monthly([50, 60, 70], key=2)], ignore_index=True)
    out = change_table(counts.iloc[::-1], "month")  # row order is kept, not assumed
    got = out.set_index(["area_id", "period_start"])
    assert got.loc[(2, T("2023-02-01")), "previous_count"] == 50
    assert got.loc[(1, T("2023-03-01")), "previous_count"] == 2
    assert out.index.tolist() == counts.index[::-1].tolist()


def test_change_table_from_count_table_weeks():
    frame = pd.DataFrame(
        {
            "area_id": [1, 1, 1],
            "indicator": ["drugs", "drugs", "shootings"],
            "occurred_at": pd.to_datetime(["2020-12-29", "2021-12-28", "2021-12-29"]).tz_localize("UTC"),
        }
    )
    table = count_table(frame, period="week", indicators=["drugs"], first="2020-12-01")
    out = change_table(table, "week")
    last = out.iloc[-1]
    assert last["period_label"] == "2021-W52"
    assert last["last_year_start"] == T("2020-12-21")  # 2020-W52
    assert last["last_year_count"] == 0  # the 2020 incident was in W53


def test_change_table_validation():
    counts = monthly([1, 2, 3])
    with pytest.raises(ValueError, match="several rows"):
        change_table(pd.concat([counts, counts]), "month")
    with pytest.raises(ValueError, match="must hold month starts"):
        change_table(counts.assign(period_start=counts["period_start"] + pd.Timedelta(days=3)), "month")
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        change_table(counts.assign(count=[1, -2, 3]), "month")
    with pytest.raises(ValueError, match="lacks column"):
        change_table(counts.drop(columns="count"), "month")
    with pytest.raises(ValueError, match="alpha must be below 1"):
        change_table(counts, "month", alpha=1.5)
    assert change_table(counts.iloc[:0], "month").empty


# --------------------------------------------------------------------------- trend


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


# --------------------------------------------------------------------------- control flags


def weekly(values, start="2024-01-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="W-MON"), name="count")


def test_control_flags_hand_computed():
    out = control_flags(weekly([2, 2, 2, 2, 10, 3, 0]), baseline_weeks=4)
    assert out["reason"].tolist()[:4] == ["insufficient_history"] * 4
    assert not out["flag"].iloc[:4].any() and out["expected"].iloc[:4].isna().all()
    fifth = out.iloc[4]
    assert fifth["expected"] == 2.0 and fifth["upper_limit"] == stats.poisson.ppf(0.99, 2.0) == 6
    assert fifth["flag"] and fifth["history_weeks"] == 4 and fifth["reason"] == ""
    sixth = out.iloc[5]  # baseline now 2, 2, 2, 10
    assert sixth["expected"] == 4.0 and not sixth["flag"]
    assert list(out.columns) == ["count", "history_weeks", "expected", "upper_limit", "flag", "reason"]


def test_control_flags_min_history_and_zero_baseline():
    out = control_flags(weekly([0, 0, 0, 1]), baseline_weeks=52, min_history=3)
    assert out["flag"].tolist() == [False, False, False, True]  # limit 0 after quiet weeks
    assert out["upper_limit"].iloc[3] == 0


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 30), min_size=10, max_size=80),
    cut=st.integers(1, 79),
    replacement=st.lists(st.integers(0, 500), min_size=1, max_size=80),
)
def test_control_flags_never_look_ahead(counts, cut, replacement):
    cut = min(cut, len(counts) - 1)
    before = control_flags(weekly(counts), baseline_weeks=8)
    changed = counts[:cut] + (replacement * len(counts))[: len(counts) - cut]
    after = control_flags(weekly(changed), baseline_weeks=8)
    pd.testing.assert_frame_equal(before.iloc[:cut], after.iloc[:cut])


def test_control_flags_on_a_long_table_by_key():
    rng = np.random.default_rng(1)
    weeks = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    table = pd.concat(
        [
            pd.DataFrame(
                {"area_id": area, "indicator": "all", "period_start": weeks, "count": rng.poisson(lam, 60)}
            )
            for area, lam in ((1, 3), (2, 30))
        ],
        ignore_index=True,
    )
    table.loc[59, "count"] = 40  # spike in the quiet area's last week
    out = control_flags(table.sample(frac=1, random_state=0), baseline_weeks=52)
    got = out.set_index(["area_id", "period_start"])
    assert got.loc[(1, weeks[59]), "flag"]
    assert got.loc[(1, weeks[52]), "history_weeks"] == 52 and not got.loc[(1, weeks[51]), "flag"]
    assert got.loc[(2, weeks[59]), "expected"] == pytest.approx(table["count"].iloc[67:119].mean())


def test_control_flags_validation():
    with pytest.raises(ValueError, match="consecutive, distinct weeks"):
        control_flags(weekly([1, 2, 3]).drop(weekly([1, 2, 3]).index[1]))
    with pytest.raises(ValueError, match="must hold week starts"):
        control_flags(pd.Series([1, 2], index=pd.to_datetime(["2024-01-02", "2024-01-09"])))
    with pytest.raises(ValueError, match="baseline_weeks must be an integer"):
        control_flags(weekly([1, 2]), baseline_weeks=0)
    with pytest.raises(ValueError, match="min_history must be"):
        control_flags(weekly([1, 2]), baseline_weeks=4, min_history=5)
    with pytest.raises(ValueError, match="alpha must be below 1"):
        control_flags(weekly([1, 2]), alpha=1.0)
    assert control_flags(weekly([])).empty


def test_fit_trend_on_a_nearly_separated_series_gives_no_wild_estimate():
    """Two events in adjacent months of three years once overflowed exp() of the interval."""
    counts = np.zeros(36)
    counts[4] = counts[5] = 1
    fit = fit_trend(counts, pd.date_range("2023-01-01", periods=36, freq="MS"), period="month")
    assert fit.status in ("ok", "fit_failed")
    if fit.ok:
        assert math.isfinite(fit.ci_high) and fit.ci_high < 1e20
