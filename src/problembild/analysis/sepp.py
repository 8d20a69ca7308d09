"""A grid-based self-exciting point process (SEPP) for short-term hot-spot forecasts.

After Mohler et al. (2011), on the cells of a :class:`~problembild.analysis.grid.Grid`:
the intensity in cell ``c`` at time ``t`` (events per day) is

``lambda_c(t) = mu_c + sum_j theta * omega * exp(-omega (t - t_j)) * s(c - c_j)``

over past events ``j`` in ``c`` or one of its 8 neighbours, with ``s = q`` for the
event's own cell and ``(1 - q) / 8`` for each neighbour. ``mu_c`` is a spatially
smoothed, time-constant background. The parameters are fitted by expectation
maximisation (EM) on the events before ``end``; only parent-child pairs at most
``lookback`` days apart are considered, which keeps the fit linear in the number of
events. Pure numpy/scipy, deterministic.

References
----------
.. [1] Mohler, G. O., Short, M. B., Brantingham, P. J., Schoenberg, F. P. & Tita,
   G. E. (2011). Self-exciting point process modeling of crime. JASA, 106(493), 100-108.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import convolve, gaussian_filter

from ._validation import as_1d_float, positive, same_length
from .grid import Grid, days_scalar, to_days

__all__ = ["SeppFit", "fit_sepp", "sepp_intensity"]

_NEIGHBOURS: tuple[tuple[int, int], ...] = tuple(
    (dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)
)


@dataclass(frozen=True, slots=True, eq=False)
class SeppFit:
    """A fitted grid SEPP (see :func:`fit_sepp`).

    Attributes
    ----------
    grid : Grid
        The grid of the fit.
    mu : ndarray, shape (ny, nx)
        Background rate per cell, events per day.
    theta : float
        Expected number of events triggered by one event.
    omega : float
        Decay rate of the triggering, per day (mean delay ``1 / omega`` days).
    q : float
        Share of the triggered events in the parent's own cell (the rest is spread
        evenly over its 8 neighbours).
    start, end : float
        The fitted window, float days.
    n_events : int
        Events inside the grid and the window.
    n_iter : int
        EM iterations run.
    converged : bool
        Whether the parameters changed by less than ``tol`` (relative) at the end.
    rows, cols, times : ndarray
        The events of the fit (kept for the triggering part of forecasts).
    """

    grid: Grid
    mu: NDArray[np.float64]
    theta: float
    omega: float
    q: float
    start: float
    end: float
    n_events: int
    n_iter: int
    converged: bool
    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    times: NDArray[np.float64]

    @property
    def background_total(self) -> float:
        """Expected background events per day over the whole grid."""
        return float(self.mu.sum())


def _pairs(
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    t: NDArray[np.float64],
    grid: Grid,
    lookback: float,
    max_parents: int,
    max_pairs: int,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.bool_]]:
    """Candidate (child, parent, same cell) pairs: parent earlier by at most ``lookback``.

    ``t`` must be sorted; events are keyed by ``cell * span + t`` so that the parents of
    one child in one neighbour cell are a contiguous range found by binary search. Only
    the latest ``max_parents`` of that range are kept, which bounds the work where many
    events share a cell (e.g. geocoded to one address); where the events are so dense
    that even this gives more than ``max_pairs`` pairs, the per-cell limit is lowered
    (to one at the least) until it does not.
    """
    n = t.size
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=bool)
    span = float(t.max() - t.min()) + lookback + 1.0
    t0 = float(t.min())
    cell = rows * grid.nx + cols
    key = cell * span + (t - t0)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    # Children in key order: the queries of each offset are then sorted too, which makes
    # the binary searches several times faster on large inputs.
    idx, rows, cols, t = order, rows[order], cols[order], t[order]
    ranges = []  # per neighbour offset: (own cell?, children, first candidate, end)
    for dr, dc in ((0, 0), *_NEIGHBOURS):
        r, c = rows + dr, cols + dc
        ok = (r >= 0) & (r < grid.ny) & (c >= 0) & (c < grid.nx)
        if not ok.any():
            continue
        base = (r[ok] * grid.nx + c[ok]) * span
        tt = t[ok] - t0
        lo = np.searchsorted(skey, base + tt - lookback, side="left")
        hi = np.searchsorted(skey, base + tt, side="left")  # strictly earlier parents
        ranges.append((dr == 0 and dc == 0, idx[ok], lo, hi))
    if not ranges:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=bool)
    available = np.concatenate([hi - lo for _, _, lo, hi in ranges])
    limit = max_parents
    while limit > 1 and int(np.minimum(available, limit).sum()) > max_pairs:
        limit = max(1, limit // 2)
    children, parents, own = [], [], []
    for is_own, ci, lo, hi in ranges:
        lo = np.maximum(lo, hi - limit)
        count = hi - lo
        total = int(count.sum())
        if total == 0:
            continue
        starts = np.repeat(lo - np.cumsum(count) + count, count)
        children.append(np.repeat(ci, count))
        parents.append(order[starts + np.arange(total)])
        own.append(np.full(total, is_own))
    if not children:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(children), np.concatenate(parents), np.concatenate(own)


def _smooth(counts: NDArray[np.float64], smooth: float) -> NDArray[np.float64]:
    """``counts`` smoothed by a Gaussian of ``smooth`` cells, total preserved."""
    total = float(counts.sum())
    if total <= 0:
        return np.zeros_like(counts)
    out = gaussian_filter(counts, smooth, mode="constant", truncate=3.0) if smooth > 0 else counts.copy()
    out = out + 1e-6 * total / out.size  # no cell without background
    return np.asarray(out * (total / float(out.sum())), dtype=np.float64)


def fit_sepp(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    end: Any,
    start: Any = None,
    lookback: float = 60.0,
    smooth: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-5,
    init: SeppFit | None = None,
    max_parents: int = 32,
    max_pairs: int = 100_000,
    max_events: int = 50_000,
) -> SeppFit:
    """Fit the grid SEPP by EM to the events in ``[start, end)`` inside the grid.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Event coordinates in metres (events outside the grid are ignored).
    t : array_like, shape (n,)
        Event times, ``numpy.datetime64`` or float days.
    bounds, cell_size
        The grid, as in :func:`~problembild.analysis.forecast.forecast_grid`.
    end : datetime64 or float days
        End of the fitted window (events at or after it are ignored).
    start : datetime64 or float days, optional
        Start of the window; default the first event.
    lookback : float, default 60
        Longest parent-child delay considered, days.
    smooth : float, default 1
        Gaussian sd (cells) of the background's spatial smoothing; 0 for none.
    max_iter : int, default 200
        EM iterations at most.
    tol : float, default 1e-5
        Relative change of ``theta``, ``omega``, ``q`` and the background total below
        which EM stops.
    init : SeppFit, optional
        A previous fit whose ``theta``, ``omega`` and ``q`` start the EM (warm start).
    max_parents : int, default 32
        Candidate parents per event and cell at most (the latest ones within
        ``lookback``); keeps the fit linear in the events where many share a cell.
    max_pairs : int, default 100,000
        Candidate pairs at most: where the events are denser, ``max_parents`` is
        halved until they fit (at least one parent per neighbour cell is kept), which
        bounds the memory and the time per EM iteration. Where events are this dense,
        the background dominates and the nearest parents carry the triggering.
    max_events : int, default 50,000
        Events fitted at most: with more in ``[start, end)``, the window starts at the
        latest ``max_events`` (``SeppFit.start`` says where). A city's burglaries of
        ten years fit whole; a dense area's three years of all incidents are fitted on
        their last months, which keeps one fit within about a second.

    Returns
    -------
    SeppFit
    """
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta = to_days(t, "t")
    same_length(x=xa, y=ya, t=ta)
    grid = Grid.from_bounds(bounds, cell_size)
    end_d = days_scalar(end, "end")
    lookback = positive(lookback, "lookback")
    keep = ta < end_d
    if start is not None:
        start_d = days_scalar(start, "start")
        keep &= ta >= start_d
    col = np.floor((xa - grid.xmin) / grid.cell_size).astype(np.intp)
    row = np.floor((ya - grid.ymin) / grid.cell_size).astype(np.intp)
    col[(xa == grid.xmin + grid.nx * grid.cell_size)] = grid.nx - 1
    row[(ya == grid.ymin + grid.ny * grid.cell_size)] = grid.ny - 1
    keep &= (col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny)
    if max_events < 1:
        raise ValueError(f"max_events must be >= 1, got {max_events!r}")
    n_kept = int(np.count_nonzero(keep))
    if n_kept > max_events:
        # Only the latest events (and ties with the first of them) need sorting below.
        kept_t = ta[keep]
        keep &= ta >= np.partition(kept_t, n_kept - max_events)[n_kept - max_events]
    order = np.argsort(ta[keep], kind="stable")
    tt, rr, cc = ta[keep][order], row[keep][order], col[keep][order]
    truncated = n_kept > max_events
    if truncated and tt.size > max_events:
        first = tt.size - max_events
        later = np.searchsorted(tt, tt[first], side="right")  # the window starts between two times
        first = int(later) if later < tt.size else first
        tt, rr, cc = tt[first:], rr[first:], cc[first:]
    n = tt.size
    if truncated or start is None:
        start_d = float(tt[0]) if n else end_d
    duration = max(end_d - start_d, 1e-9)
    cell = rr * grid.nx + cc
    if n == 0:
        return SeppFit(grid, np.zeros(grid.shape), 0.0, 1.0, 1.0, start_d, end_d, 0, 0, True, rr, cc, tt)

    child, parent, own = _pairs(rr, cc, tt, grid, lookback, max_parents, max_pairs)
    dt = tt[child] - tt[parent]
    n_own = int(own.sum())  # _pairs lists the own-cell pairs first
    decay = np.empty_like(dt)
    theta, omega, q = (init.theta, init.omega, init.q) if init is not None else (0.5, 0.1, 0.5)
    theta = min(max(theta, 1e-3), 0.95)
    bg = _smooth(
        0.5 * np.bincount(cell, minlength=grid.nx * grid.ny).reshape(grid.shape).astype(np.float64), smooth
    )
    mu = bg / duration
    remaining = np.minimum(end_d - tt, lookback)
    recent = remaining[remaining < lookback]  # the others all have ``lookback`` days left
    n_old = n - recent.size
    n_iter, converged = 0, False
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        np.multiply(dt, -omega, out=decay)
        trig = np.exp(decay, out=decay)
        trig[:n_own] *= theta * omega * q
        trig[n_own:] *= theta * omega * (1.0 - q) / 8.0
        mu_event = mu.ravel()[cell]
        lam = mu_event + np.bincount(child, weights=trig, minlength=n)
        p_pair = np.divide(trig, lam[child], out=trig)
        p_bg = mu_event / lam
        n_trig = float(p_pair.sum())
        new_mu = _smooth(
            np.bincount(cell, weights=p_bg, minlength=grid.nx * grid.ny).reshape(grid.shape), smooth
        )
        new_mu /= duration
        exposure = n_old * (1.0 - math.exp(-omega * lookback)) + float((1.0 - np.exp(-omega * recent)).sum())
        new_theta = min(n_trig / exposure, 0.99) if exposure > 0 else 0.0
        weighted_dt = float((p_pair * dt).sum())
        new_omega = n_trig / weighted_dt if weighted_dt > 0 else omega
        new_q = float(p_pair[:n_own].sum()) / n_trig if n_trig > 0 else q
        change = max(
            abs(new_theta - theta) / max(theta, 1e-3),
            abs(new_omega - omega) / max(omega, 1e-9),
            abs(new_q - q) / max(q, 1e-9),
            abs(float(new_mu.sum()) - float(mu.sum())) / max(float(mu.sum()), 1e-12),
        )
        theta, omega, q, mu = new_theta, new_omega, new_q, new_mu
        if change < tol:
            converged = True
            break
    return SeppFit(grid, mu, theta, omega, q, start_d, end_d, n, n_iter, converged, rr, cc, tt)


def sepp_intensity(fit: SeppFit, at: Any, horizon: Any) -> NDArray[np.float64]:
    """Expected events per cell in ``[at, at + horizon)`` under ``fit``, shape (ny, nx).

    Uses only the fitted events (all before ``fit.end``); ``at`` should be ``fit.end``
    or later. The triggering of each event is integrated over the period and spread
    over its cell (share ``q``) and its neighbours.
    """
    at_d = days_scalar(at, "at")
    h = days_scalar(horizon, "horizon", duration=True)
    grid = fit.grid
    out = fit.mu * h
    if fit.n_events == 0 or fit.theta <= 0:
        return np.asarray(out, dtype=np.float64)
    age = np.maximum(at_d - fit.times, 0.0)
    mass = fit.theta * (np.exp(-fit.omega * age) - np.exp(-fit.omega * (age + h)))
    parents = np.bincount(fit.rows * grid.nx + fit.cols, weights=mass, minlength=grid.nx * grid.ny)
    kernel = np.full((3, 3), (1.0 - fit.q) / 8.0)
    kernel[1, 1] = fit.q
    spread = convolve(parents.reshape(grid.shape), kernel, mode="constant")
    if not math.isfinite(float(spread.sum())):
        return np.asarray(out, dtype=np.float64)
    return np.asarray(out + spread, dtype=np.float64)
