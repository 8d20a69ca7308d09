"""Unit pictures: each unit's series and trends are its areas' months summed, as a group-by gives them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problembild.analysis.indicators import count_table
from problembild.analysis.trend import fit_trend
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES
from problembild.picture.document import MonthlySeries, UnitDocument, UnitTrend
from problembild.picture.refresh.documents import trend_members
from problembild.picture.refresh.units import unit_documents


def grouped(area_ids, monthly, population, as_of) -> UnitDocument:
    """One unit's document the plain way: its areas' rows masked, grouped and sorted."""
    rows = monthly[monthly["area_id"].isin(area_ids)]
    summed = rows.groupby(["indicator", "period_start"], observed=True)["count"].sum().reset_index()
    series, trends = {}, {}
    for code, g in summed.groupby("indicator", observed=True):
        g = g.sort_values("period_start")
        series[str(code)] = MonthlySeries(
            months=[pd.Timestamp(s).date() for s in g["period_start"]], counts=[int(c) for c in g["count"]]
        )
        if str(code) == ALL or len(area_ids) > 1:
            result = fit_trend(g["count"].to_numpy(float), pd.DatetimeIndex(g["period_start"]))
            trends[str(code)] = UnitTrend(**trend_members(result))
    residents = population.reindex(area_ids)
    return UnitDocument(
        as_of=as_of.date(),
        areas=area_ids,
        residents=float(residents.sum()) if residents.notna().any() else None,
        residents_known=int(residents.notna().sum()),
        series=series,
        trends=trends,
    )


def monthly_table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4000
    frame = pd.DataFrame(
        {
            "area_id": pd.array(rng.choice([11, 12, 13, 14], n), dtype="Int64"),
            "indicator": pd.Categorical.from_codes(
                rng.integers(0, len(INDICATOR_CODES), n), categories=list(INDICATOR_CODES)
            ),
            "occurred_at": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.uniform(0, 3 * 365 * 86400, n), unit="s"),
        }
    )
    return count_table(
        frame, period="month", first="2021-01-01", last="2023-12-31", keys=[11, 12, 13, 14, 15]
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_each_unit_is_its_areas_summed_as_a_group_by_gives_them(seed):
    monthly = monthly_table(seed)
    population = pd.Series({11: 5000.0, 12: 12000.0, 15: 800.0})
    members = {
        1: [11, 12, 13, 14, 15],  # the nation: every area, one without incidents
        2: [12, 14],
        3: [13],  # one area: only the trend of all incidents
        4: [99],  # an area the table does not list
    }
    as_of = pd.Timestamp("2024-01-01", tz="Europe/Stockholm")
    fast = unit_documents(members, monthly, population, as_of)
    assert list(fast) == list(members)
    for unit, area_ids in members.items():
        assert fast[unit].stored() == grouped(area_ids, monthly, population, as_of).stored()
    assert list(fast[3].trends) == ["all"] and len(fast[2].trends) == len(fast[2].series)
    assert fast[4].series == {}


def test_without_complete_months_every_unit_has_no_series():
    empty = monthly_table(1).iloc[:0]
    as_of = pd.Timestamp("2024-01-01", tz="Europe/Stockholm")
    docs = unit_documents({1: [11], 2: [11, 12]}, empty, pd.Series(dtype=float), as_of)
    assert all(d.series == {} and d.trends == {} for d in docs.values())
    assert docs[2].stored() == grouped([11, 12], empty, pd.Series(dtype=float), as_of).stored()
