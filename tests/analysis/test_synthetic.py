"""The synthetic generator: exact size, determinism, labels and the planted structure."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from problembild.analysis.grid import Grid
from problembild.analysis.hotspots import gi_star, gi_star_labels
from problembild.analysis.nearrepeat import knox
from problembild.analysis.spatial import AreaIndex, inside_sweden
from problembild.analysis.synthetic import generate_incidents, iter_incidents, synthetic_population

TAXONOMY = Path(__file__).resolve().parents[2] / "src/problembild/incidents/taxonomy.toml"
END = date(2025, 1, 1)


@pytest.fixture(scope="module")
def areas():
    # Six areas near Stockholm and Malmö, squares and an L shape, of all three categories.
    def square(x, y, side):
        return shapely.box(x, y, x + side, y + side)

    ell = (
        square(370_000, 6_160_000, 1500)
        .union(square(371_500, 6_160_000, 1500))
        .union(square(370_000, 6_161_500, 1500))
    )
    specs = [
        (1, square(670_000, 6_580_000, 2000), "särskilt utsatt område", 20000),
        (2, square(680_000, 6_590_000, 1500), "särskilt utsatt område", None),
        (3, square(660_000, 6_570_000, 1500), "riskområde", 9000),
        (4, ell, "utsatt område", 8000),
        (5, square(375_000, 6_165_000, 1200), "utsatt område", None),
        (6, square(690_000, 6_600_000, 1200), "utsatt område", 5000),
    ]
    return [{"id": i, "geometry": g, "category": c, "population": p} for i, g, c, p in specs]


@pytest.fixture(scope="module")
def frame(areas):
    return generate_incidents(areas, n=60_000, years=4, end=END, seed=11)


def test_columns_size_labels_and_time_range(frame):
    assert list(frame.columns) == ["id", "occurred_at", "type", "indicator", "x", "y", "synthetic"]
    assert len(frame) == 60_000 and frame["id"].is_unique and frame["synthetic"].all()
    assert str(frame["occurred_at"].dt.tz) == "Europe/Stockholm"
    assert frame["occurred_at"].min() >= pd.Timestamp("2021-01-01", tz="Europe/Stockholm")
    assert frame["occurred_at"].max() < pd.Timestamp("2025-01-01", tz="Europe/Stockholm")
    assert inside_sweden(frame["x"], frame["y"]).all()


def test_exact_n_across_chunk_sizes_and_determinism(areas):
    sizes = [len(f) for f in iter_incidents(areas, n=2_500, years=2, end=END, seed=3, chunk_size=1_000)]
    assert sizes == [1_000, 1_000, 500]
    a = generate_incidents(areas, n=3_000, years=2, end=END, seed=3)
    b = generate_incidents(areas, n=3_000, years=2, end=END, seed=3)
    c = generate_incidents(areas, n=3_000, years=2, end=END, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["x"].to_numpy(), c["x"].to_numpy())
    assert list(iter_incidents(areas, n=0, years=1, end=END, seed=1)) == []
    assert len(generate_incidents(areas, n=0, years=1, end=END, seed=1)) == 0


def test_types_come_from_the_taxonomy(frame):
    taxonomy = tomllib.loads(TAXONOMY.read_text(encoding="utf-8"))
    listed = {t: code for code, types in taxonomy["indicators"].items() for t in types}
    excluded = set(taxonomy["exclude"]["types"])
    for typ, code in frame[["type", "indicator"]].drop_duplicates().itertuples(index=False):
        assert typ not in excluded
        assert listed.get(typ, taxonomy["meta"]["default"]) == code, typ


def test_mix_and_categories(areas, frame):
    shares = frame["indicator"].value_counts(normalize=True)
    assert 0.15 < shares["violence_public"] < 0.25 and 0.2 < shares["other"] < 0.33
    assert 0.01 < shares["shootings"] < 0.07
    index = AreaIndex([a["geometry"] for a in areas], [a["id"] for a in areas])
    area = index.assign(frame["x"], frame["y"])
    assert 0.45 < (area >= 0).mean() < 0.85
    per_area = pd.Series(area[area >= 0]).value_counts()
    # Area 1 (särskilt utsatt, 20,000 residents) gets more than area 6 (utsatt, 5,000).
    assert per_area[1] > 3 * per_area[6]


def test_trends_differ_between_areas(areas, frame):
    index = AreaIndex([a["geometry"] for a in areas], [a["id"] for a in areas])
    frame = frame.assign(area=index.assign(frame["x"], frame["y"]), year=frame["occurred_at"].dt.year)
    slopes = {}
    for aid, g in frame[frame["area"] >= 0].groupby("area"):
        counts = g.groupby("year").size().reindex(range(2021, 2025), fill_value=0)
        slopes[aid] = np.polyfit(np.arange(4), np.log(counts.to_numpy() + 1), 1)[0]
    assert max(slopes.values()) > 0.1 and min(slopes.values()) < -0.1


def test_hour_of_week_violence_at_night(frame):
    hour = frame["occurred_at"].dt.hour
    night = (hour >= 22) | (hour < 4)
    violence = night[frame["indicator"] == "violence_public"].mean()
    other = night[frame["indicator"] == "other"].mean()
    assert violence > 2 * other


def test_planted_hot_spots_are_found(areas, frame):
    geom = areas[0]["geometry"]
    inside = shapely.contains_xy(geom, frame["x"], frame["y"])
    x, y = frame["x"][inside].to_numpy(), frame["y"][inside].to_numpy()
    grid = Grid.from_bounds(geom.bounds, 100)
    labels = gi_star_labels(gi_star(grid.counts(x, y), 2), alpha=0.01)
    assert labels.n_hot > 0


def test_near_repeats(areas, frame):
    sel = frame["indicator"].isin(["shootings", "explosions"]).to_numpy()
    x, y = frame["x"].to_numpy()[sel], frame["y"].to_numpy()[sel]
    t = frame["occurred_at"].dt.tz_localize(None).to_numpy()[sel]
    result = knox(x, y, t, distance_bands=[0, 200, 400], time_bands=[0, 14, 28], permutations=99, seed=1)
    # Band (0–200 m, 0–14 days): more close pairs than chance.
    assert result.p_values[0, 0] <= 0.05 and result.ratio[0, 0] > 1


def test_population(areas):
    pop = synthetic_population(areas, seed=1, year=2024)
    assert list(pop.columns) == ["area_id", "year", "residents", "synthetic"]
    assert pop["synthetic"].all() and (pop["year"] == 2024).all()
    assert pop["residents"].between(1500, 40000).all()
    assert abs(pop["residents"].sum() - 550_000) < 0.01 * 550_000 or (pop["residents"] == 40000).all()
    pd.testing.assert_frame_equal(pop, synthetic_population(areas, seed=1, year=2024))


def test_bad_arguments(areas):
    with pytest.raises(ValueError, match="n must"):
        list(iter_incidents(areas, n=-1, years=1, end=END, seed=1))
    with pytest.raises(ValueError, match="years must"):
        list(iter_incidents(areas, n=1, years=0, end=END, seed=1))
    with pytest.raises(ValueError, match="at least one area"):
        list(iter_incidents([{"id": 1, "geometry": None}], n=1, years=1, end=END, seed=1))
