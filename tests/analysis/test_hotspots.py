"""Gi* by convolution against esda, multiple-testing labels, and a planted hot spot."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from problembild.analysis.grid import Grid
from problembild.analysis.hotspots import bh_adjust, disk_offsets, gi_star, gi_star_labels


def _esda_zs(values, radius, transform="B", centres=None):
    """esda's analytic Gi* z-scores with a binary DistanceBand on the cell centres."""
    esda = pytest.importorskip("esda")
    weights = pytest.importorskip("libpysal.weights")
    ny, nx = values.shape
    if centres is None:
        rows, cols = np.mgrid[0:ny, 0:nx]
        centres = np.column_stack([cols.ravel(), rows.ravel()]).astype(float)
    with warnings.catch_warnings():
        # esda warns that it adds the self-weight for star=True with "R": that is intended.
        warnings.simplefilter("ignore")
        w = weights.DistanceBand(centres, threshold=radius, binary=True, silence_warnings=True)
        g = esda.G_Local(values.ravel(), w, transform=transform, star=True, permutations=0)
    return np.asarray(g.Zs).reshape(ny, nx)


@pytest.mark.parametrize(
    ("shape", "radius", "seed"),
    [
        ((10, 12), 1.0, 0),
        ((15, 9), 2.5, 1),
        ((20, 20), 3.0, 2),
        ((7, 30), np.sqrt(2), 3),
        ((25, 18), 4.2, 4),
        ((1, 40), 2.0, 5),
    ],
)
@pytest.mark.parametrize("transform", ["B", "R"])
def test_matches_esda_on_random_grids(shape, radius, seed, transform):
    rng = np.random.default_rng(seed)
    values = rng.poisson(3.0, shape).astype(float)
    values += np.where(rng.random(shape) < 0.1, rng.gamma(2.0, 5.0, shape), 0.0)  # a few outliers
    ours = gi_star(values, radius, transform=transform)
    theirs = _esda_zs(values, radius, transform)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)


def test_matches_esda_on_continuous_values():
    values = np.random.default_rng(7).lognormal(1.0, 1.0, (17, 23))
    np.testing.assert_allclose(gi_star(values, 2.0), _esda_zs(values, 2.0), rtol=0, atol=1e-8)


def _load_points(name):
    examples = pytest.importorskip("libpysal.examples")
    io = pytest.importorskip("libpysal.io")
    path = examples.get_path(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's deprecated Geometry point objects
        shp = io.open(path)
        points = np.array([tuple(p) for p in shp], dtype=float)
        shp.close()
        dbf = io.open(path.replace(".shp", ".dbf"))
        table = {col: np.array(dbf.by_col(col)) for col in dbf.header}
        dbf.close()
    return points, table


@pytest.mark.parametrize("radius", [1.5, 3.0])
def test_matches_esda_on_geodanet_crimes_rasterised(radius):
    """libpysal's bundled GeoDaNet crime points (n=287), counted on a 250 m grid.

    The weights are built in metres on the real cell centres (threshold = radius * cell
    size), so the test also checks the grid's centre convention end to end.
    """
    points, _ = _load_points("crimes.shp")
    assert points.shape == (287, 2)
    cell = 250.0
    bounds = (*points.min(axis=0), *(points.max(axis=0) + 1.0))
    grid = Grid.from_bounds(bounds, cell)
    counts = grid.counts(points[:, 0], points[:, 1])
    assert counts.sum() == 287
    xc, yc = grid.centres()
    xx, yy = np.meshgrid(xc, yc)
    centres = np.column_stack([xx.ravel(), yy.ravel()])
    theirs = _esda_zs(counts, radius * cell, "B", centres=centres)
    np.testing.assert_allclose(gi_star(counts, radius), theirs, rtol=0, atol=1e-8)


def test_matches_esda_on_snow_cholera_deaths_weighted():
    """John Snow's 1854 Soho cholera deaths (libpysal bundle), deaths per 25 m cell."""
    points, table = _load_points("SohoPeople.shp")
    deaths = table["Count"].astype(float)
    cell = 25.0
    bounds = (*points.min(axis=0), *(points.max(axis=0) + 1.0))
    grid = Grid.from_bounds(bounds, cell)
    counts = grid.counts(points[:, 0], points[:, 1], weights=deaths)
    assert counts.sum() == deaths.sum()
    for radius, transform in [(2.0, "B"), (3.0, "R")]:
        theirs = _esda_zs(counts, radius, transform)
        np.testing.assert_allclose(gi_star(counts, radius, transform=transform), theirs, rtol=0, atol=1e-8)


def test_disk_offsets_are_the_distance_band():
    assert len(disk_offsets(1.0)) == 5
    assert len(disk_offsets(np.sqrt(2))) == 9
    assert len(disk_offsets(2.0)) == 13
    assert len(disk_offsets(0.5)) == 1


def test_constant_grid_gives_zero_not_nan():
    for value in (0.0, 3.0, 0.1):
        z = gi_star(np.full((8, 9), value), 2.0)
        assert np.array_equal(z, np.zeros((8, 9)))


def test_neighbourhood_covering_the_whole_grid_gives_zero():
    values = np.arange(12.0).reshape(3, 4)
    assert not gi_star(values, 10.0).any()
    assert not gi_star(values, 10.0, transform="R").any()


def test_single_cell_and_single_event():
    assert gi_star([[5.0]], 1.0).tolist() == [[0.0]]
    grid = np.zeros((9, 9))
    grid[4, 4] = 1.0  # one event
    z = gi_star(grid, 1.0)
    assert z[4, 4] == z.max() > 0
    assert np.isfinite(z).all()


@pytest.mark.parametrize(
    ("counts", "radius", "match"),
    [
        (np.ones((3, 3)), 0.0, "radius"),
        (np.ones((3, 3)), -1.0, "radius"),
        (np.ones((3, 3)), np.nan, "radius"),
        (np.ones(9), 1.0, "counts must be two-dimensional"),
        (np.array([[1.0, np.nan]]), 1.0, "counts contains NaN"),
        (np.zeros((0, 3)), 1.0, "counts must have at least one cell"),
    ],
)
def test_bad_input(counts, radius, match):
    with pytest.raises(ValueError, match=match):
        gi_star(counts, radius)


def test_bad_transform():
    with pytest.raises(ValueError, match="transform"):
        gi_star(np.ones((3, 3)), 1.0, transform="W")  # type: ignore[arg-type]


def test_bh_adjust_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(8).uniform(0, 0.2, (13, 11)) ** 2
    p[0, :3] = p[1, 5]  # ties
    expected = multitest.multipletests(p.ravel(), method="fdr_bh")[1].reshape(p.shape)
    np.testing.assert_allclose(bh_adjust(p), expected, rtol=1e-12)


def test_labels_result_object():
    z = np.array([[4.0, -4.0, 0.5], [2.5, -0.1, 0.0]])  # p(2.5) = 0.0124: BH q = 0.025, Bonferroni 0.075
    res = gi_star_labels(z, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(res.p_values[0, 0], 6.334248366623996e-05)
    assert res.labels.tolist() == [[1, -1, 0], [1, 0, 0]]
    assert (res.n_hot, res.n_cold) == (2, 1)
    assert ((res.q_values >= res.p_values) & (res.q_values <= 1)).all()
    none = gi_star_labels(z, alpha=0.05, method="none")
    assert none.labels.tolist() == [[1, -1, 0], [1, 0, 0]]
    bonf = gi_star_labels(z, alpha=0.05, method="bonferroni")
    assert bonf.labels.tolist() == [[1, -1, 0], [0, 0, 0]]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 0.1  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.labels[0, 0] = 0
    z[0, 0] = 0.0  # the caller's array stays writeable and the result unchanged
    assert res.z[0, 0] == 4.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"method": "holm"}, "method")],
)
def test_labels_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gi_star_labels(np.zeros((2, 2)), **kwargs)


def test_planted_hot_spot_found_and_absent_from_controls_in_95_of_100_runs():
    """Poisson(4) background on 30 × 30 cells; planted 3 × 3 cells get +Poisson(10).

    Success for a planted map: at least 5 of the 9 planted cells labelled hot and no
    label anywhere outside the planted block's 7 × 7 surroundings. Success for the
    control (same background, nothing planted): no label at all. alpha = 0.01 with BH:
    the chance of any flag on a null map is about alpha, plus the normal approximation's
    excess in the Poisson right tail, so alpha = 0.05 would sit at the 95 % bound.
    Measured: 99/100 planted, 99/100 controls.
    """
    region = np.zeros((30, 30), dtype=bool)
    region[12:15, 16:19] = True
    surroundings = np.zeros((30, 30), dtype=bool)
    surroundings[10:17, 14:21] = True
    found = clean = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        background = rng.poisson(4.0, (30, 30)).astype(float)
        planted = background.copy()
        planted[region] += rng.poisson(10.0, 9)
        labels = gi_star_labels(gi_star(planted, 1.5), alpha=0.01).labels
        found += (labels[region] == 1).sum() >= 5 and not labels[~surroundings].any()
        clean += not gi_star_labels(gi_star(background, 1.5), alpha=0.01).labels.any()
    assert found >= 95, f"planted hot spot recovered in {found}/100 runs"
    assert clean >= 95, f"controls without labels in {clean}/100 runs"
