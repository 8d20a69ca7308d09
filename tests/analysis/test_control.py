"""Weekly control flags: hand-computed limits (scipy's Poisson and negative-binomial
quantiles), no look-ahead, keys, the level on overdispersed series, and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from problembild.analysis.control import control_flags


def weekly(values, start="2024-01-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="W-MON"), name="count")


def test_control_flags_hand_computed():
    out = control_flags(weekly([2, 2, 2, 2, 10, 3, 0]), baseline_weeks=4, dispersion=1.0)
    assert out["reason"].tolist()[:4] == ["insufficient_history"] * 4
    assert not out["flag"].iloc[:4].any() and out["expected"].iloc[:4].isna().all()
    fifth = out.iloc[4]
    assert fifth["expected"] == 2.0 and fifth["upper_limit"] == stats.poisson.ppf(0.99, 2.0) == 6
    assert fifth["flag"] and fifth["history_weeks"] == 4 and fifth["reason"] == ""
    sixth = out.iloc[5]  # baseline now 2, 2, 2, 10
    assert sixth["expected"] == 4.0 and not sixth["flag"]
    assert list(out.columns) == [
        "count",
        "history_weeks",
        "expected",
        "upper_limit",
        "flag",
        "reason",
        "dispersion",
    ]
    # A constant baseline varies less than Poisson counts: the estimated dispersion keeps
    # the Poisson limit.
    estimated = control_flags(weekly([2, 2, 2, 2, 10, 3, 0]), baseline_weeks=4)
    assert estimated["upper_limit"].iloc[4] == 6 and estimated["dispersion"].iloc[4] == 0


def test_control_limit_of_an_overdispersed_baseline_is_the_negative_binomial_quantile():
    """Baseline 1, 5, 1, 5: mean 3, sample variance 16/3, so phi = 16/9; the limit is the 99 %
    quantile of a negative binomial with mean 3 and variance phi * 3."""
    out = control_flags(weekly([1, 5, 1, 5, 9, 12]), baseline_weeks=4)
    fifth = out.iloc[4]
    phi = np.var([1, 5, 1, 5], ddof=1) / 3
    assert fifth["dispersion"] == pytest.approx(phi)
    n, p = 3 / (phi - 1), 1 / phi
    assert stats.nbinom.mean(n, p) == pytest.approx(3) and stats.nbinom.var(n, p) == pytest.approx(3 * phi)
    assert fifth["upper_limit"] == stats.nbinom.ppf(0.99, n, p) == 10
    assert not fifth["flag"]  # 9 is within the wider limit; Poisson's (8) would flag it
    assert control_flags(weekly([1, 5, 1, 5, 9]), baseline_weeks=4, dispersion=1.0)["flag"].iloc[4]


@pytest.mark.parametrize(("mean", "alpha"), [(7.0, 0.3), (2.0, 0.3), (7.0, 0.0)])
def test_control_flags_hold_their_level_on_overdispersed_weeks(mean, alpha):
    """200 areas x 3 years of weekly counts without change, nominal 1 % per week: the share
    of evaluated weeks flagged stays within 1.5 points (99 % lower Clopper-Pearson bound).
    Poisson limits flagged 7.8 % at NB(7, 0.3)."""
    rng = np.random.default_rng([5, int(mean), int(alpha * 10)])
    weeks = pd.date_range("2021-01-04", periods=156, freq="W-MON")
    lam = rng.gamma(1 / alpha, alpha * mean, (200, 156)) if alpha else np.full((200, 156), mean)
    table = pd.DataFrame(
        {
            "area_id": np.repeat(np.arange(200), 156),
            "period_start": np.tile(weeks, 200),
            "count": rng.poisson(lam).ravel(),
        }
    )
    out = control_flags(table, baseline_weeks=52, alpha=0.01)
    evaluated = out["reason"] == ""
    flagged, n = int(out.loc[evaluated, "flag"].sum()), int(evaluated.sum())
    assert stats.binomtest(flagged, n).proportion_ci(0.98, method="exact").low <= 0.025, f"{flagged}/{n}"


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
    with pytest.raises(ValueError, match="dispersion must be"):
        control_flags(weekly([1, 2]), dispersion="guess")
    with pytest.raises(ValueError, match="dispersion must be a positive number"):
        control_flags(weekly([1, 2]), dispersion=0)
    assert control_flags(weekly([])).empty
