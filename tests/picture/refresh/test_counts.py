"""Stage *counts* from cubes: kept per segment, added up, and read off for every table.

The oracles are the ways the counts were had before the cubes: the incident frame's
``month_to_date`` and the analytics' ``hour_of_week_cells`` of each incident's local time.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from problembild.analysis import periods, timepattern
from problembild.analysis.vocabulary import INDICATOR_CODES
from problembild.areas.models import Area
from problembild.areas.municipalities import MunicipalityIndex
from problembild.picture.refresh import snapshot
from problembild.picture.refresh.counts import (
    add_cubes,
    count_incidents,
    month_to_date,
    month_to_date_from_cube,
    segment_cubes,
)
from problembild.picture.refresh.load import IncidentArrays, incident_frame

pytestmark = pytest.mark.django_db

# 2023-01-01 .. 2025-01-01 in UTC seconds: two years, both changes of the clocks each year.
T0, T1 = 1_672_531_200, 1_735_689_600


def incidents(seed: int, n: int = 3_000) -> tuple[IncidentArrays, list[Area]]:
    """``n`` incidents of random time and indicator, most in a register area, some in none,
    a few in an area the register does not list (id 999_999), placed around the areas."""
    rng = np.random.default_rng(seed)
    areas = list(Area.objects.select_related("municipality").order_by("pk"))
    picked = [areas[i] for i in rng.choice(len(areas), size=6, replace=False)]
    points = np.array([[a.shape.representative_point().x, a.shape.representative_point().y] for a in picked])
    which = rng.integers(0, len(picked), n)
    area = np.array([picked[i].pk for i in which], dtype=np.int64)
    area[rng.random(n) < 0.2] = -1
    area[rng.random(n) < 0.02] = 999_999
    xy = points[which] + rng.normal(0, 3_000, (n, 2))
    xy[rng.random(n) < 0.05] = np.nan  # no coordinates: counted in its area only
    data = IncidentArrays(
        id=np.arange(1, n + 1, dtype=np.int64),
        area=area,
        indicator=rng.integers(0, len(INDICATOR_CODES), n).astype(np.int16),
        t=np.sort(rng.integers(T0, T1, n)).astype(np.int64),
        x=xy[:, 0],
        y=xy[:, 1],
        synthetic=np.zeros(n, dtype=bool),
        source=np.zeros(n, dtype=np.int16),
    )
    return data, areas


def test_cubes_of_parts_add_up_to_the_cubes_of_all_rows():
    data, areas = incidents(1)
    index = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id})
    whole = segment_cubes(data, index)
    cuts = [0, 1_000, 1_001, 2_500, len(data)]  # an empty part and a part of one row included
    parts = [segment_cubes(data.take(slice(a, b)), index) for a, b in itertools.pairwise(cuts)]
    parts.insert(1, segment_cubes(data.take(slice(0, 0)), index))
    added = add_cubes(parts, n_muni=len(index))
    assert set(added) == set(whole)
    for name, value in whole.items():
        np.testing.assert_array_equal(added[name], value, err_msg=name)


def test_the_hours_of_the_week_are_the_local_wall_clock_hours():
    data, areas = incidents(2)
    index = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id})
    cubes = segment_cubes(data, index)
    inside = data.area >= 0
    local = pd.DatetimeIndex(periods.local_seconds(data.t[inside]).astype("datetime64[s]"))
    cells = timepattern.hour_of_week_cells(local)
    ids = np.searchsorted(cubes["area_ids"], data.area[inside])
    expected = np.zeros_like(cubes["hours"])
    np.add.at(expected, (ids, data.indicator[inside], cells), 1)
    np.testing.assert_array_equal(cubes["hours"], expected)
    assert cubes["hours"].sum() == cubes["inside"] == inside.sum()


@pytest.mark.parametrize(
    "end",
    ["2024-03-31", "2024-03-16", "2024-10-28", "2024-02-29", "2023-03-30", "2024-12-31", "2023-01-15"],
)
def test_the_month_so_far_off_the_cube_equals_the_count_of_the_incidents(end):
    data, areas = incidents(3)
    index = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id})
    cubes = segment_cubes(data, index)
    as_of = pd.Timestamp(end, tz="Europe/Stockholm")
    covered_from = pd.Timestamp("2023-01-01")
    keys = pd.Index([a.pk for a in areas], name="area_id")
    inside = data.area >= 0
    local = pd.DatetimeIndex(periods.local_seconds(data.t[inside]).astype("datetime64[s]")).as_unit("us")
    frame = incident_frame(data.area[inside], data.indicator[inside], local)
    expected = month_to_date(frame, covered_from, as_of, keys)
    got = month_to_date_from_cube(
        cubes["area_days"], cubes["area_ids"], int(cubes["first_day"]), covered_from, as_of, keys
    )
    assert (expected.current, expected.previous, expected.last_year) == (
        got.current,
        got.previous,
        got.last_year,
    )
    pd.testing.assert_frame_equal(got.table, expected.table)


@pytest.mark.parametrize("as_of", ["2024-11-17", "2024-11-17T15:30"])
def test_counts_from_kept_segments_equal_those_of_all_rows(tmp_path, as_of):
    """Segments kept as cubes (a daily run adds the cube of its rows) count as one pass over
    all rows does; when the data end inside a day, the month so far is counted from the
    incidents' local times."""
    data, areas = incidents(4)
    cuts = [0, 2_000, 2_990, len(data)]
    loaded = snapshot.Loaded(how="reused")
    for k, (a, b) in enumerate(itertools.pairwise(cuts)):
        folder = tmp_path / f"snap-{k}"
        folder.mkdir()
        loaded.segments.append((folder, b - a))
    end = pd.Timestamp(as_of, tz="Europe/Stockholm")
    whole = count_incidents(data, areas, end)
    computed: list[int] = []

    def parts(name, key, compute):
        def counted(rows):
            computed.append(len(rows))
            return compute(rows)

        return snapshot.per_segment(data, loaded, name, key, counted)

    for _ in range(2):  # computed and kept, then read back
        kept = count_incidents(data, areas, end, parts=parts)
        for period, table in whole.area.items():
            pd.testing.assert_frame_equal(kept.area[period], table)
        for period, table in whole.municipality.items():
            pd.testing.assert_frame_equal(kept.municipality[period], table)
        assert whole.hours.keys() == kept.hours.keys() == {a.pk for a in areas}
        assert all(np.array_equal(whole.hours[pk], kept.hours[pk]) for pk in whole.hours)
        pd.testing.assert_frame_equal(kept.to_date.table, whole.to_date.table)
    assert computed == [2_000, 990, 10]  # the second pass read every segment's cube
    assert len(list(tmp_path.glob("snap-*/cubes-*.npz"))) == 3
