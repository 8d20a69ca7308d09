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
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, same_length
from .forecast import (
    BASELINE,
    METHODS,
    SELECTION_COVERAGE,
    BinnedHistory,
    Forecaster,
    beats_baseline,
    forecaster,
)
from .grid import Grid, days_scalar, to_days

# Re-exported for callers of the former evaluation module, which held the metrics.
from .metrics import (
    COVERAGES,
    check_coverage,
    check_study,
    evaluate,
    hit_rate,
    n_flagged,
    pai,
    pei,
    top_cells,
)

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
    study: ArrayLike | str | None = None,
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
        Shares of the study area's cells flagged.
    study : array_like of bool, "history" or "grid", optional
        The study area, whose cells may be flagged and whose incidents count (the PAI's
        denominator; see :func:`~problembild.analysis.metrics.evaluate`): a boolean
        mask of the grid's shape ``(ny, nx)`` (e.g. the cells of the area studied);
        ``"grid"`` for every cell; ``"history"`` or None (default) for the cells with
        at least one of the given events (all of ``x, y, t`` inside the grid, forecast
        periods included, so every actual incident lies in the study area).

    Forecasters receive ``t``, ``at`` and ``horizon`` as float days (datetimes
    converted to days since 1970-01-01), which every function in this package accepts.

    Returns
    -------
    pandas.DataFrame
        One row per origin × method × coverage with columns ``origin``, ``method``,
        ``coverage``, ``hit_rate``, ``pai``, ``pei``, ``n_actual`` (incidents in the
        study area in the forecast period) and ``n_study`` (cells in the study area).
        Metrics are NaN for an origin with no actual incidents; aggregate with ``mean``
        (which skips NaN) or weight by ``n_actual``. ``frame.attrs["study"]`` says
        which study area was used (``"history"``, ``"grid"`` or ``"mask"``).
        Cells tied in score at the edge of the flagged set count fractionally.

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
    mask, study_kind = _study_mask(study, grid, xa, ya)

    frames = []
    for origin, start in zip(origin_list, origin_days, strict=True):
        past = ta < start
        future = (ta >= start) & (ta < start + h)
        actual = grid.counts(xa[future], ya[future])
        for name, method in named.items():
            scores = method(
                xa[past], ya[past], ta[past], bounds=bounds, cell_size=cell_size, at=start, horizon=h
            )
            frame = evaluate(scores, actual, coverages, study=mask)
            frame.insert(0, "method", name)
            frame.insert(0, "origin", [origin] * len(frame))
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out = out[["origin", "method", "coverage", "hit_rate", "pai", "pei", "n_actual", "n_study"]]
    out.attrs["study"] = study_kind
    return out


def _study_mask(study: Any, grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[Any, str]:
    """The study area as a mask (None for the whole grid) and its kind, or ``ValueError``."""
    if study is None or (isinstance(study, str) and study == "history"):
        counts = grid.counts(x, y)
        if not counts.any():
            return None, "grid"  # no event inside the grid: nothing to restrict to
        return counts > 0, "history"
    if isinstance(study, str):
        if study != "grid":
            raise ValueError(f"study must be a boolean mask, 'history', 'grid' or None, got {study!r}")
        return None, "grid"
    return check_study(study, grid.shape), "mask"


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
    n_origins: int = 52,
    coverages: tuple[float, ...] = COVERAGES,
    study: ArrayLike | str | None = None,
    history: BinnedHistory | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Backtest all methods on the history before ``at`` and name the winner.

    Parameters
    ----------
    x, y, t, bounds, cell_size, at, horizon
        As in :func:`~problembild.analysis.forecast.forecast_grid`; events with
        ``t >= at`` are ignored.
    n_origins : int, default 52
        Origins ``at - k * horizon`` for ``k = n_origins..1``, as many of them as
        follow the first event (at least ``k = 1``).
    coverages : tuple of float, default :data:`COVERAGES`
        Shares of the study area's cells flagged.
    study : array_like of bool, "history" or "grid", optional
        The study area of the accuracy measures, as in :func:`backtest`: a boolean
        mask of the grid's shape (pass the cells of the area studied), ``"grid"``
        (every cell, the bounding box plus whatever margin it has), or ``"history"``
        / None (default: the cells with at least one event before ``at``).
    **options
        Passed to :func:`~problembild.analysis.forecast.forecaster` for every method
        (the blend re-selects its parameters at every origin from the history before
        that origin).

    Returns
    -------
    pandas.DataFrame
        One row per method × coverage with the mean ``hit_rate``, ``pai``, ``pei`` over
        the origins that had incidents, ``n_origins`` (that count) and ``winner``
        (True on every row of the recommended method). The recommended method is the
        one with the highest mean PAI at 5 % coverage (ties go to the simpler method
        in :data:`~problembild.analysis.forecast.METHODS` order) if it beats the
        ``"history"`` baseline on the same origins by
        :func:`~problembild.analysis.forecast.beats_baseline` (a 3 % higher mean and a
        one-sided paired t-test at 5 %), and the baseline otherwise. ``frame.attrs``
        holds ``"winner"`` (the recommended method; None when no origin had
        incidents), ``"winner_pai"``, ``"best_method"`` and ``"best_pai"`` (highest mean
        PAI at 5 %, recommended or not), ``"baseline_method"`` (``"history"``),
        ``"baseline_pai"``, ``"beats_baseline"`` (whether the best method beat the
        baseline), ``"p_value"`` (that test's; NaN when not run), ``"study"``
        (``"history"``, ``"grid"`` or ``"mask"``) and
        ``"n_study"`` (the study area's cells).

    Notes
    -----
    The forecasts share one :class:`~problembild.analysis.forecast.BinnedHistory` of
    the events, so the long-term densities at the origins are binned incrementally;
    the table is the same as with a KDE per forecast, up to floating-point summation
    order (and SEPP's warm starts, within its tolerance). Pass ``history`` (of the
    events before ``at`` on this grid) to reuse it afterwards, e.g. for the winner's
    forecast at ``at`` through :func:`~problembild.analysis.forecast.forecaster`:
    the inner backtests it shares with the last origins are not computed again.
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
    first = float(ta.min()) if ta.size else at_days
    origins = [at_days - k * h for k in range(int(n_origins), 0, -1) if at_days - k * h > first]
    origins = origins or [at_days - h]
    if history is None:
        history = BinnedHistory(xa, ya, ta, bounds=grid.bounds, cell_size=grid.cell_size)
    elif not history.holds(grid, at_days, xa.size):
        raise ValueError("history must hold exactly the events before at, on this grid")
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
        study=study,
    )
    summary = _summarise(detail, coverages)
    summary.attrs["study"] = detail.attrs["study"]
    summary.attrs["n_study"] = int(detail["n_study"].iloc[0]) if len(detail) else 0
    return summary


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
    best_method: str | None = None
    baseline = float(at5.get(BASELINE, np.nan))
    p_value = np.nan
    if at5.notna().any():
        best = at5.max()
        best_method = next(m for m in METHODS if at5.get(m) is not None and at5[m] >= best - 1e-12)
        if np.isnan(baseline):
            winner = best_method
        elif best_method == BASELINE:
            winner = BASELINE
        else:
            per_origin = (
                valid[np.isclose(valid["coverage"], SELECTION_COVERAGE)]
                .pivot(index="origin", columns="method", values="pai")[[best_method, BASELINE]]
                .dropna()
            )
            beats, p_value = beats_baseline(per_origin[best_method], per_origin[BASELINE])
            winner = best_method if beats else BASELINE
    summary["winner"] = summary["method"] == winner
    summary = summary[summary["coverage"].isin([float(c) for c in coverages])].reset_index(drop=True)
    summary.attrs["winner"] = winner
    summary.attrs["winner_pai"] = float(at5[winner]) if winner is not None else np.nan
    summary.attrs["best_method"] = best_method
    summary.attrs["best_pai"] = float(at5[best_method]) if best_method is not None else np.nan
    summary.attrs["baseline_method"] = BASELINE
    summary.attrs["baseline_pai"] = baseline
    summary.attrs["beats_baseline"] = winner is not None and winner != BASELINE
    summary.attrs["p_value"] = p_value
    return summary
