"""Coordinate conversion, CRS detection and point-in-area assignment.

geopandas.sjoin (an exact intersects join through GEOS) is the oracle for AreaIndex.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from problembild.analysis.spatial import (
    AreaIndex,
    area_weighted_overlay,
    detect_crs,
    inside_sweden,
    to_sweref,
    to_wgs84,
)

REGISTER = Path(__file__).resolve().parents[2] / "src/problembild/areas/data/areas_2023_sweref99tm.geojson"


@pytest.fixture(scope="module")
def register() -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(REGISTER)
    return frame.to_crs(3006) if frame.crs and frame.crs.to_epsg() != 3006 else frame


def sjoin_oracle(geoms, x, y) -> np.ndarray:
    """The lowest-numbered intersecting polygon per point by geopandas.sjoin, -1 if none."""
    polys = gpd.GeoDataFrame(geometry=list(geoms), crs=3006)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=3006)
    joined = gpd.sjoin(pts, polys, predicate="intersects", how="left")
    first = joined.groupby(level=0)["index_right"].min().reindex(range(len(x)))
    return np.where(first.isna(), -1, first.fillna(-1).astype(int))


def test_sweref_roundtrip_known_point():
    # On SWEREF99 TM's central meridian (15° E) x is the false easting, 500,000 m, and y
    # is 0.9996 times the GRS80 meridian arc: 6,654,072.8 m to 60° N.
    x, y = to_sweref([15.0], [60.0])
    assert x[0] == pytest.approx(500_000, abs=1e-6)
    assert y[0] == pytest.approx(0.9996 * 6_654_072.8, abs=1.0)
    lon, lat = to_wgs84(*to_sweref([18.0649], [59.3326]))
    assert np.allclose([lon[0], lat[0]], [18.0649, 59.3326], atol=1e-9)


def test_detect_crs():
    assert detect_crs([18.0, 13.0], [59.3, 55.6]) == "EPSG:4326"
    assert detect_crs([674_000, 374_000], [6_580_000, 6_164_000]) == "EPSG:3006"
    assert detect_crs([np.nan, 18.0], [np.nan, 59.0]) == "EPSG:4326"
    with pytest.raises(ValueError, match="neither"):
        detect_crs([500.0], [500.0])
    with pytest.raises(ValueError, match="no finite"):
        detect_crs([np.nan], [np.nan])


def test_inside_sweden_handles_nan_and_swapped_axes():
    inside = inside_sweden([674_000, 6_580_000, np.nan], [6_580_000, 674_000, 6_580_000])
    assert inside.tolist() == [True, False, False]


def test_assign_matches_sjoin_on_real_register(register):
    geoms = register.geometry.values
    rng = np.random.default_rng(7)
    bounds = shapely.bounds(np.asarray(geoms))
    k = rng.integers(0, len(geoms), 200_000)
    x = rng.uniform(bounds[k, 0] - 800, bounds[k, 2] + 800)
    y = rng.uniform(bounds[k, 1] - 800, bounds[k, 3] + 800)
    index = AreaIndex(geoms)
    got = index.assign(x, y, chunk_size=50_000)
    assert np.array_equal(got, sjoin_oracle(geoms, x, y))
    assert 0.05 < (got >= 0).mean() < 0.9


def test_assign_uses_ids_and_handles_missing_geometry_and_nan():
    square = shapely.box(0, 0, 100, 100)
    other = shapely.box(200, 0, 300, 100)
    index = AreaIndex([square, None, other], ids=[10, 20, 30], cell_size=7)
    got = index.assign([50, 250, 150, np.nan, 100.0, 0.0], [50, 50, 50, 50, 100.0, 0.0])
    # Points on a boundary (the corners) count as inside.
    assert got.tolist() == [10, 30, -1, -1, 10, 10]


def test_overlap_first_geometry_wins():
    a = shapely.box(0, 0, 100, 100)
    b = shapely.box(50, 0, 150, 100)
    assert AreaIndex([a, b], ids=[1, 2]).assign([75, 125], [50, 50]).tolist() == [1, 2]
    assert AreaIndex([b, a], ids=[2, 1]).assign([75, 25], [50, 50]).tolist() == [2, 1]


def test_empty_index_and_empty_input():
    assert AreaIndex([]).assign([1.0], [2.0]).tolist() == [-1]
    assert AreaIndex([shapely.box(0, 0, 1, 1)]).assign([], []).tolist() == []
    with pytest.raises(ValueError, match="same length"):
        AreaIndex([shapely.box(0, 0, 1, 1)]).assign([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="one entry per geometry"):
        AreaIndex([shapely.box(0, 0, 1, 1)], ids=[1, 2])


@settings(max_examples=40, deadline=None)
@given(
    cell=st.floats(1.0, 300.0),
    pts=st.lists(st.tuples(st.floats(-50, 450), st.floats(-50, 450)), min_size=1, max_size=60),
)
def test_assign_agrees_with_shapely_for_any_cell_size(cell, pts):
    star = shapely.Polygon(
        [(200, 0), (250, 150), (400, 200), (250, 250), (200, 400), (150, 250), (0, 200), (150, 150)]
    )
    ring = shapely.box(0, 0, 120, 120).difference(shapely.box(30, 30, 90, 90))
    x, y = np.array(pts).T
    got = AreaIndex([star, ring], cell_size=cell).assign(x, y)
    want = np.where(shapely.intersects_xy(star, x, y), 0, np.where(shapely.intersects_xy(ring, x, y), 1, -1))
    assert got.tolist() == want.tolist()


def test_area_weighted_overlay_hand_computed():
    sources = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), None]
    values = [100.0, 50.0, 7.0]
    targets = [shapely.box(5, 0, 15, 10), shapely.box(0, 0, 20, 5), None, shapely.box(100, 100, 101, 101)]
    got = area_weighted_overlay(sources, values, targets)
    assert np.allclose(got, [50 + 25, 50 + 25, 0, 0])
