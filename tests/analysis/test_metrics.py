"""Hit rate, PAI, PEI on hand-computed examples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from problembild.analysis.metrics import evaluate, hit_rate, n_flagged, pai, pei, top_cells

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
