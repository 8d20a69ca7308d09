"""Getis–Ord Gi* hot-spot statistics on the analysis grid, computed by convolution."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._validation import as_2d_float, positive

__all__ = ["GiStarResult", "bh_adjust", "disk_offsets", "gi_star", "gi_star_labels"]


def disk_offsets(radius: float) -> NDArray[np.int64]:
    """Integer cell offsets ``(di, dj)`` with ``sqrt(di**2 + dj**2) <= radius``.

    Parameters
    ----------
    radius : float
        Neighbourhood radius in cell units (> 0).

    Returns
    -------
    ndarray of int64, shape (k, 2)
        Row and column offsets, ``(0, 0)`` included.
    """
    r = positive(radius, "radius")
    reach = math.floor(r)
    d = np.arange(-reach, reach + 1)
    di, dj = np.meshgrid(d, d, indexing="ij")
    # sqrt(...) <= r (not di²+dj² <= r²) is the comparison a KD-tree distance band makes,
    # so radius=sqrt(2) behaves the same here and in libpysal.weights.DistanceBand.
    inside = np.sqrt((di * di + dj * dj).astype(np.float64)) <= r
    return np.column_stack([di[inside], dj[inside]]).astype(np.int64)


def _disk_sum(values: NDArray[np.float64], radius: float) -> NDArray[np.float64]:
    """Sum of ``values`` over each cell's disk neighbourhood, zero outside the grid.

    Each disk is a stack of horizontal runs, so the sum is built from row-wise prefix
    sums: O(cells * (2 radius + 1)) whatever the disk size, and exact for integer
    counts (float64 holds integers exactly up to 2**53).
    """
    ny, nx = values.shape
    offsets = disk_offsets(radius)
    prefix = np.zeros((ny, nx + 1))
    np.cumsum(values, axis=1, out=prefix[:, 1:])
    cols = np.arange(nx)
    out = np.zeros_like(values)
    for di in np.unique(offsets[:, 0]):
        half = int(offsets[offsets[:, 0] == di, 1].max())
        lo = np.clip(cols - half, 0, nx)
        hi = np.clip(cols + half + 1, 0, nx)
        run = prefix[:, hi] - prefix[:, lo]
        # Row i of the result takes the run of row i + di (zero past the grid edge).
        if di >= 0:
            if di < ny:
                out[: ny - di] += run[di:]
        elif -di < ny:
            out[-di:] += run[: ny + di]
    return out


def gi_star(counts: ArrayLike, radius: float, *, transform: Literal["B", "R"] = "B") -> NDArray[np.float64]:
    """Getis–Ord Gi* z-scores of a grid with binary distance-band neighbourhoods.

    Parameters
    ----------
    counts : array_like, shape (ny, nx)
        Value per cell (typically incident counts); finite.
    radius : float
        Neighbourhood radius in *cell units* (> 0): cell ``j`` is a neighbour of ``i``
        when the distance between their centres is ``<= radius`` cells. The cell
        itself is always included (the "star"). Cells outside the grid do not exist
        (no wrap-around, no zero padding in the moments: edge cells simply have fewer
        neighbours).
    transform : {"B", "R"}, default "B"
        "B": binary weights (the classic Gi* of Ord & Getis 1995).
        "R": row-standardised weights, as esda's default ``transform="R"``.

    Returns
    -------
    ndarray of float64, shape (ny, nx)
        z-scores; positive = more than expected around the cell (hot), negative = cold.

    Raises
    ------
    ValueError
        If ``counts`` is not a finite 2-D array or ``radius`` is not > 0.

    Notes
    -----
    With ``n`` cells, mean ``m`` and *population* standard deviation
    ``s = sqrt(sum(y**2)/n - m**2)`` of all cells, neighbourhood sum ``S_i`` and
    neighbourhood size ``k_i`` (self included), the binary z-score is

    ``z_i = (S_i - k_i m) / (s sqrt(k_i (n - k_i) / (n - 1)))``

    and the row-standardised one ``z_i = (S_i / k_i - m) / s``. These are exactly
    ``esda.G_Local(y, w, transform=..., star=True, permutations=0).Zs`` for ``w`` a
    binary ``libpysal.weights.DistanceBand`` on the cell centres with
    ``threshold=radius`` (esda adds the self-weight for ``star=True``), but
    ``S_i`` and ``k_i`` come from a disk-shaped moving sum instead of a sparse
    weights matrix (hundreds of times faster on 500 × 500 cells).

    Documented edge cases instead of NaN: a constant grid (zero variance) gives
    ``z = 0`` everywhere, and a cell whose neighbourhood is the whole grid
    (``k_i == n``) gets ``z = 0`` because it has nothing to be contrasted with.

    References
    ----------
    .. [1] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
       distributional issues and an application. Geographical Analysis, 27(4), 286-306.
    .. [2] Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
       distance statistics. Geographical Analysis, 24(3), 189-206.
    """
    y = as_2d_float(counts, "counts")
    r = positive(radius, "radius")
    if transform not in ("B", "R"):
        raise ValueError(f"transform must be 'B' or 'R', got {transform!r}")
    if y.size == 0:
        raise ValueError(f"counts must have at least one cell, got shape {y.shape}")
    z = np.zeros_like(y)
    # ptp == 0 is exact, unlike var == 0, which fails for e.g. a grid of 0.1s.
    if np.ptp(y) == 0:
        return z
    n = y.size
    mean = float(y.mean())
    sd = float(y.std())
    s = _disk_sum(y, r)
    k = _disk_sum(np.ones_like(y), r)
    if transform == "B":
        denom = sd * np.sqrt(k * (n - k) / (n - 1))
        num = s - k * mean
    else:
        denom = np.full_like(y, sd)
        num = s / k - mean
        # A neighbourhood covering the whole grid has mean == grid mean; force an exact
        # 0 there rather than rounding noise divided by s.
        denom[k >= n] = 0.0
    ok = denom > 0
    z[ok] = num[ok] / denom[ok]
    return z


@dataclass(frozen=True, slots=True, eq=False)
class GiStarResult:
    """Significance of Gi* z-scores.

    Attributes
    ----------
    z : ndarray
        The z-scores tested (same shape as given).
    p_values : ndarray
        Two-sided p-values under the standard normal, ``2 * sf(|z|)``.
    q_values : ndarray
        Adjusted p-values (Benjamini–Hochberg, Bonferroni, or equal to ``p_values``
        for ``method="none"``).
    labels : ndarray of int8
        +1 hot spot (``z > 0`` and ``q <= alpha``), -1 cold spot, 0 not significant.
    alpha : float
        Significance level used.
    method : str
        Multiple-testing correction used.
    """

    z: NDArray[np.float64]
    p_values: NDArray[np.float64]
    q_values: NDArray[np.float64]
    labels: NDArray[np.int8]
    alpha: float
    method: str

    @property
    def n_hot(self) -> int:
        """Number of cells labelled hot."""
        return int(np.count_nonzero(self.labels == 1))

    @property
    def n_cold(self) -> int:
        """Number of cells labelled cold."""
        return int(np.count_nonzero(self.labels == -1))


def bh_adjust(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values), any shape.

    Parameters
    ----------
    p_values : array_like
        p-values in [0, 1].

    Returns
    -------
    ndarray of float64
        ``q_(i) = min_{j >= i} (n p_(j) / j)`` clipped to 1, in the input's shape; equal
        to ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    n = flat.size
    if n == 0:
        return p.copy()
    order = np.argsort(flat, kind="stable")
    ranked = flat[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(ranked, 1.0)
    return q.reshape(p.shape)


def gi_star_labels(
    z: ArrayLike,
    alpha: float = 0.05,
    method: Literal["fdr_bh", "bonferroni", "none"] = "fdr_bh",
) -> GiStarResult:
    """Label Gi* z-scores as hot, cold or not significant with multiple-testing control.

    Parameters
    ----------
    z : array_like, any shape
        z-scores from :func:`gi_star`; finite.
    alpha : float, default 0.05
        Significance level in (0, 1).
    method : {"fdr_bh", "bonferroni", "none"}, default "fdr_bh"
        "fdr_bh" controls the false discovery rate (Benjamini–Hochberg); "bonferroni"
        the family-wise error rate; "none" tests each cell at ``alpha``.

    Returns
    -------
    GiStarResult
        z, two-sided p-values, adjusted q-values and labels (+1, -1, 0).

    Notes
    -----
    Neighbouring Gi* scores share most of their cells, so the tests are strongly
    positively correlated; uncorrected per-cell tests at 5 % flag many spurious cells on
    a large grid. Benjamini–Hochberg remains valid under this kind of positive
    dependence and is the usual choice for local statistics [1]_. Under the global null
    the chance of *any* flag on a map is at most ``alpha`` for BH.

    References
    ----------
    .. [1] Caldas de Castro, M. & Singer, B. H. (2006). Controlling the false discovery
       rate: a new application to account for multiple and dependent tests in local
       statistics of spatial association. Geographical Analysis, 38(2), 180-208.
    .. [2] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
       Journal of the Royal Statistical Society B, 57(1), 289-300.
    """
    # A private copy: the result is frozen read-only and must not freeze the caller's array.
    za = np.array(z, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(za)):
        raise ValueError("z contains NaN or infinite values")
    a = positive(alpha, "alpha")
    if a >= 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    p = np.minimum(2.0 * stats.norm.sf(np.abs(za)), 1.0)
    if method == "fdr_bh":
        q = bh_adjust(p)
    elif method == "bonferroni":
        q = np.minimum(p * max(za.size, 1), 1.0)
    elif method == "none":
        q = p.copy()
    else:
        raise ValueError(f"method must be 'fdr_bh', 'bonferroni' or 'none', got {method!r}")
    significant = q <= a
    labels = np.where(significant, np.sign(za), 0).astype(np.int8)
    for arr in (za, p, q, labels):
        arr.setflags(write=False)
    return GiStarResult(z=za, p_values=p, q_values=q, labels=labels, alpha=a, method=method)
