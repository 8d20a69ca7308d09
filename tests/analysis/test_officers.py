"""The one-officer-per-5,000-residents rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.officers import officer_requirement


def test_required_is_the_ceiling_and_gap_is_the_shortfall():
    residents = pd.Series({"a": 5000, "b": 5001, "c": 0, "d": 12_000, "e": 14_999})
    officers = pd.Series({"a": 1, "b": 1, "c": 0, "d": 2.5, "e": 4})
    out = officer_requirement(residents, officers)
    assert out["required"].tolist() == [1, 2, 0, 3, 3]
    assert out["gap"].tolist() == [0.0, 1.0, 0.0, 0.5, -1.0]
    assert out["meets_rule"].tolist() == [True, False, True, False, True]
    assert out.loc["d", "residents_per_officer"] == pytest.approx(4800.0)
    assert np.isnan(out.loc["c", "residents_per_officer"])  # no division by zero officers
    assert out["available"].all() and (out["reason"] == "").all()
    assert list(out.columns) == [
        "residents",
        "officers",
        "required",
        "gap",
        "residents_per_officer",
        "meets_rule",
        "available",
        "reason",
    ]


def test_missing_figures_make_rows_unavailable_and_series_align():
    residents = pd.Series({1: 8000, 2: np.nan, 3: 20_000})
    officers = pd.Series({1: 1, 3: np.nan, 4: 2})
    out = officer_requirement(residents, officers)
    assert out.index.tolist() == [1, 2, 3, 4]
    assert not out.loc[1, "meets_rule"]  # known False, not NA (NA would raise here)
    assert out.loc[2, "reason"] == "no population figure" and pd.isna(out.loc[2, "required"])
    assert out.loc[3, "required"] == 4 and out.loc[3, "reason"] == "no officer count"
    assert pd.isna(out.loc[3, "meets_rule"]) and np.isnan(out.loc[3, "gap"])
    assert out.loc[4, "reason"] == "no population figure"
    assert out["available"].tolist() == [True, False, False, False]


def test_arrays_and_custom_ratio():
    out = officer_requirement([3000, None], [1, 1], residents_per_officer=2000)
    assert out["required"].tolist() == [2, pd.NA] and out["gap"].iloc[0] == 1.0
    assert out.index.tolist() == [0, 1]


def test_validation():
    with pytest.raises(ValueError, match="same length"):
        officer_requirement([1000, 2000], [1])
    with pytest.raises(ValueError, match="residents must be finite and >= 0"):
        officer_requirement([-1], [1])
    with pytest.raises(ValueError, match="officers must be numeric"):
        officer_requirement([1000], ["two"])
    with pytest.raises(ValueError, match="residents_per_officer must be a positive number"):
        officer_requirement([1000], [1], residents_per_officer=0)
    assert officer_requirement([], []).empty
