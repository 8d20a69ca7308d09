"""Difference-in-differences on counts and the minimum detectable effect: hand-computed
2 x 2 and group-time effects, the Poisson fit against statsmodels, planted effects on
simulated panels, the pre-trend warning and the MDE's simulated power."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from problembild.analysis.effects_did import (
    DidResult,
    MdeResult,
    difference_in_differences,
    minimum_detectable_effect,
)


def panel(
    seed: int,
    *,
    units: int = 20,
    periods: int = 48,
    start: int = 36,
    effect: float = 0.0,
    treated_level: float = 20.0,
    pre_trend: float = 0.0,
    treated: tuple[int, ...] = (0,),
    starts: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Poisson counts with unit levels, a common trend and season; ``effect`` planted."""
    rng = np.random.default_rng(seed)
    level = np.exp(rng.uniform(np.log(5), np.log(30), units))
    for i in treated:
        level[i] = treated_level
    t = np.arange(periods)
    common = 0.15 * np.sin(2 * np.pi * t / 12) + 0.004 * t
    mu = level[:, None] * np.exp(common)[None, :]
    for i, s in zip(treated, starts or (start,) * len(treated), strict=True):
        mu[i, s:] *= 1 + effect
        # a drift of the treated unit before the start (log scale per period, ending at 0)
        mu[i, :s] *= np.exp(pre_trend * (t[:s] - s))
    return rng.poisson(mu).astype(float)


# --------------------------------------------------------------------------- 2 x 2 and the fit


def test_log_rate_matches_hand_computed_two_by_two():
    # Two units, two pre- and two post-periods: TWFE OLS gives the difference of differences of
    # mean log(1 + y).
    y = np.array([[9.0, 11.0, 5.0, 7.0], [19.0, 21.0, 24.0, 17.0]])
    logs = np.log1p(y)
    hand = (logs[0, 2:].mean() - logs[0, :2].mean()) - (logs[1, 2:].mean() - logs[1, :2].mean())
    r = difference_in_differences(y, 0, 2, controls=[1], model="log_rate")
    assert isinstance(r, DidResult)
    assert r.method == "did_log_rate"
    assert r.relative_effect == pytest.approx(math.expm1(hand), rel=1e-10)
    assert r.comparison == (1,)
    assert r.weights.to_dict() == {1: 1.0}
    assert r.per_period["period"].tolist() == [0, 1, 2, 3]
    assert any("comparison areas" in w for w in r.warnings)
    assert any("Only 2 periods" in w for w in r.warnings)


def test_poisson_matches_statsmodels_directly():
    y = panel(3, units=8, periods=30, start=20, effect=-0.25)
    r = difference_in_differences(y, 0, 20, controls=list(range(1, 8)))
    frame = pd.DataFrame(
        {
            "y": y.ravel(),
            "unit": np.repeat(np.arange(8), 30),
            "period": np.tile(np.arange(30), 8),
        }
    )
    frame["d"] = ((frame.unit == 0) & (frame.period >= 20)).astype(float)
    fit = smf.glm("y ~ C(unit) + C(period) + d", frame, family=sm.families.Poisson()).fit(scale="X2")
    beta, se = fit.params["d"], fit.bse["d"]
    assert r.relative_effect == pytest.approx(math.expm1(beta), rel=1e-6)
    assert r.p_value == pytest.approx(fit.pvalues["d"], rel=1e-5)
    assert r.relative_interval[0] == pytest.approx(math.expm1(beta - 1.959963984540054 * se), rel=1e-6)
    assert r.relative_interval[1] == pytest.approx(math.expm1(beta + 1.959963984540054 * se), rel=1e-6)
    # counts: observed post mean minus the counterfactual, cf = fitted / exp(beta)
    mu = fit.fittedvalues.to_numpy().reshape(8, 30)[0]
    post_mean = y[0, 20:].mean()
    assert mu[20:].mean() == pytest.approx(post_mean, rel=1e-6)
    assert r.effect == pytest.approx(post_mean * (1 - math.exp(-beta)), rel=1e-6)
    assert r.counterfactual[20:] == pytest.approx(mu[20:] / math.exp(beta), rel=1e-6)
    assert r.counterfactual[:20] == pytest.approx(mu[:20], rel=1e-6)
    assert r.interval[0] < r.effect < r.interval[1]
    assert r.pre_fit == pytest.approx(np.sqrt(np.mean((y[0, :20] - mu[:20]) ** 2)), rel=1e-6)


def test_dataframe_labels_are_the_periods():
    y = panel(4, units=6, periods=24, start=18)
    cols = pd.period_range("2022-01", periods=24, freq="M")
    r = difference_in_differences(pd.DataFrame(y, columns=cols), 0, 18, controls=[1, 2, 3, 4, 5])
    assert list(r.per_period.columns) == ["period", "effect", "low", "high"]
    assert r.per_period["period"].iloc[0] == cols[0]
    assert len(r.counterfactual) == len(r.treated_path) == 24


# --------------------------------------------------------------------------- planted effects


@pytest.mark.parametrize("model", ["poisson", "log_rate"])
@pytest.mark.parametrize("effect", [0.0, -0.3])
def test_planted_effect_recovered(model, effect):
    errors = []
    covered = 0
    for seed in range(40):
        y = panel(100 + seed, effect=effect)
        r = difference_in_differences(y, 0, 36, model=model)
        errors.append(r.relative_effect - effect)
        covered += r.relative_interval[0] <= effect <= r.relative_interval[1]
        assert r.method == f"did_{model}"
        assert len(r.comparison) == 10
    # 40 panels: the mean error's own standard error is about 0.012
    assert abs(np.mean(errors)) < 0.04
    assert covered >= 34


def test_counts_effect_in_counts_per_period():
    y = panel(7, effect=-0.4, treated_level=30.0)
    r = difference_in_differences(y, 0, 36)
    cf = r.counterfactual[36:].mean()
    assert r.effect == pytest.approx(cf * r.relative_effect, rel=1e-9)
    assert -16 < r.effect < -8  # about -0.4 x 30 x the season and trend
    assert r.p_value < 1e-6


def test_controls_prefer_category_and_skip_excluded():
    y = panel(8, units=20)
    cats = ["a" if i % 2 == 0 else "b" for i in range(20)]
    r = difference_in_differences(y, 0, 36, categories=cats, n_controls=5, exclude=[2, 4])
    assert set(r.comparison) <= {6, 8, 10, 12, 14, 16, 18}
    assert len(r.comparison) == 5
    r2 = difference_in_differences(y, 0, 36, controls=[1, 2, 3], exclude=[2])
    assert r2.comparison == (1, 3)


# --------------------------------------------------------------------------- staggered adoption


def test_staggered_matches_hand_computed_att_gt():
    y = np.array(
        [
            [4.0, 6.0, 3.0, 2.0],  # starts at 2
            [5.0, 5.0, 8.0, 3.0],  # starts at 3
            [10.0, 12.0, 14.0, 9.0],  # never treated
        ]
    )
    # (g=2, t=2): comparison units 1 (not yet) and 2, pre-periods 0-1
    cf22 = y[0, :2].mean() * y[1:, 2].mean() / y[1:, :2].mean()
    att22 = y[0, 2] - cf22
    # (g=2, t=3): unit 1 is treated from 3 on, comparison unit 2 only
    cf23 = y[0, :2].mean() * y[2, 3] / y[2, :2].mean()
    att23 = y[0, 3] - cf23
    # (g=3, t=3): comparison unit 2, pre-periods 0-2
    cf33 = y[1, :3].mean() * y[2, 3] / y[2, :3].mean()
    att33 = y[1, 3] - cf33
    r = difference_in_differences(y, [0, 1], [2, 3], controls=[2])
    assert r.effect == pytest.approx((att22 + att23 + att33) / 3, rel=1e-12)
    assert r.relative_effect == pytest.approx((att22 + att23 + att33) / (cf22 + cf23 + cf33), rel=1e-12)
    assert r.comparison == (2,)
    # log_rate: the same cells on log(1 + y)
    L = np.log1p(y)
    d22 = L[0, 2] - L[0, :2].mean() - (L[1:, 2].mean() - L[1:, :2].mean())
    d23 = L[0, 3] - L[0, :2].mean() - (L[2, 3] - L[2, :2].mean())
    d33 = L[1, 3] - L[1, :3].mean() - (L[2, 3] - L[2, :3].mean())
    r2 = difference_in_differences(y, [0, 1], [2, 3], controls=[2], model="log_rate")
    assert r2.relative_effect == pytest.approx(math.expm1((d22 + d23 + d33) / 3), rel=1e-12)


def test_staggered_weights_cells_by_cohort_size():
    y = np.array(
        [
            [4.0, 6.0, 3.0],
            [5.0, 7.0, 6.0],
            [5.0, 5.0, 8.0],
            [10.0, 12.0, 14.0],
        ]
    )
    # cohort g=2 has units 0 and 1 (n=2), cohort g=2... one cohort: ATT(2,2) on the cohort mean
    cf = y[:2, :2].mean() * y[3, 2] / y[3, :2].mean()
    att = y[:2, 2].mean() - cf
    r = difference_in_differences(y, [0, 1], [2, 2], controls=[3])
    assert r.effect == pytest.approx(att, rel=1e-12)


def test_staggered_recovers_planted_constant_effect():
    rels = []
    covered = 0
    for seed in range(10):
        y = panel(
            200 + seed,
            units=30,
            periods=48,
            effect=-0.3,
            treated=(0, 1, 2, 3, 4, 5),
            starts=(24, 24, 30, 30, 36, 40),
        )
        r = difference_in_differences(y, [0, 1, 2, 3, 4, 5], [24, 24, 30, 30, 36, 40])
        rels.append(r.relative_effect)
        covered += r.relative_interval[0] <= -0.3 <= r.relative_interval[1]
        assert r.interval[0] < r.effect < r.interval[1]
    assert np.mean(rels) == pytest.approx(-0.3, abs=0.03)
    assert covered >= 8


# --------------------------------------------------------------------------- warnings


def test_pre_trend_warning_fires_on_planted_pre_trend():
    # the treated area falling 2 % a month for three years before the start (Malmö's lesson)
    y = panel(11, pre_trend=-0.02, treated_level=30.0)
    r = difference_in_differences(y, 0, 36)
    assert any("already diverging" in w for w in r.warnings)


def test_pre_trend_warning_quiet_on_parallel_trends():
    fired = 0
    for seed in range(20):
        r = difference_in_differences(panel(300 + seed, treated_level=30.0), 0, 36)
        fired += any("already diverging" in w for w in r.warnings)
    assert fired <= 3  # a 5 % test: about 1 in 20


def test_staggered_pre_trend_warning():
    kwargs = {"units": 30, "treated": (0, 1, 2), "starts": (30, 30, 36), "treated_level": 30.0}
    drifting = panel(21, pre_trend=-0.02, **kwargs)
    r = difference_in_differences(drifting, [0, 1, 2], [30, 30, 36])
    assert any("already diverging" in w for w in r.warnings)
    fired = 0
    for seed in range(10):
        r = difference_in_differences(panel(400 + seed, **kwargs), [0, 1, 2], [30, 30, 36])
        fired += any("already diverging" in w for w in r.warnings)
        assert 0 < r.pre_fit < 10
    assert fired <= 2


def test_no_events_after_start_is_flagged_not_crashing():
    y = panel(14, units=8, periods=24, start=18, treated_level=1.0)
    y[0, 18:] = 0
    r = difference_in_differences(y, 0, 18, controls=list(range(1, 8)))
    assert r.relative_effect < -0.9
    assert any("No events at all" in w for w in r.warnings)
    assert np.isfinite(r.relative_interval[0])


def test_warnings_short_pre_period_few_events_few_controls():
    y = panel(12, units=4, periods=16, start=8, treated_level=2.0)
    r = difference_in_differences(y, 0, 8, controls=[1, 2, 3])
    text = " ".join(r.warnings)
    assert "Only 8 periods" in text
    assert "Few events" in text
    assert "Only 3 comparison areas" in text


# --------------------------------------------------------------------------- MDE


def test_mde_larger_for_rarer_counts_and_smaller_for_longer_horizons():
    rng = np.random.default_rng(0)
    rare = minimum_detectable_effect(rng.poisson(2.0, 36), 0, 36, 12)
    common = minimum_detectable_effect(rng.poisson(20.0, 36), 0, 36, 12)
    assert isinstance(rare, MdeResult)
    assert rare.relative > common.relative
    series = rng.poisson(5.0, 36)
    short = minimum_detectable_effect(series, 0, 36, 6)
    long = minimum_detectable_effect(series, 0, 36, 24)
    assert short.relative > long.relative
    assert long.absolute == pytest.approx(long.relative * long.baseline_rate)
    assert long.baseline_rate == pytest.approx(series.mean())
    assert "24 months" in long.message and f"{100 * long.relative:.0f} %" in long.message


def test_mde_before_the_start_on_a_panel_with_controls():
    y = panel(13, units=6, periods=36, start=36)
    alone = minimum_detectable_effect(y, 0, 36, 12)
    with_controls = minimum_detectable_effect(y, 0, 36, 12, controls=[1, 2, 3, 4, 5])
    assert 0 < alone.relative < with_controls.relative < 1


def test_mde_none_detectable_for_very_rare_counts():
    m = minimum_detectable_effect(np.array([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]), 0, 12, 3)
    assert math.isnan(m.relative)
    assert "not even a drop to zero" in m.message


@pytest.mark.parametrize("rate", [3.0, 15.0])
def test_mde_simulated_power_near_requested(rate):
    series = np.random.default_rng(5).poisson(rate, 48)
    m = minimum_detectable_effect(series, 0, 48, 12, n_sim=2000, seed=1)
    assert m.simulated_power is not None
    assert m.simulated_power == pytest.approx(0.8, abs=0.07)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"outcomes": np.ones(5)}, "outcomes"),
        ({"outcomes": -np.ones((3, 5))}, "outcomes"),
        ({"treated": 9}, "treated"),
        ({"treated": 0.5}, "treated"),
        ({"start": 0}, "start"),
        ({"start": 10}, "start"),
        ({"model": "ols"}, "model"),
        ({"alpha": 1.5}, "alpha"),
        ({"controls": [0, 1]}, "controls"),
        ({"controls": [7]}, "controls"),
        ({"exclude": [0]}, "exclude"),
        ({"n_controls": 0}, "n_controls"),
        ({"categories": ["a"]}, "categories"),
        ({"treated": [0, 1], "start": 5}, "start"),
        ({"treated": [0, 1], "start": [5]}, "start"),
        ({"controls": [1, 2], "exclude": [1, 2]}, "controls"),
    ],
)
def test_did_value_errors_name_the_argument(kwargs, name):
    args = {"outcomes": np.ones((4, 10)), "treated": 0, "start": 5, **kwargs}
    with pytest.raises(ValueError, match=name):
        difference_in_differences(**args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"outcomes": np.ones((2, 2, 2))}, "outcomes"),
        ({"treated": 4}, "treated"),
        ({"start": 11}, "start"),
        ({"horizon": 0}, "horizon"),
        ({"alpha": 0}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"n_sim": 0}, "n_sim"),
        ({"controls": [0]}, "controls"),
    ],
)
def test_mde_value_errors_name_the_argument(kwargs, name):
    args = {"outcomes": np.ones((3, 10)), "treated": 0, "start": 10, "horizon": 12, **kwargs}
    with pytest.raises(ValueError, match=name):
        minimum_detectable_effect(**args)
