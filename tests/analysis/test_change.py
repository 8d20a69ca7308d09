"""Change tables: each period against the previous one and last year; the re-exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis import change, control, ratetest, trend
from problembild.analysis.change import change_table
from problembild.analysis.indicators import count_table
from problembild.analysis.ratetest import poisson_rate_test

T = pd.Timestamp


def test_former_names_are_still_importable_from_change():
    from problembild.analysis.change import (  # noqa: F401
        ALTERNATIVES,
        FAMILIES,
        OVERDISPERSION_THRESHOLD,
        RateTestResult,
        TrendResult,
        control_flags,
        fit_trend,
        poisson_rate_test,
        poisson_rate_test_many,
    )

    assert change.fit_trend is trend.fit_trend and change.TrendResult is trend.TrendResult
    assert change.control_flags is control.control_flags
    assert change.poisson_rate_test is ratetest.poisson_rate_test
    assert change.poisson_rate_test_many is ratetest.poisson_rate_test_many


def monthly(values, start="2023-01-01", key=1):
    starts = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"area_id": key, "indicator": "drugs", "period_start": starts, "count": values})


def test_change_table_hand_computed():
    counts = monthly([10, 12, 0, 5, 0, 0, 1, 2, 3, 4, 5, 6, 30, 12])
    out = change_table(counts, "month")
    assert len(out) == len(counts) and out.index.equals(counts.index)
    first = out.iloc[0]
    assert pd.isna(first["previous_count"]) and pd.isna(first["last_year_count"])
    assert np.isnan(first["previous_p_value"]) and first["previous_mark"] == ""
    feb = out.iloc[1]
    assert feb["period_label"] == "2023-02"
    assert (feb["previous_count"], feb["previous_change"]) == (10, 2)
    assert feb["previous_rel_change"] == pytest.approx(0.2)
    # Daily rates: 12 in 28 days vs 10 in 31 days.
    expected = poisson_rate_test(12, 28, 10, 31).p_value
    assert feb["previous_p_value"] == pytest.approx(expected, abs=1e-12)
    apr = out.iloc[3]  # 5 after 0: relative change undefined, absolute change known
    assert np.isnan(apr["previous_rel_change"]) and apr["previous_change"] == 5
    jan24 = out.iloc[12]
    assert jan24["last_year_start"] == T("2023-01-01")
    assert (jan24["last_year_count"], jan24["last_year_change"]) == (10, 20)
    assert jan24["previous_mark"] == "↑" and jan24["last_year_mark"] == "↑"
    assert out.iloc[13]["previous_mark"] == "↓"
    assert out.iloc[13]["last_year_mark"] == ""  # 12 vs 12
    zero = out.iloc[5]
    assert zero["previous_p_value"] == 1.0 and zero["previous_mark"] == ""
    assert str(out["previous_count"].dtype) == "Int64"


def test_change_table_keys_do_not_mix():
    counts = pd.concat([monthly([1, 2, 3], key=1), monthly([50, 60, 70], key=2)], ignore_index=True)
    out = change_table(counts.iloc[::-1], "month")  # row order is kept, not assumed
    got = out.set_index(["area_id", "period_start"])
    assert got.loc[(2, T("2023-02-01")), "previous_count"] == 50
    assert got.loc[(1, T("2023-03-01")), "previous_count"] == 2
    assert out.index.tolist() == counts.index[::-1].tolist()


def test_change_table_from_count_table_weeks():
    frame = pd.DataFrame(
        {
            "area_id": [1, 1, 1],
            "indicator": ["drugs", "drugs", "shootings"],
            "occurred_at": pd.to_datetime(["2020-12-29", "2021-12-28", "2021-12-29"]).tz_localize("UTC"),
        }
    )
    table = count_table(frame, period="week", indicators=["drugs"], first="2020-12-01")
    out = change_table(table, "week")
    last = out.iloc[-1]
    assert last["period_label"] == "2021-W52"
    assert last["last_year_start"] == T("2020-12-21")  # 2020-W52
    assert last["last_year_count"] == 0  # the 2020 incident was in W53


def test_change_table_validation():
    counts = monthly([1, 2, 3])
    with pytest.raises(ValueError, match="several rows"):
        change_table(pd.concat([counts, counts]), "month")
    with pytest.raises(ValueError, match="must hold month starts"):
        change_table(counts.assign(period_start=counts["period_start"] + pd.Timedelta(days=3)), "month")
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        change_table(counts.assign(count=[1, -2, 3]), "month")
    with pytest.raises(ValueError, match="lacks column"):
        change_table(counts.drop(columns="count"), "month")
    with pytest.raises(ValueError, match="alpha must be below 1"):
        change_table(counts, "month", alpha=1.5)
    assert change_table(counts.iloc[:0], "month").empty
