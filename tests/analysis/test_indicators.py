"""Count tables with explicit zeros, rates per residents, shares and dense ranks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from esda.smoothing import Empirical_Bayes
from scipy import stats
from statsmodels.stats.rates import confint_poisson

from problembild.analysis.indicators import (
    count_table,
    day_cube,
    day_cube_table,
    group_rates,
    rank,
    rate_intervals,
    rates,
    shares,
    shrunk_rates,
)
from problembild.analysis.periods import local_seconds, to_local
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


# --------------------------------------------------------------------------- small-area rates


def test_rate_intervals_are_statsmodels_exact_poisson_intervals():
    counts = pd.Series([0, 1, 5, 40, 7], index=[11, 12, 13, 14, 15])
    residents = pd.Series({11: 2000, 12: 1500, 13: 2000, 14: 30000, 15: 0})
    out = rate_intervals(counts, residents)
    assert list(out.columns) == ["count", "residents", "rate", "rate_low", "rate_high"]
    assert out.index.tolist() == [11, 12, 13, 14, 15]
    for key in (11, 12, 13, 14):
        low, high = confint_poisson(counts[key], residents[key], method="exact-c")
        row = out.loc[key]
        assert row["rate"] == pytest.approx(counts[key] / residents[key] * 1000)
        assert (row["rate_low"], row["rate_high"]) == pytest.approx((low * 1000, high * 1000), rel=1e-9)
    # By hand: no events in 2,000 residents, 95 %: upper -ln(0.025) = 3.689 events.
    assert out.loc[11, "rate_high"] == pytest.approx(-math.log(0.025) / 2000 * 1000, rel=1e-9)
    assert out.loc[15, ["rate", "rate_low", "rate_high"]].isna().all()  # no residents
    wider = rate_intervals(counts, residents, level=0.99)
    assert (wider["rate_high"] > out["rate_high"]).loc[[11, 12, 13, 14]].all()


def test_shrunk_rates_are_esdas_empirical_bayes_and_the_poisson_gamma_posterior():
    rng = np.random.default_rng(1)
    residents = rng.integers(1500, 40000, 59).astype(float)
    counts = rng.poisson(rng.gamma(5, 0.004 / 5, 59) * residents)
    out = shrunk_rates(pd.Series(counts), pd.Series(residents))
    np.testing.assert_allclose(
        out["shrunk_rate"], Empirical_Bayes(counts, residents).r.ravel() * 1000, rtol=1e-10
    )
    m, variance = out.attrs["prior_mean"] / 1000, out.attrs["prior_variance"] / 1e6
    assert m == pytest.approx(counts.sum() / residents.sum())
    shape, rate = m * m / variance + counts, m / variance + residents
    np.testing.assert_allclose(out["shrunk_low"], stats.gamma.ppf(0.025, shape, scale=1 / rate) * 1000)
    np.testing.assert_allclose(out["shrunk_high"], stats.gamma.ppf(0.975, shape, scale=1 / rate) * 1000)
    assert ((out["shrunk_low"] <= out["shrunk_rate"]) & (out["shrunk_rate"] <= out["shrunk_high"])).all()
    # Small areas move most: the weight of an area's own rate grows with its residents.
    order = np.argsort(residents)
    assert np.all(np.diff(out["weight"].to_numpy()[order]) > 0)


def test_shrunk_rates_hand_computed():
    """Three areas: 2/1000, 30/10000, 50/10000 residents. m = 82/21000; s² = sum(n (r - m)²)
    / sum(n); A = s² - m / mean(n); weights A / (A + m / n)."""
    counts = pd.Series([2, 30, 50], index=["a", "b", "c"])
    residents = pd.Series({"a": 1000, "b": 10000, "c": 10000})
    n = np.array([1000.0, 10000, 10000])
    r = np.array([2, 30, 50]) / n
    m = 82 / 21000
    s2 = np.sum(n * (r - m) ** 2) / n.sum()
    between = s2 - m / n.mean()
    assert between > 0
    weight = between / (between + m / n)
    out = shrunk_rates(counts, residents, per=1000)
    np.testing.assert_allclose(out["weight"], weight)
    np.testing.assert_allclose(out["shrunk_rate"], (m + weight * (r - m)) * 1000)
    assert out.loc["a", "rate"] == 2.0 and out.loc["a", "weight"] < out.loc["b", "weight"]


def test_rates_that_vary_like_poisson_counts_shrink_to_the_common_rate():
    """Equal true rates: the between-area variance estimate is negative, set to 0; every area
    gets the common rate and the exact interval of all events over all residents."""
    counts = pd.Series([10, 21, 29])
    residents = pd.Series([1000, 2000, 3000])
    out = shrunk_rates(counts, residents)
    assert out.attrs["prior_variance"] == 0
    np.testing.assert_allclose(out["shrunk_rate"], 60 / 6000 * 1000)
    low, high = confint_poisson(60, 6000, method="exact-c")
    np.testing.assert_allclose(out["shrunk_low"], low * 1000)
    np.testing.assert_allclose(out["shrunk_high"], high * 1000)
    assert (out["weight"] == 0).all()


def test_shrunk_rates_without_residents_or_events():
    out = shrunk_rates(pd.Series([3, 4]), pd.Series([np.nan, 0]))
    assert out[["rate", "shrunk_rate", "shrunk_high"]].isna().all().all()
    none = shrunk_rates(pd.Series([0, 0]), pd.Series([1000, 3000]))
    assert (none["shrunk_rate"] == 0).all()
    assert none["shrunk_high"].iloc[0] == pytest.approx(-math.log(0.025) / 4000 * 1000)


def test_rank_a_column_of_shrunk_rates():
    """A tiny area with a few events tops the raw ranking; shrunk, it falls behind."""
    counts = pd.Series({1: 4, 2: 300, 3: 250, 4: 100, 5: 90})
    residents = pd.Series({1: 500, 2: 40000, 3: 40000, 4: 30000, 5: 30000})
    shrunk = shrunk_rates(counts, residents)
    assert rank(shrunk, column="rate").loc[1, "rank"] == 1
    ranked = rank(shrunk, column="shrunk_rate", groups={1: "x", 2: "x", 3: "y", 4: "y", 5: "y"})
    assert ranked.loc[1, "rank"] > 1 and ranked.loc[2, "rank"] == 1
    assert ranked["value"].tolist() == shrunk["shrunk_rate"].tolist()
    with pytest.raises(ValueError, match="column must name"):
        rank(shrunk)
    with pytest.raises(ValueError, match="lacks column"):
        rank(shrunk, column="nope")


def test_group_rates_are_population_weighted():
    counts = pd.Series({1: 10, 2: 90, 3: 5})
    residents = pd.Series({1: 1000, 2: 30000, 3: 0})
    out = group_rates(counts, residents, {1: "särskilt", 2: "särskilt", 3: "utsatt"})
    assert out.loc["särskilt", "rate"] == pytest.approx(100 / 31000 * 1000)  # not (10 + 3) / 2
    assert "utsatt" not in out.index  # no residents


@pytest.mark.parametrize(
    ("counts", "population", "kwargs", "match"),
    [
        ([1, -2], [10, 10], {}, "counts must be whole numbers"),
        ([1, 2.5], [10, 10], {}, "counts must be whole numbers"),
        ([1, 2], [10, -10], {}, "population must be finite"),
        ([1, 2], [10], {}, "population must have the same length"),
        ([1, 2], [10, 10], {"level": 1.0}, "level must be in"),
        ([1, 2], [10, 10], {"per": 0}, "per must be a positive number"),
    ],
)
def test_small_area_rates_validation(counts, population, kwargs, match):
    with pytest.raises(ValueError, match=match):
        shrunk_rates(counts, population, **kwargs)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("period", ["week", "month", "quarter", "year"])
def test_the_day_cube_gives_count_table(seed, period):
    """A table read off the day cube equals count_table of the same incidents: keys listed
    (observed in the range or always), zeros, 'all', period starts across summer time."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    utc = rng.integers(1_640_000_000, 1_760_000_000, n)
    local_s = local_seconds(utc)
    areas = rng.choice(np.array([3, 5, 8, 13, 21]), n)
    codes = rng.integers(0, len(INDICATOR_CODES), n)
    frame = pd.DataFrame(
        {
            "area_id": pd.array(areas, dtype="Int64"),
            "indicator": pd.Categorical.from_codes(codes, categories=list(INDICATOR_CODES)),
            "occurred_at": pd.DatetimeIndex(local_s.astype("datetime64[s]")).as_unit("us"),
        }
    )
    first = pd.Timestamp("2022-03-15") + pd.Timedelta(days=int(rng.integers(0, 400)))
    last = first + pd.Timedelta(days=int(rng.integers(0, 900)))
    keys = [3, 34, 8]  # 34 has no incident, 5, 13 and 21 are listed only when observed
    expected = count_table(frame, period=period, by=("area_id",), first=first, last=last, keys=keys)
    listed = np.union1d(keys, np.unique(areas))
    day = local_s // 86_400
    first_day = int(day.min()) - 3 if n else 0
    cube = day_cube(
        np.searchsorted(listed, areas), codes, day, n_keys=len(listed), first_day=first_day, n_days=2000
    )
    got = day_cube_table(
        cube,
        pd.DataFrame({"area_id": pd.array(listed, dtype="Int64")}),
        first_day=first_day,
        period=period,
        first=first,
        last=last,
        always=np.isin(listed, keys),
    )
    pd.testing.assert_frame_equal(got, expected)


def test_day_cubes_add_and_drop_days_outside():
    cube = day_cube([0, 1, 1, 0], [0, 2, 2, 1], [10, 11, 11, 30], n_keys=2, first_day=10, n_days=5)
    assert cube.shape == (2, len(INDICATOR_CODES), 5)
    assert cube.sum() == 3 and cube[1, 2, 1] == 2 and cube[0, 0, 0] == 1
    both = day_cube([0, 1], [0, 2], [10, 11], n_keys=2, first_day=10, n_days=5) + day_cube(
        [1], [2], [11], n_keys=2, first_day=10, n_days=5
    )
    np.testing.assert_array_equal(both, cube)
    with pytest.raises(ValueError, match="same length"):
        day_cube([0], [0, 1], [10], n_keys=1, first_day=10, n_days=1)


def test_local_seconds_are_to_local():
    utc = np.array([1_711_846_799, 1_711_846_800, 1_729_990_799, 1_729_990_800, 0, -3600])
    expected = to_local(pd.DatetimeIndex(utc.astype("datetime64[s]")).tz_localize("UTC"))
    np.testing.assert_array_equal(
        local_seconds(utc).astype("datetime64[s]").astype("datetime64[us]"), expected
    )
