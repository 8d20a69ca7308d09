"""The grid and time conventions shared by the spatial analytics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problembild.analysis.grid import Grid, days_scalar, to_days


def test_from_bounds_uses_ceil_and_anchors_at_lower_left():
    grid = Grid.from_bounds((100.0, 200.0, 1050.0, 701.0), 100.0)
    assert (grid.nx, grid.ny) == (10, 6)
    assert grid.shape == (6, 10)
    assert grid.bounds == (100.0, 200.0, 1100.0, 800.0)
    assert grid.n_cells == 60
    assert grid.cell_area == 10_000.0


def test_exact_multiple_does_not_gain_a_cell_through_rounding():
    # 0.3 / 0.1 == 2.9999999999999996 and 0.7 / 0.1 == 6.999999999999999 in float64
    assert Grid.from_bounds((0, 0, 0.7, 0.3), 0.1).shape == (3, 7)
    assert Grid.from_bounds((0, 0, 1000, 1000), 10).shape == (100, 100)


def test_centres_follow_the_documented_convention():
    grid = Grid(xmin=10.0, ymin=-5.0, cell_size=2.0, nx=3, ny=2)
    xc, yc = grid.centres()
    np.testing.assert_array_equal(xc, [11.0, 13.0, 15.0])
    np.testing.assert_array_equal(yc, [-4.0, -2.0])


def test_cell_index_inside_outside_edges_and_nan():
    grid = Grid(xmin=0.0, ymin=0.0, cell_size=10.0, nx=3, ny=2)
    x = [0.0, 29.999, 30.0, 30.0001, -0.1, 15.0, np.nan]
    y = [0.0, 19.0, 20.0, 5.0, 5.0, 10.0, 5.0]
    row, col, inside = grid.cell_index(x, y)
    np.testing.assert_array_equal(inside, [True, True, True, False, False, True, False])
    np.testing.assert_array_equal(col, [0, 2, 2, -1, -1, 1, -1])
    np.testing.assert_array_equal(row, [0, 1, 1, -1, -1, 1, -1])


def test_counts_match_histogram2d():
    rng = np.random.default_rng(3)
    x = rng.uniform(-50, 1050, 2000)
    y = rng.uniform(-50, 650, 2000)
    w = rng.uniform(0, 2, 2000)
    grid = Grid.from_bounds((0, 0, 1000, 600), 50)
    edges_x = np.linspace(0, 1000, grid.nx + 1)
    edges_y = np.linspace(0, 600, grid.ny + 1)
    expected, _, _ = np.histogram2d(y, x, bins=[edges_y, edges_x], weights=w)
    np.testing.assert_allclose(grid.counts(x, y, weights=w), expected, rtol=1e-12)
    expected_n, _, _ = np.histogram2d(y, x, bins=[edges_y, edges_x])
    np.testing.assert_array_equal(grid.counts(x, y), expected_n)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-20, 120), st.floats(-20, 120)), max_size=50),
    st.floats(0.5, 40),
)
def test_counts_total_equals_points_inside(points, cell_size):
    grid = Grid.from_bounds((0, 0, 100, 100), cell_size)
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    _, _, inside = grid.cell_index(x, y)
    counts = grid.counts(x, y)
    assert counts.shape == grid.shape
    assert counts.sum() == inside.sum()


@pytest.mark.parametrize(
    ("bounds", "cell_size", "name"),
    [
        ((10, 0, 0, 10), 1.0, "bounds"),
        ((0, 10, 10, 0), 1.0, "bounds"),
        ((0, 0, 10), 1.0, "bounds"),
        ((0, 0, np.nan, 10), 1.0, "bounds"),
        ((0, 0, 10, 10), 0.0, "cell_size"),
        ((0, 0, 10, 10), -1.0, "cell_size"),
    ],
)
def test_bad_grid_arguments_name_the_argument(bounds, cell_size, name):
    with pytest.raises(ValueError, match=name):
        Grid.from_bounds(bounds, cell_size)


def test_bad_direct_construction():
    with pytest.raises(ValueError, match="nx"):
        Grid(0.0, 0.0, 1.0, 0, 3)
    with pytest.raises(ValueError, match="cell_size"):
        Grid(0.0, 0.0, -1.0, 2, 3)


def test_cell_index_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        Grid(0.0, 0.0, 1.0, 2, 2).cell_index([0.5, 1.0], [0.5])


def test_to_days_datetimes_and_numbers():
    t = np.array(["1970-01-02", "2024-03-01T12:00"], dtype="datetime64[m]")
    np.testing.assert_allclose(to_days(t), [1.0, 19783.5])
    np.testing.assert_array_equal(to_days([1.5, 2.0]), [1.5, 2.0])
    with pytest.raises(ValueError, match="t contains NaT"):
        to_days(np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"))
    with pytest.raises(ValueError, match="t contains NaN"):
        to_days([1.0, np.nan])


def test_days_scalar_accepts_the_usual_time_types():
    assert days_scalar(np.datetime64("1970-01-11"), "at") == 10.0
    assert days_scalar(dt.date(1970, 1, 11), "at") == 10.0
    assert days_scalar("1970-01-11T12:00", "at") == 10.5
    assert days_scalar(12.25, "at") == 12.25
    assert days_scalar(np.timedelta64(2, "W"), "horizon", duration=True) == 14.0
    assert days_scalar(dt.timedelta(hours=36), "horizon", duration=True) == 1.5
    with pytest.raises(ValueError, match="horizon"):
        days_scalar(0, "horizon", duration=True)
    with pytest.raises(ValueError, match="at"):
        days_scalar("not a date", "at")
