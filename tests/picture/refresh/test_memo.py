"""The digest and record behind the stages a refresh skips when their inputs stood."""

from __future__ import annotations

import numpy as np
import pandas as pd

from problembild.analysis import change
from problembild.picture.refresh.memo import StageMemo, digest


def test_digest_tells_values_types_order_and_code_apart():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert digest(frame) == digest(frame.copy())
    assert digest(frame) != digest(frame.assign(a=[1, 3]))
    assert digest(frame) != digest(frame.astype({"a": "float64"}))  # equal numbers, other type
    assert digest(frame) != digest(frame.iloc[::-1])  # the same rows in another order
    assert digest(frame) != digest(frame.rename(columns={"b": "c"}))
    assert digest(pd.Series([1, 2], name="n")) != digest(pd.Series([1, 2], name="m"))
    assert digest(np.arange(3)) != digest(np.arange(3).astype(np.int32))
    assert digest([1, 2], "x") != digest([1, 2], "y")
    assert digest(frame) != digest(frame, code=(change,))


def test_the_record_answers_only_its_key_and_not_when_full(tmp_path):
    memo = StageMemo(tmp_path, "values")
    assert memo.facts("k") is None
    memo.remember("k", rows=7)
    assert memo.facts("k") == {"rows": 7}
    assert memo.facts("other") is None
    assert StageMemo(tmp_path, "values", reuse=False).facts("k") is None  # refresh --full
    memo.forget()
    assert memo.facts("k") is None
    (tmp_path / "stage-values.json").write_text("not json")
    assert memo.facts("k") is None
    nowhere = StageMemo(None, "values")  # nothing kept
    nowhere.remember("k", rows=1)
    assert nowhere.facts("k") is None
