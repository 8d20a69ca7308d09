"""Short-term hot-spot forecasts on the analysis grid, with honest method selection.

Every forecast for the period ``[at, at + horizon)`` uses only events with ``t < at``;
the blend's weight and bandwidths are chosen by a rolling-origin backtest that also
ends at ``at``. Scores are laid out like :func:`problembild.analysis.density.kde_grid`
(shape ``(ny, nx)``, row 0 south) and are meant for ranking cells, not as counts.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.signal import fftconvolve

from ._validation import as_1d_float, positive, same_length
from .density import _bin, _lattice, _smooth, kde_grid
from .evaluation import COVERAGES, backtest, evaluate
from .grid import Grid, days_scalar, to_days
from .hotspots import disk_offsets

__all__ = [
    "BANDWIDTH_SCALES",
    "BLEND_WEIGHTS",
    "METHODS",
    "BlendChoice",
    "compare_methods",
    "forecast_grid",
    "select_blend",
]

#: Forecasting methods, simplest first (ties in :func:`compare_methods` go to the simpler).
METHODS: tuple[str, ...] = ("naive", "long_term", "prospective", "blend")
#: Candidate weights of the long-term density in the blend.
BLEND_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Candidate spatial scales in cells: long-term bandwidth ``s`` cells, prospective radius ``2 s``.
BANDWIDTH_SCALES: tuple[float, ...] = (1.0, 2.0, 4.0)

_DEFAULT_SCALE = 2.0
_DEFAULT_LOOKBACK_DAYS = 56.0
_DEFAULT_SELECTION_ORIGINS = 4
_SELECTION_COVERAGE = 0.05
_OPTIONS = frozenset({"bandwidth", "radius", "lookback", "weight", "n_origins"})


@dataclass(frozen=True, slots=True, eq=False)
class BlendChoice:
    """Blend parameters chosen by :func:`select_blend`.

    Attributes
    ----------
    weight : float
        Weight ``w`` of the normalised long-term density (``1 - w`` goes to the
        normalised prospective score).
    bandwidth : float
        Long-term KDE bandwidth, metres.
    radius : float
        Prospective neighbourhood radius, metres.
    mean_pai : float
        Mean PAI at ``coverage`` over the usable backtest origins (NaN if none).
    coverage : float
        Coverage the PAI was measured at (0.05).
    n_origins : int
        Backtest origins that had at least one actual incident.
    selected : bool
        False when no origin was usable and the defaults (w = 0.5, 2-cell bandwidth)
        were returned.
    candidates : pandas.DataFrame
        Every candidate's ``weight``, ``bandwidth``, ``radius``, ``mean_pai``.
    """

    weight: float
    bandwidth: float
    radius: float
    mean_pai: float
    coverage: float
    n_origins: int
    selected: bool
    candidates: pd.DataFrame


def _normalise(values: NDArray[np.float64]) -> NDArray[np.float64]:
    total = float(values.sum())
    return values / total if total > 0 else np.zeros_like(values)


def _tie_break(primary: NDArray[np.float64], secondary: NDArray[np.float64]) -> NDArray[np.float64]:
    """``primary`` nudged by ``secondary`` by less than half its smallest gap.

    Distinct primary values keep their order exactly; only cells tied on ``primary``
    are ordered by ``secondary`` (e.g. the many zero cells of a sparse recent-count map,
    which would otherwise be flagged by position in the array).
    """
    top = float(secondary.max()) if secondary.size else 0.0
    if top <= 0:
        return primary
    distinct = np.unique(primary)
    gap = float(np.diff(distinct).min()) if distinct.size > 1 else 1.0
    return primary + (0.5 * gap) * (secondary / top) * (1 - 1e-9)


class _PastDensities:
    """Long-term densities of one history cut off at many origins, binned once.

    A backtest asks for the KDE of "every event before the origin" at many origins and
    bandwidths; those histories are nested, and binning (the per-event part of
    :func:`kde_grid`) is additive, so the events are sorted by time and each lattice is
    the one of a shorter history plus the events in between. The result equals
    :func:`kde_grid` up to floating-point summation order.
    """

    def __init__(
        self, grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64]
    ) -> None:
        order = np.argsort(t, kind="stable")
        self.grid = grid
        self.x, self.y, self.t = x[order], y[order], t[order]
        self._binned: dict[float, list[tuple[int, NDArray[np.float64]]]] = {}

    def density(self, cutoff: float, bandwidth: float, n_events: int) -> NDArray[np.float64] | None:
        """KDE of the events before ``cutoff``; None unless there are ``n_events`` of them."""
        n = int(np.searchsorted(self.t, cutoff, side="left"))
        if n != n_events:
            return None  # not this history: the caller computes it directly
        if n == 0:
            return np.zeros(self.grid.shape)
        lattice = _lattice(self.grid, bandwidth)
        known = self._binned.setdefault(bandwidth, [])
        start, base = max(((m, b) for m, b in known if m <= n), key=lambda mb: mb[0], default=(0, None))
        binned = _bin(lattice, self.x[start:n], self.y[start:n], None)
        if base is not None:
            binned += base
        known.append((n, binned))
        return _smooth(self.grid, lattice, binned) / n


#: The history a running :func:`compare_methods` shares between its forecasts.
_PAST: ContextVar[_PastDensities | None] = ContextVar("problembild_past_densities", default=None)


def _long_term(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    bandwidth: float,
    cutoff: float | None = None,
) -> NDArray[np.float64]:
    """KDE of the events (those before ``cutoff`` of the shared history, when one is set)."""
    past = _PAST.get()
    if past is not None and cutoff is not None and past.grid == grid:
        out = past.density(cutoff, bandwidth, len(x))
        if out is not None:
            return out
    return kde_grid(x, y, bounds=grid.bounds, cell_size=grid.cell_size, bandwidth=bandwidth)


def _prospective(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    at: float,
    radius: float,
    lookback: float,
) -> NDArray[np.float64]:
    """Bowers et al. (2004) prospective risk surface (see :func:`forecast_grid`)."""
    cs = grid.cell_size
    reach = math.floor(radius / cs)
    recent = (t < at) & (t >= at - lookback)
    weeks = np.floor((at - t[recent]) / 7.0)
    padded = Grid(
        grid.xmin - reach * cs, grid.ymin - reach * cs, cs, grid.nx + 2 * reach, grid.ny + 2 * reach
    )
    weighted = padded.counts(x[recent], y[recent], weights=1.0 / (1.0 + weeks))
    offsets = disk_offsets(radius / cs)
    kernel = np.zeros((2 * reach + 1, 2 * reach + 1))
    kernel[offsets[:, 0] + reach, offsets[:, 1] + reach] = 1.0 / (
        1.0 + np.hypot(offsets[:, 0], offsets[:, 1])
    )
    if not weighted.any():
        return np.zeros(grid.shape)
    out = fftconvolve(weighted, kernel, mode="valid")
    # FFT round-off leaves ~1e-17 where the exact value is 0; true values are at least
    # (1 / (1 + lookback weeks)) / (1 + radius cells), far above this threshold.
    out[out < 1e-12 * float(out.max())] = 0.0
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Options:
    bandwidth: float | None
    radius: float | None
    lookback: float
    weight: float | None
    n_origins: int


def _options(options: dict[str, Any]) -> _Options:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {sorted(_OPTIONS)}")
    bandwidth = options.get("bandwidth")
    radius = options.get("radius")
    weight = options.get("weight")
    lookback = options.get("lookback", _DEFAULT_LOOKBACK_DAYS)
    n_origins = options.get("n_origins", _DEFAULT_SELECTION_ORIGINS)
    if weight is not None:
        weight = float(weight)
        if not 0 <= weight <= 1:
            raise ValueError(f"weight must be in [0, 1], got {options['weight']!r}")
    if isinstance(n_origins, bool) or not isinstance(n_origins, int | np.integer) or n_origins < 1:
        raise ValueError(f"n_origins must be an integer >= 1, got {n_origins!r}")
    return _Options(
        bandwidth=None if bandwidth is None else positive(bandwidth, "bandwidth"),
        radius=None if radius is None else positive(radius, "radius"),
        lookback=days_scalar(lookback, "lookback", duration=True),
        weight=weight,
        n_origins=int(n_origins),
    )


def _prepare(
    x: ArrayLike, y: ArrayLike, t: ArrayLike, bounds: Any, cell_size: float, at: Any, horizon: Any
) -> tuple[Grid, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float, float]:
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta = to_days(t, "t")
    same_length(x=xa, y=ya, t=ta)
    grid = Grid.from_bounds(bounds, cell_size)
    at_days = days_scalar(at, "at")
    h = days_scalar(horizon, "horizon", duration=True)
    past = ta < at_days
    return grid, xa[past], ya[past], ta[past], at_days, h


def forecast_grid(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    at: Any,
    horizon: Any,
    method: str = "blend",
    **options: Any,
) -> NDArray[np.float64]:
    """Score each cell for incidents in ``[at, at + horizon)`` from events before ``at``.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Event coordinates in metres. Events outside ``bounds`` inform the kernels near
        the edge.
    t : array_like, shape (n,)
        Event times, ``numpy.datetime64`` or float days. Events with ``t >= at`` are
        ignored, so passing the full history is safe.
    bounds : sequence of 4 floats
        ``(xmin, ymin, xmax, ymax)`` in metres.
    cell_size : float
        Cell side in metres.
    at : datetime64, datetime, str or float days
        Start of the forecast period (same kind as ``t``).
    horizon : timedelta64, timedelta or float days
        Length of the forecast period (> 0).
    method : {"blend", "naive", "long_term", "prospective"}
        See Notes.
    **options
        ``bandwidth`` (metres, long-term KDE sd; default 2 cells),
        ``radius`` (metres, prospective neighbourhood; default 4 cells),
        ``lookback`` (days or timedelta, prospective memory; default 56 days),
        ``weight`` (blend weight of the long-term density in [0, 1]; if given, no
        selection is run and missing bandwidth/radius take their defaults),
        ``n_origins`` (backtest origins for the blend selection; default 4).
        Options that a method does not use are accepted and ignored, so one set of
        options can be passed to every method.

    Returns
    -------
    ndarray of float64, shape (ny, nx)
        Non-negative scores; higher means more expected incidents. All zeros when no
        event precedes ``at``.

    Raises
    ------
    ValueError
        Naming the argument for invalid inputs, an unknown method or unknown options.

    Notes
    -----
    * ``"naive"``: number of events per cell in ``[at - horizon, at)``. Cells with equal
      counts (most are 0) are ordered by the default long-term density, through a
      nudge smaller than half a count, so flags are deterministic and sensible.
    * ``"long_term"``: Gaussian KDE (:func:`kde_grid`) of all events before ``at``.
    * ``"prospective"``: prospective hot-spotting after Bowers, Johnson & Pease (2004):
      each event in the last ``lookback`` days adds
      ``1 / (1 + d) * 1 / (1 + weeks)`` to every cell whose centre lies within
      ``radius`` of the centre of the event's cell, ``d`` being that distance in cells
      and ``weeks`` the whole weeks elapsed before ``at``. Ties (cells out of reach of
      any recent event) are ordered by the long-term density as for "naive".
    * ``"blend"``: ``w * L / sum(L) + (1 - w) * P / sum(P)`` with ``L`` the long-term
      density and ``P`` the prospective score, ties ordered by ``L``. Unless ``weight``
      is given, ``w`` in :data:`BLEND_WEIGHTS` and the spatial scale in
      :data:`BANDWIDTH_SCALES` are chosen by :func:`select_blend` on history before
      ``at`` only.

    References
    ----------
    .. [1] Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting:
       the future of crime mapping? British Journal of Criminology, 44(5), 641-658.
    .. [2] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
       for predicting spatial patterns of crime. Security Journal, 21, 4-28.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    opts = _options(options)
    grid, xa, ya, ta, at_days, h = _prepare(x, y, t, bounds, cell_size, at, horizon)
    cs = grid.cell_size
    bandwidth = opts.bandwidth if opts.bandwidth is not None else _DEFAULT_SCALE * cs
    radius = opts.radius if opts.radius is not None else 2 * _DEFAULT_SCALE * cs
    if xa.size == 0:
        return np.zeros(grid.shape)

    if method == "blend":
        if opts.weight is None:
            choice = _select(grid, xa, ya, ta, at_days, h, opts)
            weight, bandwidth, radius = choice.weight, choice.bandwidth, choice.radius
        else:
            weight = opts.weight
        long_term = _normalise(_long_term(grid, xa, ya, bandwidth, at_days))
        recent = _normalise(_prospective(grid, xa, ya, ta, at_days, radius, opts.lookback))
        return _tie_break(weight * long_term + (1 - weight) * recent, long_term)

    long_term = _long_term(grid, xa, ya, bandwidth, at_days)
    if method == "long_term":
        return long_term
    if method == "naive":
        last = ta >= at_days - h
        return _tie_break(grid.counts(xa[last], ya[last]), long_term)
    return _tie_break(_prospective(grid, xa, ya, ta, at_days, radius, opts.lookback), long_term)


def select_blend(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    at: Any,
    horizon: Any,
    **options: Any,
) -> BlendChoice:
    """Choose the blend weight and spatial scale by a rolling-origin backtest before ``at``.

    Parameters
    ----------
    x, y, t, bounds, cell_size, at, horizon
        As in :func:`forecast_grid`; events with ``t >= at`` are ignored.
    **options
        ``lookback`` and ``n_origins`` as in :func:`forecast_grid` (others ignored).

    Returns
    -------
    BlendChoice
        The weight, bandwidth and radius with the highest mean PAI at 5 % coverage.

    Notes
    -----
    Origins are ``at - k * horizon`` for ``k = 1..n_origins``; at each, the candidate
    forecasts use events before the origin and are scored against the events in
    ``[origin, origin + horizon)``, which all precede ``at``. Candidates are every ``w``
    in :data:`BLEND_WEIGHTS` with every scale ``s`` in :data:`BANDWIDTH_SCALES`
    (long-term bandwidth ``s`` cells, prospective radius ``2 s`` cells): 15 candidates,
    each origin needing 3 KDEs and 3 prospective surfaces. Origins without incidents
    are skipped; if none is usable, ``w = 0.5`` and scale 2 are returned with
    ``selected=False``. Equal mean PAIs are resolved towards ``w = 0.5``, then the
    middle scale (the least extreme candidate).
    """
    opts = _options(options)
    grid, xa, ya, ta, at_days, h = _prepare(x, y, t, bounds, cell_size, at, horizon)
    return _select(grid, xa, ya, ta, at_days, h, opts)


def _select(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    at: float,
    horizon: float,
    opts: _Options,
) -> BlendChoice:
    cs = grid.cell_size
    scales = BANDWIDTH_SCALES
    sums = np.zeros((len(scales), len(BLEND_WEIGHTS)))
    usable = 0
    for k in range(1, opts.n_origins + 1):
        origin = at - k * horizon
        future = (t >= origin) & (t < origin + horizon)
        actual = grid.counts(x[future], y[future])
        past = t < origin
        if actual.sum() == 0 or not past.any():
            continue
        usable += 1
        for a, s in enumerate(scales):
            lt = _normalise(_long_term(grid, x[past], y[past], s * cs, origin))
            pr = _normalise(_prospective(grid, x[past], y[past], t[past], origin, 2 * s * cs, opts.lookback))
            for b, w in enumerate(BLEND_WEIGHTS):
                scores = _tie_break(w * lt + (1 - w) * pr, lt)
                sums[a, b] += float(evaluate(scores, actual, [_SELECTION_COVERAGE])["pai"].iloc[0])
    rows = [
        (w, s * cs, 2 * s * cs, sums[a, b] / usable if usable else math.nan)
        for a, s in enumerate(scales)
        for b, w in enumerate(BLEND_WEIGHTS)
    ]
    table = pd.DataFrame(rows, columns=["weight", "bandwidth", "radius", "mean_pai"])
    if not usable:
        return BlendChoice(
            weight=0.5,
            bandwidth=_DEFAULT_SCALE * cs,
            radius=2 * _DEFAULT_SCALE * cs,
            mean_pai=math.nan,
            coverage=_SELECTION_COVERAGE,
            n_origins=0,
            selected=False,
            candidates=table,
        )
    # Preference order for ties: weight closest to 0.5, then scale closest to the middle.
    preference = sorted(
        range(len(rows)),
        key=lambda r: (
            -round(rows[r][3], 12),
            abs(rows[r][0] - 0.5),
            abs(rows[r][1] / cs - _DEFAULT_SCALE),
            rows[r][0],
        ),
    )
    w, bw, rad, score = rows[preference[0]]
    return BlendChoice(
        weight=w,
        bandwidth=bw,
        radius=rad,
        mean_pai=score,
        coverage=_SELECTION_COVERAGE,
        n_origins=usable,
        selected=True,
        candidates=table,
    )


def compare_methods(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    at: Any,
    horizon: Any,
    n_origins: int = 6,
    coverages: tuple[float, ...] = COVERAGES,
    **options: Any,
) -> pd.DataFrame:
    """Backtest all methods on the history before ``at`` and name the winner.

    Parameters
    ----------
    x, y, t, bounds, cell_size, at, horizon
        As in :func:`forecast_grid`; events with ``t >= at`` are ignored.
    n_origins : int, default 6
        Origins ``at - k * horizon`` for ``k = n_origins..1``.
    coverages : tuple of float, default :data:`COVERAGES`
        Shares of cells flagged.
    **options
        Passed to :func:`forecast_grid` for every method (the blend re-selects its
        parameters at every origin from the history before that origin).

    Returns
    -------
    pandas.DataFrame
        One row per method × coverage with the mean ``hit_rate``, ``pai``, ``pei`` over
        the origins that had incidents, ``n_origins`` (that count) and ``winner``
        (True on every row of the method with the highest mean PAI at 5 % coverage;
        ties go to the simpler method in :data:`METHODS` order). The winner's name is
        also in ``frame.attrs["winner"]`` (None when no origin had incidents).
    """
    if isinstance(n_origins, bool) or not isinstance(n_origins, int | np.integer) or n_origins < 1:
        raise ValueError(f"n_origins must be an integer >= 1, got {n_origins!r}")
    grid, xa, ya, ta, at_days, h = _prepare(x, y, t, bounds, cell_size, at, horizon)
    origins = [at_days - k * h for k in range(int(n_origins), 0, -1)]
    token = _PAST.set(_PastDensities(grid, xa, ya, ta))
    try:
        detail = backtest(
            xa,
            ya,
            ta,
            bounds=grid.bounds,
            cell_size=grid.cell_size,
            origins=origins,
            horizon=h,
            methods=list(METHODS),
            coverages=tuple(sorted({*coverages, _SELECTION_COVERAGE})),
            **options,
        )
    finally:
        _PAST.reset(token)
    return _summarise(detail, coverages)


def _summarise(detail: pd.DataFrame, coverages: tuple[float, ...]) -> pd.DataFrame:
    valid = detail[detail["n_actual"] > 0]
    summary = (
        valid.groupby(["method", "coverage"], sort=False)[["hit_rate", "pai", "pei"]]
        .mean()
        .reindex(pd.MultiIndex.from_product([list(METHODS), sorted({*coverages, _SELECTION_COVERAGE})]))
    )
    summary.index.names = ["method", "coverage"]
    summary = summary.reset_index()
    summary["n_origins"] = int(valid["origin"].nunique())
    at5 = summary[np.isclose(summary["coverage"], _SELECTION_COVERAGE)].set_index("method")["pai"]
    winner: str | None = None
    if at5.notna().any():
        best = at5.max()
        winner = next(m for m in METHODS if at5.get(m) is not None and at5[m] >= best - 1e-12)
    summary["winner"] = summary["method"] == winner
    summary = summary[summary["coverage"].isin([float(c) for c in coverages])].reset_index(drop=True)
    summary.attrs["winner"] = winner
    return summary
