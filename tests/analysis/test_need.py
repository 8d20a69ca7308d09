"""Harm weights (defaults and TOML files) and the need index per 1,000 residents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.need import (
    DEFAULT_HARM_WEIGHTS,
    DEFAULT_WEIGHTS_PATH,
    HarmWeights,
    load_weights,
    need_index,
)
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES


def test_shipped_file_matches_the_defaults():
    loaded = load_weights(DEFAULT_WEIGHTS_PATH)
    assert dict(loaded.weights) == dict(DEFAULT_HARM_WEIGHTS)
    assert set(DEFAULT_HARM_WEIGHTS) == set(INDICATOR_CODES)
    assert loaded.warnings == () and loaded.source == str(DEFAULT_WEIGHTS_PATH)


def write(tmp_path, text):
    path = tmp_path / "weights.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_indicators_get_zero_with_a_warning(tmp_path):
    loaded = load_weights(write(tmp_path, "[weights]\nshootings = 12\ndrugs = 1.5\n"))
    assert loaded.weights["shootings"] == 12.0 and loaded.weights["drugs"] == 1.5
    assert loaded.weights["explosions"] == 0.0
    assert len(loaded.warnings) == len(INDICATOR_CODES) - 2
    assert all(str(tmp_path) in w for w in loaded.warnings)
    assert any("'explosions'" in w for w in loaded.warnings)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[weights]\nrobbery = 3\n", "unknown indicator(s) ['robbery']"),
        ("[weights]\nall = 1\n", "would count incidents twice"),
        ("[weights]\nshootings = -1\n", "weight 'shootings' must be a finite number >= 0"),
        ('[weights]\nshootings = "ten"\n', "weight 'shootings' must be a number"),
        ("[weights]\nshootings = true\n", "weight 'shootings' must be a number"),
        ("[weights]\nshootings = nan\n", "weight 'shootings' must be a finite number"),
        ("shootings = 10\n", "expected a [weights] table"),
        ("[weights\nshootings = 10\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_key(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_weights(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read weights file"):
        load_weights(tmp_path / "nope.toml")


def test_need_index_hand_computed():
    counts = pd.DataFrame(
        {
            "area_id": [1, 1, 1, 2, 2, 3, 1, 1],
            "indicator": ["shootings", "drugs", "drugs", "drugs", "other", "weapons", ALL, "shootings"],
            "period_start": pd.to_datetime(["2024-01-01"] * 8),
            "count": [2, 6, 4, 5, 10, 1, 99, 1],
        }
    )
    population = pd.Series({1: 4000, 2: 2000, 3: np.nan, 4: 500})
    weights = {"shootings": 10, "drugs": 2, "other": 0.5}
    out = need_index(counts, population, weights).set_index("area_id")
    # Area 1: 3 shootings x 10 + 10 drugs x 2 = 50 -> 50 / 4000 x 1000 = 12.5 ("all" ignored).
    assert out.loc[1, "weighted_total"] == 50.0
    assert out.loc[1, "need_index"] == pytest.approx(12.5)
    assert out.loc[1, "component_shootings"] == pytest.approx(7.5)
    assert out.loc[1, "component_drugs"] == pytest.approx(5.0)
    # Area 2: 5 x 2 + 10 x 0.5 = 15 -> 7.5 per 1,000.
    assert out.loc[2, "need_index"] == pytest.approx(7.5)
    # Area 3 has no population: total known, index unavailable.
    assert out.loc[3, "weighted_total"] == 0.0  # weapons not weighted here
    assert np.isnan(out.loc[3, "need_index"]) and pd.isna(out.loc[3, "rank"])
    assert not out.loc[3, "available"] and out.loc[3, "reason"] == "no population figure"
    # Area 4 has residents but no incidents.
    assert out.loc[4, "need_index"] == 0.0 and out.loc[4, "available"]
    assert out["rank"].tolist() == [1, 2, pd.NA, 3]
    components = out[[f"component_{c}" for c in INDICATOR_CODES]].sum(axis=1)
    np.testing.assert_allclose(components[[1, 2, 4]], out.loc[[1, 2, 4], "need_index"])


def test_need_index_defaults_and_edge_cases():
    counts = pd.DataFrame(
        {"area_id": pd.array([1, None, 2], dtype="Int64"), "indicator": ["shootings"] * 3, "count": [1, 7, 1]}
    )
    out = need_index(counts, pd.DataFrame({"area_id": [1, 2], "residents": [1000, 0]}))
    assert out["area_id"].tolist() == [1, 2]  # the incident in no area is ignored
    assert out.loc[0, "need_index"] == pytest.approx(DEFAULT_HARM_WEIGHTS["shootings"])
    assert out.loc[1, "reason"] == "population is 0" and np.isnan(out.loc[1, "need_index"])
    per_10k = need_index(counts, pd.Series({1: 1000}), per=10_000)
    assert per_10k.loc[0, "need_index"] == pytest.approx(100.0)
    file_weights = HarmWeights(weights={"shootings": 1.0}, source="x")
    assert need_index(counts, pd.Series({1: 1000}), file_weights).loc[0, "need_index"] == 1.0
    empty = need_index(counts.iloc[:0], pd.Series({5: 100}))
    assert empty["need_index"].tolist() == [0.0] and empty["rank"].tolist() == [1]
    nothing = need_index(counts.iloc[:0], pd.Series([], dtype=float))
    assert nothing.empty


def test_need_index_validation():
    counts = pd.DataFrame({"area_id": [1], "indicator": ["drugs"], "count": [1]})
    population = pd.Series({1: 100})
    with pytest.raises(ValueError, match="unknown indicator"):
        need_index(counts, population, {"robbery": 1})
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        need_index(counts, population, {"drugs": -2})
    with pytest.raises(ValueError, match="must be non-missing and >= 0"):
        need_index(counts.assign(count=-1), population)
    with pytest.raises(ValueError, match="lacks column"):
        need_index(counts.drop(columns="indicator"), population)
    with pytest.raises(ValueError, match="weights must be a mapping"):
        need_index(counts, population, [("drugs", 1)])
