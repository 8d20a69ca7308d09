"""Stage *space jobs*: each area's hot spots and forecast, the expensive part of a refresh.

:class:`SpaceJobs` computes them for many areas, in worker processes when the work is
large (each area is independent, and a refresh over millions of incidents spends most of
its time here), so the module imports nothing that needs Django: it builds the typed
:class:`~problembild.picture.document.SpacePart` of each area's document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from problembild.analysis import forecast
from problembild.analysis.density import kde_grid
from problembild.analysis.evaluation import compare_methods
from problembild.analysis.grid import Grid
from problembild.analysis.hotspots import gi_star_test
from problembild.analysis.metrics import n_flagged, top_cells
from problembild.analysis.spatial import to_wgs84
from problembild.core.processes import alive, exit_with_parent

from ..document import Backtest, ForecastCell, ForecastPart, HotCell, SpacePart, Window, plain
from ..document import Grid as GridPart

#: Candidate points from which the work is spread over worker processes.
PARALLEL_FROM = 500_000
#: Events the SEPP of an area's forecast is fitted on at most (the latest): an area's grid is
#: small, its incidents of all kinds dense (10,000 are a month in the busiest areas and years in
#: most), and the triggering that SEPP adds fades within weeks. Keeps the forecast contest within
#: the refresh budget.
FORECAST_SEPP_EVENTS = 10_000


@dataclass(frozen=True)
class SpaceSettings:
    """The refresh options the spatial part uses (see ``RefreshOptions``)."""

    cell_size: float
    buffer: float
    bandwidth: float
    gi_radius: float
    alpha: float
    hotspot_months: int
    forecast_origins: int
    forecast_years: int


@dataclass
class Points:
    """Incidents around one area: SWEREF99 TM metres and UTC epoch seconds."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def points(self) -> Points:
        return self


#: The columns :func:`shared_points` writes and :class:`PointRows` reads.
_SHARED = ("x", "y", "t")


@dataclass
class PointRows:
    """Incidents around one area as rows of the columns :func:`shared_points` wrote to
    ``folder``: what a task sends a worker instead of the points themselves.

    At ten million incidents the areas' neighbourhoods hold 15 million points (they
    overlap): sent through the pool's pipes they were 370 MB that the refresh held until
    the workers took them; row numbers are a sixth of that, and each worker reads the rows
    it needs from the memory-mapped files. Measured on a typical morning: the refresh's
    peak memory 1.33 to 0.98 GB; its time unchanged (the gathering moved to the workers).
    """

    folder: str
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def points(self) -> Points:
        """The points of :attr:`rows`, read from the files."""
        columns = {
            name: np.load(Path(self.folder) / f"{name}.npy", mmap_mode="r", allow_pickle=False)[self.rows]
            for name in _SHARED
        }
        return Points(**columns)


@contextmanager
def shared_points(
    x: np.ndarray, y: np.ndarray, t: np.ndarray, where: Path | None = None
) -> Iterator[str | None]:
    """``x``, ``y`` and ``t`` written to a new folder under ``where`` (default: the system's
    temporary directory) for :class:`PointRows`; yields its path, and removes it on exit.

    Yields None when the files cannot be written (no space, no folder): the caller then
    sends the points themselves. Folders that killed processes of this host left are
    removed first (the folder's name holds the host and the process id, so a data
    directory shared by several hosts keeps the others' folders).
    """
    import os
    import shutil
    import socket
    import tempfile

    base = Path(where or tempfile.gettempdir())
    mine = f"points-{socket.gethostname()}-"
    for stale in base.glob(f"{mine}*"):
        pid = stale.name[len(mine) :].split("-")[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = None
    try:
        folder = tempfile.mkdtemp(prefix=f"{mine}{os.getpid()}-", dir=base)
        for name, values in zip(_SHARED, (x, y, t), strict=True):
            np.save(Path(folder) / f"{name}.npy", values, allow_pickle=False)
    except OSError:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        folder = None
    try:
        yield folder
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def cells_geo(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> list[list[list[float]]]:
    """WGS84 corner rings of grid cells (for Leaflet)."""
    xmin, ymin, _, _ = grid.bounds
    c = grid.cell_size
    x0 = xmin + cols * c
    y0 = ymin + rows * c
    xs = np.stack([x0, x0 + c, x0 + c, x0], axis=1)
    ys = np.stack([y0, y0, y0 + c, y0 + c], axis=1)
    lon, lat = to_wgs84(xs.ravel(), ys.ravel())
    lon = np.round(lon.reshape(xs.shape), 6)
    lat = np.round(lat.reshape(ys.shape), 6)
    return [
        [[float(a), float(b)] for a, b in zip(lo, la, strict=True)] for lo, la in zip(lon, lat, strict=True)
    ]


NO_BOUNDARY = "Området saknar gräns."


def area_space(
    shape, pts: Points, as_of: pd.Timestamp, options: SpaceSettings, contest: ForecastPart | None = None
) -> SpacePart:
    """Hot spots (KDE + Gi*) for the recent window and next month's forecast cells.

    ``contest``: the area's stored forecast, whose method contest :func:`forecast_cells`
    may reuse.
    """
    if shape is None:
        return SpacePart(status="no_boundary", message=NO_BOUNDARY)
    x0, y0, x1, y1 = shape.bounds
    bounds = (x0 - options.buffer, y0 - options.buffer, x1 + options.buffer, y1 + options.buffer)
    grid = Grid.from_bounds(bounds, options.cell_size)
    since = as_of - pd.DateOffset(months=options.hotspot_months)
    end = int(as_of.tz_convert("UTC").timestamp())
    start = int(since.tz_convert("UTC").timestamp())
    recent = (pts.t >= start) & (pts.t < end)
    x, y = pts.x[recent], pts.y[recent]
    space = SpacePart(
        status="ok",
        grid=GridPart(
            bounds=list(grid.bounds), cell_size=grid.cell_size, shape=list(grid.shape), crs="EPSG:3006"
        ),
        window=Window(start=since.date(), end=as_of.date()),
        bandwidth=options.bandwidth,
        gi_radius_cells=options.gi_radius,
        alpha=options.alpha,
        n_events=len(x),
    )
    if len(x) == 0:
        space.status, space.message, space.cells = (
            "no_events",
            "Inga händelser med koordinater i perioden.",
            [],
        )
    else:
        _hot_cells(space, grid, x, y, options)
    space.forecast = forecast_cells(grid, pts, as_of, options, study=area_cells(grid, shape), contest=contest)
    return space


def area_cells(grid: Grid, shape) -> np.ndarray | None:
    """The grid's cells whose centre lies inside ``shape`` (None when none does: a tiny area)."""
    xc, yc = grid.centres()
    xx, yy = np.meshgrid(xc, yc)
    mask = shapely.contains_xy(shape, xx, yy)
    return mask if mask.any() else None


def _hot_cells(space: SpacePart, grid: Grid, x: np.ndarray, y: np.ndarray, options: SpaceSettings) -> None:
    """Fill ``space`` with the kernel density and the Gi* labels of the cells worth showing."""
    density = kde_grid(x, y, bounds=grid.bounds, cell_size=grid.cell_size, bandwidth=options.bandwidth)
    counts = grid.counts(x, y)
    # p-values from the counts themselves (exact binomial tail of each disk given the
    # map's total): the normal tail of z flags most sparse random maps (issue 10).
    labels = gi_star_test(counts, options.gi_radius, alpha=options.alpha)
    z = labels.z
    peak = float(density.max()) if density.size else 0.0
    show = (density >= 0.05 * peak) | (labels.labels != 0) if peak > 0 else labels.labels != 0
    r, c = np.nonzero(show)
    rings = cells_geo(grid, r, c)
    # Density per km² of events: probability density x events x 1e6 m²/km².
    per_km2 = density[r, c] * len(x) * 1e6
    space.message = ""
    space.n_hot = int(labels.n_hot)
    space.n_cold = int(labels.n_cold)
    space.peak_per_km2 = float(peak * len(x) * 1e6)
    space.cells = [
        HotCell(ring=ring, density=round(float(d), 2), z=round(float(zz), 3), label=int(lab))
        for ring, d, zz, lab in zip(rings, per_km2, z[r, c], labels.labels[r, c], strict=True)
    ]


def contest_key(grid: Grid, options: SpaceSettings, study: np.ndarray | None) -> str:
    """What an area's method contest depends on besides the data: its settings, grid and cells.

    A stored contest is reused (:func:`forecast_cells`) only under the same key.
    """
    parts = [
        [float(b) for b in grid.bounds],
        float(grid.cell_size),
        options.forecast_origins,
        options.forecast_years,
        FORECAST_SEPP_EVENTS,
        list(forecast.METHODS),
        None if study is None else hashlib.sha256(np.packbits(study).tobytes()).hexdigest(),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def forecast_cells(
    grid: Grid,
    pts: Points,
    as_of: pd.Timestamp,
    options: SpaceSettings,
    *,
    study: np.ndarray | None = None,
    contest: ForecastPart | None = None,
) -> ForecastPart:
    """Next 30 days' forecast cells by the method that won the backtest.

    ``study`` is the area's cells (a mask of the grid): the backtest scores the methods
    there, and 5 % of them are flagged, so that PAI compares with the area studied and
    not with the margin around it. Without it, the whole grid.

    ``contest``: a stored forecast of this area whose backtest may be reused (the caller
    decides whether it is recent enough). It is, when it ran under the same
    :func:`contest_key`; then only the winner's forecast is computed, from the data up to
    ``as_of`` — the backtest is over 90 % of the work, and a method that won a week ago
    is no worse a choice for having four more days of data.
    """
    start = int((as_of - pd.DateOffset(years=options.forecast_years)).tz_convert("UTC").timestamp())
    end = int(as_of.tz_convert("UTC").timestamp())
    use = (pts.t >= start) & (pts.t < end)
    if use.sum() < 30:
        return ForecastPart(
            status="too_few_events", message="För få händelser för en prognos (minst 30).", cells=[]
        )
    x, y = pts.x[use], pts.y[use]
    t = pts.t[use].astype("datetime64[s]")
    at = np.datetime64(as_of.tz_convert("UTC").tz_localize(None).to_datetime64(), "s")
    horizon = np.timedelta64(30, "D")
    # One history for the contest and the winner's forecast: the inner backtests (blend,
    # decayed, fitted) of the forecast at `at` mostly repeat those of the last origins.
    history = forecast.BinnedHistory(x, y, t, bounds=grid.bounds, cell_size=grid.cell_size)
    key = contest_key(grid, options, study)
    if contest is not None and contest.status == "ok" and contest.method and contest.contest_key == key:
        chosen = contest.model_dump(include=_CONTEST_FIELDS)
    else:
        chosen = _contest(x, y, t, grid, at, horizon, options, study, history)
        chosen.update(contest_on=as_of.date(), contest_key=key)
    scores = forecast.forecaster(chosen["method"], history=history, sepp_events=FORECAST_SEPP_EVENTS)(
        x, y, t, bounds=grid.bounds, cell_size=grid.cell_size, at=at, horizon=horizon
    )
    inside = np.ones(scores.shape, dtype=bool) if study is None else study
    flat = top_cells(np.where(inside, scores, -np.inf).ravel(), n_flagged(int(inside.sum()), 0.05))
    r, c = np.unravel_index(flat, scores.shape)
    rings = cells_geo(grid, np.asarray(r), np.asarray(c))
    return ForecastPart.model_validate(
        {
            **chosen,
            "status": "ok",
            "message": "",
            "period_start": as_of.date(),
            "horizon_days": 30,
            "coverage": 0.05,
            "study": "grid" if study is None else "area",
            "n_study": int(inside.sum()),
            "cells": [
                ForecastCell(ring=ring, score=round(float(s), 6))
                for ring, s in zip(rings, scores[r, c], strict=True)
            ],
        }
    )


#: The members of a :class:`ForecastPart` that the method contest decides.
_CONTEST_FIELDS = {
    "method",
    "backtest",
    "method_pai",
    "baseline_method",
    "baseline_pai",
    "beats_baseline",
    "p_value",
    "contest_on",
    "contest_key",
}


def _contest(x, y, t, grid: Grid, at, horizon, options: SpaceSettings, study, history) -> dict:
    """Backtest every method before ``at`` (``compare_methods``): the contest's members of the part."""
    table = compare_methods(
        x,
        y,
        t,
        bounds=grid.bounds,
        cell_size=grid.cell_size,
        at=at,
        horizon=horizon,
        n_origins=options.forecast_origins,
        study="grid" if study is None else study,
        history=history,
        sepp_events=FORECAST_SEPP_EVENTS,
    )
    return {
        "method": table.attrs.get("winner") or "blend",
        "backtest": [Backtest.model_validate(plain(row)) for row in table.to_dict(orient="records")],
        "method_pai": _finite(table.attrs.get("winner_pai")),
        "baseline_method": table.attrs.get("baseline_method"),
        "baseline_pai": _finite(table.attrs.get("baseline_pai")),
        "beats_baseline": table.attrs.get("beats_baseline"),
        "p_value": _finite(table.attrs.get("p_value")),
    }


def _finite(value) -> float | None:
    """A float for the document, None for a missing or non-finite score."""
    return float(value) if value is not None and np.isfinite(value) else None


def nearby(
    boundaries: Sequence[tuple[int, object]],
    x: np.ndarray,
    y: np.ndarray,
    options: SpaceSettings,
    *,
    order: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """The rows (ascending) that can reach each boundary's grid: within the grid's buffer
    plus six kernel bandwidths of the boundary's box. Keys without a boundary are left out.

    ``order``: the incidents by x (``np.argsort(x, kind="stable")``), when the caller has
    it already. The fingerprints and the space tasks read the same rows.
    """
    order = np.argsort(x, kind="stable") if order is None else order
    xs = x[order]
    margin = options.buffer + 6 * options.bandwidth
    out = {}
    for key, shape in boundaries:
        if shape is None:
            continue
        bx0, by0, bx1, by1 = shape.bounds
        cand = order[np.searchsorted(xs, bx0 - margin) : np.searchsorted(xs, bx1 + margin, side="right")]
        yy = y[cand]
        out[key] = np.sort(cand[(yy >= by0 - margin) & (yy <= by1 + margin)])
    return out


def space_tasks(
    boundaries: Sequence[tuple[int, object]],
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    options: SpaceSettings,
    *,
    order: np.ndarray | None = None,
    near: Mapping[int, np.ndarray] | None = None,
    shared: str | None = None,
) -> list[tuple[int, object, Points | PointRows]]:
    """``(key, boundary, incidents near it)`` for each ``(key, boundary)`` with a boundary.

    "Near" is within the grid's buffer plus six kernel bandwidths of the boundary's box,
    so every incident that can reach the area's grid is in its task (:func:`nearby`;
    ``near``: its answer, when the caller has it already). ``order``: the incidents by x
    (``np.argsort(x, kind="stable")``), when the caller has it already. ``shared``: the
    folder :func:`shared_points` wrote ``x``, ``y`` and ``t`` to; the tasks then carry
    row numbers (:class:`PointRows`) instead of points.
    """
    if near is None:
        near = nearby(boundaries, x, y, options, order=order)
    small = len(x) < np.iinfo(np.int32).max
    tasks: list[tuple[int, object, Points | PointRows]] = []
    for key, shape in boundaries:
        if shape is None:
            continue
        cand = near[key]
        if shared is not None:
            tasks.append((key, shape, PointRows(shared, cand.astype(np.int32) if small else cand)))
        else:
            tasks.append((key, shape, Points(x=x[cand], y=y[cand], t=t[cand])))
    return tasks


#: Niceness of the worker processes: the caller's own work, which the workers overlap,
#: comes first on the cores, and the workers take whatever it leaves. An increment over the
#: caller's niceness; ``PROBLEMBILD_REFRESH_WORKER_NICE`` overrides it (benchmarks/bench_busy.py).
WORKER_NICENESS = 10


def _start_worker() -> None:
    """Worker initializer: yield the CPU to the caller's own work, and die with the caller."""
    import os

    if hasattr(os, "nice"):
        os.nice(int(os.environ.get("PROBLEMBILD_REFRESH_WORKER_NICE", WORKER_NICENESS)))
    exit_with_parent()


def _warm() -> None:
    """A task that makes the pool start a worker (importing this module is the work)."""


def warm_workers(rows: int):
    """Start the worker processes now, for the :class:`SpaceJobs` of a refresh of about ``rows``
    incidents, or None when it will compute serially (one core, or fewer than
    :data:`PARALLEL_FROM` incidents).

    A worker spends seconds starting an interpreter and importing the analytics; started at
    the beginning of a refresh, they do it on the core the loading leaves idle instead of
    when the areas are ready. Pass the pool to :class:`SpaceJobs`, which owns it from then.
    """
    import os

    cores = os.cpu_count() or 1
    if cores < 2 or rows < PARALLEL_FROM:
        return None
    pool = _pool(cores)
    for _ in range(cores):
        pool.submit(_warm)
    return pool


def _pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
    )


def _one(task: tuple) -> SpacePart:
    shape, pts, as_of, options, contest = task
    return area_space(shape, pts.points(), as_of, options, contest)


class SpaceJobs:
    """:func:`area_space` for each ``(key, shape, points)``, started now, collected later.

    With ``parallel`` (default: when ``pool`` is given, or the tasks hold at least
    :data:`PARALLEL_FROM` points and the machine has more than one core) the areas are
    spread over one worker process per core (``pool``: those :func:`warm_workers` started,
    which this object then owns), started with ``spawn`` at a lower priority, and computed while the
    caller goes on with other work (a refresh counts and fits trends meanwhile: that work
    comes first, the workers use the rest of the cores); otherwise they are computed
    in :meth:`result`. Use it as a context manager, or call :meth:`close`, so that the
    workers stop if the caller fails. ``contests``: key -> the area's stored forecast,
    whose method contest may be reused (:func:`forecast_cells`).
    """

    def __init__(
        self,
        tasks: Sequence[tuple[int, object, Points | PointRows]],
        as_of: pd.Timestamp,
        options: SpaceSettings,
        *,
        parallel: bool | None = None,
        contests: Mapping[int, ForecastPart] | None = None,
        pool=None,
    ) -> None:
        import os

        self.tasks = list(tasks)
        self.total = len(self.tasks)
        self.as_of = as_of
        self.options = options
        self.contests = dict(contests or {})
        if parallel is None:
            parallel = pool is not None or (
                (os.cpu_count() or 1) > 1 and sum(len(p) for _, _, p in self.tasks) >= PARALLEL_FROM
            )
        self._pool = pool
        self._futures: dict = {}
        if not (parallel and self.total >= 2):
            self.close()  # a pool started early (warm_workers) that is not needed
        else:
            if self._pool is None:
                self._pool = _pool(min(os.cpu_count() or 2, len(self.tasks)))
            # Largest first, so that no big area is left running alone at the end.
            order = sorted(self.tasks, key=lambda task: -len(task[2]))
            self._futures = {
                self._pool.submit(_one, (shape, pts, as_of, options, self.contests.get(key))): key
                for key, shape, pts in order
            }
            # The pool holds each area's points until a worker takes them; keeping them
            # here as well would hold them all (hundreds of MB at 10M incidents) to the end.
            self.tasks = []

    def result(self, progress: Callable[[int, int], None] | None = None) -> dict[int, SpacePart]:
        """Every area's spatial part (waits for the workers); key -> part."""
        total = self.total
        out: dict[int, SpacePart] = {}
        if self._pool is None:
            for n, (key, shape, pts) in enumerate(self.tasks, 1):
                out[key] = area_space(shape, pts.points(), self.as_of, self.options, self.contests.get(key))
                if progress:
                    progress(n, total)
            return out
        from concurrent.futures import as_completed

        try:
            for n, future in enumerate(as_completed(self._futures), 1):
                out[self._futures[future]] = future.result()
                if progress:
                    progress(n, total)
        finally:
            self.close()
        return out

    def close(self) -> None:
        """Stop the workers (cancelling what has not started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> SpaceJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
