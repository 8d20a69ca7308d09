"""Calendar periods in Swedish local time: starts, labels, shifts, parsing, ranges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from problembild.analysis.periods import (
    PERIODS,
    complete_periods,
    parse_period,
    period_days,
    period_label,
    period_start,
    previous,
    same_last_year,
    to_local,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T = pd.Timestamp


def test_utc_new_years_eve_is_new_year_in_stockholm():
    ts = pd.Series(pd.to_datetime(["2024-12-31 23:30"]).tz_localize("UTC"), index=[7])
    assert period_start(ts, "year").tolist() == [T("2025-01-01")]
    assert period_start(ts, "quarter").tolist() == [T("2025-01-01")]
    assert period_start(ts, "month").tolist() == [T("2025-01-01")]
    assert period_start(ts, "week").tolist() == [T("2024-12-30")]
    assert period_start(ts, "week").index.tolist() == [7]
    assert period_label(ts, "week").tolist() == ["2025-W01"]
    assert period_label(ts, "year").tolist() == ["2025"]


def test_stockholm_and_utc_input_agree():
    local = pd.date_range("2024-01-01", "2024-12-31 23:00", freq="7h", tz="Europe/Stockholm")
    for period in PERIODS:
        a = period_start(local, period)
        b = period_start(local.tz_convert("UTC"), period)
        c = period_start(local.tz_localize(None), period)
        assert a.equals(b) and a.equals(c)
        assert str(a.dtype) == "datetime64[us]"


def test_week_starts_on_monday_midnight():
    sunday_night = T("2024-01-07 23:59:59")
    monday = T("2024-01-08 00:00")
    assert period_start(sunday_night, "week") == T("2024-01-01")
    assert period_start(monday, "week") == monday
    assert period_start(monday, "week").day_of_week == 0


def test_scalar_in_scalar_out_and_nat_propagates():
    assert isinstance(period_start("2024-05-17 13:00", "month"), pd.Timestamp)
    assert period_start("2024-05-17 13:00", "quarter") == T("2024-04-01")
    assert period_label(dt.date(2024, 5, 17), "quarter") == "2024-Q2"
    assert pd.isna(period_start(pd.NaT, "week"))
    assert period_label(pd.NaT, "week") == ""
    idx = period_start(pd.DatetimeIndex(["2024-02-10", pd.NaT]), "month")
    assert idx[0] == T("2024-02-01") and pd.isna(idx[1])


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        ("2020-12-31", "2020-12-28", "2020-W53"),  # 2020 has 53 ISO weeks
        ("2021-01-03", "2020-12-28", "2020-W53"),  # ...running into January 2021
        ("2021-01-04", "2021-01-04", "2021-W01"),
        ("2026-12-31", "2026-12-28", "2026-W53"),
        ("2024-12-30", "2024-12-30", "2025-W01"),  # ISO year differs from calendar year
        ("2027-01-01", "2026-12-28", "2026-W53"),
        ("2024-01-17", "2024-01-15", "2024-W03"),
    ],
)
def test_iso_weeks_at_year_boundaries(day, start, label):
    assert period_start(day, "week") == T(start)
    assert period_label(day, "week") == label
    assert parse_period(label) == ("week", T(start))


@pytest.mark.parametrize(
    ("label", "period", "start"),
    [
        ("2024", "year", "2024-01-01"),
        ("2024-Q1", "quarter", "2024-01-01"),
        ("2024-q4", "quarter", "2024-10-01"),
        ("2024-01", "month", "2024-01-01"),
        ("2024-12", "month", "2024-12-01"),
        ("2024-W03", "week", "2024-01-15"),
        ("2024-w52", "week", "2024-12-23"),
        (" 2024-02 ", "month", "2024-02-01"),
    ],
)
def test_parse_period(label, period, start):
    assert parse_period(label) == (period, T(start))


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("2021-W53", "weeks 01-52"),
        ("2024-W00", "weeks 01-52"),
        ("2024-W54", "weeks 01-52"),
        ("2024-13", "month must be 01-12"),
        ("2024-00", "month must be 01-12"),
        ("2024-Q0", "quarter must be 1-4"),
        ("2024-Q5", "quarter must be 1-4"),
        ("2024-W3", "expected 'YYYY'"),
        ("2024-1", "expected 'YYYY'"),
        ("24", "expected 'YYYY'"),
        ("", "expected 'YYYY'"),
        ("2024-01-01", "expected 'YYYY'"),
        ("2024/01", "expected 'YYYY'"),
        ("0999", "1000 or later"),
        ("٢٠٢٤", "expected 'YYYY'"),  # non-ASCII digits
    ],
)
def test_parse_period_errors_name_the_label(label, fragment):
    with pytest.raises(ValueError, match="invalid period label") as info:
        parse_period(label)
    assert fragment in str(info.value)
    assert repr(label) in str(info.value)


@pytest.mark.parametrize("label", [None, 2024, b"2024"])
def test_parse_period_rejects_non_strings(label):
    with pytest.raises(ValueError, match="must be a string"):
        parse_period(label)


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)),
    period=st.sampled_from(PERIODS),
)
def test_label_round_trips_through_parse(day, period):
    start = period_start(day, period)
    assert start <= T(day) < start + pd.Timedelta(days=period_days(start, period)[0])
    assert parse_period(period_label(start, period)) == (period, start)
    assert period_label(day, period) == period_label(start, period)
    assert (
        previous(start, period) + pd.Timedelta(days=period_days(previous(start, period), period)[0]) == start
    )


def test_previous():
    assert previous("2024-01-15", "month") == T("2023-12-01")
    assert previous("2024-01-01", "week") == T("2023-12-25")
    assert previous("2024-02-10", "quarter") == T("2023-10-01")
    assert previous("2024-07-01", "year") == T("2023-01-01")


def test_same_last_year_months_quarters_years():
    assert same_last_year("2024-02-29 12:00", "month") == T("2023-02-01")
    assert same_last_year("2024-05-01", "quarter") == T("2023-04-01")
    assert same_last_year("2024-05-01", "year") == T("2023-01-01")


def test_same_last_year_weeks_match_iso_week_numbers():
    assert period_label(same_last_year(parse_period("2021-W05")[1], "week"), "week") == "2020-W05"
    # 2021-W01 starts 2021-01-04; 2020-W01 started 2019-12-30.
    assert same_last_year("2021-01-04", "week") == T("2019-12-30")
    # Week 53 of 2020 has no counterpart in 2019 (52 weeks): use 2019-W52.
    assert same_last_year("2020-12-28", "week") == parse_period("2019-W52")[1]
    # A 53-week year is the comparison for the next year's week 52 and (none for) 53.
    assert same_last_year(parse_period("2021-W52")[1], "week") == parse_period("2020-W52")[1]
    series = pd.Series(pd.to_datetime(["2021-01-04", None]))
    shifted = same_last_year(series, "week")
    assert shifted.iloc[0] == T("2019-12-30") and pd.isna(shifted.iloc[1])


def test_period_days():
    starts = pd.DatetimeIndex(["2024-02-01", "2023-02-01", "2024-01-01"])
    assert period_days(starts, "month").tolist() == [29.0, 28.0, 31.0]
    assert period_days(starts, "year").tolist() == [366.0, 365.0, 366.0]
    assert period_days(starts, "week").tolist() == [7.0, 7.0, 7.0]
    assert period_days(starts, "quarter").tolist() == [91.0, 90.0, 91.0]


def test_complete_periods():
    months = complete_periods("2023-11-20", "2024-02-01", "month")
    assert list(months) == [T("2023-11-01"), T("2023-12-01"), T("2024-01-01"), T("2024-02-01")]
    assert months.name == "period_start" and str(months.dtype) == "datetime64[us]"
    weeks = complete_periods("2020-12-27", "2021-01-11", "week")
    assert [period_label(w, "week") for w in weeks] == ["2020-W52", "2020-W53", "2021-W01", "2021-W02"]
    assert list(complete_periods("2024-05-05", "2024-05-06", "year")) == [T("2024-01-01")]
    quarters = complete_periods("2023-12-31", "2024-07-01", "quarter")
    assert [period_label(q, "quarter") for q in quarters] == ["2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"]


def test_complete_periods_errors():
    with pytest.raises(ValueError, match="after last"):
        complete_periods("2024-03-01", "2024-01-01", "month")
    with pytest.raises(ValueError, match="first must be a single"):
        complete_periods(pd.NaT, "2024-01-01", "month")
    with pytest.raises(ValueError, match="period must be one of"):
        complete_periods("2024-01-01", "2024-02-01", "day")


def test_to_local_handles_mixed_offsets_and_rejects_bad_input():
    winter = dt.datetime(2024, 1, 1, 12, tzinfo=STOCKHOLM)
    summer = dt.datetime(2024, 7, 1, 12, tzinfo=STOCKHOLM)
    utc = dt.datetime(2024, 7, 1, 10, tzinfo=dt.UTC)
    expected = [T("2024-01-01 12:00"), T("2024-07-01 12:00"), T("2024-07-01 12:00")]
    assert list(to_local([winter, summer, utc])) == expected
    strings = ["2024-01-01T12:00:00+01:00", "2024-07-01T12:00:00+02:00"]
    assert list(to_local(strings)) == [T("2024-01-01 12:00"), T("2024-07-01 12:00")]
    with pytest.raises(ValueError, match="mixes naive and tz-aware"):
        to_local([winter, dt.datetime(2024, 1, 1)])
    with pytest.raises(ValueError, match="must be datetimes"):
        to_local([1, 2, 3])
    with pytest.raises(ValueError, match="unparsable"):
        to_local(["2024-01-01", "not a date"])


def test_invalid_period_names_the_argument():
    with pytest.raises(ValueError, match="period must be one of"):
        period_start("2024-01-01", "fortnight")
    with pytest.raises(ValueError, match="period must be one of"):
        period_label("2024-01-01", None)


def test_dst_does_not_move_period_boundaries():
    # Summer time starts 2024-03-31 02:00 local: 00:30 UTC is 01:30, 01:30 UTC is 03:30.
    ts = pd.DatetimeIndex(["2024-03-31 00:30", "2024-03-31 01:30", "2024-03-31 22:30"], tz="UTC")
    # ...and 22:30 UTC is already Monday 1 April 00:30 local.
    assert list(period_start(ts, "week")) == [T("2024-03-25"), T("2024-03-25"), T("2024-04-01")]
    assert list(period_start(ts, "month")) == [T("2024-03-01"), T("2024-03-01"), T("2024-04-01")]
    assert np.all(period_start(ts, "week").hour == 0)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_period_start_of_many_times_equals_pandas_calendar(unit):
    """Many times go through a per-day table; the starts equal pandas' own calendar."""
    rng = np.random.default_rng(3)
    seconds = rng.integers(-3 * 365 * 86_400, 8 * 365 * 86_400, 30_000)  # across 1970 too
    times = pd.Series(
        (np.datetime64("1968-06-01", "s") + seconds.astype("timedelta64[s]")).astype(f"M8[{unit}]")
    )
    times[::997] = pd.NaT
    day = times.dt.normalize()
    want = {
        "week": day - pd.to_timedelta(day.dt.day_of_week, unit="D"),
        "month": times.dt.to_period("M").dt.start_time,
        "quarter": times.dt.to_period("Q").dt.start_time,
        "year": times.dt.to_period("Y").dt.start_time,
    }
    for period, expected in want.items():
        got = period_start(times, period)
        pd.testing.assert_series_equal(got, expected.astype("datetime64[us]"), check_names=False)
