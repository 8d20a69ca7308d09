"""Rolling-origin backtests of hot-spot forecasts and the choice among the methods.

:func:`backtest` scores forecasters (callables, see
:func:`problembild.analysis.forecast.forecaster`) at several origins with the
measures of :mod:`problembild.analysis.metrics`; :func:`compare_methods` backtests
every method of :mod:`problembild.analysis.forecast` and names the winner. The
metrics are re-exported here for callers of the former module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._validation import as_1d_float, same_length
from .forecast import METHODS, SELECTION_COVERAGE, BinnedHistory, Forecaster, forecaster
from .grid import Grid, days_scalar, to_days

# Re-exported for callers of the former evaluation module, which held the metrics.
from .metrics import COVERAGES, check_coverage, evaluate, hit_rate, n_flagged, pai, pei, top_cells

__all__ = [
    "COVERAGES",
    "backtest",
    "compare_methods",
    "evaluate",
    "hit_rate",
    "n_flagged",
    "pai",
    "pei",
    "top_cells",
]


def backtest(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    origins: Sequence[Any] | ArrayLike,
    horizon: Any,
    methods: Mapping[str, Forecaster],
    coverages: Sequence[float] = COVERAGES,
) -> pd.DataFrame:
    """Rolling-origin evaluation of forecasting methods.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Event coordinates in metres.
    t : array_like, shape (n,)
        Event times, ``numpy.datetime64`` or float days.
    bounds : sequence of 4 floats
        ``(xmin, ymin, xmax, ymax)`` of the grid, metres.
    cell_size : float
        Cell side in metres.
    origins : sequence
        Forecast origins (same kind as ``t``). For each origin the method sees only the
        events with ``t < origin``.
    horizon : timedelta64, timedelta or float days
        Length of the forecast period ``[origin, origin + horizon)``.
    methods : mapping of str to callable
        Name -> forecaster, as scikit-learn's ``cross_validate`` takes its scorers:
        each is called as ``f(x, y, t, bounds=bounds, cell_size=cell_size, at=origin,
        horizon=horizon)`` with only the events before the origin and returns scores
        of shape ``(ny, nx)``, e.g. ``{name: forecaster(name) for name in METHODS}``
        with :func:`problembild.analysis.forecast.forecaster`. Options of a method are
        bound in its callable.
    coverages : sequence of float, default :data:`COVERAGES`
        Shares of cells flagged.

    Forecasters receive ``t``, ``at`` and ``horizon`` as float days (datetimes
    converted to days since 1970-01-01), which every function in this package accepts.

    Returns
    -------
    pandas.DataFrame
        One row per origin × method × coverage with columns ``origin``, ``method``,
        ``coverage``, ``hit_rate``, ``pai``, ``pei``, ``n_actual`` (incidents inside the
        grid in the forecast period). Metrics are NaN for an origin with no actual
        incidents; aggregate with ``mean`` (which skips NaN) or weight by ``n_actual``.

    Notes
    -----
    The actual counts use only events inside the grid; the forecasts may use events
    outside it (e.g. for kernel densities near the edge).
    """
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta = to_days(t, "t")
    same_length(x=xa, y=ya, t=ta)
    grid = Grid.from_bounds(bounds, cell_size)
    h = days_scalar(horizon, "horizon", duration=True)
    origin_list = list(np.asarray(origins).ravel()) if not isinstance(origins, list) else list(origins)
    if not origin_list:
        raise ValueError("origins must contain at least one origin")
    origin_days = [days_scalar(o, "origins") for o in origin_list]
    for c in coverages:
        check_coverage(c)
    named = _forecasters(methods)

    frames = []
    for origin, start in zip(origin_list, origin_days, strict=True):
        past = ta < start
        future = (ta >= start) & (ta < start + h)
        actual = grid.counts(xa[future], ya[future])
        for name, method in named.items():
            scores = method(
                xa[past], ya[past], ta[past], bounds=bounds, cell_size=cell_size, at=start, horizon=h
            )
            frame = evaluate(scores, actual, coverages)
            frame.insert(0, "method", name)
            frame.insert(0, "origin", [origin] * len(frame))
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[["origin", "method", "coverage", "hit_rate", "pai", "pei", "n_actual"]]


def _forecasters(methods: Any) -> dict[str, Forecaster]:
    """``methods`` as a dict of name -> callable, or ``ValueError`` naming the argument."""
    if not isinstance(methods, Mapping):
        raise ValueError(
            "methods must be a mapping name -> forecaster (e.g. {name: forecaster(name) for name in "
            f"METHODS}}), got {type(methods).__name__}"
        )
    if not methods:
        raise ValueError("methods must name at least one forecaster")
    named = dict(methods)
    not_callable = sorted(str(name) for name, f in named.items() if not callable(f))
    if not_callable:
        raise ValueError(f"methods must map names to callables; not callable: {not_callable}")
    return named


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
        As in :func:`~problembild.analysis.forecast.forecast_grid`; events with
        ``t >= at`` are ignored.
    n_origins : int, default 6
        Origins ``at - k * horizon`` for ``k = n_origins..1``.
    coverages : tuple of float, default :data:`COVERAGES`
        Shares of cells flagged.
    **options
        Passed to :func:`~problembild.analysis.forecast.forecaster` for every method
        (the blend re-selects its parameters at every origin from the history before
        that origin).

    Returns
    -------
    pandas.DataFrame
        One row per method × coverage with the mean ``hit_rate``, ``pai``, ``pei`` over
        the origins that had incidents, ``n_origins`` (that count) and ``winner``
        (True on every row of the method with the highest mean PAI at 5 % coverage;
        ties go to the simpler method in
        :data:`~problembild.analysis.forecast.METHODS` order). The winner's name is
        also in ``frame.attrs["winner"]`` (None when no origin had incidents).

    Notes
    -----
    The forecasts share one :class:`~problembild.analysis.forecast.BinnedHistory` of
    the events, so the long-term densities at the origins are binned incrementally;
    the table is the same as with a KDE per forecast, up to floating-point summation
    order.
    """
    if isinstance(n_origins, bool) or not isinstance(n_origins, int | np.integer) or n_origins < 1:
        raise ValueError(f"n_origins must be an integer >= 1, got {n_origins!r}")
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta = to_days(t, "t")
    same_length(x=xa, y=ya, t=ta)
    grid = Grid.from_bounds(bounds, cell_size)
    at_days = days_scalar(at, "at")
    h = days_scalar(horizon, "horizon", duration=True)
    past = ta < at_days
    xa, ya, ta = xa[past], ya[past], ta[past]
    origins = [at_days - k * h for k in range(int(n_origins), 0, -1)]
    history = BinnedHistory(xa, ya, ta, bounds=grid.bounds, cell_size=grid.cell_size)
    detail = backtest(
        xa,
        ya,
        ta,
        bounds=grid.bounds,
        cell_size=grid.cell_size,
        origins=origins,
        horizon=h,
        methods={name: forecaster(name, history=history, **options) for name in METHODS},
        coverages=tuple(sorted({*coverages, SELECTION_COVERAGE})),
    )
    return _summarise(detail, coverages)


def _summarise(detail: pd.DataFrame, coverages: tuple[float, ...]) -> pd.DataFrame:
    valid = detail[detail["n_actual"] > 0]
    summary = (
        valid.groupby(["method", "coverage"], sort=False)[["hit_rate", "pai", "pei"]]
        .mean()
        .reindex(pd.MultiIndex.from_product([list(METHODS), sorted({*coverages, SELECTION_COVERAGE})]))
    )
    summary.index.names = ["method", "coverage"]
    summary = summary.reset_index()
    summary["n_origins"] = int(valid["origin"].nunique())
    at5 = summary[np.isclose(summary["coverage"], SELECTION_COVERAGE)].set_index("method")["pai"]
    winner: str | None = None
    if at5.notna().any():
        best = at5.max()
        winner = next(m for m in METHODS if at5.get(m) is not None and at5[m] >= best - 1e-12)
    summary["winner"] = summary["method"] == winner
    summary = summary[summary["coverage"].isin([float(c) for c in coverages])].reset_index(drop=True)
    summary.attrs["winner"] = winner
    return summary
