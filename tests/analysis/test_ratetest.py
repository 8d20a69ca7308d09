"""Exact Poisson rate tests against scipy.stats.binomtest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from problembild.analysis.ratetest import poisson_rate_test, poisson_rate_test_many

ALTS = ("two-sided", "greater", "less")
exposures = st.floats(min_value=0.01, max_value=1000.0, allow_nan=False, allow_infinity=False)


def binomtest_p(a, ea, b, eb, alternative):
    n = int(a + b)
    return 1.0 if n == 0 else stats.binomtest(int(a), n, ea / (ea + eb), alternative=alternative).pvalue


@settings(max_examples=300, deadline=None)
@given(
    a=st.integers(0, 400),
    b=st.integers(0, 400),
    ea=exposures,
    eb=exposures,
    alternative=st.sampled_from(ALTS),
)
def test_scalar_and_vectorised_agree_with_binomtest(a, b, ea, eb, alternative):
    expected = binomtest_p(a, ea, b, eb, alternative)
    assert abs(poisson_rate_test(a, ea, b, eb, alternative).p_value - expected) <= 1e-12
    many = poisson_rate_test_many([a], [ea], [b], [eb], alternative)
    assert abs(many["p_value"].iloc[0] - expected) <= 1e-12


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 60), st.integers(0, 60), exposures, exposures), min_size=1, max_size=40
    ),
    alternative=st.sampled_from(ALTS),
)
def test_whole_tables_agree_with_binomtest(rows, alternative):
    a, b, ea, eb = (np.array(col) for col in zip(*rows, strict=True))
    got = poisson_rate_test_many(a, ea, b, eb, alternative)["p_value"].to_numpy()
    expected = [binomtest_p(ka, xa, kb, xb, alternative) for ka, kb, xa, xb in rows]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_large_seeded_batch_including_symmetric_and_large_counts():
    rng = np.random.default_rng(20240101)
    a = rng.integers(0, 3000, 400)
    b = np.where(rng.random(400) < 0.2, a, rng.integers(0, 3000, 400))  # many exact ties
    ea = np.where(rng.random(400) < 0.3, 7.0, rng.uniform(0.5, 40, 400))
    eb = np.where(ea == 7.0, 7.0, rng.uniform(0.5, 40, 400))
    for alternative in ALTS:
        got = poisson_rate_test_many(a, ea, b, eb, alternative)["p_value"].to_numpy()
        expected = [binomtest_p(*row, alternative) for row in zip(a, ea, b, eb, strict=True)]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_rate_test_edge_cases_and_fields():
    none = poisson_rate_test(0, 10, 0, 5)
    assert none.p_value == 1.0 and math.isnan(none.ratio)
    only_a = poisson_rate_test(6, 1, 0, 1)
    assert only_a.ratio == math.inf and only_a.p_value == pytest.approx(2 * 0.5**6)
    r = poisson_rate_test(30, 10, 10, 5, alternative="greater")
    assert r.ratio == pytest.approx(1.5) and (r.rate_a, r.rate_b) == (3.0, 2.0)
    table = poisson_rate_test_many([0, 4], 2.0, [0, 0], [1.0, 1.0])  # scalar exposure broadcasts
    assert table["p_value"].tolist()[0] == 1.0 and math.isnan(table["ratio"].iloc[0])
    assert list(table.columns) == ["count_a", "exposure_a", "count_b", "exposure_b", "ratio", "p_value"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count_a": -1}, "count_a must be non-negative whole numbers"),
        ({"count_b": 2.5}, "count_b must be non-negative whole numbers"),
        ({"exposure_a": 0}, "exposure_a must be positive"),
        ({"exposure_b": float("nan")}, "exposure_b contains NaN"),
        ({"count_a": "x"}, "count_a must be numeric"),
        ({"alternative": "bigger"}, "alternative must be one of"),
    ],
)
def test_rate_test_validation(kwargs, message):
    args = {"count_a": 3, "exposure_a": 1.0, "count_b": 4, "exposure_b": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        poisson_rate_test(**args)


def test_poisson_means_test_is_a_different_test():
    # The E-test (unconditional) and the conditional exact test need not agree.
    cond = poisson_rate_test(10, 1, 3, 1).p_value
    etest = stats.poisson_means_test(10, 1, 3, 1).pvalue
    assert cond == pytest.approx(binomtest_p(10, 1, 3, 1, "two-sided"), abs=1e-12)
    assert cond != pytest.approx(etest, abs=1e-6)
