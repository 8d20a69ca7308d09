"""Forecasts: no look-ahead, method definitions, and the blend against its baselines."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from problembild.analysis import evaluation
from problembild.analysis import forecast as forecast_module
from problembild.analysis.density import kde_grid
from problembild.analysis.evaluation import backtest, compare_methods
from problembild.analysis.forecast import (
    METHODS,
    BinnedHistory,
    beats_baseline,
    forecast_grid,
    forecaster,
    select_blend,
    select_method,
)
from problembild.analysis.grid import Grid

BOUNDS = (0.0, 0.0, 1500.0, 1500.0)
CELL = 50.0


def synthetic_history(seed: int, days: float = 420.0, size: float = 1500.0):
    """Uniform background, two persistent hot spots and a new short-lived flare every
    14 days (about 20 events around a random centre, decaying over ~10 days)."""
    x, y, t, _ = planted_history(seed, days, size)
    return x, y, t


PERSISTENT = ((400.0, 1100.0, 0.6), (1100.0, 500.0, 0.4))  # centre x, y (m), events per day


def planted_history(seed: int, days: float = 420.0, size: float = 1500.0):
    """:func:`synthetic_history` and its planted truth: ``truth(at, horizon)`` is the
    expected number of events per cell of the (size / CELL)² grid in ``[at, at + horizon)``
    (background 1.5 events a day, Gaussian hot spots of sd 50 m, flares of 20 expected
    events with sd 40 m and exponential times of mean 10 days)."""
    rng = np.random.default_rng(seed)
    xs, ys, ts = [], [], []
    n = rng.poisson(1.5 * days)
    xs.append(rng.uniform(0, size, n))
    ys.append(rng.uniform(0, size, n))
    ts.append(rng.uniform(0, days, n))
    for cx, cy, rate in PERSISTENT:
        n = rng.poisson(rate * days)
        xs.append(rng.normal(cx, 50, n))
        ys.append(rng.normal(cy, 50, n))
        ts.append(rng.uniform(0, days, n))
    flares = []
    for start in np.arange(0.0, days, 14.0):
        cx, cy = rng.uniform(150, size - 150, 2)
        n = rng.poisson(20)
        xs.append(rng.normal(cx, 40, n))
        ys.append(rng.normal(cy, 40, n))
        ts.append(start + rng.exponential(10, n))
        flares.append((start, cx, cy))
    x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
    keep = t < days
    edges = np.arange(0.0, size + CELL / 2, CELL)

    def mass(cx, cy, sd):
        return np.outer(np.diff(stats.norm.cdf(edges, cy, sd)), np.diff(stats.norm.cdf(edges, cx, sd)))

    def truth(at, horizon):
        expected = np.full((edges.size - 1, edges.size - 1), 1.5 * horizon * (CELL / size) ** 2)
        for cx, cy, rate in PERSISTENT:
            expected += rate * horizon * mass(cx, cy, 50)
        for start, cx, cy in flares:
            if start < at + horizon:
                share = np.exp(-max(at - start, 0) / 10) - np.exp(-(at + horizon - start) / 10)
                expected += 20 * share * mass(cx, cy, 40)
        return expected

    return x[keep], y[keep], t[keep], truth


@pytest.mark.parametrize("method", METHODS)
def test_no_event_at_or_after_at_is_used(method):
    x, y, t = synthetic_history(0, days=200)
    at, horizon = 150.0, 7.0
    past = t < at
    base = forecast_grid(
        x[past], y[past], t[past], bounds=BOUNDS, cell_size=CELL, at=at, horizon=horizon, method=method
    )
    rng = np.random.default_rng(1)
    # Future events, including some exactly at `at`, concentrated in one corner.
    fx = np.r_[x[~past], rng.normal(100, 20, 300)]
    fy = np.r_[y[~past], rng.normal(100, 20, 300)]
    ft = np.r_[t[~past], np.full(100, at), rng.uniform(at, at + 30, 200)]
    full = forecast_grid(
        np.r_[x[past], fx],
        np.r_[y[past], fy],
        np.r_[t[past], ft],
        bounds=BOUNDS,
        cell_size=CELL,
        at=at,
        horizon=horizon,
        method=method,
    )
    np.testing.assert_array_equal(full, base)


def test_long_term_is_the_kde_of_the_past():
    x, y, t = synthetic_history(1, days=100)
    f = forecast_grid(
        x, y, t, bounds=BOUNDS, cell_size=CELL, at=60, horizon=7, method="long_term", bandwidth=80
    )
    past = t < 60
    np.testing.assert_array_equal(f, kde_grid(x[past], y[past], bounds=BOUNDS, cell_size=CELL, bandwidth=80))


def test_naive_ranks_by_last_period_counts_then_long_term():
    x, y, t = synthetic_history(2, days=100)
    at, horizon = 60.0, 7.0
    f = forecast_grid(x, y, t, bounds=BOUNDS, cell_size=CELL, at=at, horizon=horizon, method="naive")
    grid = Grid.from_bounds(BOUNDS, CELL)
    last = (t >= at - horizon) & (t < at)
    counts = grid.counts(x[last], y[last])
    np.testing.assert_array_equal(np.floor(f), counts)  # the tie-break stays below one count
    assert (f - counts).max() < 0.5
    zero = counts == 0
    lt = forecast_grid(x, y, t, bounds=BOUNDS, cell_size=CELL, at=at, horizon=horizon, method="long_term")
    order_f = np.argsort(-f[zero], kind="stable")
    order_lt = np.argsort(-lt[zero], kind="stable")
    np.testing.assert_array_equal(order_f, order_lt)


def test_prospective_hand_computed_kernel():
    """One event 10 days before `at` (1 whole week: time weight 1/2) at a cell centre;
    radius 2 cells: own cell 1/2, edge neighbours 1/4, diagonal 1/(2(1+sqrt 2)), at
    distance 2 1/6, beyond 2 cells 0 (plus the long-term tie-break < half the smallest gap)."""
    f = forecast_grid(
        [725.0],
        [725.0],
        [40.0],
        bounds=BOUNDS,
        cell_size=CELL,
        at=50.0,
        horizon=7,
        method="prospective",
        radius=100,
    )
    assert f.shape == (30, 30)
    assert f[14, 14] == pytest.approx(0.5, abs=0.01)
    assert f[14, 15] == pytest.approx(0.25, abs=0.01)
    assert f[15, 15] == pytest.approx(0.5 / (1 + np.sqrt(2)), abs=0.01)
    assert f[14, 16] == pytest.approx(1 / 6, abs=0.01)
    assert f[14, 17] < 0.01 and f[16, 16] < 0.01
    # Older than the 56-day lookback: nothing recent, only the tie-break remains.
    old = forecast_grid(
        [725.0], [725.0], [-10.0], bounds=BOUNDS, cell_size=CELL, at=50.0, horizon=7, method="prospective"
    )
    assert old.max() <= 0.5


def test_blend_with_fixed_weight_is_the_normalised_mix():
    x, y, t = synthetic_history(3, days=120)
    kw = {
        "bounds": BOUNDS,
        "cell_size": CELL,
        "at": 100.0,
        "horizon": 7.0,
        "bandwidth": 100.0,
        "radius": 200.0,
    }
    lt = forecast_grid(x, y, t, method="long_term", **kw)
    only_lt = forecast_grid(x, y, t, method="blend", weight=1.0, **kw)
    # Equal up to the tie-break nudge (< half the smallest gap between distinct values).
    np.testing.assert_allclose(only_lt, lt / lt.sum(), rtol=1e-6)
    np.testing.assert_array_equal(np.argsort(-only_lt, axis=None), np.argsort(-lt, axis=None))
    mix = forecast_grid(x, y, t, method="blend", weight=0.25, **kw)
    assert mix.sum() == pytest.approx(1.0)


def test_select_blend_reports_its_choice_from_the_past_only():
    x, y, t = synthetic_history(4, days=200)
    choice = select_blend(x, y, t, bounds=BOUNDS, cell_size=CELL, at=180.0, horizon=7.0)
    assert choice.selected and choice.n_origins == 4
    assert choice.weight in {0.0, 0.25, 0.5, 0.75, 1.0}
    assert choice.bandwidth in {50.0, 100.0, 200.0} and choice.radius == 2 * choice.bandwidth
    assert len(choice.candidates) == 15
    assert choice.mean_pai == pytest.approx(choice.candidates["mean_pai"].max())
    past = t < 180.0
    again = select_blend(
        np.r_[x[past], [700.0] * 50],
        np.r_[y[past], [700.0] * 50],
        np.r_[t[past], [180.0] * 50],
        bounds=BOUNDS,
        cell_size=CELL,
        at=180.0,
        horizon=7.0,
    )
    assert (again.weight, again.bandwidth, again.mean_pai) == (
        choice.weight,
        choice.bandwidth,
        choice.mean_pai,
    )


def test_blend_falls_back_to_defaults_without_usable_history():
    choice = select_blend([100.0], [100.0], [0.0], bounds=BOUNDS, cell_size=CELL, at=1.0, horizon=7.0)
    assert not choice.selected
    assert (choice.weight, choice.bandwidth, choice.radius) == (0.5, 100.0, 200.0)
    f = forecast_grid([100.0], [100.0], [0.0], bounds=BOUNDS, cell_size=CELL, at=1.0, horizon=7.0)
    assert np.unravel_index(f.argmax(), f.shape) == (2, 2)


CONTEST_ORIGINS = tuple(float(d) for d in np.arange(364.0, 420.0, 7.0))


@functools.cache
def _contest(seeds=(0, 1, 2, 3), origins=CONTEST_ORIGINS):
    """PAI at 5 % of every method and of the planted intensity itself, per seed and origin,
    over the whole grid; and the planted intensity's expected PAI at each origin."""
    rows, expected = [], []
    for seed in seeds:
        x, y, t, truth = planted_history(seed)
        methods = {m: forecaster(m) for m in METHODS}
        methods["truth"] = lambda xp, yp, tp, *, bounds, cell_size, at, horizon, truth=truth: truth(
            at, horizon
        )
        frame = backtest(
            x,
            y,
            t,
            bounds=BOUNDS,
            cell_size=CELL,
            origins=list(origins),
            horizon=7.0,
            methods=methods,
            coverages=(0.05,),
            study="grid",
        )
        rows.append(frame.pivot(index="origin", columns="method", values="pai"))
        for origin in origins:
            intensity = np.sort(truth(origin, 7.0).ravel())[::-1]
            k = round(0.05 * intensity.size)
            expected.append(intensity[:k].sum() / intensity.sum() / (k / intensity.size))
    return pd.concat(rows, ignore_index=True), np.array(expected)


def test_the_planted_intensity_scores_its_expected_pai_and_no_method_beats_it():
    """The backtest of the true intensity agrees with the PAI it is expected to reach (the
    share of the expected events in its top 5 % of cells, over 5 %), within 3 standard
    errors over the 32 origins; no method does significantly better than the truth."""
    pai_table, expected = _contest()
    truth = pai_table["truth"].to_numpy()
    se = truth.std(ddof=1) / np.sqrt(truth.size)
    assert abs(truth.mean() - expected.mean()) <= 3 * se
    for method in METHODS:
        gap = truth - pai_table[method].to_numpy()
        assert gap.mean() >= -2 * gap.std(ddof=1) / np.sqrt(gap.size), method


def test_blend_is_no_worse_than_its_baselines_and_closes_most_of_the_gap_to_the_truth():
    """On persistent hot spots plus shifting flares, the blend is not significantly worse
    than any baseline (paired over the 32 origins, 2 SE), and it gains at least half of
    what the planted intensity gains over random cells (PAI 1)."""
    pai_table, _ = _contest()
    blend = pai_table["blend"].to_numpy()
    for method in ("naive", "long_term", "prospective"):
        gain = blend - pai_table[method].to_numpy()
        assert gain.mean() >= -2 * gain.std(ddof=1) / np.sqrt(gain.size), method
    truth = pai_table["truth"].to_numpy()
    assert (blend.mean() - 1) >= 0.5 * (truth.mean() - 1)


def test_compare_methods_names_a_winner_from_the_past_only():
    x, y, t = synthetic_history(5, days=300)
    table = compare_methods(x, y, t, bounds=BOUNDS, cell_size=CELL, at=280.0, horizon=7.0, n_origins=4)
    assert list(table.columns) == ["method", "coverage", "hit_rate", "pai", "pei", "n_origins", "winner"]
    assert len(table) == len(METHODS) * 4
    winner = table.attrs["winner"]
    assert winner in METHODS
    assert table.loc[table["winner"], "method"].unique().tolist() == [winner]
    at5 = table[table["coverage"] == 0.05].set_index("method")["pai"]
    assert table.attrs["best_pai"] == at5.max() == at5[table.attrs["best_method"]]
    assert table.attrs["baseline_method"] == "history"
    assert table.attrs["baseline_pai"] == at5["history"]
    if table.attrs["beats_baseline"]:
        assert winner == table.attrs["best_method"] and at5[winner] > at5["history"]
    else:
        assert winner == "history" and at5.max() <= at5["history"] + 1e-12
    assert (
        table.attrs["study"] == "history"
        and table.attrs["n_study"] == (grid_counts(x[t < 280.0], y[t < 280.0]) > 0).sum()
    )
    past = t < 280.0
    again = compare_methods(
        np.r_[x[past], [50.0] * 40],
        np.r_[y[past], [50.0] * 40],
        np.r_[t[past], np.linspace(280, 300, 40)],
        bounds=BOUNDS,
        cell_size=CELL,
        at=280.0,
        horizon=7.0,
        n_origins=4,
    )
    np.testing.assert_array_equal(again["pai"].to_numpy(), table["pai"].to_numpy())


def grid_counts(x, y):
    return Grid.from_bounds(BOUNDS, CELL).counts(x, y)


def test_compare_methods_study_area_mask():
    """Passing the area's cells: every PAI is the backtest's on those cells."""
    x, y, t = synthetic_history(5, days=300)
    area = np.zeros((30, 30), dtype=bool)
    area[15:30, 0:15] = True  # the quadrant of the (400, 1100) hot spot
    kwargs = {"bounds": BOUNDS, "cell_size": CELL, "at": 280.0, "horizon": 7.0, "n_origins": 2}
    table = compare_methods(x, y, t, study=area, **kwargs)
    assert table.attrs["study"] == "mask" and table.attrs["n_study"] == 225
    origins = [266.0, 273.0]
    past = t < 280.0
    detail = backtest(
        x[past],
        y[past],
        t[past],
        bounds=BOUNDS,
        cell_size=CELL,
        origins=origins,
        horizon=7.0,
        methods={"long_term": forecaster("long_term")},
        study=area,
    )
    want = detail.groupby("coverage")["pai"].mean()
    got = table[table["method"] == "long_term"].set_index("coverage")["pai"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())


def test_datetime_inputs_match_float_days():
    x, y, t = synthetic_history(6, days=120)
    epoch = np.datetime64("1970-01-01T00:00:00")
    t_dt = epoch + (t * 86400).astype("timedelta64[s]")
    a = forecast_grid(
        x, y, np.floor(t * 86400) / 86400, bounds=BOUNDS, cell_size=CELL, at=100.0, horizon=7.0, weight=0.5
    )
    b = forecast_grid(
        x,
        y,
        t_dt,
        bounds=BOUNDS,
        cell_size=CELL,
        at=np.datetime64("1970-04-11"),
        horizon=np.timedelta64(7, "D"),
        weight=0.5,
    )
    np.testing.assert_allclose(a, b, rtol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_empty_and_single_event_histories(method):
    kw = {"bounds": BOUNDS, "cell_size": CELL, "at": 10.0, "horizon": 7.0, "method": method}
    assert not forecast_grid([], [], [], **kw).any()
    assert not forecast_grid([1.0], [1.0], [11.0], **kw).any()  # only a future event
    f = forecast_grid([730.0], [730.0], [5.0], **kw)
    assert np.unravel_index(f.argmax(), f.shape) == (14, 14)
    same = forecast_grid(np.full(20, 730.0), np.full(20, 730.0), np.linspace(0, 9, 20), **kw)
    assert np.unravel_index(same.argmax(), same.shape) == (14, 14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "magic"}, "method"),
        ({"horizon": 0.0}, "horizon"),
        ({"horizon": -7.0}, "horizon"),
        ({"at": "yesterday-ish"}, "at"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"radius": -1.0}, "radius"),
        ({"weight": 1.5}, "weight"),
        ({"n_origins": 0}, "n_origins"),
        ({"lookback": 0}, "lookback"),
        ({"smoothing": 3}, "unknown option"),
        ({"bounds": (10, 10, 0, 0)}, "bounds"),
        ({"cell_size": 0}, "cell_size"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = {"bounds": BOUNDS, "cell_size": CELL, "at": 10.0, "horizon": 7.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        forecast_grid([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], **args)


def test_nan_coordinates_rejected():
    with pytest.raises(ValueError, match=r"^x contains NaN"):
        forecast_grid([np.nan], [1.0], [1.0], bounds=BOUNDS, cell_size=CELL, at=10.0, horizon=7.0)
    with pytest.raises(ValueError, match=r"^t contains NaN"):
        forecast_grid([1.0], [1.0], [np.nan], bounds=BOUNDS, cell_size=CELL, at=10.0, horizon=7.0)


def test_compare_methods_shared_history_equals_separate_kdes(monkeypatch):
    """Binning the history once for all origins gives the same table as a KDE per forecast."""
    x, y, t = synthetic_history(5)
    kwargs = dict(bounds=BOUNDS, cell_size=CELL, at=300.0, horizon=14.0, n_origins=3)
    shared = compare_methods(x, y, t, **kwargs)

    class NoSharing(BinnedHistory):
        """Neither binned densities, nor remembered inner-origin scores, nor SEPP warm starts."""

        def density(self, cutoff, bandwidth, n_events):
            return None

        def holds(self, grid, cutoff, n_events):
            return False

    monkeypatch.setattr(evaluation, "BinnedHistory", NoSharing)
    separate = compare_methods(x, y, t, **kwargs)
    assert shared.attrs["winner"] == separate.attrs["winner"]
    cols = ["hit_rate", "pai", "pei"]
    exact = shared["method"] != "sepp"
    np.testing.assert_allclose(shared.loc[exact, cols], separate.loc[exact, cols])
    # SEPP's warm-started EM stops within its tolerance of the cold fit: the same cells, nearly always.
    np.testing.assert_allclose(shared.loc[~exact, cols], separate.loc[~exact, cols], rtol=0.05)


def test_binned_history_matches_kde_grid_at_each_cutoff():
    x, y, t = synthetic_history(6)
    past = BinnedHistory(x, y, t, bounds=BOUNDS, cell_size=CELL)
    for cutoff in (350.0, 100.0, 200.0, 420.0, 0.0):  # out of order: checkpoints are reused or not
        before = t < cutoff
        got = past.density(cutoff, 100.0, int(before.sum()))
        want = (
            kde_grid(x[before], y[before], bounds=BOUNDS, cell_size=CELL, bandwidth=100.0)
            if before.any()
            else np.zeros_like(got)
        )
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-18)
    assert past.density(200.0, 100.0, 3) is None  # another history: not answered from this one


def test_binned_history_counts_and_cells_at_each_cutoff(monkeypatch):
    """Counts and cells from the block sums equal counting afresh, whatever the order of questions."""
    monkeypatch.setattr(forecast_module, "_PREFIX_BLOCK", 7)  # many blocks and partial blocks
    x, y, t = synthetic_history(6)
    grid = Grid.from_bounds(BOUNDS, CELL)
    past = BinnedHistory(x, y, t, bounds=BOUNDS, cell_size=CELL)
    for cutoff in (350.0, 100.0, 200.0, 420.0, 0.0, 350.0):
        before = t < cutoff
        np.testing.assert_array_equal(
            past.counts(cutoff, int(before.sum())), grid.counts(x[before], y[before])
        )
        flat, times = past.cells(cutoff, int(before.sum()))
        row, col, inside = grid.cell_index(x[before], y[before])
        assert sorted(flat.tolist()) == sorted((row[inside] * grid.nx + col[inside]).tolist())
        np.testing.assert_array_equal(np.sort(times), np.sort(t[before][inside]))
    between = (t >= 100.0) & (t < 200.0)
    np.testing.assert_array_equal(past.counts_between(100.0, 200.0), grid.counts(x[between], y[between]))
    assert past.counts(200.0, 3) is None and past.cells(200.0, 3) is None  # another history


@pytest.mark.parametrize("method", METHODS)
def test_forecaster_equals_forecast_grid_with_and_without_history(method):
    x, y, t = synthetic_history(7, days=150)
    kw = {"bounds": BOUNDS, "cell_size": CELL, "at": 120.0, "horizon": 7.0}
    want = forecast_grid(x, y, t, method=method, bandwidth=80.0, **kw)
    np.testing.assert_array_equal(forecaster(method, bandwidth=80.0)(x, y, t, **kw), want)
    past = t < 120.0
    history = BinnedHistory(x[past], y[past], t[past], bounds=BOUNDS, cell_size=CELL)
    shared = forecaster(method, history=history, bandwidth=80.0)
    np.testing.assert_allclose(shared(x[past], y[past], t[past], **kw), want, rtol=1e-9, atol=1e-18)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "magic"}, "method"),
        ({"smoothing": 3}, "unknown option"),
        ({"weight": -0.1}, "weight"),
        ({"history": "all of it"}, "history"),
    ],
)
def test_forecaster_checks_its_arguments_when_built(kwargs, match):
    with pytest.raises(ValueError, match=match):
        forecaster(**kwargs)


def test_forecast_does_not_import_evaluation():
    import subprocess
    import sys

    code = (
        "import sys, problembild.analysis.forecast; "
        "sys.exit(int('problembild.analysis.evaluation' in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- baselines inside the contest and the honest choice of "auto" --------------------


def test_history_flags_the_cell_with_the_most_past_events():
    """Hand-made: 5 events in cell (3, 4), 3 in (10, 10), 1 in (20, 20); ties (empty
    cells) are ordered by a small-bandwidth density, so only the cells' neighbours move."""
    xs = [225.0] * 5 + [525.0] * 3 + [1025.0]
    ys = [175.0] * 5 + [525.0] * 3 + [1025.0]
    ts = [1.0, 50.0, 100.0, 150.0, 200.0, 190.0, 195.0, 199.0, 199.5]
    f = forecast_grid(xs, ys, ts, bounds=BOUNDS, cell_size=CELL, at=210.0, horizon=7.0, method="history")
    assert np.unravel_index(f.argmax(), f.shape) == (3, 4)
    np.testing.assert_array_equal(np.floor(f), grid_counts(np.array(xs), np.array(ys)))
    order = np.argsort(-f, axis=None)[:3]
    assert [tuple(int(v) for v in np.unravel_index(i, f.shape)) for i in order] == [
        (3, 4),
        (10, 10),
        (20, 20),
    ]


def test_decayed_with_a_short_half_life_prefers_the_recently_busy_cell():
    """Old busy cell: 10 events a year ago; recent cell: 4 events last month."""
    xs = [225.0] * 10 + [1025.0] * 4
    ys = [225.0] * 10 + [1025.0] * 4
    ts = [*np.linspace(0, 20, 10), 340.0, 345.0, 350.0, 355.0]
    kw = {"bounds": BOUNDS, "cell_size": CELL, "at": 365.0, "horizon": 7.0}
    short = forecast_grid(xs, ys, ts, method="decayed", half_life=28.0, **kw)
    assert np.unravel_index(short.argmax(), short.shape) == (20, 20)
    long = forecast_grid(xs, ys, ts, method="decayed", half_life=7.0 * 520, **kw)
    assert np.unravel_index(long.argmax(), long.shape) == (4, 4)
    hist = forecast_grid(xs, ys, ts, method="history", **kw)
    assert np.unravel_index(hist.argmax(), hist.shape) == (4, 4)


def stationary_hot_cells(seed: int, days: float = 600.0):
    """Stationary Poisson events in 20 isolated cells (rates 0.1-0.5 a day), nothing
    elsewhere: the all-history count is as good as any forecast (every method that ranks
    the 20 cells first reaches the largest possible PAI)."""
    rng = np.random.default_rng(seed)
    cells = [(3 * i + 1, 3 * j + 1) for i in range(4) for j in range(5)]
    xs, ys, ts = [], [], []
    for (r, c), rate in zip(cells, np.linspace(0.1, 0.5, len(cells)), strict=True):
        n = rng.poisson(rate * days)
        xs.append((c + rng.random(n)) * CELL)
        ys.append((r + rng.random(n)) * CELL)
        ts.append(rng.uniform(0, days, n))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)


def moving_hot_cells(seed: int, days: float = 600.0):
    """Old hot cells active until 180 days before the end, new ones since: recent
    activity beats the all-history count."""
    rng = np.random.default_rng(seed)
    xs, ys, ts = [], [], []
    for k in range(15):
        for j in range(3):
            old, new = (2 * k, 2 + 4 * j), (2 * k, 18 + 4 * j)  # 45 cells each: 5 % of the grid
            for (r, c), start, end in ((old, 0.0, days - 180), (new, days - 180, days)):
                n = rng.poisson(0.2 * (end - start))
                xs.append((c + rng.random(n)) * CELL)
                ys.append((r + rng.random(n)) * CELL)
                ts.append(rng.uniform(start, end, n))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)


def test_auto_keeps_the_history_baseline_when_nothing_beats_it():
    x, y, t = stationary_hot_cells(0)
    kw = {"bounds": BOUNDS, "cell_size": CELL, "at": 600.0, "horizon": 7.0}
    choice = select_method(x, y, t, auto_origins=12, **kw)
    assert choice.selected and choice.n_origins == 12
    assert choice.method == "history" and choice.baseline_method == "history"
    assert not choice.beats_baseline
    assert choice.best_pai <= choice.baseline_pai + 1e-12
    assert choice.mean_pai == choice.baseline_pai == pytest.approx(1 / 0.05)
    assert set(choice.candidates["method"]) == set(METHODS)
    auto = forecast_grid(x, y, t, method="auto", auto_origins=12, **kw)
    np.testing.assert_array_equal(auto, forecast_grid(x, y, t, method="history", **kw))
    table = compare_methods(x, y, t, n_origins=6, study="grid", **kw)
    assert table.attrs["winner"] == "history" and not table.attrs["beats_baseline"]
    assert table.attrs["baseline_pai"] == pytest.approx(table.attrs["best_pai"])


def test_auto_picks_a_method_that_beats_the_baseline_and_reports_both_scores():
    x, y, t = moving_hot_cells(1)
    choice = select_method(x, y, t, bounds=BOUNDS, cell_size=CELL, at=600.0, horizon=7.0, auto_origins=12)
    assert choice.beats_baseline and choice.method != "history"
    assert choice.mean_pai == choice.best_pai > choice.baseline_pai
    baseline_row = choice.candidates.set_index("label").loc["history", "mean_pai"]
    assert baseline_row == choice.baseline_pai


def test_selection_never_sees_the_forecast_period():
    x, y, t = synthetic_history(8, days=300)
    kw = {"bounds": BOUNDS, "cell_size": CELL, "at": 250.0, "horizon": 7.0, "auto_origins": 8}
    choice = select_method(x, y, t, **kw)
    rng = np.random.default_rng(3)
    # Many events at and after `at` in one corner, and the real later events.
    xf = np.r_[x, rng.normal(100, 20, 400)]
    yf = np.r_[y, rng.normal(100, 20, 400)]
    tf = np.r_[t, np.full(100, 250.0), rng.uniform(250, 280, 300)]
    again = select_method(xf, yf, tf, **kw)
    assert (again.label, again.mean_pai, again.baseline_pai) == (
        choice.label,
        choice.mean_pai,
        choice.baseline_pai,
    )
    pd.testing.assert_frame_equal(again.candidates, choice.candidates)
    auto = forecast_grid(x, y, t, method="auto", **kw)
    np.testing.assert_array_equal(forecast_grid(xf, yf, tf, method="auto", **kw), auto)


def test_beats_baseline_paired_test_hand_computed():
    base = np.array([3.0, 2.0, 4.0, 3.0, 2.5])
    diff = np.array([1.0, 0.5, 1.5, 0.0, 1.0])  # mean 0.8, sd sqrt(1.3 / 4)
    t_stat = 0.8 / (np.sqrt(1.3 / 4) / np.sqrt(5))
    beats, p = beats_baseline(base + diff, base)
    assert p == pytest.approx(stats.t.sf(t_stat, df=4))
    assert p < 0.05 and beats


def test_beats_baseline_refuses_a_lead_from_a_few_lucky_origins():
    """The Vancouver case: the mean is 3 % above the baseline's, but most origins lose."""
    base = np.full(12, 5.0)
    cand = np.r_[np.full(11, 4.9), 8.0]  # one lucky week: mean 5.158, 3.2 % above
    beats, p = beats_baseline(cand, base)
    assert cand.mean() > base.mean() * 1.03
    assert not beats and p > 0.05


def test_beats_baseline_needs_the_margin_and_enough_origins():
    base = np.arange(1.0, 21.0)
    small_lead = base * 1.02 + 0.001 * np.sin(base)  # significant, but below the 3 % margin
    assert beats_baseline(small_lead, base) == (False, pytest.approx(np.nan, nan_ok=True))
    assert beats_baseline(base * 1.02, base, margin=0.01)[0]
    assert beats_baseline([9.0], [1.0]) == (False, pytest.approx(np.nan, nan_ok=True))
    # The same lead at every origin is certain.
    assert beats_baseline(base + 1.0, base) == (True, 0.0)
    with pytest.raises(ValueError, match="length"):
        beats_baseline([1.0, 2.0], [1.0])


def test_compare_methods_reuses_a_given_history_and_refuses_a_foreign_one():
    x, y, t = synthetic_history(6)
    kw = dict(bounds=BOUNDS, cell_size=CELL, at=300.0, horizon=14.0)
    past = t < 300.0
    history = BinnedHistory(x[past], y[past], t[past], bounds=BOUNDS, cell_size=CELL)
    shared = compare_methods(x, y, t, n_origins=3, history=history, **kw)
    pd.testing.assert_frame_equal(shared, compare_methods(x, y, t, n_origins=3, **kw))
    assert history._scores  # the inner backtests are kept for the forecast at `at`
    for method in ("blend", "decayed", "fitted"):
        np.testing.assert_allclose(
            forecaster(method, history=history)(x, y, t, **kw), forecast_grid(x, y, t, method=method, **kw)
        )
    foreign = BinnedHistory(x[past][1:], y[past][1:], t[past][1:], bounds=BOUNDS, cell_size=CELL)  # one short
    with pytest.raises(ValueError, match="history must hold exactly the events before at"):
        compare_methods(x, y, t, n_origins=3, history=foreign, **kw)
