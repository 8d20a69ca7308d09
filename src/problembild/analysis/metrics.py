"""Accuracy of hot-spot forecasts: hit rate, PAI and PEI of one forecast against one period.

Pure measures on two arrays laid out on the same grid (see
:mod:`problembild.analysis.grid`): the forecast scores and the incidents that
followed, within a study area (a mask of the grid's cells; default all of them).
Cells tied in score at the edge of the flagged set count fractionally, so a metric is
its expected value over every order of the tied cells, not a consequence of where the
cells lie in the array. Rolling-origin backtests that apply them to many forecasts
are in :mod:`problembild.analysis.evaluation`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["COVERAGES", "check_study", "evaluate", "hit_rate", "n_flagged", "pai", "pei", "top_cells"]

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


def check_study(study: ArrayLike | None, shape: tuple[int, ...]) -> NDArray[np.bool_] | None:
    """``study`` as a boolean mask of ``shape`` (None stays None), or ``ValueError`` naming it.

    A mask must have the grid's shape, hold booleans (or 0/1) and include at least one cell.
    """
    if study is None:
        return None
    mask = np.asarray(study)
    if mask.shape != tuple(shape):
        raise ValueError(f"study must be a boolean mask of the grid's shape {tuple(shape)}, got {mask.shape}")
    if mask.dtype != np.bool_:
        if not np.issubdtype(mask.dtype, np.number) or not np.all(np.isin(mask, (0, 1))):
            raise ValueError("study must be a boolean mask (True for the cells of the study area)")
        mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("study must include at least one cell")
    return mask


def top_cells(scores: ArrayLike, n: int) -> NDArray[np.intp]:
    """Flat indices of the ``n`` highest scores, ties broken by the lower flat index.

    The flat index is row-major on a ``(ny, nx)`` grid: row 0 (south) first, west to
    east. The rule is arbitrary but deterministic, so repeated runs flag the same cells
    (what a map shows); the metrics of this module do not depend on it.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    return np.argsort(-s, kind="stable")[:n]


def evaluate(
    scores: ArrayLike,
    actual: ArrayLike,
    coverages: Sequence[float] = COVERAGES,
    *,
    study: ArrayLike | None = None,
) -> pd.DataFrame:
    """Hit rate, PAI and PEI at several coverages in one pass.

    Parameters
    ----------
    scores : array_like, any shape
        Forecast score per cell (higher = more likely); finite.
    actual : array_like, same shape
        Incidents per cell in the forecast period; finite, non-negative.
    coverages : sequence of float
        Shares of the study area's cells to flag, each in (0, 1].
    study : array_like of bool, same shape, optional
        The study area: the cells that may be flagged and whose incidents count.
        Default: every cell.

    Returns
    -------
    pandas.DataFrame
        Columns ``coverage``, ``n_flagged``, ``hit_rate``, ``pai``, ``pei``,
        ``n_actual`` (incidents in the study area) and ``n_study`` (its cells); one row
        per coverage. Metrics are NaN when the study area has no incidents.

    Notes
    -----
    With ``n`` cells in the study area, ``k = n_flagged(n, coverage)`` of them are
    flagged by score. When the ``k``-th highest score is shared by ``m`` cells of which
    ``r`` are needed, each of the tied cells counts ``r / m`` (the expected capture of
    a random choice among them). ``hit_rate = captured / n_actual``,
    ``pai = hit_rate / (k / n)`` and ``pei = captured / best`` with ``best`` the
    incidents in the ``k`` cells with the most incidents. See :func:`hit_rate`,
    :func:`pai` and :func:`pei`.
    """
    rows = _measure(scores, actual, coverages, study)
    return pd.DataFrame(
        rows, columns=["coverage", "n_flagged", "hit_rate", "pai", "pei", "n_actual", "n_study"]
    )


def _measure(
    scores: ArrayLike, actual: ArrayLike, coverages: Sequence[float], study: ArrayLike | None
) -> list[tuple[float, int, float, float, float, float, int]]:
    """The rows of :func:`evaluate` as tuples (the single metrics need no data frame)."""
    s, a = _pair(scores, actual)
    mask = check_study(study, np.shape(np.asarray(scores)))
    if mask is not None:
        keep = mask.ravel()
        s, a = s[keep], a[keep]
    n_cells = s.size
    order = np.argsort(-s, kind="stable")
    ranked = -s[order]  # ascending
    captured = np.concatenate([[0.0], np.cumsum(a[order])])
    best = np.cumsum(np.sort(a)[::-1])
    total = float(a.sum())
    rows = []
    for coverage in coverages:
        k = n_flagged(n_cells, coverage)
        if total > 0:
            # The tie group of the k-th cell: ranks [lo, hi); k - lo of its hi - lo cells flagged.
            lo = int(np.searchsorted(ranked, ranked[k - 1], side="left"))
            hi = int(np.searchsorted(ranked, ranked[k - 1], side="right"))
            got = float(captured[lo]) + (k - lo) / (hi - lo) * float(captured[hi] - captured[lo])
            hit = got / total
            pai_value = hit / (k / n_cells)
            pei_value = got / float(best[k - 1]) if best[k - 1] > 0 else math.nan
        else:
            hit = pai_value = pei_value = math.nan
        rows.append((float(coverage), k, hit, pai_value, pei_value, total, n_cells))
    return rows


def hit_rate(
    scores: ArrayLike, actual: ArrayLike, coverage: float, *, study: ArrayLike | None = None
) -> float:
    """Share of the actual incidents that fall in the flagged cells.

    Parameters
    ----------
    scores : array_like, any shape
        Forecast score per cell; the ``n_flagged(n_study, coverage)`` highest cells of
        the study area are flagged, cells tied at the edge counting fractionally (see
        :func:`evaluate`).
    actual : array_like, same shape
        Incidents per cell in the forecast period (non-negative).
    coverage : float
        Share of the study area's cells flagged, in (0, 1].
    study : array_like of bool, same shape, optional
        The study area (default every cell); incidents outside it are not counted.

    Returns
    -------
    float
        ``sum(actual[flagged]) / sum(actual[study])`` in [0, 1]; NaN when there are no
        actual incidents (the forecast cannot be judged; no division warning is raised).
    """
    return float(_measure(scores, actual, [coverage], study)[0][2])


def pai(scores: ArrayLike, actual: ArrayLike, coverage: float, *, study: ArrayLike | None = None) -> float:
    """Predictive Accuracy Index: hit rate divided by the share of the study area flagged.

    Parameters
    ----------
    scores, actual, coverage, study
        As in :func:`hit_rate`.

    Returns
    -------
    float
        ``hit_rate / (n_flagged / n_study)``; 1 means no better than random cells,
        the maximum is ``n_study / n_flagged``. NaN when there are no actual incidents.
        The denominator is the study area, as in Chainey et al.'s definition [1]_
        (``(n / N) / (a / A)``, ``A`` the area studied): a grid padded around the area
        would inflate it.

    References
    ----------
    .. [1] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
       for predicting spatial patterns of crime. Security Journal, 21, 4-28.
    """
    return float(_measure(scores, actual, [coverage], study)[0][3])


def pei(scores: ArrayLike, actual: ArrayLike, coverage: float, *, study: ArrayLike | None = None) -> float:
    """Predictive Efficiency Index: PAI relative to the best achievable PAI.

    Parameters
    ----------
    scores, actual, coverage, study
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
    return float(_measure(scores, actual, [coverage], study)[0][4])
