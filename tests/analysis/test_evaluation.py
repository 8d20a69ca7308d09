"""Hit rate, PAI, PEI on hand-computed examples; backtest mechanics."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.evaluation import (
    COVERAGES,
    backtest,
    evaluate,
    hit_rate,
    n_flagged,
    pai,
    pei,
    top_cells,
)
from problembild.analysis.grid import Grid

SCORES = np.array([[0.9, 0.1, 0.5, 0.0, 0.3], [0.2, 0.8, 0.05, 0.0, 0.4]])
ACTUAL = np.array([[3, 0, 1, 0, 0], [2, 1, 0, 0, 3]])  # 10 incidents in 10 cells


@pytest.mark.parametrize(
    ("coverage", "hit", "pai_value", "pei_value"),
    [
        # 1 cell (0.01 * 10 rounds to 0, at least 1): flags 0.9 -> 3 of 10; best cell has 3.
        (0.01, 0.3, 3.0, 1.0),
        # 2 cells: 0.9, 0.8 -> 3 + 1 = 4; best two cells 3 + 3 = 6.
        (0.2, 0.4, 2.0, 4 / 6),
        # 3 cells: + 0.5 -> 5; best three 3 + 3 + 2 = 8.
        (0.3, 0.5, 0.5 / 0.3, 5 / 8),
        (1.0, 1.0, 1.0, 1.0),
    ],
)
def test_hand_computed_metrics(coverage, hit, pai_value, pei_value):
    assert hit_rate(SCORES, ACTUAL, coverage) == pytest.approx(hit)
    assert pai(SCORES, ACTUAL, coverage) == pytest.approx(pai_value)
    assert pei(SCORES, ACTUAL, coverage) == pytest.approx(pei_value)


def test_evaluate_table_matches_single_metrics():
    table = evaluate(SCORES, ACTUAL, [0.2, 0.3])
    assert list(table.columns) == ["coverage", "n_flagged", "hit_rate", "pai", "pei", "n_actual"]
    assert table["n_flagged"].tolist() == [2, 3]
    assert table["n_actual"].tolist() == [10, 10]
    assert table["pai"].tolist() == pytest.approx([2.0, 0.5 / 0.3])


def test_perfect_forecast_has_pei_one_and_maximum_pai():
    actual = np.array([0, 5, 0, 0, 1, 0, 0, 0, 0, 0])
    assert pei(actual, actual, 0.1) == 1.0
    assert pai(actual, actual, 0.2) == pytest.approx(1.0 / 0.2)


def test_ties_go_to_the_lower_flat_index():
    scores = np.zeros((2, 3))
    actual = np.array([[0, 4, 0], [1, 0, 0]])
    assert top_cells(scores, 2).tolist() == [0, 1]
    assert hit_rate(scores, actual, 2 / 6) == pytest.approx(4 / 5)
    scores[1, 0] = 1e-9
    assert top_cells(scores, 2).tolist() == [3, 0]


@pytest.mark.parametrize(
    ("n_cells", "coverage", "expected"),
    [
        (500, 0.05, 25),
        (10, 0.25, 3),
        (10, 0.15, 2),
        (3, 0.01, 1),
        (100, 0.01, 1),
        (7, 1.0, 7),
        (262_144, 0.02, 5243),
    ],
)
def test_n_flagged_rounds_half_up_with_at_least_one(n_cells, coverage, expected):
    assert n_flagged(n_cells, coverage) == expected


def test_zero_actual_gives_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(hit_rate(SCORES, np.zeros_like(ACTUAL), 0.1))
        assert np.isnan(pai(SCORES, np.zeros_like(ACTUAL), 0.1))
        assert np.isnan(pei(SCORES, np.zeros_like(ACTUAL), 0.1))


def test_single_cell():
    assert pai([[1.0]], [[2.0]], 0.05) == 1.0


@pytest.mark.parametrize(
    ("scores", "actual", "coverage", "match"),
    [
        (SCORES, ACTUAL[:, :4], 0.1, "same shape"),
        (SCORES, ACTUAL, 0.0, "coverage"),
        (SCORES, ACTUAL, 1.5, "coverage"),
        (SCORES, ACTUAL, "a lot", "coverage"),
        (np.where(SCORES > 0.5, np.nan, SCORES), ACTUAL, 0.1, "scores contains NaN"),
        (SCORES, -ACTUAL, 0.1, "actual must be finite and non-negative"),
        (np.zeros((0,)), np.zeros((0,)), 0.1, "at least one cell"),
    ],
)
def test_bad_input(scores, actual, coverage, match):
    with pytest.raises(ValueError, match=match):
        pai(scores, actual, coverage)


def _events(seed=0, n=3000, days=200.0):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(0, 1000, n // 2), rng.normal(300, 40, n // 2)]
    y = np.r_[rng.uniform(0, 1000, n // 2), rng.normal(700, 40, n // 2)]
    return x, y, rng.uniform(0, days, n)


def test_backtest_uses_only_the_past_and_scores_the_next_period():
    x, y, t = _events()
    bounds, cell = (0, 0, 1000, 1000), 50.0
    grid = Grid.from_bounds(bounds, cell)
    seen = []

    def past_counts(xp, yp, tp, *, bounds, cell_size, at, horizon):
        seen.append((float(tp.max()), at, horizon))
        return Grid.from_bounds(bounds, cell_size).counts(xp, yp)

    origins = [100.0, 130.0, 160.0]
    frame = backtest(
        x, y, t, bounds=bounds, cell_size=cell, origins=origins, horizon=14, methods={"counts": past_counts}
    )
    assert list(frame.columns) == ["origin", "method", "coverage", "hit_rate", "pai", "pei", "n_actual"]
    assert len(frame) == len(origins) * len(COVERAGES)
    assert all(tmax < at and h == 14 for tmax, at, h in seen)
    # Recompute one row by hand.
    past = t < 130
    future = (t >= 130) & (t < 144)
    expected = evaluate(grid.counts(x[past], y[past]), grid.counts(x[future], y[future]), [0.05])
    row = frame[(frame["origin"] == 130.0) & (frame["coverage"] == 0.05)].iloc[0]
    assert row["pai"] == pytest.approx(expected["pai"].iloc[0])
    assert row["n_actual"] == future.sum()
    # A clustered history makes past counts a useful forecast.
    assert frame["pai"].min() > 2


def test_backtest_with_named_methods_and_datetimes():
    x, y, t = _events(1, n=1500)
    t_dt = np.datetime64("2024-01-01") + (t * 86400).astype("timedelta64[s]")
    origins = np.array(["2024-05-01", "2024-06-01"], dtype="datetime64[D]")
    frame = backtest(
        x,
        y,
        t_dt,
        bounds=(0, 0, 1000, 1000),
        cell_size=50,
        origins=origins,
        horizon=np.timedelta64(7, "D"),
        methods=["naive", "long_term"],
        coverages=(0.05, 0.1),
    )
    assert set(frame["method"]) == {"naive", "long_term"}
    assert frame["origin"].iloc[0] == np.datetime64("2024-05-01")
    assert len(frame) == 2 * 2 * 2
    assert frame["pai"].notna().all()


def test_backtest_period_without_incidents_gives_nan_rows():
    x, y, t = _events(2, n=500, days=50)
    frame = backtest(
        x, y, t, bounds=(0, 0, 1000, 1000), cell_size=50, origins=[500.0], horizon=7, methods=["long_term"]
    )
    assert frame["n_actual"].eq(0).all()
    assert frame["pai"].isna().all()
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"origins": []}, "origins"),
        ({"horizon": 0}, "horizon"),
        ({"methods": "naive"}, "methods"),
        ({"methods": []}, "methods"),
        ({"coverages": (0.0,)}, "coverage"),
        ({"bounds": (10, 10, 0, 0)}, "bounds"),
    ],
)
def test_backtest_bad_input(kwargs, match):
    x, y, t = _events(3, n=100)
    args = {
        "bounds": (0, 0, 1000, 1000),
        "cell_size": 50.0,
        "origins": [100.0],
        "horizon": 7,
        "methods": ["naive"],
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        backtest(x, y, t, **args)
