"""Count tables with explicit zeros, rates per residents, shares and dense ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.indicators import count_table, rank, rates, shares
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES

T = pd.Timestamp


def incidents(rows, tz="Europe/Stockholm"):
    """Frame from (area_id, indicator, local time string[, municipality]) rows."""
    frame = pd.DataFrame(
        rows, columns=["area_id", "indicator", "occurred_at", "municipality"][: len(rows[0])]
    )
    frame["area_id"] = frame["area_id"].astype("Int64")
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.tz_localize(tz)
    return frame


@pytest.fixture
def frame():
    return incidents(
        [
            (1, "shootings", "2024-01-05 12:00", "0180"),
            (1, "drugs", "2024-03-01 10:00", "0180"),
            (1, "drugs", "2024-03-02 10:00", "0180"),
            (2, "drugs", "2024-03-31 23:30", "0180"),
            (None, "other", "2024-02-02 08:00", "0180"),
            (3, "weapons", "2024-02-15 20:00", "1480"),
        ]
    )


def test_count_table_hand_computed(frame):
    table = count_table(frame, period="month", indicators=["drugs", ALL])
    assert list(table.columns) == ["area_id", "indicator", "period_start", "count"]
    assert str(table["period_start"].dtype) == "datetime64[us]"
    assert table["count"].dtype == np.int64
    # 4 keys (1, 2, 3, NA) x 2 indicators x 3 months (Jan-Mar), zeros included.
    assert len(table) == 4 * 2 * 3
    got = table.set_index(["area_id", "indicator", "period_start"])["count"]
    assert got[(1, "drugs", T("2024-03-01"))] == 2
    assert got[(1, "drugs", T("2024-02-01"))] == 0
    assert got[(1, ALL, T("2024-01-01"))] == 1
    assert got[(2, "drugs", T("2024-03-01"))] == 1
    na_rows = table[table["area_id"].isna()]
    assert na_rows.loc[na_rows["indicator"] == ALL, "count"].tolist() == [0, 1, 0]
    # NA key sorts last; indicator order follows the request, "all" last.
    assert table["area_id"].isna().tolist()[-6:] == [True] * 6
    assert table["indicator"].tolist()[:6] == ["drugs"] * 3 + [ALL] * 3


def test_default_indicators_are_vocabulary_then_all(frame):
    table = count_table(frame, period="year")
    assert table["indicator"].unique().tolist() == [*INDICATOR_CODES, ALL]
    assert table["count"].sum() == 2 * len(frame)
    by_key = table.groupby(["area_id", "indicator"], dropna=False)["count"].sum().unstack()
    assert (by_key[list(INDICATOR_CODES)].sum(axis=1) == by_key[ALL]).all()


def test_utc_and_local_input_give_the_same_table(frame):
    utc = frame.assign(occurred_at=frame["occurred_at"].dt.tz_convert("UTC"))
    pd.testing.assert_frame_equal(count_table(frame, period="week"), count_table(utc, period="week"))


def test_stockholm_calendar_decides_the_period():
    late = incidents([(1, "drugs", "2024-03-31 22:30")], tz="UTC")  # 00:30 on 1 April locally
    table = count_table(late, period="month", indicators=[ALL])
    assert table["period_start"].tolist() == [T("2024-04-01")]


def test_first_last_and_keys(frame):
    table = count_table(
        frame,
        period="month",
        indicators=["shootings"],
        first="2023-12-10",
        last="2024-01-31",
        keys=[1, 2, 3, 4],
    )
    assert table["period_start"].unique().tolist() == [T("2023-12-01"), T("2024-01-01")]
    assert table["area_id"].unique().tolist()[:4] == [1, 2, 3, 4]
    assert table["count"].sum() == 1
    # Incidents outside [first, last] do not make their keys appear (NA area is Feb).
    assert not table["area_id"].isna().any()


def test_keys_as_frame_for_several_columns(frame):
    keys = pd.DataFrame({"area_id": pd.array([9], dtype="Int64"), "municipality": ["0180"]})
    table = count_table(frame, period="year", by=("area_id", "municipality"), indicators=[ALL], keys=keys)
    assert table.loc[table["area_id"] == 9, "count"].tolist() == [0]
    with pytest.raises(ValueError, match="keys must be a DataFrame"):
        count_table(frame, period="year", by=("area_id", "municipality"), keys=[1])


def test_national_and_municipality_groupings(frame):
    national = count_table(frame, period="quarter", by=(), indicators=[ALL])
    assert national.to_dict("list") == {"indicator": [ALL], "period_start": [T("2024-01-01")], "count": [6]}
    muni = count_table(frame, period="year", by=("municipality",), indicators=[ALL])
    assert dict(zip(muni["municipality"], muni["count"], strict=True)) == {"0180": 5, "1480": 1}


def test_empty_frame_and_single_incident(frame):
    empty = count_table(frame.iloc[:0], period="month")
    assert empty.empty and list(empty.columns) == ["area_id", "indicator", "period_start", "count"]
    zeros = count_table(frame.iloc[:0], period="month", keys=[5], first="2024-01-01", last="2024-02-01")
    assert len(zeros) == 2 * (len(INDICATOR_CODES) + 1) and zeros["count"].eq(0).all()
    one = count_table(frame.iloc[:1], period="week")
    assert len(one) == len(INDICATOR_CODES) + 1
    assert one.loc[one["indicator"].isin(["shootings", ALL]), "count"].tolist() == [1, 1]


def test_count_table_validation(frame):
    with pytest.raises(ValueError, match=r"frame lacks column\(s\) \['police_area'\]"):
        count_table(frame, period="month", by=("police_area",))
    with pytest.raises(ValueError, match="unknown indicator code"):
        count_table(frame.assign(indicator="robbery"), period="month")
    with pytest.raises(ValueError, match="missing indicator code"):
        count_table(frame.assign(indicator=None), period="month")
    with pytest.raises(ValueError, match="missing time"):
        count_table(frame.assign(occurred_at=pd.NaT), period="month")
    with pytest.raises(ValueError, match="indicators has unknown"):
        count_table(frame, period="month", indicators=["robbery"])
    with pytest.raises(ValueError, match="period must be one of"):
        count_table(frame, period="day")
    with pytest.raises(ValueError, match="by must not contain"):
        count_table(frame, period="month", by=("indicator",))
    with pytest.raises(ValueError, match="after last"):
        count_table(frame, period="month", first="2024-03-01", last="2024-01-01")
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        count_table([1, 2], period="month")


def test_rates_hand_computed_and_unavailable_population(frame):
    counts = count_table(frame, period="year", indicators=[ALL])
    population = pd.Series({1: 1500, 2: 0, 3: np.nan})
    out = rates(counts, population)
    got = out.set_index("area_id")
    assert got.loc[1, "rate"] == pytest.approx(3 / 1500 * 1000)
    assert got.loc[1, "rate_available"]
    for area in (2, 3):  # zero and NaN population
        assert np.isnan(got.loc[area, "rate"]) and not got.loc[area, "rate_available"]
    na_row = out[out["area_id"].isna()].iloc[0]
    assert np.isnan(na_row["rate"]) and not na_row["rate_available"] and np.isnan(na_row["residents"])
    frame_pop = pd.DataFrame({"area_id": [1, 2], "residents": [3000, 10]})
    per_100k = rates(counts, frame_pop, per=100_000).set_index("area_id")
    assert per_100k.loc[1, "rate"] == pytest.approx(100.0)
    assert per_100k.loc[2, "rate"] == pytest.approx(10_000.0)
    assert not per_100k.loc[3, "rate_available"]  # area missing from population


def test_rates_validation(frame):
    counts = count_table(frame, period="year", indicators=[ALL])
    with pytest.raises(ValueError, match="residents must be finite and >= 0"):
        rates(counts, pd.Series({1: -5}))
    with pytest.raises(ValueError, match="duplicate area_id"):
        rates(counts, pd.DataFrame({"area_id": [1, 1], "residents": [10, 20]}))
    with pytest.raises(ValueError, match="'residents' column"):
        rates(counts, pd.DataFrame({"area_id": [1], "pop": [10]}))
    with pytest.raises(ValueError, match="residents must be numeric"):
        rates(counts, pd.Series({1: "many"}))
    with pytest.raises(ValueError, match="per must be a positive number"):
        rates(counts, pd.Series({1: 10}), per=0)


def test_shares_of_the_municipality(frame):
    areas = count_table(frame, period="year", by=("area_id", "municipality"), indicators=[ALL, "shootings"])
    munis = count_table(frame, period="year", by=("municipality",), indicators=[ALL, "shootings"])
    out = shares(areas, munis)
    got = out.set_index(["area_id", "indicator"])
    assert got.loc[(1, ALL), "group_total"] == 5  # includes the incident in no area
    assert got.loc[(1, ALL), "share"] == pytest.approx(3 / 5)
    assert got.loc[(3, ALL), "share"] == pytest.approx(1.0)
    assert np.isnan(got.loc[(3, "shootings"), "share"])  # municipality 1480 had no shootings
    assert out.index.equals(areas.index)
    with pytest.raises(ValueError, match="several rows"):
        shares(areas, pd.concat([munis, munis]))


def test_rank_dense_with_ties_groups_and_missing():
    values = pd.Series({"a": 10.0, "b": 8.0, "c": 8.0, "d": 5.0, "e": np.nan})
    groups = {"a": "x", "b": "y", "c": "x", "d": "x", "e": "x"}
    out = rank(values, groups=groups)
    assert out["rank"].tolist() == [1, 2, 2, 3, pd.NA]
    assert out["n_ranked"].unique().tolist() == [4]
    assert out["group_rank"].tolist() == [1, 1, 2, 3, pd.NA]
    assert out["group_n"].tolist() == [3, 1, 3, 3, 3]
    plain = rank([3, 3, 1])
    assert plain["rank"].tolist() == [1, 1, 2] and "group_rank" not in plain
    with pytest.raises(ValueError, match="same length"):
        rank([1, 2], groups=["x"])
    with pytest.raises(ValueError, match="values must be numeric"):
        rank(["high", "low"])


def _reference_counts(frame, period, by, codes, first, last, keys):
    """count_table by the plain pandas route: groupby, then merge onto the full grid."""
    from problembild.analysis.periods import complete_periods, period_start

    events = frame.assign(period_start=period_start(frame["occurred_at"], period))
    lo, hi = period_start(first, period), period_start(last, period)
    events = events[(events["period_start"] >= lo) & (events["period_start"] <= hi)]
    key_frame = events[list(by)].drop_duplicates()
    if keys is not None:
        key_frame = pd.concat([key_frame, keys.astype(key_frame.dtypes.to_dict())]).drop_duplicates()
    ordered = [c for c in (*INDICATOR_CODES, ALL) if c in codes]
    grid = key_frame.merge(pd.DataFrame({"indicator": ordered}), how="cross").merge(
        pd.DataFrame({"period_start": complete_periods(lo, hi, period)}), how="cross"
    )
    specific = events.groupby([*by, "indicator", "period_start"], dropna=False).size().rename("n")
    total = events.groupby([*by, "period_start"], dropna=False).size().rename("n").reset_index()
    counted = pd.concat([specific.reset_index(), total.assign(indicator=ALL)])
    table = grid.merge(counted, on=[*by, "indicator", "period_start"], how="left")
    table["count"] = table["n"].fillna(0).astype(np.int64)
    table["_o"] = table["indicator"].map({c: i for i, c in enumerate(ordered)})
    return table.sort_values([*by, "_o", "period_start"], na_position="last").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(12))
def test_count_table_equals_a_plain_groupby(seed):
    """The bincount implementation against groupby + merge on random frames (NA keys, extras)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    area = pd.array(rng.integers(0, 6, n), dtype="Int64")
    area[rng.random(n) < 0.2] = pd.NA
    frame = pd.DataFrame(
        {
            "area_id": area,
            "municipality": rng.choice(["0180", "1480", "1280"], n),
            "indicator": rng.choice(list(INDICATOR_CODES), n),
            "occurred_at": pd.to_datetime(rng.integers(1_640_000_000, 1_720_000_000, n), unit="s", utc=True),
        }
    )
    period = ["week", "month", "quarter", "year"][seed % 4]
    by = [("area_id",), ("municipality",), ("area_id", "municipality")][seed % 3]
    codes = list(rng.choice([*INDICATOR_CODES, ALL], int(rng.integers(1, 10)), replace=False))
    first, last = T("2022-06-15", tz="UTC"), T("2024-02-01", tz="UTC")
    keys = None
    if seed % 2:
        keys = pd.DataFrame({"area_id": pd.array([7, 2], dtype="Int64"), "municipality": ["0999", "0180"]})
        keys = keys[list(by)]
    got = count_table(frame, period=period, by=by, indicators=codes, first=first, last=last, keys=keys)
    want = _reference_counts(frame, period, by, codes, first, last, keys)
    assert len(got) == len(want)
    for col in by:
        assert got[col].astype(object).tolist() == want[col].astype(object).tolist()
    assert got["indicator"].tolist() == want["indicator"].tolist()
    assert (got["period_start"].to_numpy() == want["period_start"].to_numpy()).all()
    assert got["count"].tolist() == want["count"].tolist()
