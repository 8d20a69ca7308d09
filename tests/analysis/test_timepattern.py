"""Hour-of-week profiles in Stockholm local time, across DST changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.timepattern import WEEKDAYS, hour_of_week, hour_of_week_table
from problembild.analysis.vocabulary import ALL


def cells(matrix):
    """(weekday, hour, value) of the non-zero cells."""
    return [(int(d), int(h), matrix[d, h]) for d, h in np.argwhere(matrix)]


def test_shape_and_orientation():
    local = pd.DatetimeIndex(["2024-01-08 00:00", "2024-01-14 23:59", "2024-01-10 13:30"])  # Mon, Sun, Wed
    matrix = hour_of_week(local)  # naive = local time
    assert matrix.shape == (7, 24) and matrix.dtype == np.int64
    assert cells(matrix) == [(0, 0, 1), (2, 13, 1), (6, 23, 1)]
    assert len(WEEKDAYS) == 7 and WEEKDAYS[0] == "mån"


def test_utc_is_converted_to_stockholm_time():
    # Winter: UTC+1. Summer: UTC+2. Monday 2024-01-08 23:30 UTC is Tuesday 00:30 locally.
    utc = pd.DatetimeIndex(["2024-01-08 23:30", "2024-07-01 10:15"], tz="UTC")
    assert cells(hour_of_week(utc)) == [(0, 12, 1), (1, 0, 1)]
    stockholm = utc.tz_convert("Europe/Stockholm")
    np.testing.assert_array_equal(hour_of_week(stockholm), hour_of_week(utc))


def test_spring_forward_skips_the_local_hour_two():
    # 2024-03-31 (Sunday): 01:00 UTC = 02:00 CET becomes 03:00 CEST.
    utc = pd.date_range("2024-03-30 23:00", "2024-03-31 02:59", freq="30min", tz="UTC")
    matrix = hour_of_week(utc)
    assert matrix[6, 2] == 0
    assert [matrix[6, h] for h in (0, 1, 3, 4)] == [2, 2, 2, 2]
    assert matrix.sum() == len(utc)


def test_fall_back_counts_the_repeated_hour_twice():
    # 2024-10-27 (Sunday): 01:00 UTC = 03:00 CEST becomes 02:00 CET; local 02:xx occurs twice.
    utc = pd.DatetimeIndex(["2024-10-27 00:30", "2024-10-27 01:30", "2024-10-27 02:30"], tz="UTC")
    assert cells(hour_of_week(utc)) == [(6, 2, 2), (6, 3, 1)]


def test_weights_and_validation():
    ts = pd.DatetimeIndex(["2024-01-08 10:00", "2024-01-08 10:45", "2024-01-09 11:00"])
    weighted = hour_of_week(ts, weights=[10, 0.5, 2])
    assert weighted.dtype == np.float64 and weighted[0, 10] == 10.5 and weighted.sum() == 12.5
    with pytest.raises(ValueError, match="same length"):
        hour_of_week(ts, weights=[1, 2])
    with pytest.raises(ValueError, match="weights contains NaN"):
        hour_of_week(ts, weights=[1, np.nan, 2])
    with pytest.raises(ValueError, match="missing time"):
        hour_of_week(pd.DatetimeIndex(["2024-01-08", pd.NaT]))
    with pytest.raises(ValueError, match="must be datetimes"):
        hour_of_week([1.5, 2.5])
    assert hour_of_week([]).sum() == 0 and hour_of_week([]).shape == (7, 24)


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "area_id": pd.array([1, 1, 2, None], dtype="Int64"),
            "indicator": ["drugs", "shootings", "drugs", "other"],
            "occurred_at": pd.to_datetime(
                ["2024-01-08 22:30", "2024-01-09 03:10", "2024-07-06 12:00", "2024-01-13 00:00"]
            ).tz_localize("UTC"),
        }
    )


def test_table_has_168_rows_per_group_and_an_all_group(frame):
    table = hour_of_week_table(frame)
    assert list(table.columns) == ["area_id", "indicator", "weekday", "hour", "count"]
    sizes = table.groupby(["area_id", "indicator"], dropna=False).size()
    assert (sizes == 168).all() and len(
        sizes
    ) == 4 + 3  # four (area, indicator) pairs plus "all" for 1, 2, NA
    area1 = table[(table["area_id"] == 1) & (table["indicator"] == ALL)]
    np.testing.assert_array_equal(
        area1["count"].to_numpy().reshape(7, 24), hour_of_week(frame["occurred_at"].iloc[:2])
    )
    assert table[table["indicator"] == ALL]["count"].sum() == len(frame)
    assert table["area_id"].isna().tolist()[-1]  # NA area sorts last
    first_area = table[table["area_id"] == 1]["indicator"].unique().tolist()
    assert first_area == ["shootings", "drugs", ALL]  # vocabulary order, "all" last


def test_table_other_groupings_and_empty(frame):
    national = hour_of_week_table(frame, by=())
    assert len(national) == 168 and national["count"].sum() == 4
    per_area = hour_of_week_table(frame, by=("area_id",))
    assert len(per_area) == 3 * 168 and "indicator" not in per_area
    empty = hour_of_week_table(frame.iloc[:0])
    assert empty.empty and list(empty.columns) == ["area_id", "indicator", "weekday", "hour", "count"]
    with pytest.raises(ValueError, match="lacks column"):
        hour_of_week_table(frame, by=("police_area",))
