"""Accuracy of hot-spot forecasts: hit rate, PAI and PEI of one forecast against one period.

Pure measures on two arrays laid out on the same grid (see
:mod:`problembild.analysis.grid`): the forecast scores and the incidents that
followed. Rolling-origin backtests that apply them to many forecasts are in
:mod:`problembild.analysis.evaluation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["COVERAGES", "evaluate", "hit_rate", "n_flagged", "pai", "pei", "top_cells"]

#: Shares of cells flagged in the standard evaluation (1 %, 2 %, 5 %, 10 % of the area).
COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)


def n_flagged(n_cells: int, coverage: float) -> int:
    """Number of cells flagged at ``coverage``: ``max(1, round(coverage * n_cells))``.

    Halves are rounded up (``0.5 -> 1``), unlike Python's ``round``, so the count does not
    depend on whether ``coverage * n_cells`` happens to be even.
    """
    c = check_coverage(coverage)
    if n_cells < 1:
        raise ValueError(f"n_cells must be >= 1, got {n_cells!r}")
    # The 1e-9 keeps a product meant to be x.5 but computed as x.4999999999999996 rounding up.
    return max(1, min(n_cells, math.floor(c * n_cells + 0.5 + 1e-9)))


def check_coverage(coverage: float) -> float:
    """Return ``coverage`` as float if it is a share of cells in (0, 1], else raise ``ValueError``."""
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
