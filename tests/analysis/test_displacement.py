"""Neighbours' change beside the comparison areas', by hand."""

import numpy as np
import pytest

from problembild.analysis.displacement import neighbour_change


def test_hand_computed_changes():
    outcomes = np.array(
        [
            [10, 10, 5, 5],  # treated (not used here)
            [4, 4, 6, 6],  # neighbour: +50 %
            [10, 10, 10, 10],  # comparison: 0 %
            [2, 2, 1, 1],  # comparison: -50 %
        ]
    )
    result = neighbour_change(outcomes, [1], [2, 3], start=2)
    assert result.neighbours == pytest.approx(0.5)
    assert result.comparison == pytest.approx((11 / 12) - 1)
    assert result.difference == pytest.approx(0.5 - (11 / 12 - 1))
    assert (result.n_neighbours, result.n_comparison) == (1, 2)


def test_no_neighbours_and_empty_before():
    result = neighbour_change(np.array([[0, 0, 1], [0, 0, 2]]), [], [1], start=2)
    assert result.neighbours is None and result.comparison is None and result.difference is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="start"):
        neighbour_change(np.ones((2, 3)), [1], [0], start=3)
    with pytest.raises(ValueError, match="neighbours"):
        neighbour_change(np.ones((2, 3)), [5], [0], start=1)
    with pytest.raises(ValueError, match="two-dimensional"):
        neighbour_change(np.ones(3), [1], [0], start=1)
