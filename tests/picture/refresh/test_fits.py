"""Trend fits kept between refreshes: the same series is answered from the last run, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from problembild.analysis.trend import fit_trend
from problembild.picture.refresh.fits import FitMemo

STARTS = pd.date_range("2021-01-01", periods=36, freq="MS")


def series(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).poisson(20, len(STARTS)).astype(float)


def same(a, b) -> bool:
    return (a.status, a.rate_ratio, a.p_value, a.mark()) == (
        b.status,
        b.rate_ratio,
        b.p_value,
        b.mark(),
    ) and (np.array_equal(a.trend, b.trend) and np.array_equal(a.fitted, b.fitted))


def test_the_next_run_answers_the_same_series_from_the_last_and_fits_the_others(tmp_path, monkeypatch):
    path = tmp_path / "fits.pkl"
    first = FitMemo(path)
    a = first.fit(series(1), STARTS, period="month")
    first.fit(series(2), STARTS)
    assert first.hits == 0 and same(a, fit_trend(series(1), STARTS, period="month"))
    first.save()

    calls = []
    from problembild.picture.refresh import fits

    monkeypatch.setattr(fits, "fit_trend", lambda *args, **kw: calls.append(1) or fit_trend(*args, **kw))
    second = FitMemo(path)
    assert same(second.fit(series(1), STARTS, period="month"), a) and second.hits == 1 and not calls
    second.fit(series(1), STARTS, period="month", seasonal=False)  # other options: fitted
    second.fit(series(3), STARTS)  # another series: fitted
    assert len(calls) == 2
    second.save()
    # A fit not asked for is kept for KEEP_RUNS runs after its last use (a run that
    # recomputes no area keeps the areas' fits), then dropped: the file does not grow.
    for _ in range(fits.KEEP_RUNS - 2):
        FitMemo(path).save()
    third = FitMemo(path)
    third.fit(series(2), STARTS)
    assert third.hits == 1 and len(calls) == 2
    FitMemo(path).save()
    fourth = FitMemo(path)
    fourth.fit(series(2), STARTS)
    assert fourth.hits == 0 and len(calls) == 3


def test_full_runs_and_unreadable_files_fit_everything(tmp_path):
    path = tmp_path / "fits.pkl"
    memo = FitMemo(path)
    memo.fit(series(1), STARTS)
    memo.save()
    full = FitMemo(path, reuse=False)
    full.fit(series(1), STARTS)
    assert full.hits == 0
    path.write_bytes(b"not a pickle")
    broken = FitMemo(path)
    broken.fit(series(1), STARTS)
    assert broken.hits == 0
    off = FitMemo(None)
    off.fit(series(1), STARTS)
    off.save()  # nothing kept, nothing raised
    assert off.hits == 0


def test_parts_of_the_same_series_and_code_are_taken_from_the_last_run(tmp_path):
    """The unusual weeks and trends of an area whose series stood: the same frame (whatever
    its index), name and code give the kept result; another value, dtype, name or code
    computes it."""
    from problembild.analysis import control
    from problembild.picture.refresh import documents

    path = tmp_path / "fits.pkl"
    weekly = pd.DataFrame(
        {
            "area_id": 7,
            "indicator": "all",
            "period_start": pd.date_range("2022-01-03", periods=120, freq="W-MON"),
            "count": np.random.default_rng(5).poisson(9, 120),
        }
    )
    weekly.loc[100, "count"] = 60  # an unusual week
    code = (documents, control)
    first = FitMemo(path)
    weeks = first.part("unusual_weeks", weekly, documents.unusual_weeks, code=code)
    assert weeks == documents.unusual_weeks(weekly) and weeks and first.parts == {"computed": 1, "reused": 0}
    first.save()

    calls = []

    def counted(frame):
        calls.append(1)
        return documents.unusual_weeks(frame)

    second = FitMemo(path)
    shifted = weekly.set_axis(weekly.index + 500)  # the same rows further down a longer table
    assert second.part("unusual_weeks", shifted, counted, code=code) == weeks and not calls
    changed = weekly.assign(count=weekly["count"].where(weekly.index != 3, 10_000))
    second.part("unusual_weeks", changed, counted, code=code)
    second.part("unusual_weeks", weekly.astype({"count": "float64"}), counted, code=code)
    second.part("other", weekly, counted, code=code)
    second.part("unusual_weeks", weekly, counted, code=(documents,))
    assert len(calls) == 4 and second.parts == {"computed": 4, "reused": 1}
    assert FitMemo(path, reuse=False).part("unusual_weeks", weekly, counted, code=code) == weeks
    assert len(calls) == 5
