"""kde_grid against the exact Gaussian KDE (scikit-learn) and its documented edge cases;
the public binning lattice behind it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import neighbors

from problembild.analysis.density import KernelLattice, kde_grid
from problembild.analysis.grid import Grid

BOUNDS = (0.0, 0.0, 1200.0, 800.0)
CELL = 20.0


def _exact(x, y, grid, h, weights=None):
    """exp(score_samples) of scikit-learn's exact Gaussian KDE at the cell centres."""
    xc, yc = grid.centres()
    xx, yy = np.meshgrid(xc, yc)
    kde = neighbors.KernelDensity(kernel="gaussian", bandwidth=h)
    kde.fit(np.column_stack([x, y]), sample_weight=weights)
    return np.exp(kde.score_samples(np.column_stack([xx.ravel(), yy.ravel()]))).reshape(grid.shape)


def _points(seed, n):
    """Two clusters, a uniform background and some points outside the bounds."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(300, 60, n), rng.normal(850, 120, n // 2), rng.uniform(-200, 1400, n)])
    y = np.concatenate([rng.normal(500, 50, n), rng.normal(300, 90, n // 2), rng.uniform(-200, 1000, n)])
    return x, y


@pytest.mark.parametrize("cells", [2, 3, 5])
@pytest.mark.parametrize(("seed", "n"), [(1, 8), (2, 400), (3, 4000)])
def test_matches_sklearn_within_one_percent_where_density_matters(cells, seed, n):
    x, y = _points(seed, n)
    h = cells * CELL
    grid = Grid.from_bounds(BOUNDS, CELL)
    fast = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=h)
    exact = _exact(x, y, grid, h)
    relevant = exact > 0.01 * exact.max()
    rel_err = np.abs(fast[relevant] / exact[relevant] - 1)
    assert rel_err.max() < 0.01, f"max relative error {rel_err.max():.4%} (h = {cells} cells, n = {x.size})"


def test_weighted_matches_sklearn_sample_weight():
    x, y = _points(4, 300)
    w = np.random.default_rng(4).uniform(0.1, 3.0, x.size)
    grid = Grid.from_bounds(BOUNDS, CELL)
    fast = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=3 * CELL, weights=w)
    exact = _exact(x, y, grid, 3 * CELL, weights=w)
    relevant = exact > 0.01 * exact.max()
    assert np.abs(fast[relevant] / exact[relevant] - 1).max() < 0.01


def test_isolated_points_including_off_grid_and_between_cells():
    # Single points are the hardest case for binning: no averaging over positions.
    x = np.array([101.3, 517.0, 1210.0, 640.5])
    y = np.array([99.9, 402.2, 433.0, -35.0])
    grid = Grid.from_bounds(BOUNDS, CELL)
    for cells in (2, 3, 5):
        fast = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=cells * CELL)
        exact = _exact(x, y, grid, cells * CELL)
        relevant = exact > 0.01 * exact.max()
        assert np.abs(fast[relevant] / exact[relevant] - 1).max() < 0.01


def test_integrates_to_one_over_a_covering_grid():
    rng = np.random.default_rng(5)
    x, y = rng.normal(600, 80, 5000), rng.normal(400, 60, 5000)
    f = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    assert f.shape == (40, 60)
    assert f.sum() * CELL * CELL == pytest.approx(1.0, abs=1e-3)


def test_single_event_peak_has_gaussian_height():
    h = 50.0
    f = kde_grid([610.0], [410.0], bounds=BOUNDS, cell_size=CELL, bandwidth=h)
    # A point exactly on a binning node adds no binning variance, so the mean correction
    # (kernel variance reduced by spacing**2 / 6) over-sharpens it slightly: < 0.2 %.
    assert f[20, 30] == pytest.approx(1 / (2 * np.pi * h * h), rel=2e-3)
    assert np.unravel_index(f.argmax(), f.shape) == (20, 30)


def test_all_events_at_one_point_equal_a_single_event():
    one = kde_grid([333.3], [222.2], bounds=BOUNDS, cell_size=CELL, bandwidth=45)
    many = kde_grid(np.full(500, 333.3), np.full(500, 222.2), bounds=BOUNDS, cell_size=CELL, bandwidth=45)
    np.testing.assert_allclose(many, one, rtol=1e-10, atol=1e-20)


def test_empty_input_and_zero_weights_give_zeros():
    f = kde_grid([], [], bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    assert f.shape == (40, 60)
    assert not f.any()
    g = kde_grid([1.0, 2.0], [1.0, 2.0], bounds=BOUNDS, cell_size=CELL, bandwidth=40, weights=[0, 0])
    assert not g.any()


def test_far_away_points_only_dilute():
    near = kde_grid([600.0], [400.0], bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    both = kde_grid([600.0, 1e7], [400.0, 1e7], bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    np.testing.assert_allclose(both, near / 2, rtol=1e-12)


def test_nan_coordinates_raise_or_are_dropped_on_request():
    x = np.array([100.0, np.nan, 300.0])
    y = np.array([100.0, 200.0, 300.0])
    with pytest.raises(ValueError, match=r"^x contains NaN"):
        kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    with pytest.raises(ValueError, match=r"^y contains NaN"):
        kde_grid(y, x, bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    dropped = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=40, drop_nan=True)
    clean = kde_grid([100.0, 300.0], [100.0, 300.0], bounds=BOUNDS, cell_size=CELL, bandwidth=40)
    np.testing.assert_array_equal(dropped, clean)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"bandwidth": -5.0}, "bandwidth"),
        ({"bandwidth": np.nan}, "bandwidth"),
        ({"cell_size": 0.0}, "cell_size"),
        ({"bounds": (10, 0, 0, 10)}, "bounds"),
        ({"weights": [1.0, -1.0]}, "weights"),
        ({"weights": [1.0]}, "weights"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    args = {"bounds": BOUNDS, "cell_size": CELL, "bandwidth": 40.0, **kwargs}
    with pytest.raises(ValueError, match=name):
        kde_grid([1.0, 2.0], [1.0, 2.0], **args)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        kde_grid([1.0, 2.0], [1.0], bounds=BOUNDS, cell_size=CELL, bandwidth=40)


def test_small_bandwidth_still_close():
    """Below 2 cells accuracy degrades gracefully (documented), it does not break."""
    x, y = _points(6, 400)
    grid = Grid.from_bounds(BOUNDS, CELL)
    fast = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=CELL)
    exact = _exact(x, y, grid, CELL)
    relevant = exact > 0.01 * exact.max()
    assert np.abs(fast[relevant] / exact[relevant] - 1).max() < 0.05


def test_lattice_bin_then_smooth_is_kde_grid():
    x, y = _points(7, 300)
    w = np.random.default_rng(7).uniform(0.5, 2.0, x.size)
    lattice = KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 60.0)
    binned = lattice.bin(x, y, w)
    assert binned.shape == lattice.shape
    smoothed = lattice.smooth(binned)
    assert smoothed.shape == (40, 60)
    want = kde_grid(x, y, bounds=BOUNDS, cell_size=CELL, bandwidth=60.0, weights=w)
    np.testing.assert_array_equal(smoothed / w.sum(), want)


def test_lattice_binning_is_additive_and_keeps_the_weight_of_points_in_reach():
    x, y = _points(8, 200)
    lattice = KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 40.0)
    whole = lattice.bin(x, y)
    parts = lattice.bin(x[:150], y[:150]) + lattice.bin(x[150:], y[150:])
    np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-12)
    assert whole.sum() == pytest.approx(x.size)  # every point is within 6 h of the grid
    assert lattice.bin([1e7], [1e7]).sum() == 0.0  # beyond the kernel's reach: dropped
    assert lattice.reach == pytest.approx(6 * 40.0)
    assert lattice.spacing == pytest.approx(40.0 / 12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 0.0), "bandwidth"),
        (lambda: KernelLattice.for_grid(BOUNDS, 40.0), "grid"),
        (lambda: KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 40.0).bin([1.0], [np.nan]), "y"),
        (
            lambda: KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 40.0).bin([1.0], [1.0, 2.0]),
            "same length",
        ),
        (
            lambda: KernelLattice.for_grid(Grid.from_bounds(BOUNDS, CELL), 40.0).smooth(np.zeros((3, 3))),
            "binned",
        ),
    ],
)
def test_lattice_bad_arguments_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
