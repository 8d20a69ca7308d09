"""The refresh's spatial stage on its own: hot spots, forecast cells, tasks and worker processes.

No database here: ``picture.refresh.space`` runs in worker processes without Django.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from problembild.analysis.forecast import METHODS
from problembild.analysis.metrics import n_flagged
from problembild.picture.refresh.space import (
    NO_BOUNDARY,
    PointRows,
    Points,
    SpaceJobs,
    SpaceSettings,
    area_space,
    shared_points,
    space_tasks,
)

SETTINGS = SpaceSettings(
    cell_size=100.0,
    buffer=500.0,
    bandwidth=150.0,
    gi_radius=2.0,
    alpha=0.05,
    hotspot_months=12,
    forecast_origins=2,
    forecast_years=3,
)
AS_OF = pd.Timestamp("2025-01-01", tz="Europe/Stockholm")
#: A 2 km square in SWEREF99 TM (Malmö).
SQUARE = shapely.box(374_000, 6_160_000, 376_000, 6_162_000)
HOT = (375_300.0, 6_161_300.0)


def epoch(when: str) -> int:
    return int(pd.Timestamp(when, tz="Europe/Stockholm").tz_convert("UTC").timestamp())


def planted(seed: int = 1, n_background: int = 300, n_hot: int = 150) -> Points:
    """Two years of uniform background in the square and a tight cluster at ``HOT``."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(374_000, 376_000, n_background), rng.normal(HOT[0], 30, n_hot)]
    y = np.r_[rng.uniform(6_160_000, 6_162_000, n_background), rng.normal(HOT[1], 30, n_hot)]
    t = rng.integers(epoch("2023-01-01"), epoch("2025-01-01"), len(x))
    return Points(x=x, y=y, t=t)


def test_hot_spot_lies_at_the_planted_cluster_and_counts_only_the_window():
    pts = planted()
    space = area_space(SQUARE, pts, AS_OF, SETTINGS)
    assert space.status == "ok"
    in_window = int(((pts.t >= epoch("2024-01-01")) & (pts.t < epoch("2025-01-01"))).sum())
    assert space.n_events == in_window
    assert space.window.start.isoformat() == "2024-01-01" and space.window.end.isoformat() == "2025-01-01"
    hot = [c for c in space.cells if c.label == 1]
    assert space.n_hot == len(hot) > 0
    # The densest cell is the cluster's (corners are WGS84; compare in SWEREF99 TM).
    from problembild.analysis.spatial import to_sweref

    top = max(space.cells, key=lambda c: c.density)
    lon, lat = np.array(top.ring).T
    x, y = to_sweref(lon, lat)
    assert x.min() - 100 <= HOT[0] <= x.max() + 100 and y.min() - 100 <= HOT[1] <= y.max() + 100
    assert space.peak_per_km2 == pytest.approx(top.density, rel=0.01)


def test_forecast_flags_five_percent_of_the_area_with_the_backtest_winner():
    space = area_space(SQUARE, planted(), AS_OF, SETTINGS)
    forecast = space.forecast
    assert forecast.status == "ok" and forecast.method in METHODS
    # The study area is the cells whose centre lies inside the boundary, not the grid
    # with its margin (issue 10, item 6): the backtest scores there and 5 % of it is flagged.
    x0, y0, x1, y1 = SQUARE.bounds
    inside = round((x1 - x0) / SETTINGS.cell_size) * round((y1 - y0) / SETTINGS.cell_size)
    assert forecast.study == "area" and forecast.n_study == inside
    assert len(forecast.cells) == n_flagged(inside, 0.05)
    from problembild.analysis.spatial import to_sweref

    for cell in forecast.cells:
        lon, lat = np.array(cell.ring).T
        cx, cy = (float(v.mean()) for v in to_sweref(lon, lat))
        assert x0 <= cx <= x1 and y0 <= cy <= y1
    assert forecast.period_start.isoformat() == "2025-01-01" and forecast.horizon_days == 30
    winners = {b.method for b in forecast.backtest if b.winner}
    assert winners == {forecast.method}
    assert {b.method for b in forecast.backtest} == set(METHODS)
    # The all-history baseline is scored beside the winner; a method other than it must beat it.
    assert forecast.baseline_method == "history" and forecast.baseline_pai is not None
    history = next(b for b in forecast.backtest if b.method == "history" and b.coverage == 0.05)
    assert forecast.baseline_pai == pytest.approx(history.pai)
    assert forecast.method == "history" or (
        forecast.beats_baseline and forecast.method_pai > forecast.baseline_pai * 1.03
    )
    assert not forecast.beats_baseline or forecast.p_value < 0.05


def test_a_stored_contest_is_reused_under_its_key_and_rerun_otherwise(monkeypatch):
    from problembild.picture.refresh import space as module

    pts = planted()
    first = area_space(SQUARE, pts, AS_OF, SETTINGS).forecast
    assert first.contest_on.isoformat() == "2025-01-01" and first.contest_key
    later = AS_OF + pd.Timedelta(days=3)

    def no_contest(*args, **kwargs):
        raise AssertionError("the contest ran again")

    # Reused: the winner and its backtest as stored, the forecast itself from the later data end.
    monkeypatch.setattr(module, "compare_methods", no_contest)
    again = area_space(SQUARE, pts, later, SETTINGS, contest=first).forecast
    contest_fields = (
        "method",
        "backtest",
        "method_pai",
        "baseline_pai",
        "p_value",
        "contest_on",
        "contest_key",
    )
    assert all(getattr(again, f) == getattr(first, f) for f in contest_fields)
    assert again.period_start.isoformat() == "2025-01-04" and len(again.cells) == len(first.cells)
    monkeypatch.undo()
    # The same forecast as a run whose own contest picks that winner: only the contest is skipped.
    fresh = area_space(SQUARE, pts, later, SETTINGS).forecast
    assert fresh.method == first.method and fresh.cells == again.cells
    # Another grid, other settings or a contest that did not finish: the contest runs.
    calls = []
    real = module.compare_methods
    monkeypatch.setattr(module, "compare_methods", lambda *a, **k: calls.append(1) or real(*a, **k))
    other = SpaceSettings(**{**SETTINGS.__dict__, "forecast_origins": 3})
    assert (
        area_space(SQUARE, pts, later, other, contest=first).forecast.contest_on.isoformat() == "2025-01-04"
    )
    bigger = shapely.box(374_000, 6_160_000, 376_100, 6_162_000)
    area_space(bigger, pts, later, SETTINGS, contest=first)
    failed = first.model_copy(update={"status": "too_few_events"})
    area_space(SQUARE, pts, later, SETTINGS, contest=failed)
    assert len(calls) == 3


def test_no_boundary_no_events_and_too_few_for_a_forecast_are_stated():
    assert area_space(None, planted(), AS_OF, SETTINGS).status == "no_boundary"
    assert area_space(None, planted(), AS_OF, SETTINGS).message == NO_BOUNDARY
    old = Points(x=np.array([375_000.0]), y=np.array([6_161_000.0]), t=np.array([epoch("2020-01-01")]))
    space = area_space(SQUARE, old, AS_OF, SETTINGS)
    assert space.status == "no_events" and space.cells == [] and space.n_events == 0
    assert space.forecast.status == "too_few_events" and space.forecast.cells == []


def test_tasks_take_the_points_that_can_reach_the_grid_and_skip_missing_boundaries():
    margin = SETTINGS.buffer + 6 * SETTINGS.bandwidth
    x = np.array([375_000.0, 374_000 - margin + 1, 374_000 - margin - 1, 375_000.0, 390_000.0])
    y = np.array([6_161_000.0, 6_161_000.0, 6_161_000.0, 6_162_000 + margin + 1, 6_161_000.0])
    t = np.arange(5)
    tasks = space_tasks([(7, SQUARE), (8, None)], x, y, t, SETTINGS)
    assert [key for key, _, _ in tasks] == [7]
    _, shape, pts = tasks[0]
    assert shape is SQUARE
    assert pts.t.tolist() == [0, 1]  # inside and just within the margin, in their original order


def test_worker_processes_give_the_serial_result():
    tasks = [(1, SQUARE, planted(1)), (2, shapely.box(376_000, 6_160_000, 378_000, 6_162_000), planted(2))]
    with SpaceJobs(tasks, AS_OF, SETTINGS, parallel=False) as jobs:
        serial = jobs.result()
    with SpaceJobs(tasks, AS_OF, SETTINGS, parallel=True) as jobs:
        parallel = jobs.result()
    assert parallel == serial
    assert set(serial) == {1, 2}
    # The stored contests reach the workers as they reach the serial path.
    contests = {1: serial[1].forecast}
    later = AS_OF + pd.Timedelta(days=1)
    with SpaceJobs(tasks, later, SETTINGS, parallel=False, contests=contests) as jobs:
        serial = jobs.result()
    with SpaceJobs(tasks, later, SETTINGS, parallel=True, contests=contests) as jobs:
        parallel = jobs.result()
    assert parallel == serial
    assert serial[1].forecast.contest_on == AS_OF.date() and serial[2].forecast.contest_on == later.date()


def test_workers_started_early_compute_the_tasks_or_stop_when_not_needed(monkeypatch):
    from problembild.picture.refresh import space

    tasks = [(1, SQUARE, planted(1)), (2, shapely.box(376_000, 6_160_000, 378_000, 6_162_000), planted(2))]
    assert space.warm_workers(space.PARALLEL_FROM - 1) is None  # too few incidents: serial
    monkeypatch.setattr(space, "PARALLEL_FROM", 0)
    pool = space.warm_workers(10)
    assert pool is not None
    with SpaceJobs(tasks, AS_OF, SETTINGS, pool=pool) as jobs:
        assert jobs._pool is pool
        early = jobs.result()
    with SpaceJobs(tasks, AS_OF, SETTINGS, parallel=False) as jobs:
        assert early == jobs.result()
    # One task: the early pool is stopped and the task computed here.
    pool = space.warm_workers(10)
    with SpaceJobs(tasks[:1], AS_OF, SETTINGS, pool=pool) as jobs:
        assert jobs._pool is None
        assert jobs.result() == {1: early[1]}
    with pytest.raises(RuntimeError):
        pool.submit(int)  # shut down


def test_tasks_on_shared_files_carry_row_numbers_and_give_the_same_result(tmp_path):
    """Workers read their points from the files shared_points writes: the same points, the same parts."""
    a, b = planted(1), planted(2)
    x, y, t = (np.r_[getattr(a, k), getattr(b, k) + (2_000 if k == "x" else 0)] for k in ("x", "y", "t"))
    boundaries = [(1, SQUARE), (2, shapely.box(376_000, 6_160_000, 378_000, 6_162_000)), (3, None)]
    plain = space_tasks(boundaries, x, y, t, SETTINGS)
    with shared_points(x, y, t, tmp_path) as folder:
        assert folder is not None and Path(folder).parent == tmp_path
        rows = space_tasks(boundaries, x, y, t, SETTINGS, shared=folder)
        assert [k for k, _, _ in rows] == [k for k, _, _ in plain] == [1, 2]
        for (_, _, by_rows), (_, _, points) in zip(rows, plain, strict=True):
            assert isinstance(by_rows, PointRows) and by_rows.rows.dtype == np.int32
            assert len(by_rows) == len(points)
            got = by_rows.points()
            assert all(np.array_equal(getattr(got, k), getattr(points, k)) for k in ("x", "y", "t"))
        with SpaceJobs(rows, AS_OF, SETTINGS, parallel=True) as jobs:
            parallel = jobs.result()
        with SpaceJobs(rows, AS_OF, SETTINGS, parallel=False) as jobs:
            serial = jobs.result()
    with SpaceJobs(plain, AS_OF, SETTINGS, parallel=False) as jobs:
        assert parallel == serial == jobs.result()
    assert list(tmp_path.iterdir()) == []  # removed on exit


def test_shared_points_remove_dead_processes_folders_and_yield_none_when_they_cannot_write(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = socket.gethostname()
    stale = tmp_path / f"points-{host}-{dead.stdout.strip()}-abc"  # left by a killed refresh
    stale.mkdir()
    mine = tmp_path / f"points-{host}-{os.getpid()}-abc"  # a live process's (this one)
    mine.mkdir()
    other = tmp_path / f"points-another-host-{dead.stdout.strip()}-abc"  # its pid means nothing here
    other.mkdir()
    x = np.arange(3.0)
    with shared_points(x, x, x.astype(np.int64), tmp_path) as folder:
        assert folder is not None and Path(folder).name.startswith(f"points-{host}-{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with shared_points(x, x, x.astype(np.int64), blocked) as folder:
        assert folder is None


def test_the_spatial_stage_imports_no_django():
    code = (
        "import sys, problembild.picture.refresh.space; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
