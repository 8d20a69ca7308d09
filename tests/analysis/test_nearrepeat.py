"""Knox test: hand-computed counts, band convention, Monte Carlo behaviour, bad input."""

from __future__ import annotations

import dataclasses
from math import comb

import numpy as np
import pytest

from problembild.analysis.nearrepeat import knox

D_BANDS = [0, 100, 200, 400]
T_BANDS = [0, 7, 14, 28]

# Five events; pair distances (m) and time gaps (days) worked out by hand:
#   A-B 50/3  A-C 150/10  A-D 300/1  A-E 50/20  B-C 158.1/7  B-D 250/2
#   B-E 0/17  C-D 335.4/9  C-E 158.1/10  D-E 250/19
X = [0.0, 50.0, 0.0, 300.0, 50.0]
Y = [0.0, 0.0, 150.0, 0.0, 0.0]
T = [0.0, 3.0, 10.0, 1.0, 20.0]
OBSERVED = [
    [1, 0, 2],  # 0-100 m: A-B | - | A-E, B-E
    [1, 2, 0],  # 100-200 m: B-C (7 days is in the first band) | A-C, C-E | -
    [2, 1, 1],  # 200-400 m: A-D, B-D | C-D | D-E
]


def test_hand_computed_observed_counts():
    res = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=9, seed=0)
    assert res.observed.tolist() == OBSERVED
    assert res.n_close_pairs == 10
    assert res.n_events == 5


def test_expected_converges_to_the_exact_permutation_mean():
    """Under random relabelling of times, each pair's gap is a uniformly drawn pair of the
    observed times, so E[count] = pairs in distance band * P(gap in time band)."""
    res = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=4999, seed=1)
    t = np.array(T)
    gaps = np.abs(t[:, None] - t[None, :])[np.triu_indices(5, 1)]
    p_time = np.array([np.mean(gaps <= 7), np.mean((gaps > 7) & (gaps <= 14)), np.mean(gaps > 14)])
    pairs_per_distance = np.array(OBSERVED).sum(axis=1)
    exact = pairs_per_distance[:, None] * p_time[None, :]
    assert gaps.size == comb(5, 2)
    np.testing.assert_allclose(res.expected, exact, atol=0.06)
    np.testing.assert_allclose(res.expected.sum(axis=1), pairs_per_distance)  # gaps <= 20 days
    finite = res.expected > 0
    np.testing.assert_allclose(res.ratio[finite], res.observed[finite] / res.expected[finite])


def test_p_values_follow_the_rank_formula_and_lie_in_0_1():
    res = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=99, seed=2)
    np.testing.assert_array_equal(res.p_values, (res.n_greater_equal + 1) / 100)
    assert ((res.p_values > 0) & (res.p_values <= 1)).all()
    assert res.permutations == 99


def test_deterministic_with_seed():
    a = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=50, seed=7)
    b = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=50, seed=7)
    np.testing.assert_array_equal(a.expected, b.expected)
    np.testing.assert_array_equal(a.p_values, b.p_values)
    rng_a = knox(
        X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=50, seed=np.random.default_rng(7)
    )
    np.testing.assert_array_equal(a.expected, rng_a.expected)


def test_band_edges_closed_on_the_right_and_same_location_band():
    # Pair 1: exactly 100 m and exactly 7 days apart -> first distance and time band.
    # Pair 2 (events 3, 4): same place, 0 days.
    x = [0.0, 100.0, 5000.0, 5000.0]
    y = [0.0, 0.0, 0.0, 0.0]
    t = [0.0, 7.0, 50.0, 50.0]
    res = knox(x, y, t, distance_bands=[0, 100, 200], time_bands=[0, 7, 14], permutations=9, seed=0)
    assert res.observed.tolist() == [[2, 0], [0, 0]]
    same = knox(x, y, t, distance_bands=[0, 0, 100], time_bands=[0, 0, 7], permutations=9, seed=0)
    assert same.observed.tolist() == [[1, 0], [0, 1]]
    # A lower edge above 0 excludes closer pairs.
    away = knox(x, y, t, distance_bands=[50, 100], time_bands=[1, 7], permutations=9, seed=0)
    assert away.observed.tolist() == [[1]]


def test_datetimes_equal_float_days_and_edges_are_exact():
    base = np.datetime64("2024-03-01T08:15")
    t = base + np.array([0, 7 * 24 * 60, 3 * 24 * 60 + 1, 60], dtype="timedelta64[m]")
    days = np.array([0.0, 7.0, 3.0 + 1 / 1440, 1 / 24])
    x, y = [0.0, 10.0, 20.0, 30.0], [0.0, 0.0, 0.0, 0.0]
    a = knox(x, y, t, distance_bands=[0, 100], time_bands=[0, 3, 7], permutations=20, seed=3)
    b = knox(x, y, days, distance_bands=[0, 100], time_bands=[0, 3, 7], permutations=20, seed=3)
    np.testing.assert_array_equal(a.observed, b.observed)
    np.testing.assert_array_equal(a.expected, b.expected)
    # Gaps: 0-1 exactly 7 d, 0-2 3 d 1 min, 1-2 4 d - 1 min, 1-3 7 d - 1 h -> (3, 7];
    # 0-3 1 h, 2-3 3 d - 59 min -> [0, 3].
    assert a.observed.tolist() == [[2, 4]]


def _background(rng, n, size=5000.0, days=365.0):
    return rng.uniform(0, size, n), rng.uniform(0, size, n), rng.uniform(0, days, n)


def test_planted_near_repeats_are_detected():
    rng = np.random.default_rng(11)
    x, y, t = _background(rng, 600)
    seeds = rng.choice(600, 80, replace=False)
    # Each of 80 events is followed by two repeats within ~50 m and a few days.
    rx = np.repeat(x[seeds], 2) + rng.normal(0, 30, 160)
    ry = np.repeat(y[seeds], 2) + rng.normal(0, 30, 160)
    rt = np.repeat(t[seeds], 2) + rng.uniform(0.5, 6.5, 160)
    res = knox(
        np.r_[x, rx],
        np.r_[y, ry],
        np.r_[t, rt],
        distance_bands=D_BANDS,
        time_bands=T_BANDS,
        permutations=199,
        seed=4,
    )
    assert res.ratio[0, 0] > 3
    assert res.p_values[0, 0] < 0.05
    assert res.p_values[0, 0] == pytest.approx(1 / 200)
    # Far-apart, long-gap bands stay close to 1.
    assert 0.8 < res.ratio[2, 2] < 1.2
    frame = res.to_frame()
    assert list(frame.columns) == [
        "distance_from",
        "distance_to",
        "time_from",
        "time_to",
        "observed",
        "expected",
        "ratio",
        "p_value",
    ]
    assert len(frame) == 9
    assert frame.iloc[0]["ratio"] == res.ratio[0, 0]


def test_uniform_random_events_show_no_strong_signal():
    small_p = 0
    total = 0
    for seed in range(20):
        x, y, t = _background(np.random.default_rng(100 + seed), 1500)
        res = knox(x, y, t, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=199, seed=seed)
        assert np.all((res.ratio > 0.6) & (res.ratio < 1.4)), res.ratio
        small_p += int((res.p_values < 0.05).sum())
        total += res.p_values.size
    # One-sided 5 % tests: about 9 of 180 expected; allow sampling noise.
    assert small_p <= 20, f"{small_p}/{total} band p-values < 0.05 on null data"


def test_too_few_events_and_no_close_pairs():
    one = knox([0.0], [0.0], [0.0], distance_bands=D_BANDS, time_bands=T_BANDS, permutations=9, seed=0)
    assert not one.observed.any()
    assert np.isnan(one.ratio).all()
    assert (one.p_values == 1).all()
    empty = knox([], [], [], distance_bands=D_BANDS, time_bands=T_BANDS, permutations=9, seed=0)
    assert empty.n_events == 0
    far = knox([0, 1e5], [0, 0], [0, 1], distance_bands=D_BANDS, time_bands=T_BANDS, permutations=9, seed=0)
    assert far.n_close_pairs == 0


def test_all_events_at_one_point():
    n = 30
    t = np.arange(n, dtype=float)
    res = knox(
        np.zeros(n), np.zeros(n), t, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=99, seed=0
    )
    assert res.n_close_pairs == comb(n, 2)
    assert res.observed[1:].sum() == 0
    # Locations are all equal, so permuting times cannot change anything.
    np.testing.assert_allclose(res.expected, res.observed)
    assert (res.p_values == 1).all()


def test_result_is_frozen():
    res = knox(X, Y, T, distance_bands=D_BANDS, time_bands=T_BANDS, permutations=9, seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.permutations = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.observed[0, 0] = 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": [0.0, np.nan, 1, 2, 3]}, r"^x contains NaN"),
        ({"y": [0.0, 1.0]}, "same length"),
        (
            {"t": np.array(["2024-01-01", "NaT", "2024-01-02", "2024-01-03", "2024-01-04"], "datetime64[D]")},
            "t contains NaT",
        ),
        ({"distance_bands": [100]}, "distance_bands must have at least two"),
        ({"distance_bands": [0, 200, 100]}, "distance_bands must be increasing"),
        ({"distance_bands": [-10, 100]}, "distance_bands must be >= 0"),
        ({"time_bands": [0, 7, 7]}, "time_bands must be increasing"),
        ({"time_bands": [0, np.nan]}, "time_bands contains NaN"),
        ({"permutations": 0}, "permutations"),
        ({"permutations": 9.5}, "permutations"),
        ({"max_pairs": 3}, "max_pairs=3"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = {"x": X, "y": Y, "t": T, "distance_bands": D_BANDS, "time_bands": T_BANDS, "permutations": 9}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        knox(args.pop("x"), args.pop("y"), args.pop("t"), **args)
