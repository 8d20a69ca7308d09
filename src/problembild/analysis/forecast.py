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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.signal import fftconvolve

from ._validation import as_1d_float, positive, same_length
from .density import KernelLattice, kde_grid
from .grid import Grid, days_scalar, to_days
from .hotspots import disk_offsets
from .metrics import pai
from .sepp import SeppFit, fit_sepp, sepp_intensity

__all__ = [
    "AUTO",
    "BANDWIDTH_SCALES",
    "BASELINE",
    "BLEND_WEIGHTS",
    "HALF_LIVES_WEEKS",
    "METHODS",
    "SELECTION_ALPHA",
    "SELECTION_COVERAGE",
    "SELECTION_MARGIN",
    "BinnedHistory",
    "BlendChoice",
    "Forecaster",
    "MethodChoice",
    "beats_baseline",
    "forecast_grid",
    "forecaster",
    "select_blend",
    "select_method",
]

#: Forecasting methods, simplest first (ties in
#: :func:`problembild.analysis.evaluation.compare_methods` go to the simpler).
METHODS: tuple[str, ...] = (
    "naive",
    "history",
    "long_term",
    "decayed",
    "prospective",
    "blend",
    "fitted",
    "sepp",
)
#: The method that chooses among the others by a backtest before ``at`` (not a candidate).
AUTO: Final = "auto"
#: The baseline every selection must beat: all past events per cell.
BASELINE: Final = "history"
#: A method replaces the baseline only when its mean PAI beats the baseline's by this share: on real
#: data (docs/benchmarks.md) a smaller lead is within the week-to-week noise and does not hold up.
SELECTION_MARGIN: Final = 0.03
#: ... and a one-sided paired t-test over the backtest origins rejects "no better" at this level: on
#: Vancouver's break-ins (docs/benchmarks.md) a 3 % lead over a year of weeks still came from a handful
#: of lucky weeks twice, and following it lost to the baseline.
SELECTION_ALPHA: Final = 0.05
#: Candidate half-lives of the ``"decayed"`` method, weeks.
HALF_LIVES_WEEKS: tuple[float, ...] = (4.0, 13.0, 26.0, 52.0, 104.0, 260.0)
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
_DEFAULT_AUTO_ORIGINS = 52
_DEFAULT_HALF_LIFE_WEEKS = 52.0
_FINE_SCALE = 0.5  # bandwidth (cells) of the tie-breaking density of "history" and others
_FITTED_HALF_LIFE_WEEKS = 13.0
_SEPP_LOOKBACK_DAYS = 60.0
# EM of a forecast: the real data sets of docs/benchmarks.md converge to 1e-4 in 50-80
# iterations; where no triggering is there to find (dense synthetic areas) EM drifts and
# the cap ends it without changing the ranking of the cells.
_SEPP_MAX_ITER = 100
_SEPP_WARM_ITER = 30
_SEPP_TOL = 1e-4
_DEFAULT_SEPP_EVENTS = 50_000
_OPTIONS = frozenset(
    {"bandwidth", "radius", "lookback", "weight", "n_origins", "half_life", "auto_origins", "sepp_events"}
)


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


def beats_baseline(
    candidate: ArrayLike,
    baseline: ArrayLike,
    *,
    margin: float = SELECTION_MARGIN,
    alpha: float = SELECTION_ALPHA,
) -> tuple[bool, float]:
    """Whether a method's backtest scores beat the baseline's on the same origins.

    Parameters
    ----------
    candidate, baseline : array_like, shape (n,)
        The two methods' scores (PAI at 5 %) at the same ``n`` backtest origins.
    margin : float, default :data:`SELECTION_MARGIN`
        The candidate's mean must exceed the baseline's mean times ``1 + margin``.
    alpha : float, default :data:`SELECTION_ALPHA`
        ... and a one-sided paired t-test of "candidate minus baseline > 0"
        (:func:`scipy.stats.ttest_rel`) must have a p-value below ``alpha``.

    Returns
    -------
    (bool, float)
        The verdict and the test's p-value (NaN when it cannot be computed: fewer than
        two origins, or no difference at all; then the verdict is False, unless every
        origin shows the same lead above the margin, when p is 0).

    Notes
    -----
    The origins are consecutive periods, so their differences may be autocorrelated
    and the test a little optimistic; the margin guards the rest.
    """
    a = as_1d_float(candidate, "candidate")
    b = as_1d_float(baseline, "baseline")
    same_length(candidate=a, baseline=b)
    if a.size < 2 or not (a.mean() > b.mean() * (1 + margin) + 1e-12):
        return False, math.nan
    diff = a - b
    if np.ptp(diff) <= 1e-12 * max(1.0, float(np.abs(diff).max())):
        # Every origin shows the same lead (above the margin, checked above): certain.
        return True, 0.0
    p = float(stats.ttest_rel(a, b, alternative="greater").pvalue)
    return bool(p < alpha), p


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


#: Events per block of a :class:`BinnedHistory`'s prefix sums (at least), and the most blocks.
_PREFIX_BLOCK: Final = 1 << 15
_PREFIX_BLOCKS_MAX: Final = 64


class BinnedHistory:
    """The events of one backtest, binned once so that the KDE before any cutoff is cheap.

    A backtest asks for the long-term density and the cell counts of "every event
    before the origin" at many origins and bandwidths. Those histories are nested and
    binning (the per-event part of :func:`~problembild.analysis.density.kde_grid`, and
    counting) is additive, so the events are sorted by time, binned in blocks once, and
    the lattice of any history is a sum of whole blocks plus the events after the last
    one; each event's cell is found once. Pass one instance to every :func:`forecaster` of a backtest
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

    It keeps the last densities it computed (several methods ask for the same one at
    an origin). The history also remembers, for the methods that choose a parameter by their own
    inner backtest (``decayed``), the scores of the inner origins already seen: the
    inner origins of consecutive backtest origins overlap, and a score at an inner
    origin depends only on the events before the end of its period. And it keeps the
    latest ``sepp`` fit, from which the fit at the next (later) origin starts (EM
    converges to the same parameters within its tolerance, in a third of the steps).
    """

    def __init__(self, x: ArrayLike, y: ArrayLike, t: ArrayLike, *, bounds: Any, cell_size: float) -> None:
        xa = as_1d_float(x, "x")
        ya = as_1d_float(y, "y")
        ta = to_days(t, "t")
        same_length(x=xa, y=ya, t=ta)
        order = np.argsort(ta, kind="stable")
        self.grid = Grid.from_bounds(bounds, cell_size)
        self._x, self._y, self._t = xa[order], ya[order], ta[order]
        # Sums over the first k * block events, k = 0, 1, ...: a prefix of any length is
        # one of them plus at most a block, summed in the same order whatever the order
        # of the questions (so the answers do not depend on it).
        self._block = max(_PREFIX_BLOCK, -(-len(ta) // _PREFIX_BLOCKS_MAX))
        self._lattices: dict[float, list[NDArray[np.float64]]] = {}
        self._counts: list[NDArray[np.float64]] = []
        self._flat: NDArray[np.int64] | None = None
        self._inside: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None
        self._densities: dict[tuple[int, float], NDArray[np.float64]] = {}
        self._scores: dict[tuple[Any, ...], NDArray[np.float64]] = {}
        self._sepp: SeppFit | None = None

    def holds(self, grid: Grid, cutoff: float, n_events: int) -> bool:
        """Whether ``n_events`` events before ``cutoff`` on ``grid`` are this history's."""
        return grid == self.grid and self._before(cutoff) == n_events

    def _before(self, cutoff: float) -> int:
        return int(np.searchsorted(self._t, cutoff, side="left"))

    def _prefix(
        self, sums: list[NDArray[np.float64]], n: int, part: Callable[[int, int], NDArray[np.float64]]
    ) -> NDArray[np.float64]:
        """``part(0, n)`` (an additive sum over events) from the block sums kept in ``sums``."""
        block = self._block
        k = n // block
        if not sums:
            sums.append(part(0, 0))
        while len(sums) <= k:
            j = len(sums)
            sums.append(sums[j - 1] + part((j - 1) * block, j * block))
        return sums[k] + part(k * block, n) if n > k * block else sums[k].copy()

    def _cells(self) -> NDArray[np.int64]:
        """Each event's flat cell index on :attr:`grid` (-1 outside), computed once."""
        if self._flat is None:
            row, col, inside = self.grid.cell_index(self._x, self._y)
            self._flat = np.where(inside, row * self.grid.nx + col, -1)
        return self._flat

    def counts(self, cutoff: float, n_events: int) -> NDArray[np.float64] | None:
        """Events per cell before ``cutoff`` (as ``grid.counts``), or None unless there are ``n_events``."""
        n = self._before(cutoff)
        return self._count_first(n) if n == n_events else None

    def counts_between(self, start: float, end: float) -> NDArray[np.float64]:
        """This history's events per cell with ``start <= t < end`` (float days)."""
        return self._count_first(self._before(end)) - self._count_first(self._before(start))

    def _count_first(self, n: int) -> NDArray[np.float64]:
        flat = self._cells()
        size = self.grid.n_cells

        def part(a: int, b: int) -> NDArray[np.float64]:
            cells = flat[a:b]
            return np.bincount(cells[cells >= 0], minlength=size).astype(np.float64)

        return self._prefix(self._counts, n, part).reshape(self.grid.shape)

    def cells(self, cutoff: float, n_events: int) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
        """Flat cell index and time of the events before ``cutoff`` inside the grid, or None.

        None unless there are ``n_events`` of them (as :meth:`density`); in time order.
        """
        if self._before(cutoff) != n_events:
            return None
        if self._inside is None:
            flat = self._cells()
            keep = flat >= 0
            self._inside = (flat[keep], self._t[keep])
        flat, t = self._inside
        k = int(np.searchsorted(t, cutoff, side="left"))  # in time order, as the events
        return flat[:k], t[:k]

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
        n = self._before(cutoff)
        if n != n_events:
            return None  # not this history: the caller computes it directly
        if n == 0:
            return np.zeros(self.grid.shape)
        done = self._densities.get((n, bandwidth))
        if done is not None:  # several methods ask for the same density at one origin
            return done.copy()
        lattice = KernelLattice.for_grid(self.grid, bandwidth)
        binned = self._prefix(
            self._lattices.setdefault(bandwidth, []), n, lambda a, b: lattice.bin(self._x[a:b], self._y[a:b])
        )
        out = lattice.smooth(binned) / n
        if len(self._densities) >= 64:
            self._densities.clear()
        self._densities[(n, bandwidth)] = out
        return out.copy()


def _inner(
    history: BinnedHistory | None,
    events: _Past,
    origin: float,
    key: tuple[Any, ...],
    compute: Callable[[], Any],
) -> Any:
    """``compute()`` for an inner backtest origin, remembered by ``history`` when it holds the events.

    What is computed at an inner origin may depend only on the events before the end of
    its period (``origin + horizon``); then it is the same for every later forecast of
    the backtest, whose events include those.
    """
    end = origin + events.horizon
    if history is None or not history.holds(events.grid, end, int(np.count_nonzero(events.t < end))):
        return compute()
    full = (*key, origin, events.horizon)
    if full not in history._scores:
        history._scores[full] = compute()
    return history._scores[full]


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


def _counts(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    cutoff: float,
    history: BinnedHistory | None,
) -> NDArray[np.float64]:
    """Events per cell (those before ``cutoff`` of ``history``, when it holds them)."""
    if history is not None and history.grid == grid:
        out = history.counts(cutoff, len(x))
        if out is not None:
            return out
    return grid.counts(x, y)


def _cells_of(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    *,
    cutoff: float,
    history: BinnedHistory | None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Flat cell index and time of the events inside ``grid`` (from ``history`` when it holds them)."""
    if history is not None and history.grid == grid:
        got = history.cells(cutoff, len(x))
        if got is not None:
            return got
    row, col, inside = grid.cell_index(x, y)
    return row[inside] * grid.nx + col[inside], t[inside]


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
    half_life: float | None = None
    auto_origins: int = _DEFAULT_AUTO_ORIGINS
    sepp_events: int = _DEFAULT_SEPP_EVENTS


def _count_option(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


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
    n_origins = _count_option(n_origins, "n_origins")
    half_life = options.get("half_life")
    return _Options(
        bandwidth=None if bandwidth is None else positive(bandwidth, "bandwidth"),
        radius=None if radius is None else positive(radius, "radius"),
        lookback=days_scalar(lookback, "lookback", duration=True),
        weight=weight,
        n_origins=n_origins,
        half_life=None if half_life is None else days_scalar(half_life, "half_life", duration=True),
        auto_origins=_count_option(options.get("auto_origins", _DEFAULT_AUTO_ORIGINS), "auto_origins"),
        sepp_events=_count_option(options.get("sepp_events", _DEFAULT_SEPP_EVENTS), "sepp_events"),
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
    if past.all():  # a backtest passes only the events before the origin: no copies
        return _Past(grid, xa, ya, ta, at_days, h)
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
    method : str
        One of :data:`METHODS` or ``"auto"``, as in :func:`forecast_grid`.
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
    if method not in METHODS and method != AUTO:
        raise ValueError(f"method must be one of {(*METHODS, AUTO)}, got {method!r}")
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
    method : str
        One of :data:`METHODS` (``"naive"``, ``"history"``, ``"long_term"``,
        ``"decayed"``, ``"prospective"``, ``"blend"``, ``"fitted"``, ``"sepp"``) or
        ``"auto"``; see Notes.
    **options
        ``bandwidth`` (metres, long-term KDE sd; default 2 cells),
        ``radius`` (metres, prospective neighbourhood; default 4 cells),
        ``lookback`` (days or timedelta, prospective memory; default 56 days),
        ``weight`` (blend weight of the long-term density in [0, 1]; if given, no
        selection is run and missing bandwidth/radius take their defaults),
        ``n_origins`` (backtest origins for the blend selection, the decayed
        half-life and the fitted regression; default 4),
        ``half_life`` (days or timedelta, of "decayed"; if given, no selection),
        ``auto_origins`` (backtest origins of "auto"; default 52),
        ``sepp_events`` (events the SEPP is fitted on at most, the latest; default
        50,000; see :func:`~problembild.analysis.sepp.fit_sepp`'s ``max_events``).
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
    * ``"history"``: number of all past events per cell (the baseline), ties ordered
      by a KDE of bandwidth half a cell.
    * ``"decayed"``: past events per cell weighted ``2 ** (-age / half_life)``; unless
      ``half_life`` is given, it is chosen from :data:`HALF_LIVES_WEEKS` by mean PAI at
      5 % on ``n_origins`` origins before ``at``. Ties as for "history".
    * ``"fitted"``: a Poisson regression of the next period's counts per cell on the
      log of the all-history rate, the 13-week decayed rate and the prospective score,
      fitted on ``n_origins`` origins before ``at``; scores are the expected counts.
    * ``"sepp"``: the grid self-exciting point process of :mod:`.sepp` fitted to the
      events before ``at``; scores are the expected counts in the period.
    * ``"auto"``: the candidate chosen by :func:`select_method` (a rolling-origin
      backtest before ``at``), or "history" unless a candidate beats it there by
      :func:`beats_baseline`.

    References
    ----------
    .. [1] Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting:
       the future of crime mapping? British Journal of Criminology, 44(5), 641-658.
    .. [2] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
       for predicting spatial patterns of crime. Security Journal, 21, 4-28.
    """
    return forecaster(method, **options)(x, y, t, bounds=bounds, cell_size=cell_size, at=at, horizon=horizon)


def _forecast(
    past: _Past,
    method: str,
    opts: _Options,
    history: BinnedHistory | None,
    *,
    sepp_init: SeppFit | None = None,
) -> NDArray[np.float64]:
    """The scores of :func:`forecast_grid` for validated events before ``past.at``."""
    grid, xa, ya, ta, at_days = past.grid, past.x, past.y, past.t, past.at
    cs = grid.cell_size
    bandwidth = opts.bandwidth if opts.bandwidth is not None else _DEFAULT_SCALE * cs
    radius = opts.radius if opts.radius is not None else 2 * _DEFAULT_SCALE * cs
    if xa.size == 0:
        return np.zeros(grid.shape)

    if method == AUTO:
        auto = _select_method(past, opts, history)
        return _forecast(past, auto.method, _with(opts, auto.options), history)

    if method == "blend":
        if opts.weight is None:
            choice = _select(past, opts, history)
            weight, bandwidth, radius = choice.weight, choice.bandwidth, choice.radius
        else:
            weight = opts.weight
        long_term = _normalise(_long_term(grid, xa, ya, bandwidth, cutoff=at_days, history=history))
        recent = _normalise(_prospective(grid, xa, ya, ta, at=at_days, radius=radius, lookback=opts.lookback))
        return _tie_break(weight * long_term + (1 - weight) * recent, long_term)

    if method in ("history", "decayed", "fitted", "sepp"):
        fine = _long_term(grid, xa, ya, _FINE_SCALE * cs, cutoff=at_days, history=history)
        if method == "history":
            return _tie_break(_counts(grid, xa, ya, cutoff=at_days, history=history), fine)
        if method == "decayed":
            half_life = (
                opts.half_life if opts.half_life is not None else _select_half_life(past, opts, history)
            )
            return _tie_break(_decayed(grid, xa, ya, ta, at_days, half_life, history), fine)
        if method == "fitted":
            return _tie_break(_fitted(past, opts, history), fine)
        shared = history is not None and history.holds(grid, at_days, xa.size)
        if sepp_init is None and shared and history is not None and history._sepp is not None:
            # The fit of an earlier origin of this backtest starts this one.
            sepp_init = history._sepp if history._sepp.end < at_days else None
        fit = fit_sepp(
            xa,
            ya,
            ta,
            bounds=grid.bounds,
            cell_size=cs,
            end=at_days,
            lookback=_SEPP_LOOKBACK_DAYS,
            init=sepp_init,
            max_iter=_SEPP_MAX_ITER if sepp_init is None else _SEPP_WARM_ITER,
            tol=_SEPP_TOL,
            max_events=opts.sepp_events,
        )
        if shared and history is not None:
            history._sepp = fit
        return _tie_break(sepp_intensity(fit, at_days, past.horizon), fine)

    long_term = _long_term(grid, xa, ya, bandwidth, cutoff=at_days, history=history)
    if method == "long_term":
        return long_term
    if method == "naive":
        last = ta >= at_days - past.horizon
        if history is not None and history.holds(grid, at_days, xa.size):
            return _tie_break(history.counts_between(at_days - past.horizon, at_days), long_term)
        return _tie_break(grid.counts(xa[last], ya[last]), long_term)
    prospective = _prospective(grid, xa, ya, ta, at=at_days, radius=radius, lookback=opts.lookback)
    return _tie_break(prospective, long_term)


def _with(opts: _Options, changes: dict[str, Any]) -> _Options:
    """``opts`` with some fields replaced."""
    fields = {name: getattr(opts, name) for name in _Options.__dataclass_fields__}
    fields.update(changes)
    return _Options(**fields)


def _decayed(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    at: float,
    half_life: float,
    history: BinnedHistory | None = None,
) -> NDArray[np.float64]:
    """Events per cell weighted by ``2 ** (-(at - t) / half_life)``."""
    flat, tc = _cells_of(grid, x, y, t, cutoff=at, history=history)
    weighted = np.bincount(flat, weights=np.exp2(-(at - tc) / half_life), minlength=grid.n_cells)
    return weighted.astype(np.float64).reshape(grid.shape)


def _pai5(scores: NDArray[np.float64], actual: NDArray[np.float64]) -> float:
    return pai(scores, actual, SELECTION_COVERAGE)


def _origins(
    events: _Past, n: int, history: BinnedHistory | None = None
) -> list[tuple[float, NDArray[np.bool_], NDArray[np.float64]]]:
    """Usable backtest origins ``at - k * horizon`` (k = 1..n): (origin, past mask, actual counts).

    An origin is usable when events precede it and its period ``[origin, origin +
    horizon)`` (which ends before ``at``) has incidents in the grid.
    """
    grid, x, y, t = events.grid, events.x, events.y, events.t
    out = []
    first = float(t.min()) if t.size else math.inf
    shared = history is not None and history.holds(grid, events.at, t.size)
    for k in range(1, n + 1):
        origin = events.at - k * events.horizon
        if origin <= first:
            break
        past = t < origin
        if shared and history is not None:  # the events are a prefix of the history's
            actual = history.counts_between(origin, origin + events.horizon)
        else:
            future = ~past & (t < origin + events.horizon)
            actual = grid.counts(x[future], y[future])
        if actual.sum() > 0:
            out.append((origin, past, actual))
    return out


def _select_half_life(events: _Past, opts: _Options, history: BinnedHistory | None) -> float:
    """The half-life (days) of :data:`HALF_LIVES_WEEKS` with the best mean PAI at 5 % before ``at``.

    Ties, and histories without a usable origin, go to the longer half-life (52 weeks by
    default), the one closest to the plain history count.
    """
    grid, x, y, t = events.grid, events.x, events.y, events.t
    lives = [7.0 * w for w in HALF_LIVES_WEEKS]
    sums = np.zeros(len(lives))
    origins = _origins(events, opts.n_origins, history)
    if not origins:
        return 7.0 * _DEFAULT_HALF_LIFE_WEEKS
    for origin, past, actual in origins:

        def scores(past=past, origin=origin, actual=actual) -> NDArray[np.float64]:
            xp, yp, tp = x[past], y[past], t[past]  # here: not copied when the scores are remembered
            fine = _long_term(grid, xp, yp, _FINE_SCALE * grid.cell_size, cutoff=origin, history=history)
            flat, tc = _cells_of(grid, xp, yp, tp, cutoff=origin, history=history)  # once for all half-lives
            age = origin - tc
            return np.array(
                [
                    _pai5(
                        _tie_break(
                            np.bincount(flat, weights=np.exp2(-age / hl), minlength=grid.n_cells)
                            .astype(np.float64)
                            .reshape(grid.shape),
                            fine,
                        ),
                        actual,
                    )
                    for hl in lives
                ]
            )

        sums += _inner(history, events, origin, ("decayed",), scores)
    best = max(range(len(lives)), key=lambda i: (round(float(sums[i]), 9), lives[i]))
    return lives[best]


def _features(
    grid: Grid,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.float64],
    at: float,
    horizon: float,
    lookback: float,
    history: BinnedHistory | None = None,
) -> NDArray[np.float64]:
    """Per-cell covariates of the fitted blend at ``at``, shape (n_cells, 3).

    ``log1p`` of: the all-history rate per period, the 13-week decayed rate per period
    and the prospective (recent, nearby) score.
    """
    cs = grid.cell_size
    span = max(at - float(t.min()), horizon) if t.size else horizon
    flat, tc = _cells_of(grid, x, y, t, cutoff=at, history=history)  # once for both counts
    hist = np.bincount(flat, minlength=grid.n_cells).astype(np.float64) * (horizon / span)
    hl = 7.0 * _FITTED_HALF_LIFE_WEEKS
    dec = np.bincount(flat, weights=np.exp2(-(at - tc) / hl), minlength=grid.n_cells) * (
        horizon * math.log(2) / hl
    )
    pro = _prospective(grid, x, y, t, at=at, radius=2 * _DEFAULT_SCALE * cs, lookback=lookback)
    return np.log1p(np.stack([hist.ravel(), dec.ravel(), pro.ravel()], axis=1))


def _poisson_fit(
    features: NDArray[np.float64], counts: NDArray[np.float64], ridge: float = 1e-6
) -> NDArray[np.float64]:
    """Poisson log-linear regression by iteratively reweighted least squares (intercept first)."""
    design = np.column_stack([np.ones(len(features)), features])
    beta = np.zeros(design.shape[1])
    beta[0] = math.log(max(float(counts.mean()), 1e-12))
    penalty = ridge * len(counts) * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        eta = np.clip(design @ beta, -30.0, 30.0)
        mu = np.exp(eta)
        z = eta + (counts - mu) / mu
        weighted = design * mu[:, None]
        step = np.linalg.solve(design.T @ weighted + penalty, weighted.T @ z)
        if np.max(np.abs(step - beta)) < 1e-8:
            beta = step
            break
        beta = step
    return beta


def _fitted(events: _Past, opts: _Options, history: BinnedHistory | None) -> NDArray[np.float64]:
    """Expected counts of the Poisson regression of next-period counts on :func:`_features`.

    Fitted on the usable origins before ``at`` (``n_origins`` of them at most); without
    one, the history count.
    """
    grid, x, y, t = events.grid, events.x, events.y, events.t
    rows, targets = [], []
    for origin, past, actual in _origins(events, opts.n_origins, history):

        def features(p: NDArray[np.bool_] = past, o: float = origin) -> NDArray[np.float64]:
            return _features(grid, x[p], y[p], t[p], o, events.horizon, opts.lookback, history)

        rows.append(_inner(history, events, origin, ("fitted", opts.lookback), features))
        targets.append(actual.ravel())
    if not rows:
        return _counts(grid, x, y, cutoff=events.at, history=history)
    beta = _poisson_fit(np.concatenate(rows), np.concatenate(targets))
    now = _features(grid, x, y, t, events.at, events.horizon, opts.lookback, history)
    eta = np.clip(beta[0] + now @ beta[1:], -30.0, 30.0)
    return np.exp(eta).reshape(grid.shape)


@dataclass(frozen=True, slots=True, eq=False)
class MethodChoice:
    """The method ``"auto"`` chose (see :func:`select_method`).

    Attributes
    ----------
    method : str
        The recommended method (one of :data:`METHODS`).
    options : dict
        Its options fixed by the selection (e.g. ``half_life`` or ``bandwidth``).
    label : str
        The winning candidate, e.g. ``"decayed(half_life=13w)"``.
    mean_pai : float
        The recommended candidate's mean PAI at 5 % over the usable origins.
    best_label : str
        The candidate with the highest mean PAI (recommended only if it beat the baseline).
    best_pai : float
        Its mean PAI.
    baseline_method : str
        ``"history"``.
    baseline_pai : float
        The baseline's mean PAI on the same origins (NaN when none was usable).
    beats_baseline : bool
        Whether the best candidate beat the baseline by :func:`beats_baseline` (a
        lead of :data:`SELECTION_MARGIN` and a paired test at :data:`SELECTION_ALPHA`).
    p_value : float
        That test's one-sided p-value (NaN when it was not run).
    coverage : float
        0.05.
    n_origins : int
        Usable backtest origins.
    selected : bool
        False when no origin was usable (then the baseline is returned).
    candidates : pandas.DataFrame
        ``label``, ``method``, ``mean_pai`` of every candidate.
    """

    method: str
    options: dict[str, Any]
    label: str
    mean_pai: float
    best_label: str
    best_pai: float
    baseline_method: str
    baseline_pai: float
    beats_baseline: bool
    p_value: float
    coverage: float
    n_origins: int
    selected: bool
    candidates: pd.DataFrame


def _candidates(cs: float) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, method, options)`` of the contest of ``"auto"``, the baseline first."""
    out: list[tuple[str, str, dict[str, Any]]] = [(BASELINE, BASELINE, {}), ("naive", "naive", {})]
    out += [(f"decayed(half_life={w:g}w)", "decayed", {"half_life": 7.0 * w}) for w in HALF_LIVES_WEEKS]
    out += [
        (f"long_term(bandwidth={s:g} cells)", "long_term", {"bandwidth": s * cs}) for s in (0.5, 1.0, 2.0)
    ]
    out += [
        ("prospective", "prospective", {}),
        ("blend(weight=0.5)", "blend", {"weight": 0.5}),
        ("fitted", "fitted", {}),
        ("sepp", "sepp", {}),
    ]
    return out


def select_method(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    at: Any,
    horizon: Any,
    **options: Any,
) -> MethodChoice:
    """Choose the method of ``"auto"`` by a rolling-origin backtest on the events before ``at``.

    Parameters
    ----------
    x, y, t, bounds, cell_size, at, horizon
        As in :func:`forecast_grid`; events with ``t >= at`` are ignored.
    **options
        As in :func:`forecast_grid`; ``auto_origins`` (default 52) sets the origins.

    Returns
    -------
    MethodChoice

    Notes
    -----
    Origins are ``at - k * horizon``, ``k = 1..auto_origins`` (weekly for a weekly
    horizon), as many as the history allows; origins without incidents are skipped.
    At each, every candidate of a fixed list (the ``history`` baseline, ``naive``,
    ``decayed`` at every half-life of :data:`HALF_LIVES_WEEKS`, ``long_term`` at 0.5, 1
    and 2 cells, ``prospective``, the 50/50 ``blend``, ``fitted`` and ``sepp``, the last
    two fitted on the events before that origin only) forecasts from the events before
    the origin and is scored by PAI at 5 % of the grid's cells on the period that
    follows. The candidate with the highest mean PAI is recommended only if it beats
    the baseline by :func:`beats_baseline` (its mean 3 % higher and a one-sided paired
    t-test over the origins at 5 %); otherwise the baseline is.
    """
    opts = _options(options)
    past = _prepare(x, y, t, bounds=bounds, cell_size=cell_size, at=at, horizon=horizon)
    return _select_method(past, opts, None)


def _select_method(events: _Past, opts: _Options, history: BinnedHistory | None) -> MethodChoice:
    grid = events.grid
    candidates = _candidates(grid.cell_size)
    origins = _origins(events, opts.auto_origins, history)
    history = BinnedHistory(events.x, events.y, events.t, bounds=grid.bounds, cell_size=grid.cell_size)
    by_origin = np.zeros((len(origins), len(candidates)))  # rows: origins, oldest first
    sepp_fit: SeppFit | None = None
    for row, (origin, mask, actual) in enumerate(reversed(origins)):  # oldest first: SEPP warm-starts
        past = _Past(grid, events.x[mask], events.y[mask], events.t[mask], origin, events.horizon)
        for i, (_, method, changes) in enumerate(candidates):
            if method == "sepp":
                fit = fit_sepp(
                    past.x,
                    past.y,
                    past.t,
                    bounds=grid.bounds,
                    cell_size=grid.cell_size,
                    end=origin,
                    lookback=_SEPP_LOOKBACK_DAYS,
                    init=sepp_fit,
                    max_iter=_SEPP_MAX_ITER if sepp_fit is None else _SEPP_WARM_ITER,
                    tol=_SEPP_TOL,
                    max_events=opts.sepp_events,
                )
                sepp_fit = fit
                fine = _long_term(
                    grid, past.x, past.y, _FINE_SCALE * grid.cell_size, cutoff=origin, history=history
                )
                scores = _tie_break(sepp_intensity(fit, origin, events.horizon), fine)
            else:
                scores = _forecast(past, method, _with(opts, changes), history)
            by_origin[row, i] = _pai5(scores, actual)
    usable = len(origins)
    means = by_origin.mean(axis=0) if usable else np.full(len(candidates), math.nan)
    table = pd.DataFrame(
        {"label": [c[0] for c in candidates], "method": [c[1] for c in candidates], "mean_pai": means}
    )
    base = float(means[0])
    if not usable:
        return MethodChoice(
            BASELINE,
            {},
            BASELINE,
            math.nan,
            BASELINE,
            math.nan,
            BASELINE,
            math.nan,
            False,
            math.nan,
            SELECTION_COVERAGE,
            0,
            False,
            table,
        )
    best = max(range(len(candidates)), key=lambda i: (round(float(means[i]), 12), -i))
    beats, p_value = beats_baseline(by_origin[:, best], by_origin[:, 0]) if best else (False, math.nan)
    pick = best if beats else 0
    label, method, changes = candidates[pick]
    return MethodChoice(
        method=method,
        options=dict(changes),
        label=label,
        mean_pai=float(means[pick]),
        best_label=candidates[best][0],
        best_pai=float(means[best]),
        baseline_method=BASELINE,
        baseline_pai=base,
        beats_baseline=beats,
        p_value=p_value,
        coverage=SELECTION_COVERAGE,
        n_origins=usable,
        selected=True,
        candidates=table,
    )


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
    origins = _origins(events, opts.n_origins, history)
    usable = len(origins)
    for origin, past, actual in origins:

        def pais(past=past, origin=origin, actual=actual) -> NDArray[np.float64]:
            xp, yp, tp = x[past], y[past], t[past]
            out = np.zeros((len(scales), len(BLEND_WEIGHTS)))
            for a, s in enumerate(scales):
                lt = _normalise(_long_term(grid, xp, yp, s * cs, cutoff=origin, history=history))
                pr = _normalise(
                    _prospective(grid, xp, yp, tp, at=origin, radius=2 * s * cs, lookback=opts.lookback)
                )
                for b, w in enumerate(BLEND_WEIGHTS):
                    out[a, b] = _pai5(_tie_break(w * lt + (1 - w) * pr, lt), actual)
            return out

        sums += _inner(history, events, origin, ("blend", opts.lookback), pais)
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
