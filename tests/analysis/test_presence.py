"""Presence against demand by hour of the week: the harm-weighted demand profile, the
comparison of shares, protected time, and the Koper hot-spot visit plan (hand-computed
values, ties, empty inputs, the per-block budget and the cadence as properties)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problembild.analysis.need import HarmWeights
from problembild.analysis.presence import (
    BLOCKS,
    FLAT_DEMAND,
    NO_CELLS,
    NO_DEMAND,
    NO_PEAK_DEMAND,
    NO_PEAK_PRESENCE,
    NO_PRESENCE,
    NO_ROOM,
    demand_is_empty,
    demand_profile,
    presence_plan,
    presence_vs_demand,
    protected_time,
)


def spike(block, value=1.0):
    out = np.zeros(BLOCKS)
    out[block] = value
    return out


def circular_mean(values, k):
    """Reference moving average over 2k + 1 hours on the circular week."""
    return np.array([np.mean([values[(b + j) % BLOCKS] for j in range(-k, k + 1)]) for b in range(BLOCKS)])


# --------------------------------------------------------------------------- demand_profile


def test_demand_profile_weights_by_harm_and_ignores_all():
    hours = {
        "shootings": spike(5).reshape(7, 24).tolist(),  # the picture's 7x24 lists
        "drugs": spike(10, 2.0),  # or 168 values
        "all": np.full(BLOCKS, 100.0),  # the sum of the others: ignored
    }
    profile = demand_profile(hours)  # default weights: shootings 10, drugs 2
    assert profile.shape == (BLOCKS,)
    assert profile[5] == pytest.approx(10 / 14) and profile[10] == pytest.approx(4 / 14)
    assert profile.sum() == pytest.approx(1.0)
    assert np.count_nonzero(profile) == 2
    assert not demand_is_empty(hours)


def test_demand_profile_codes_without_weight_weigh_zero():
    hours = {"shootings": spike(5), "drugs": spike(10, 2.0)}
    only_drugs = demand_profile(hours, {"drugs": 1.5})
    np.testing.assert_allclose(only_drugs, spike(10))
    harm = HarmWeights(weights={"shootings": 1.0, "drugs": 1.0}, source="test")
    np.testing.assert_allclose(demand_profile(hours, harm)[[5, 10]], [1 / 3, 2 / 3])
    # Only zero-weight indicators: no demand, a uniform profile.
    assert demand_is_empty(hours, {"weapons": 4.0})
    np.testing.assert_allclose(demand_profile(hours, {"weapons": 4.0}), np.full(BLOCKS, 1 / BLOCKS))


def test_demand_profile_empty_is_uniform():
    for hours in ({}, {"drugs": np.zeros((7, 24))}, {"all": spike(3)}):
        assert demand_is_empty(hours)
        profile = demand_profile(hours, smooth=2)
        np.testing.assert_allclose(profile, np.full(BLOCKS, 1 / BLOCKS))


def test_smoothing_spreads_a_spike_over_neighbouring_hours_across_the_week_end():
    profile = demand_profile({"drugs": spike(0)}, smooth=1)  # Monday 00
    np.testing.assert_allclose(profile[[167, 0, 1]], [1 / 3] * 3)  # Sunday 23 is a neighbour
    assert np.count_nonzero(profile) == 3
    profile = demand_profile({"drugs": spike(100)}, smooth=2)
    np.testing.assert_allclose(profile[98:103], [0.2] * 5)
    assert profile.sum() == pytest.approx(1.0)
    # The widest window (167 hours) leaves only the spike's own opposite hour empty.
    widest = demand_profile({"drugs": spike(0)}, smooth=83)
    assert np.count_nonzero(widest) == 167 and widest[84] == 0


@settings(max_examples=50, deadline=None)
@given(
    shootings=st.lists(st.integers(0, 3), min_size=BLOCKS, max_size=BLOCKS),
    drugs=st.lists(st.integers(0, 9), min_size=BLOCKS, max_size=BLOCKS),
    k=st.integers(0, 6),
)
def test_smoothing_preserves_the_weighted_sum(shootings, drugs, k):
    hours = {"shootings": shootings, "drugs": drugs}
    raw = 10.0 * np.array(shootings) + 2.0 * np.array(drugs)
    profile = demand_profile(hours, smooth=k)
    assert profile.sum() == pytest.approx(1.0)
    if raw.sum() == 0:
        assert demand_is_empty(hours)
        return
    # Smoothing then dividing by the *unsmoothed* total gives the same shares: no mass is
    # gained or lost, only moved between hours.
    np.testing.assert_allclose(profile, circular_mean(raw, k) / raw.sum(), atol=1e-12)
    assert (profile >= 0).all()


@pytest.mark.parametrize(
    ("hours", "weights", "smooth", "fragment"),
    [
        ({"robbery": spike(1)}, None, 0, "hour_of_week has unknown indicator code(s) ['robbery']"),
        ({"drugs": spike(1)}, {"robbery": 2}, 0, "weights: unknown indicator(s) ['robbery']"),
        ({"drugs": spike(1)}, {"all": 1}, 0, "would count incidents twice"),
        ({"drugs": spike(1)}, {"drugs": -1}, 0, "weights: weight 'drugs' must be a finite number >= 0"),
        ({"drugs": spike(1)}, ["drugs"], 0, "weights must be a mapping"),
        ({"drugs": np.zeros(24)}, None, 0, "hour_of_week['drugs'] must have 168 values or shape (7, 24)"),
        ({"drugs": np.zeros((24, 7))}, None, 0, "hour_of_week['drugs'] must have 168 values"),
        ({"drugs": -spike(1)}, None, 0, "hour_of_week['drugs'] must be >= 0"),
        ({"drugs": spike(1, np.nan)}, None, 0, "hour_of_week['drugs'] contains NaN"),
        ({"drugs": ["a"] * BLOCKS}, None, 0, "hour_of_week['drugs'] must be numeric"),
        ([("drugs", spike(1))], None, 0, "hour_of_week must be a mapping"),
        ({"drugs": spike(1)}, None, -1, "smooth must be a whole number in [0, 83]"),
        ({"drugs": spike(1)}, None, 84, "smooth must be a whole number in [0, 83]"),
        ({"drugs": spike(1)}, None, 1.5, "smooth must be a whole number"),
        ({"drugs": spike(1)}, None, True, "smooth must be a whole number"),
    ],
)
def test_demand_profile_validation(hours, weights, smooth, fragment):
    with pytest.raises(ValueError) as info:
        demand_profile(hours, weights, smooth=smooth)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- presence_vs_demand


def test_presence_proportional_to_demand_is_perfectly_aligned():
    demand = np.arange(1, BLOCKS + 1, dtype=float)
    result = presence_vs_demand(3 * demand, demand)
    assert result.ratio_top == pytest.approx(1.0)
    assert result.alignment == pytest.approx(1.0)
    assert result.presence_in_top == pytest.approx(result.demand_in_top)
    # The top 42 blocks are 126..167; their share of 1 + ... + 168 = 14196.
    np.testing.assert_array_equal(result.top_blocks, np.arange(126, 168))
    assert result.demand_in_top == pytest.approx(sum(range(127, 169)) / 14196)
    assert result.total_presence == pytest.approx(3 * 14196)
    assert result.messages == ()
    np.testing.assert_allclose(result.lowest_blocks["ratio"], 1.0)


def test_all_presence_in_the_lowest_demand_block():
    demand = np.arange(1, BLOCKS + 1, dtype=float)  # block 0 has the least demand
    result = presence_vs_demand(spike(0, 7.0), demand, lowest=3)
    assert result.presence_in_top == 0.0 and result.ratio_top == 0.0
    # Overlap of the two distributions: only block 0, where demand has 1 / 14196.
    assert result.alignment == pytest.approx(1 / 14196)
    low = result.lowest_blocks
    assert list(low.columns) == [
        "block",
        "day",
        "hour",
        "presence",
        "demand_share",
        "presence_share",
        "ratio",
    ]
    # Ratio 0 everywhere but block 0: the highest demand without presence comes first.
    assert low["block"].tolist() == [167, 166, 165]
    assert low["day"].tolist() == [6, 6, 6] and low["hour"].tolist() == [23, 22, 21]
    assert low["presence"].tolist() == [0.0, 0.0, 0.0] and low["ratio"].tolist() == [0.0, 0.0, 0.0]
    assert low["demand_share"].iloc[0] == pytest.approx(168 / 14196)


def test_top_blocks_of_a_known_permutation():
    demand = np.array([(b * 37) % BLOCKS for b in range(BLOCKS)], dtype=float)  # a permutation of 0..167
    result = presence_vs_demand(np.ones(BLOCKS), demand)
    expected = sorted(b for b in range(BLOCKS) if (b * 37) % BLOCKS >= 126)
    assert result.top_blocks.tolist() == expected and len(expected) == 42
    assert result.demand_in_top == pytest.approx(sum(range(126, 168)) / sum(range(168)))
    assert result.presence_in_top == pytest.approx(42 / 168)
    # Rounding the number of blocks: 0.1 * 168 = 16.8 -> 17; tiny shares keep one block.
    assert presence_vs_demand(np.ones(BLOCKS), demand, top_share=0.1).top_blocks.size == 17
    tiny = presence_vs_demand(np.ones(BLOCKS), demand, top_share=1e-6).top_blocks
    assert tiny.tolist() == [next(b for b in range(BLOCKS) if (b * 37) % BLOCKS == 167)]
    # The whole week, less block 0, whose demand is 0: an hour without demand is never "top".
    assert presence_vs_demand(np.ones(BLOCKS), demand, top_share=1).top_blocks.size == BLOCKS - 1


def test_ties_are_broken_by_block_index():
    demand = np.ones(BLOCKS)
    demand[[150, 160]] = 2.0
    result = presence_vs_demand(np.ones(BLOCKS), demand)
    assert result.top_blocks.tolist() == [*range(40), 150, 160]
    # Equal ratios in lowest_blocks: higher demand first, then block index.
    presence = np.ones(BLOCKS)
    presence[[3, 150, 7]] = 0.0
    low = presence_vs_demand(presence, demand, lowest=4).lowest_blocks
    assert low["block"].tolist() == [150, 3, 7, 160]  # then 160: ratio (1/165) / (2/170)


def test_zero_demand_is_compared_with_a_uniform_profile():
    result = presence_vs_demand(spike(0), np.zeros((7, 24)))
    assert result.messages == (NO_DEMAND,)
    np.testing.assert_allclose(result.demand_share, 1 / BLOCKS)
    assert result.top_blocks.tolist() == list(range(42))
    assert result.presence_in_top == 1.0 and result.demand_in_top == pytest.approx(0.25)
    assert result.ratio_top == pytest.approx(4.0)
    assert result.alignment == pytest.approx(1 / BLOCKS)


def test_zero_presence_gives_nan_shares_and_no_alignment():
    demand = np.zeros(BLOCKS)
    demand[[20, 44, 45]] = [1.0, 3.0, 2.0]
    result = presence_vs_demand(np.zeros(BLOCKS), demand)
    assert result.messages == (NO_PRESENCE,)
    assert math.isnan(result.presence_in_top) and math.isnan(result.ratio_top)
    assert result.alignment == 0.0 and result.total_presence == 0.0
    assert np.isnan(result.presence_share).all()
    low = result.lowest_blocks  # only blocks with demand, highest first
    assert low["block"].tolist() == [44, 45, 20]
    assert low["day"].tolist() == [1, 1, 0] and low["hour"].tolist() == [20, 21, 20]
    assert low["ratio"].isna().all()
    assert result.demand_in_top == pytest.approx(1.0)


def test_lowest_blocks_hand_computed():
    demand = np.zeros(BLOCKS)
    demand[[30, 31, 32]] = [2.0, 1.0, 1.0]  # shares 0.5, 0.25, 0.25
    presence = np.zeros(BLOCKS)
    presence[[30, 31, 32, 100]] = [1.0, 1.0, 1.0, 1.0]  # shares 0.25 each
    result = presence_vs_demand(presence.reshape(7, 24), demand)
    low = result.lowest_blocks
    assert low["block"].tolist() == [30, 31, 32]  # block 100 has no demand
    np.testing.assert_allclose(low["ratio"], [0.5, 1.0, 1.0])
    np.testing.assert_allclose(low["presence_share"], [0.25] * 3)
    assert low["day"].tolist() == [1, 1, 1] and low["hour"].tolist() == [6, 7, 8]
    # TV distance: 0.5 * (0.25 + 0 + 0 + 0.25) = 0.25.
    assert result.alignment == pytest.approx(0.75)
    assert result.presence_in_top == pytest.approx(0.75)
    assert result.ratio_top == pytest.approx(0.75)


@settings(max_examples=60, deadline=None)
@given(
    presence=st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, 7.0]), min_size=BLOCKS, max_size=BLOCKS),
    demand=st.lists(st.integers(0, 5), min_size=BLOCKS, max_size=BLOCKS),
    top_share=st.floats(0.01, 1.0),
)
def test_alignment_is_one_minus_total_variation(presence, demand, top_share):
    result = presence_vs_demand(presence, demand, top_share=top_share)
    p, d = np.array(presence), np.array(demand, dtype=float)
    if p.sum() == 0:
        assert result.alignment == 0.0
        return
    d = d / d.sum() if d.sum() > 0 else np.full(BLOCKS, 1 / BLOCKS)
    assert result.alignment == pytest.approx(1 - 0.5 * np.abs(p / p.sum() - d).sum())
    assert 0.0 <= result.alignment <= 1.0
    assert 0.0 <= result.presence_in_top <= 1.0 + 1e-12
    n_top = max(1, math.floor(top_share * BLOCKS + 0.5 + 1e-9))
    with_demand = int((np.array(demand) > 0).sum()) if sum(demand) > 0 else BLOCKS
    assert result.top_blocks.size == min(n_top, with_demand)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"presence_168": np.ones(167)}, "presence_168 must have 168 values or shape (7, 24)"),
        ({"presence_168": -np.ones(BLOCKS)}, "presence_168 must be >= 0"),
        ({"demand_168": spike(1, np.inf)}, "demand_168 contains NaN or infinite values"),
        ({"demand_168": "many"}, "demand_168 must be numeric"),
        ({"top_share": 0}, "top_share must be in (0, 1]"),
        ({"top_share": 1.5}, "top_share must be in (0, 1]"),
        ({"top_share": "a"}, "top_share must be a number"),
        ({"lowest": 0}, "lowest must be a whole number >= 1"),
        ({"lowest": 2.5}, "lowest must be a whole number"),
        ({"lowest": True}, "lowest must be a whole number"),
    ],
)
def test_presence_vs_demand_validation(kwargs, fragment):
    args = {"presence_168": np.ones(BLOCKS), "demand_168": np.ones(BLOCKS), **kwargs}
    with pytest.raises(ValueError) as info:
        presence_vs_demand(args.pop("presence_168"), args.pop("demand_168"), **args)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- protected_time


def test_protected_time_hand_computed():
    inside = pd.Series({"a": 8.0, "b": 6.0, "c": 0.0, "d": np.nan, "e": 10.0, "f": 3.0})
    total = pd.Series({"a": 10.0, "b": 10.0, "c": 0.0, "d": 10.0, "e": 10.0, "f": np.nan})
    out = protected_time(inside, total)
    assert list(out.columns) == ["hours_in_area", "hours_total", "share", "flag", "status"]
    assert out.index.tolist() == ["a", "b", "c", "d", "e", "f"]
    assert out.loc["a", "share"] == pytest.approx(0.8)
    assert out["flag"].tolist() == [False, True, False, False, False, False]  # 0.8 is not below 0.8
    assert out["status"].tolist() == ["ok", "below", "unknown", "unknown", "ok", "unknown"]
    assert out["share"].isna().tolist() == [False, False, True, True, False, True]
    assert out["flag"].dtype == bool


def test_protected_time_aligns_series_and_takes_arrays():
    out = protected_time(pd.Series({1: 5.0, 2: 9.0}), pd.Series({2: 10.0, 3: 4.0}), threshold=0.95)
    assert out.index.tolist() == [1, 2, 3]
    assert out["status"].tolist() == ["unknown", "below", "unknown"]
    assert out.loc[2, "share"] == pytest.approx(0.9)
    arrays = protected_time([7.5, None], [10, 10], threshold=0.75)
    assert arrays.index.tolist() == [0, 1] and arrays["status"].tolist() == ["ok", "unknown"]
    indexed = protected_time([1.0], pd.Series([2.0], index=["x"]))
    assert indexed.index.tolist() == ["x"] and indexed["flag"].tolist() == [True]
    # A rounding excess is accepted and capped at 1.
    assert protected_time([10.000000000001], [10.0])["share"].tolist() == [1.0]
    assert protected_time([], [])["status"].tolist() == []


@pytest.mark.parametrize(
    ("inside", "total", "kwargs", "fragment"),
    [
        (
            pd.Series({"x": 5.0, "y": 11.0, "z": 3.0}),
            pd.Series({"x": 10.0, "y": 10.0, "z": 2.0}),
            {},
            "hours_in_area exceeds hours_total at row(s) ['y', 'z']",
        ),
        ([1.0, 2.0], [1.0], {}, "must have the same length: 2 != 1"),
        ([-1.0], [1.0], {}, "hours_in_area must be finite and >= 0"),
        ([1.0], [np.inf], {}, "hours_total must be finite and >= 0"),
        ([1.0], ["ten"], {}, "hours_total must be numeric"),
        ([1.0], [2.0], {"threshold": 0}, "threshold must be in (0, 1]"),
        ([1.0], [2.0], {"threshold": 1.2}, "threshold must be in (0, 1]"),
        (pd.Series([1.0, 2.0], index=[0, 0]), [3.0, 3.0], {}, "hours_in_area has duplicate index"),
    ],
)
def test_protected_time_validation(inside, total, kwargs, fragment):
    with pytest.raises(ValueError) as info:
        protected_time(inside, total, **kwargs)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- presence_plan


def evening_demand():
    """Demand on Monday 18-21 (rising) and a little at Monday 00."""
    demand = np.zeros(BLOCKS)
    demand[18:22] = [4.0, 5.0, 6.0, 7.0]
    demand[0] = 0.5
    return demand


def test_plan_hand_computed_staggers_cells_within_the_budget():
    presence = np.zeros(BLOCKS)
    presence[18:22] = 1.0  # one officer 18-22: 30 visit minutes per hour at max_share 0.5
    plan = presence_plan(
        [5.0, 4.0, 3.0, 2.0, 1.0, 0.0],
        evening_demand(),
        presence,
        cells=["a", "b", "c", "d", "e", "f"],
        peak_share=4 / BLOCKS,
    )
    visits = plan.visits
    assert list(visits.columns) == ["cell", "cell_rank", "score", "block", "day", "hour", "minute", "minutes"]
    rows = list(zip(visits["cell"], visits["hour"], visits["minute"], strict=True))
    assert rows == [
        ("a", 18, 0),
        ("b", 18, 15),
        ("c", 19, 0),
        ("d", 19, 15),
        ("a", 20, 0),
        ("b", 20, 15),
        ("c", 21, 0),
        ("d", 21, 15),
    ]
    assert visits["cell_rank"].tolist() == [1, 2, 3, 4, 1, 2, 3, 4]
    assert (visits["minutes"] == 15).all() and (visits["day"] == 0).all()
    assert plan.peak_blocks.tolist() == [18, 19, 20, 21]
    np.testing.assert_allclose(plan.minutes_by_block[18:22], [30.0] * 4)
    np.testing.assert_allclose(plan.minutes_available[18:22], [30.0] * 4)
    assert plan.minutes_total == 120.0 and plan.minutes_by_block.sum() == 120.0
    assert plan.share_of_presence == pytest.approx(0.5)  # 120 of 240 presence minutes
    assert plan.cells_covered == 4
    assert plan.score_covered == pytest.approx(14 / 15)  # e scores 1 of 15 and is left out
    assert plan.messages == ()


def test_cadence_revisits_each_cell_interval_minutes_later():
    presence = np.zeros(BLOCKS)
    presence[18:22] = 2.0  # 60 minutes per hour: 4 stops
    plan = presence_plan(np.arange(10, 0, -1.0), evening_demand(), presence, peak_share=4 / BLOCKS)
    # 4 stops an hour, each cell once every 2 hours: 8 cells on the cadence.
    assert plan.cells_covered == 8
    for _, stops in plan.visits.groupby("cell"):
        times = (stops["block"] * 60 + stops["minute"]).tolist()
        assert len(times) == 2 and times[1] - times[0] == 120
    hourly = presence_plan(
        np.arange(10, 0, -1.0), evening_demand(), presence, peak_share=4 / BLOCKS, interval_minutes=60
    )
    assert hourly.cells_covered == 4  # 4 stops an hour, each cell every hour
    for _, stops in hourly.visits.groupby("cell"):
        assert stops["hour"].tolist() == [18, 19, 20, 21]
        assert stops["minute"].nunique() == 1
    np.testing.assert_allclose(hourly.minutes_by_block[18:22], [60.0] * 4)


def test_cadence_continues_from_sunday_night_into_monday():
    demand = np.zeros(BLOCKS)
    demand[[166, 167, 0, 1]] = 5.0
    presence = np.ones(BLOCKS)
    plan = presence_plan([3.0, 2.0], demand, presence, peak_share=4 / BLOCKS, max_share=0.25)
    # 15 minutes per hour: one stop each; the run is Sunday 22:00 - Monday 02:00. Cell 0
    # takes 22:00 and 00:00; cell 1 cannot share those hours and takes 23:00 and 01:00.
    assert plan.visits[["cell", "block", "minute"]].values.tolist() == [
        [0, 0, 0],
        [1, 1, 0],
        [0, 166, 0],
        [1, 167, 0],
    ]
    np.testing.assert_allclose(plan.minutes_by_block[[166, 167, 0, 1]], [15.0] * 4)


def test_a_week_of_peaks_is_one_run_from_monday_midnight():
    demand = np.ones(BLOCKS)
    demand[5] = 2.0  # not flat
    plan = presence_plan([1.0], demand, np.ones(BLOCKS), peak_share=1.0, interval_minutes=100)
    assert plan.peak_blocks.size == BLOCKS
    starts = (plan.visits["block"] * 60 + plan.visits["minute"]).tolist()
    assert starts == list(range(0, 10_001, 100))  # 10,000 + 15 <= 10,080; no wrap to Monday


def test_stops_may_run_into_the_next_peak_hour():
    demand = np.zeros(BLOCKS)
    demand[:3] = 1.0
    plan = presence_plan(
        [5.0], demand, np.full(BLOCKS, 2.0), peak_share=3 / BLOCKS, visit_minutes=16, interval_minutes=50
    )
    starts = (plan.visits["block"] * 60 + plan.visits["minute"]).tolist()
    assert starts == [0, 50, 100, 150]  # the last ends at 166 <= 180, the end of the run
    # 0-16 and 50-60 in hour 0; 60-66 and 100-116 in hour 1; 150-166 in hour 2.
    np.testing.assert_allclose(plan.minutes_by_block[:3], [26.0, 22.0, 16.0])
    assert plan.minutes_total == 64.0


def test_peak_blocks_need_demand_and_presence():
    demand = evening_demand()
    presence = np.zeros(BLOCKS)
    presence[[0, 19, 20, 100]] = 1.0
    plan = presence_plan([1.0], demand, presence, peak_share=4 / BLOCKS)
    assert plan.peak_blocks.tolist() == [19, 20]  # top-4 demand with presence; 0 is not in the top
    assert set(plan.visits["block"]) <= {19, 20}
    # The default 25 % of the week: 42 blocks by demand, but only those with demand > 0.
    assert presence_plan([1.0], demand, presence).peak_blocks.tolist() == [0, 19, 20]


def test_score_ties_and_n_cells():
    presence = np.zeros(BLOCKS)
    presence[18:22] = 4.0  # room for 8 cells
    plan = presence_plan([1.0, 2.0, 2.0, 1.0], evening_demand(), presence, peak_share=4 / BLOCKS)
    ranks = plan.visits.drop_duplicates("cell").sort_values("cell_rank")
    assert ranks["cell"].tolist() == [1, 2, 0, 3]  # equal scores: earlier position first
    assert plan.cells_covered == 4 and plan.score_covered == 1.0
    limited = presence_plan(
        [1.0, 2.0, 2.0, 1.0], evening_demand(), presence, peak_share=4 / BLOCKS, n_cells=2
    )
    assert sorted(set(limited.visits["cell"])) == [1, 2]
    assert limited.score_covered == pytest.approx(4 / 6)


def test_plan_is_deterministic():
    rng = np.random.default_rng(3)
    scores, demand, presence = rng.random(50), rng.poisson(2, BLOCKS), rng.integers(0, 3, BLOCKS)
    first = presence_plan(scores, demand, presence, interval_minutes=90)
    second = presence_plan(scores, demand, presence, interval_minutes=90)
    pd.testing.assert_frame_equal(first.visits, second.visits)
    np.testing.assert_array_equal(first.minutes_by_block, second.minutes_by_block)


@pytest.mark.parametrize(
    ("scores", "demand", "presence", "message"),
    [
        ([], evening_demand(), np.ones(BLOCKS), NO_CELLS),
        ([0.0, 0.0], evening_demand(), np.ones(BLOCKS), NO_CELLS),
        ([1.0], np.zeros(BLOCKS), np.ones(BLOCKS), NO_PEAK_DEMAND),
        ([1.0], np.full(BLOCKS, 1 / BLOCKS), np.ones(BLOCKS), FLAT_DEMAND),
        ([1.0], evening_demand(), spike(100), NO_PEAK_PRESENCE),
        ([1.0], evening_demand(), np.zeros(BLOCKS), NO_PEAK_PRESENCE),
        ([1.0], evening_demand(), np.full(BLOCKS, 0.2), NO_ROOM),  # 6 minutes an hour; a stop spans <= 2
    ],
)
def test_empty_plans_say_why(scores, demand, presence, message):
    plan = presence_plan(scores, demand, presence)
    assert message in plan.messages
    assert plan.visits.empty and plan.minutes_total == 0.0 and plan.cells_covered == 0
    assert list(plan.visits.columns) == [
        "cell",
        "cell_rank",
        "score",
        "block",
        "day",
        "hour",
        "minute",
        "minutes",
    ]
    assert (plan.minutes_by_block == 0).all()
    if np.sum(presence) == 0:
        assert math.isnan(plan.share_of_presence)


def test_koper_range_of_stop_lengths():
    presence = np.zeros(BLOCKS)
    presence[18:22] = 1.0
    for minutes in (10, 16, 12.0):
        plan = presence_plan([1.0], evening_demand(), presence, visit_minutes=minutes)
        assert (plan.visits["minutes"] == minutes).all()
    for minutes in (9, 17, 30, 12.5):
        with pytest.raises(ValueError, match=r"visit_minutes must be a whole number in \[10, 16\]"):
            presence_plan([1.0], evening_demand(), presence, visit_minutes=minutes)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"cell_scores": [1.0, -1.0]}, "cell_scores must be >= 0"),
        ({"cell_scores": [1.0, np.nan]}, "cell_scores contains NaN"),
        ({"cell_scores": [[1.0]]}, "cell_scores must be one-dimensional"),
        ({"demand_168": np.ones(24)}, "demand_168 must have 168 values"),
        ({"presence_168": -np.ones(BLOCKS)}, "presence_168 must be >= 0"),
        ({"cells": ["a"]}, "cells must be one-dimensional and parallel to cell_scores"),
        ({"interval_minutes": 14}, "interval_minutes must be a whole number >= 15"),
        ({"interval_minutes": 90.5}, "interval_minutes must be a whole number"),
        ({"peak_share": 0}, "peak_share must be in (0, 1]"),
        ({"max_share": 1.5}, "max_share must be in (0, 1]"),
        ({"max_share": None}, "max_share must be a number"),
        ({"n_cells": 0}, "n_cells must be a whole number >= 1"),
    ],
)
def test_presence_plan_validation(kwargs, fragment):
    args = {
        "cell_scores": [1.0, 2.0],
        "demand_168": evening_demand(),
        "presence_168": np.ones(BLOCKS),
        **kwargs,
    }
    with pytest.raises(ValueError) as info:
        presence_plan(args.pop("cell_scores"), args.pop("demand_168"), args.pop("presence_168"), **args)
    assert fragment in str(info.value)


def _is_peak_span(peaks, start, end, whole_week):
    """Whether every block touched by minutes [start, end) of the week is a peak block."""
    if whole_week and end > BLOCKS * 60:
        return False  # the whole week is one run from Monday 00:00: no wrap
    return all((m // 60) % BLOCKS in peaks for m in range(start, end))


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.floats(0, 10), min_size=0, max_size=25),
    demand=st.lists(st.integers(0, 4), min_size=BLOCKS, max_size=BLOCKS),
    presence=st.lists(st.sampled_from([0.0, 0.2, 0.5, 1.0, 1.5, 3.0]), min_size=BLOCKS, max_size=BLOCKS),
    visit=st.integers(10, 16),
    extra=st.integers(0, 200),
    peak_share=st.floats(0.01, 1.0),
    max_share=st.floats(0.05, 1.0),
)
def test_plan_never_exceeds_the_budget_and_keeps_the_cadence(
    scores, demand, presence, visit, extra, peak_share, max_share
):
    interval = visit + extra
    plan = presence_plan(
        scores,
        demand,
        presence,
        visit_minutes=visit,
        interval_minutes=interval,
        peak_share=peak_share,
        max_share=max_share,
    )
    peaks = set(plan.peak_blocks.tolist())
    p = np.array(presence)
    expected_budget = np.zeros(BLOCKS)
    expected_budget[list(peaks)] = p[list(peaks)] * 60 * max_share
    np.testing.assert_allclose(plan.minutes_available, expected_budget)
    assert (plan.minutes_by_block <= plan.minutes_available + 1e-9).all()
    assert plan.minutes_total == pytest.approx(len(plan.visits) * visit)
    assert plan.minutes_by_block.sum() == pytest.approx(plan.minutes_total)
    assert all(demand[b] > 0 and presence[b] > 0 for b in peaks)
    assert set(plan.visits["block"]) <= peaks
    assert plan.cells_covered <= sum(s > 0 for s in scores)

    whole_week = len(peaks) == BLOCKS
    starts = plan.visits["block"] * 60 + plan.visits["minute"]
    for _, times in starts.groupby(plan.visits["cell"]):
        planned = set(times.tolist())
        for t in planned:
            assert _is_peak_span(peaks, t, t + visit, whole_week)  # every stop inside the peak hours
            # The cadence: the next stop interval minutes later, whenever it still fits in the run.
            if _is_peak_span(peaks, t, t + interval + visit, whole_week):
                assert (t + interval) % (BLOCKS * 60) in planned
            # And no stop at this cell in between.
            between = {(t + d) % (BLOCKS * 60) for d in range(1, interval)}
            if _is_peak_span(peaks, t, t + interval, whole_week):
                assert not (between & planned)


def test_top_blocks_leave_out_hours_without_demand():
    demand = np.zeros(168)
    demand[[20, 44, 68]] = 1.0  # three evening hours only
    presence = np.zeros(168)
    presence[8:16] = 1.0  # Monday office hours: no demand there
    result = presence_vs_demand(presence, demand, top_share=0.25)
    assert list(result.top_blocks) == [20, 44, 68]
    assert result.presence_in_top == 0.0
    assert result.demand_in_top == pytest.approx(1.0)
