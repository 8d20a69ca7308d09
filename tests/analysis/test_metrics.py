"""Hit rate, PAI, PEI on hand-computed examples and against brute force: the average over
every order of tied cells, within a study area."""

from __future__ import annotations

import itertools
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
    assert list(table.columns) == ["coverage", "n_flagged", "hit_rate", "pai", "pei", "n_actual", "n_study"]
    assert table["n_flagged"].tolist() == [2, 3]
    assert table["n_actual"].tolist() == [10, 10]
    assert table["n_study"].tolist() == [10, 10]
    assert table["pai"].tolist() == pytest.approx([2.0, 0.5 / 0.3])


def test_perfect_forecast_has_pei_one_and_maximum_pai():
    actual = np.array([0, 5, 0, 0, 1, 0, 0, 0, 0, 0])
    assert pei(actual, actual, 0.1) == 1.0
    assert pai(actual, actual, 0.2) == pytest.approx(1.0 / 0.2)


def test_top_cells_breaks_ties_by_the_lower_flat_index():
    scores = np.zeros((2, 3))
    assert top_cells(scores, 2).tolist() == [0, 1]
    scores[1, 0] = 1e-9
    assert top_cells(scores, 2).tolist() == [3, 0]


def brute_force(scores, actual, k):
    """Hit rate and PEI averaged over every order of the cells (flag the first k of each
    ordering that sorts by score): the expected value of a random tie-break."""
    s, a = np.ravel(scores), np.ravel(actual)
    hits = []
    for order in itertools.permutations(range(s.size)):
        ranked = sorted(order, key=lambda i: -s[i])  # stable: ties keep the permutation's order
        hits.append(a[ranked[:k]].sum())
    captured = float(np.mean(hits))
    best = np.sort(a)[::-1][:k].sum()
    return captured / a.sum(), captured / best


@pytest.mark.parametrize(
    ("scores", "actual", "coverage"),
    [
        (np.zeros((2, 3)), np.array([[0, 4, 0], [1, 0, 0]]), 2 / 6),
        (np.array([[3.0, 1, 1], [1, 0, 0]]), np.array([[1, 0, 2], [5, 1, 0]]), 2 / 6),
        (np.array([[2.0, 2, 1], [1, 1, 0], [0, 0, 0]]), np.array([[0, 3, 1], [0, 2, 0], [4, 0, 1]]), 4 / 9),
        (np.full((2, 4), 0.5), np.arange(8).reshape(2, 4), 3 / 8),
    ],
)
def test_tied_cells_count_as_the_average_over_every_tie_break(scores, actual, coverage):
    k = n_flagged(scores.size, coverage)
    hit, efficiency = brute_force(scores, actual, k)
    assert hit_rate(scores, actual, coverage) == pytest.approx(hit)
    assert pai(scores, actual, coverage) == pytest.approx(hit / (k / scores.size))
    assert pei(scores, actual, coverage) == pytest.approx(efficiency)
    # Moving the incidents to other tied cells changes nothing.
    flipped = scores[::-1, ::-1]
    assert hit_rate(flipped, actual[::-1, ::-1], coverage) == pytest.approx(hit)


def test_constant_scores_score_the_same_wherever_the_incidents_lie():
    """The issue's example: 10 x 10 cells, constant scores, ten incidents in row 0 or in
    row 9 (PAI 20 / PEI 1.0 against 0 / 0 before). A random choice of 5 cells expects 5 %
    of the incidents: PAI 1, PEI = 0.5 / 5."""
    scores = np.ones((10, 10))
    for row in (0, 9):
        actual = np.zeros((10, 10))
        actual[row] = 1
        assert pai(scores, actual, 0.05) == pytest.approx(1.0)
        assert pei(scores, actual, 0.05) == pytest.approx(0.1)


def test_study_area_is_the_pai_denominator_and_holds_the_incidents():
    """Against the metrics of the study cells alone (a flat array of them)."""
    rng = np.random.default_rng(2)
    scores = rng.random((20, 30))
    actual = rng.poisson(0.3, (20, 30))
    study = np.zeros((20, 30), dtype=bool)
    study[5:15, 10:25] = True  # 150 cells: the area inside a padded box
    for coverage in (0.02, 0.05, 0.1):
        want = evaluate(scores[study], actual[study], [coverage])
        got = evaluate(scores, actual, [coverage], study=study)
        assert got["n_study"].iloc[0] == 150 and got["n_flagged"].iloc[0] == n_flagged(150, coverage)
        assert got["n_actual"].iloc[0] == actual[study].sum()
        for column in ("hit_rate", "pai", "pei"):
            assert got[column].iloc[0] == pytest.approx(want[column].iloc[0])
        assert pai(scores, actual, coverage, study=study) == pytest.approx(want["pai"].iloc[0])
    # By hand: 2 of 4 cells, the flagged ones hold 3 of the 4 incidents inside the area.
    small_scores = np.array([[4.0, 3, 9], [2, 1, 8]])
    small_actual = np.array([[2, 1, 5], [1, 0, 5]])
    small_study = np.array([[True, True, False], [True, True, False]])
    assert hit_rate(small_scores, small_actual, 0.5, study=small_study) == pytest.approx(3 / 4)
    assert pai(small_scores, small_actual, 0.5, study=small_study) == pytest.approx((3 / 4) / 0.5)
    assert pei(small_scores, small_actual, 0.5, study=small_study) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("study", "match"),
    [
        (np.ones((3, 3), dtype=bool), "study must be a boolean mask of the grid's shape"),
        (np.zeros((2, 5), dtype=bool), "study must include at least one cell"),
        (np.full((2, 5), 0.5), "study must be a boolean mask"),
    ],
)
def test_bad_study(study, match):
    with pytest.raises(ValueError, match=match):
        pai(SCORES, ACTUAL, 0.1, study=study)


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
