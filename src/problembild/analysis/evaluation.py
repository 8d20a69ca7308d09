"""Accuracy of hot-spot forecasts: hit rate, PAI, PEI and rolling-origin backtests."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, same_length
from .grid import Grid, days_scalar, to_days

__all__ = ["COVERAGES", "backtest", "evaluate", "hit_rate", "n_flagged", "pai", "pei", "top_cells"]

#: Shares of cells flagged in the standard evaluation (1 %, 2 %, 5 %, 10 % of the area).
COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)

#: A forecasting method for :func:`backtest`: called as
#: ``f(x, y, t, bounds=..., cell_size=..., at=..., horizon=..., **kwargs)`` with only the
#: events before ``at``, returning scores of shape ``(ny, nx)``.
Method = Callable[..., NDArray[np.float64]]


def n_flagged(n_cells: int, coverage: float) -> int:
    """Number of cells flagged at ``coverage``: ``max(1, round(coverage * n_cells))``.

    Halves are rounded up (``0.5 -> 1``), unlike Python's ``round``, so the count does not
    depend on whether ``coverage * n_cells`` happens to be even.
    """
    c = _coverage(coverage)
    if n_cells < 1:
        raise ValueError(f"n_cells must be >= 1, got {n_cells!r}")
    # The 1e-9 keeps a product meant to be x.5 but computed as x.4999999999999996 rounding up.
    return max(1, min(n_cells, math.floor(c * n_cells + 0.5 + 1e-9)))


def _coverage(coverage: float) -> float:
    try:
        c = float(coverage)
    except (TypeError, ValueError):
        raise ValueError(f"coverage must be a number in (0, 1], got {coverage!r}") from None
    if not (0 < c <= 1):
        raise ValueError(f"coverage must be in (0, 1], got {coverage!r}")
    return c


def _pair(scores: ArrayLike, actual: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if s.shape != a.shape:
        raise ValueError(f"scores and actual must have the same shape, got {s.shape} and {a.shape}")
    if s.size == 0:
        raise ValueError("scores must have at least one cell")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contains NaN or infinite values")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("actual must be finite and non-negative")
    return s.ravel(), a.ravel()


def top_cells(scores: ArrayLike, n: int) -> NDArray[np.intp]:
    """Flat indices of the ``n`` highest scores, ties broken by the lower flat index.

    The flat index is row-major on a ``(ny, nx)`` grid: row 0 (south) first, west to
    east. The rule is arbitrary but deterministic, so repeated runs flag the same cells.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    return np.argsort(-s, kind="stable")[:n]


def evaluate(scores: ArrayLike, actual: ArrayLike, coverages: Sequence[float] = COVERAGES) -> pd.DataFrame:
    """Hit rate, PAI and PEI at several coverages in one pass.

    Parameters
    ----------
    scores : array_like, any shape
        Forecast score per cell (higher = more likely); finite.
    actual : array_like, same shape
        Incidents per cell in the forecast period; finite, non-negative.
    coverages : sequence of float
        Shares of cells to flag, each in (0, 1].

    Returns
    -------
    pandas.DataFrame
        Columns ``coverage``, ``n_flagged``, ``hit_rate``, ``pai``, ``pei``, ``n_actual``;
        one row per coverage. Metrics are NaN when ``actual`` sums to 0.

    Notes
    -----
    See :func:`hit_rate`, :func:`pai` and :func:`pei` for definitions.
    """
    s, a = _pair(scores, actual)
    n_cells = s.size
    order = np.argsort(-s, kind="stable")
    captured = np.cumsum(a[order])
    best = np.cumsum(np.sort(a)[::-1])
    total = float(a.sum())
    rows = []
    for coverage in coverages:
        k = n_flagged(n_cells, coverage)
        if total > 0:
            hit = float(captured[k - 1]) / total
            pai_value = hit / (k / n_cells)
            pei_value = float(captured[k - 1]) / float(best[k - 1])
        else:
            hit = pai_value = pei_value = math.nan
        rows.append((float(coverage), k, hit, pai_value, pei_value, total))
    return pd.DataFrame(rows, columns=["coverage", "n_flagged", "hit_rate", "pai", "pei", "n_actual"])


def hit_rate(scores: ArrayLike, actual: ArrayLike, coverage: float) -> float:
    """Share of the actual incidents that fall in the flagged cells.

    Parameters
    ----------
    scores : array_like, any shape
        Forecast score per cell; the ``n_flagged(n_cells, coverage)`` highest are
        flagged, ties broken by the lower flat (row-major) index.
    actual : array_like, same shape
        Incidents per cell in the forecast period (non-negative).
    coverage : float
        Share of cells flagged, in (0, 1].

    Returns
    -------
    float
        ``sum(actual[flagged]) / sum(actual)`` in [0, 1]; NaN when there are no actual
        incidents (the forecast cannot be judged; no division warning is raised).
    """
    return float(evaluate(scores, actual, [coverage])["hit_rate"].iloc[0])


def pai(scores: ArrayLike, actual: ArrayLike, coverage: float) -> float:
    """Predictive Accuracy Index: hit rate divided by the share of cells flagged.

    Parameters
    ----------
    scores, actual, coverage
        As in :func:`hit_rate`.

    Returns
    -------
    float
        ``hit_rate / (n_flagged / n_cells)``; 1 means no better than random cells,
        the maximum is ``n_cells / n_flagged``. NaN when there are no actual incidents.

    References
    ----------
    .. [1] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
       for predicting spatial patterns of crime. Security Journal, 21, 4-28.
    """
    return float(evaluate(scores, actual, [coverage])["pai"].iloc[0])


def pei(scores: ArrayLike, actual: ArrayLike, coverage: float) -> float:
    """Predictive Efficiency Index: PAI relative to the best achievable PAI.

    Parameters
    ----------
    scores, actual, coverage
        As in :func:`hit_rate`.

    Returns
    -------
    float
        ``PAI / PAI*`` in [0, 1], where ``PAI*`` flags the same number of cells chosen
        by the actual counts (perfect hindsight). NaN when there are no actual incidents.

    References
    ----------
    .. [1] Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the
       modifiable areal unit problem and modifiable temporal unit problem on crime hot
       spot stability. PhD thesis, American University (PEI, after Chainey's PAI).
    """
    return float(evaluate(scores, actual, [coverage])["pei"].iloc[0])


def backtest(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    origins: Sequence[Any] | ArrayLike,
    horizon: Any,
    methods: Sequence[str] | Mapping[str, Method | str],
    coverages: Sequence[float] = COVERAGES,
    **kwargs: Any,
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
    methods : sequence of str, or mapping name -> (str or callable)
        Method names understood by :func:`problembild.analysis.forecast.forecast_grid`
        ("naive", "long_term", "prospective", "blend"), or callables with the same
        keyword signature (see :data:`Method`).
    coverages : sequence of float, default :data:`COVERAGES`
        Shares of cells flagged.
    **kwargs
        Passed to every method.

    Methods receive ``t``, ``at`` and ``horizon`` as float days (datetimes converted to
    days since 1970-01-01), which every function in this package accepts.

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
    from .forecast import forecast_grid

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
        _coverage(c)
    if isinstance(methods, str):
        raise ValueError("methods must be a sequence of names or a mapping, not a single string")
    named: dict[str, Method | str] = (
        dict(methods) if isinstance(methods, Mapping) else {m: m for m in methods}
    )
    if not named:
        raise ValueError("methods must name at least one method")

    frames = []
    for origin, start in zip(origin_list, origin_days, strict=True):
        past = ta < start
        future = (ta >= start) & (ta < start + h)
        actual = grid.counts(xa[future], ya[future])
        for name, method in named.items():
            common = {"bounds": bounds, "cell_size": cell_size, "at": start, "horizon": h, **kwargs}
            if isinstance(method, str):
                scores = forecast_grid(xa[past], ya[past], ta[past], method=method, **common)
            else:
                scores = method(xa[past], ya[past], ta[past], **common)
            frame = evaluate(scores, actual, coverages)
            frame.insert(0, "method", name)
            frame.insert(0, "origin", [origin] * len(frame))
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[["origin", "method", "coverage", "hit_rate", "pai", "pei", "n_actual"]]
