"""Short-term hot-spot forecasts on the analysis grid, with honest method selection.

Every forecast for the period ``[at, at + horizon)`` uses only events with ``t < at``;
the blend's weight and bandwidths are chosen by a rolling-origin backtest that also
ends at ``at``. Scores are laid out like :func:`problembild.analysis.density.kde_grid`
(shape ``(ny, nx)``, row 0 south) and are meant for ranking cells, not as counts.

:func:`forecaster` returns a method as a callable for
:func:`problembild.analysis.evaluation.backtest`, which compares methods (this module
does not import it: the arrows go metrics <- forecast <- evaluation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.signal import fftconvolve

from ._validation import as_1d_float, positive, same_length
from .density import KernelLattice, kde_grid
from .grid import Grid, days_scalar, to_days
from .hotspots import disk_offsets
from .metrics import evaluate

__all__ = [
    "BANDWIDTH_SCALES",
    "BLEND_WEIGHTS",
    "METHODS",
    "SELECTION_COVERAGE",
    "BinnedHistory",
    "BlendChoice",
    "Forecaster",
    "forecast_grid",
    "forecaster",
    "select_blend",
]

#: Forecasting methods, simplest first (ties in
#: :func:`problembild.analysis.evaluation.compare_methods` go to the simpler).
METHODS: tuple[str, ...] = ("naive", "long_term", "prospective", "blend")
#: Candidate weights of the long-term density in the blend.
BLEND_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Candidate spatial scales in cells: long-term bandwidth ``s`` cells, prospective radius ``2 s``.
BANDWIDTH_SCALES: tuple[float, ...] = (1.0, 2.0, 4.0)

#: Share of cells flagged when the blend is selected and when
#: :func:`problembild.analysis.evaluation.compare_methods` names its winner (5 %).
SELECTION_COVERAGE: Final = 0.05

_DEFAULT_SCALE = 2.0
_DEFAULT_LOOKBACK_DAYS = 56.0
_DEFAULT_SELECTION_ORIGINS = 4
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


class BinnedHistory:
    """The events of one backtest, binned once so that the KDE before any cutoff is cheap.

    A backtest asks for the long-term density of "every event before the origin" at
    many origins and bandwidths. Those histories are nested and binning (the per-event
    part of :func:`~problembild.analysis.density.kde_grid`) is additive, so the events
    are sorted by time and each binned lattice is the one of a shorter history plus
    the events in between. Pass one instance to every :func:`forecaster` of a backtest
    over these events; the forecasts equal those without it up to floating-point
    summation order.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Event coordinates in metres.
    t : array_like, shape (n,)
        Event times, ``numpy.datetime64`` or float days.
    bounds : sequence of 4 floats
        ``(xmin, ymin, xmax, ymax)`` of the forecast grid, metres.
    cell_size : float
        Cell side in metres.

    Notes
    -----
    A forecast uses the history only when it is called on the same grid with exactly
    the events of the history before its ``at`` (checked by their number); any other
    call computes its density directly.
    """

    def __init__(self, x: ArrayLike, y: ArrayLike, t: ArrayLike, *, bounds: Any, cell_size: float) -> None:
        xa = as_1d_float(x, "x")
        ya = as_1d_float(y, "y")
        ta = to_days(t, "t")
        same_length(x=xa, y=ya, t=ta)
        order = np.argsort(ta, kind="stable")
        self.grid = Grid.from_bounds(bounds, cell_size)
        self._x, self._y, self._t = xa[order], ya[order], ta[order]
        self._binned: dict[float, list[tuple[int, NDArray[np.float64]]]] = {}

    def density(self, cutoff: float, bandwidth: float, n_events: int) -> NDArray[np.float64] | None:
        """KDE of the events before ``cutoff``, or None unless there are ``n_events`` of them.

        Parameters
        ----------
        cutoff : float
            Time in float days (as :func:`~problembild.analysis.grid.to_days` gives).
        bandwidth : float
            Kernel standard deviation in metres.
        n_events : int
            Number of events the caller has before ``cutoff``: a different number means
            another history, which this one cannot answer for.

        Returns
        -------
        ndarray of float64, shape (ny, nx), or None
            As ``kde_grid`` of those events on :attr:`grid`.
        """
        n = int(np.searchsorted(self._t, cutoff, side="left"))
        if n != n_events:
            return None  # not this history: the caller computes it directly
        if n == 0:
            return np.zeros(self.grid.shape)
        lattice = KernelLattice.for_grid(self.grid, bandwidth)
        known = self._binned.setdefault(bandwidth, [])
        start, base = max(((m, b) for m, b in known if m <= n), key=lambda mb: mb[0], default=(0, None))
        binned = lattice.bin(self._x[start:n], self._y[start:n])
        if base is not None:
            binned += base
        known.append((n, binned))
        return lattice.smooth(binned) / n


def _long_term(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    bandwidth: float,
    *,
    cutoff: float,
    history: BinnedHistory | None,
) -> NDArray[np.float64]:
    """KDE of the events (those before ``cutoff`` of ``history``, when it holds them)."""
    if history is not None and history.grid == grid:
        out = history.density(cutoff, bandwidth, len(x))
        if out is not None:
            return out
    return kde_grid(x, y, bounds=grid.bounds, cell_size=grid.cell_size, bandwidth=bandwidth)


def _prospective(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    *,
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


@dataclass(frozen=True, slots=True)
class _Past:
    """Validated events before ``at`` (float days) and the grid and horizon of a forecast."""

    grid: Grid
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.float64]
    at: float
    horizon: float


def _prepare(
    x: ArrayLike, y: ArrayLike, t: ArrayLike, *, bounds: Any, cell_size: float, at: Any, horizon: Any
) -> _Past:
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta = to_days(t, "t")
    same_length(x=xa, y=ya, t=ta)
    grid = Grid.from_bounds(bounds, cell_size)
    at_days = days_scalar(at, "at")
    h = days_scalar(horizon, "horizon", duration=True)
    past = ta < at_days
    return _Past(grid, xa[past], ya[past], ta[past], at_days, h)


class Forecaster(Protocol):
    """A forecasting method as :func:`forecaster` returns it.

    Called as ``f(x, y, t, bounds=..., cell_size=..., at=..., horizon=...)`` with the
    arguments of :func:`forecast_grid` (``x``, ``y``, ``t`` by position, under any
    name), it returns scores of shape ``(ny, nx)``.
    :func:`problembild.analysis.evaluation.backtest` accepts any callable of this form.
    """

    def __call__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        t: ArrayLike,
        /,
        *,
        bounds: Any,
        cell_size: float,
        at: Any,
        horizon: Any,
    ) -> NDArray[np.float64]: ...


def forecaster(method: str = "blend", *, history: BinnedHistory | None = None, **options: Any) -> Forecaster:
    """A forecasting method with its options, as a callable.

    Parameters
    ----------
    method : {"blend", "naive", "long_term", "prospective"}
        As in :func:`forecast_grid`.
    history : BinnedHistory, optional
        The events a backtest will call the forecaster on, binned once and shared by
        the forecasts at its origins (and by several forecasters); changes only the
        cost, not the scores (up to floating-point summation order).
    **options
        As in :func:`forecast_grid`; checked now.

    Returns
    -------
    Forecaster
        ``f(x, y, t, *, bounds, cell_size, at, horizon) -> ndarray (ny, nx)``, equal to
        ``forecast_grid(x, y, t, bounds=bounds, cell_size=cell_size, at=at,
        horizon=horizon, method=method, **options)``.

    Raises
    ------
    ValueError
        For an unknown method, unknown options or invalid option values.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    opts = _options(options)
    if history is not None and not isinstance(history, BinnedHistory):
        raise ValueError(f"history must be a BinnedHistory or None, got {type(history).__name__}")

    def forecast(
        x: ArrayLike, y: ArrayLike, t: ArrayLike, *, bounds: Any, cell_size: float, at: Any, horizon: Any
    ) -> NDArray[np.float64]:
        past = _prepare(x, y, t, bounds=bounds, cell_size=cell_size, at=at, horizon=horizon)
        return _forecast(past, method, opts, history)

    forecast.__name__ = forecast.__qualname__ = f"forecaster({method!r})"
    return forecast


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

    See Also
    --------
    forecaster : The same forecast as a callable, e.g. for
        :func:`problembild.analysis.evaluation.backtest`.

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
    return forecaster(method, **options)(x, y, t, bounds=bounds, cell_size=cell_size, at=at, horizon=horizon)


def _forecast(past: _Past, method: str, opts: _Options, history: BinnedHistory | None) -> NDArray[np.float64]:
    """The scores of :func:`forecast_grid` for validated events before ``past.at``."""
    grid, xa, ya, ta, at_days = past.grid, past.x, past.y, past.t, past.at
    cs = grid.cell_size
    bandwidth = opts.bandwidth if opts.bandwidth is not None else _DEFAULT_SCALE * cs
    radius = opts.radius if opts.radius is not None else 2 * _DEFAULT_SCALE * cs
    if xa.size == 0:
        return np.zeros(grid.shape)

    if method == "blend":
        if opts.weight is None:
            choice = _select(past, opts, history)
            weight, bandwidth, radius = choice.weight, choice.bandwidth, choice.radius
        else:
            weight = opts.weight
        long_term = _normalise(_long_term(grid, xa, ya, bandwidth, cutoff=at_days, history=history))
        recent = _normalise(_prospective(grid, xa, ya, ta, at=at_days, radius=radius, lookback=opts.lookback))
        return _tie_break(weight * long_term + (1 - weight) * recent, long_term)

    long_term = _long_term(grid, xa, ya, bandwidth, cutoff=at_days, history=history)
    if method == "long_term":
        return long_term
    if method == "naive":
        last = ta >= at_days - past.horizon
        return _tie_break(grid.counts(xa[last], ya[last]), long_term)
    prospective = _prospective(grid, xa, ya, ta, at=at_days, radius=radius, lookback=opts.lookback)
    return _tie_break(prospective, long_term)


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
    past = _prepare(x, y, t, bounds=bounds, cell_size=cell_size, at=at, horizon=horizon)
    return _select(past, opts, None)


def _select(events: _Past, opts: _Options, history: BinnedHistory | None) -> BlendChoice:
    grid, x, y, t = events.grid, events.x, events.y, events.t
    cs = grid.cell_size
    scales = BANDWIDTH_SCALES
    sums = np.zeros((len(scales), len(BLEND_WEIGHTS)))
    usable = 0
    for k in range(1, opts.n_origins + 1):
        origin = events.at - k * events.horizon
        future = (t >= origin) & (t < origin + events.horizon)
        actual = grid.counts(x[future], y[future])
        past = t < origin
        if actual.sum() == 0 or not past.any():
            continue
        usable += 1
        xp, yp, tp = x[past], y[past], t[past]
        for a, s in enumerate(scales):
            lt = _normalise(_long_term(grid, xp, yp, s * cs, cutoff=origin, history=history))
            pr = _normalise(
                _prospective(grid, xp, yp, tp, at=origin, radius=2 * s * cs, lookback=opts.lookback)
            )
            for b, w in enumerate(BLEND_WEIGHTS):
                scores = _tie_break(w * lt + (1 - w) * pr, lt)
                sums[a, b] += float(evaluate(scores, actual, [SELECTION_COVERAGE])["pai"].iloc[0])
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
            coverage=SELECTION_COVERAGE,
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
        coverage=SELECTION_COVERAGE,
        n_origins=usable,
        selected=True,
        candidates=table,
    )
