"""Rolling-origin backtests: mechanics, named forecasters and the study area against
counts made here with numpy.histogram2d, bad input; the metric re-exports."""

from __future__ import annotations

import numpy as np
import pytest

from problembild.analysis import evaluation, metrics
from problembild.analysis.evaluation import COVERAGES, backtest, evaluate
from problembild.analysis.forecast import forecaster
from problembild.analysis.grid import Grid


def test_metrics_are_still_importable_from_evaluation():
    for name in ("COVERAGES", "evaluate", "hit_rate", "n_flagged", "pai", "pei", "top_cells"):
        assert getattr(evaluation, name) is getattr(metrics, name)
        assert name in evaluation.__all__


def histogram(x, y, bounds=(0, 0, 1000, 1000), cell=50.0):
    """Counts per cell, shape (ny, nx) with row 0 south, from numpy alone."""
    xe = np.arange(bounds[0], bounds[2] + cell / 2, cell)
    ye = np.arange(bounds[1], bounds[3] + cell / 2, cell)
    counts, _, _ = np.histogram2d(y, x, bins=[ye, xe])
    return counts


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
    assert list(frame.columns) == [
        "origin",
        "method",
        "coverage",
        "hit_rate",
        "pai",
        "pei",
        "n_actual",
        "n_study",
    ]
    assert len(frame) == len(origins) * len(COVERAGES)
    assert all(tmax < at and h == 14 for tmax, at, h in seen)
    # Recompute one row by hand: the study area is every cell with an event (default).
    past = t < 130
    future = (t >= 130) & (t < 144)
    study = histogram(x, y) > 0
    assert frame.attrs["study"] == "history" and (frame["n_study"] == study.sum()).all()
    expected = evaluate(grid.counts(x[past], y[past]), grid.counts(x[future], y[future]), [0.05], study=study)
    row = frame[(frame["origin"] == 130.0) & (frame["coverage"] == 0.05)].iloc[0]
    assert row["pai"] == pytest.approx(expected["pai"].iloc[0])
    assert row["n_actual"] == future.sum()
    # A clustered history makes past counts a useful forecast.
    assert frame["pai"].min() > 2


def test_backtest_with_named_methods_and_datetimes_scores_each_forecast_against_its_period():
    """Every row equals the forecaster's own scores judged against the next week's counts
    (numpy.histogram2d) in the cells with any event; datetimes and float days agree."""
    x, y, t = _events(1, n=1500)
    t_dt = np.datetime64("2024-01-01") + (t * 86400).astype("timedelta64[s]")
    origins = np.array(["2024-05-01", "2024-06-01"], dtype="datetime64[D]")
    methods = {"naive": forecaster("naive"), "long_term": forecaster("long_term")}
    kwargs = {"bounds": (0, 0, 1000, 1000), "cell_size": 50, "methods": methods, "coverages": (0.05, 0.1)}
    frame = backtest(x, y, t_dt, origins=origins, horizon=np.timedelta64(7, "D"), **kwargs)
    assert set(frame["method"]) == {"naive", "long_term"} and len(frame) == 2 * 2 * 2
    assert frame["origin"].iloc[0] == np.datetime64("2024-05-01")
    study = histogram(x, y) > 0
    days = (origins - np.datetime64("1970-01-01")).astype(float)
    t_days = (t_dt - np.datetime64("1970-01-01T00:00:00")).astype("timedelta64[s]").astype(float) / 86400
    for origin, start in zip(origins, days, strict=True):
        past = t_days < start
        future = (t_days >= start) & (t_days < start + 7)
        actual = histogram(x[future], y[future])
        for name, method in methods.items():
            scores = method(
                x[past], y[past], t_days[past], bounds=kwargs["bounds"], cell_size=50, at=start, horizon=7.0
            )
            want = evaluate(scores, actual, (0.05, 0.1), study=study)
            rows = frame[(frame["origin"] == origin) & (frame["method"] == name)]
            np.testing.assert_allclose(rows[["hit_rate", "pai", "pei"]], want[["hit_rate", "pai", "pei"]])
            assert rows["n_actual"].tolist() == [future.sum()] * 2
    in_days = backtest(x, y, t_days, origins=list(days), horizon=7.0, **kwargs)
    np.testing.assert_allclose(in_days[["hit_rate", "pai", "pei"]], frame[["hit_rate", "pai", "pei"]])


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
    assert histogram(x[t >= 500], y[t >= 500]).sum() == 0 and frame["n_actual"].eq(0).all()
    assert frame[["hit_rate", "pai", "pei"]].isna().all().all()
    assert (frame["n_study"] == (histogram(x, y) > 0).sum()).all()


def test_backtest_study_area_mask_or_whole_grid():
    """Only the incidents inside a given study area count, and the PAI's denominator is its
    cells; "grid" is every cell of the bounding box."""
    x, y, t = _events(4, n=2000)
    area = np.zeros((20, 20), dtype=bool)
    area[10:18, 2:10] = True  # the clustered corner (around x 300, y 700)
    kwargs = {
        "bounds": (0, 0, 1000, 1000),
        "cell_size": 50.0,
        "origins": [150.0],
        "horizon": 14,
        "methods": {"long_term": forecaster("long_term")},
        "coverages": (0.05,),
    }
    masked = backtest(x, y, t, study=area, **kwargs)
    future = (t >= 150) & (t < 164)
    actual = histogram(x[future], y[future])
    past = t < 150
    scores = forecaster("long_term")(
        x[past], y[past], t[past], bounds=(0, 0, 1000, 1000), cell_size=50.0, at=150.0, horizon=14.0
    )
    row = masked.iloc[0]
    assert masked.attrs["study"] == "mask" and row["n_study"] == 64
    assert row["n_actual"] == actual[area].sum()
    assert row["pai"] == pytest.approx(evaluate(scores[area], actual[area], [0.05])["pai"].iloc[0])
    whole = backtest(x, y, t, study="grid", **kwargs)
    assert whole.attrs["study"] == "grid" and whole["n_study"].iloc[0] == 400
    assert whole["pai"].iloc[0] == pytest.approx(evaluate(scores, actual, [0.05])["pai"].iloc[0])
    with pytest.raises(ValueError, match="study must be"):
        backtest(x, y, t, study="everything", **kwargs)
    with pytest.raises(ValueError, match="study must be a boolean mask of the grid's shape"):
        backtest(x, y, t, study=np.ones((3, 3), dtype=bool), **kwargs)


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
