"""Rolling-origin backtests: mechanics, named forecasters, bad input; the metric re-exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis import evaluation, metrics
from problembild.analysis.evaluation import COVERAGES, backtest, evaluate
from problembild.analysis.forecast import forecaster
from problembild.analysis.grid import Grid


def test_metrics_are_still_importable_from_evaluation():
    for name in ("COVERAGES", "evaluate", "hit_rate", "n_flagged", "pai", "pei", "top_cells"):
        assert getattr(evaluation, name) is getattr(metrics, name)
        assert name in evaluation.__all__


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
        methods={"naive": forecaster("naive"), "long_term": forecaster("long_term")},
        coverages=(0.05, 0.1),
    )
    assert set(frame["method"]) == {"naive", "long_term"}
    assert frame["origin"].iloc[0] == np.datetime64("2024-05-01")
    assert len(frame) == 2 * 2 * 2
    assert frame["pai"].notna().all()


def test_backtest_period_without_incidents_gives_nan_rows():
    x, y, t = _events(2, n=500, days=50)
    frame = backtest(
        x,
        y,
        t,
        bounds=(0, 0, 1000, 1000),
        cell_size=50,
        origins=[500.0],
        horizon=7,
        methods={"long_term": forecaster("long_term")},
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
        ({"methods": ["naive"]}, "methods"),
        ({"methods": {}}, "methods"),
        ({"methods": {"naive": "naive"}}, "methods"),
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
        "methods": {"naive": forecaster("naive")},
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        backtest(x, y, t, **args)
