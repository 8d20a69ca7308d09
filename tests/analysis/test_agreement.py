"""Share equal and Cohen's kappa against scikit-learn and a hand-computed case."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from problembild.analysis.agreement import agreement


def test_hand_computed():
    # 10 areas: 7 equal; proposals U U U U U S S S R R, decisions U U U U S S S R R U.
    a = list("UUUUUSSSRR")
    b = list("UUUUSSSRRU")
    result = agreement(a, b)
    assert (result.n, result.equal) == (10, 7)
    # p_e = 0.5*0.5 + 0.3*0.3 + 0.2*0.2 = 0.38; kappa = (0.7 - 0.38) / 0.62
    assert result.kappa == pytest.approx(0.32 / 0.62)


@given(st.lists(st.tuples(st.sampled_from("USR"), st.sampled_from("USR")), min_size=1, max_size=60))
def test_matches_scikit_learn(pairs):
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = agreement(a, b, labels="USR")
    theirs = cohen_kappa_score(a, b, labels=list("USR"))
    if math.isnan(ours.kappa):
        assert len(set(a) | set(b)) == 1
    else:
        assert ours.kappa == pytest.approx(theirs, abs=1e-12)
    assert ours.share_equal == pytest.approx(sum(x == y for x, y in pairs) / len(pairs))


def test_edge_cases():
    assert math.isnan(agreement([], []).kappa) and agreement([], []).as_dict()["share_equal"] is None
    assert agreement(["U", "U"], ["U", "U"]).as_dict() == {
        "n": 2,
        "equal": 2,
        "share_equal": 1.0,
        "kappa": None,
    }
    with pytest.raises(ValueError, match="length"):
        agreement(["U"], [])
    with pytest.raises(ValueError, match="labels"):
        agreement(["X"], ["U"], labels=["U"])
