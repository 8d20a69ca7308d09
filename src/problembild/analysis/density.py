"""Gaussian kernel density of incident points on the analysis grid."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, positive, same_length
from .grid import Grid

__all__ = ["KernelLattice", "kde_grid"]

# Kernel support in bandwidths: beyond 6 h the Gaussian is < 1.6e-8 of its peak, far
# below the binning error, so points further than this from every cell centre are skipped.
_TRUNCATE = 6.0
# Linear-binning node spacing, in bandwidths. For one point the relative binning error
# is at most (spacing/h)**2 / 12 * |r**2/h**2 - 1| (r = distance from the point): with
# h/12 that is < 0.1 % at the peak and < 0.5 % at r = 3 h, where a lone point's density
# falls to 1 % of its peak.
_NODES_PER_BANDWIDTH = 12.0
# Never bin finer than a sixth of a cell: bounds memory for bandwidths below 2 cells.
_MAX_NODES_PER_CELL = 6.0
# Upper bound on binning nodes (float64 cells); coarser binning beyond that.
_MAX_NODES = 16_000_000


def kde_grid(
    x: ArrayLike,
    y: ArrayLike,
    *,
    bounds: Any,
    cell_size: float,
    bandwidth: float,
    weights: ArrayLike | None = None,
    drop_nan: bool = False,
) -> NDArray[np.float64]:
    """Gaussian kernel density of points, evaluated at the grid's cell centres.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Point coordinates in metres (SWEREF99 TM). Points outside ``bounds`` still
        contribute to cells within about 6 bandwidths of them.
    bounds : sequence of 4 floats
        ``(xmin, ymin, xmax, ymax)`` in metres; the grid is
        ``Grid.from_bounds(bounds, cell_size)``.
    cell_size : float
        Cell side in metres (> 0).
    bandwidth : float
        Standard deviation ``h`` of the isotropic Gaussian kernel, metres (> 0).
    weights : array_like, shape (n,), optional
        Non-negative weight per point (default 1); the density is normalised by their sum.
    drop_nan : bool, default False
        If False, NaN or infinite coordinates (or weights) raise ``ValueError``;
        if True those points are silently dropped before estimating.

    Returns
    -------
    ndarray of float64, shape (ny, nx)
        Density in probability per square metre at each cell centre,

        ``f(c) = sum_k w_k * exp(-|c - p_k|**2 / (2 h**2)) / (2 pi h**2) / sum_k w_k``,

        the same quantity as ``exp(KernelDensity(kernel="gaussian",
        bandwidth=h).score_samples(c))`` in scikit-learn. Multiplying by the cell
        area gives the expected share of points per cell, so the array sums to
        ``1 / cell_size**2`` when the grid covers all of the mass. With no points (or
        zero total weight) the result is all zeros.

    Raises
    ------
    ValueError
        Naming the argument: mismatched lengths, NaN coordinates (unless
        ``drop_nan``), negative weights, non-positive ``bandwidth``/``cell_size``,
        or invalid ``bounds``.

    Notes
    -----
    The points are linearly binned ("cloud-in-cell") onto a node lattice with spacing
    ``h / 12``, but no finer than a sixth of a cell, padded by 6 h around the grid
    (:class:`KernelLattice`, which callers can use to bin a growing history in slices).
    Because the Gaussian is separable, the density at the centres is
    ``A_y @ B @ A_x.T``, where ``B`` is the binned lattice and ``A_x``, ``A_y`` are
    banded (sparse) matrices of the exact 1-D kernel between cell centres and lattice
    nodes; no FFT wrap-around or kernel sampling error arises. Linear binning adds on
    average ``spacing**2 / 6`` of variance per axis, which is taken out of the kernel
    variance. For ``h >= 2`` cells the result matches the exact KDE to within 0.5 %
    wherever the density exceeds 1 % of its maximum, even for a single point; for
    smaller bandwidths the error grows like ``(cell_size / (6 h))**2``. (Grids with
    more than 1.6e7 lattice nodes are binned more coarsely to bound memory.)

    Cost is ``O(n)`` for binning plus ``O(nodes * nx * h / spacing)`` for the sparse
    products; 1,000,000 points on 512 × 512 cells take about 0.1-0.3 s.

    References
    ----------
    .. [1] Wand, M. P. (1994). Fast computation of multivariate kernel estimators.
       Journal of Computational and Graphical Statistics, 3(4), 433-445.
    .. [2] Silverman, B. W. (1986). Density Estimation for Statistics and Data Analysis.
       Chapman & Hall.
    """
    grid = Grid.from_bounds(bounds, cell_size)
    h = positive(bandwidth, "bandwidth")
    xa = as_1d_float(x, "x", allow_nan=drop_nan)
    ya = as_1d_float(y, "y", allow_nan=drop_nan)
    wa = None if weights is None else as_1d_float(weights, "weights", allow_nan=drop_nan)
    if wa is None:
        same_length(x=xa, y=ya)
    else:
        same_length(x=xa, y=ya, weights=wa)
    if drop_nan:
        keep = np.isfinite(xa) & np.isfinite(ya)
        if wa is not None:
            keep &= np.isfinite(wa)
        if not keep.all():
            xa, ya = xa[keep], ya[keep]
            wa = None if wa is None else wa[keep]
    if wa is not None and np.any(wa < 0):
        raise ValueError("weights must be non-negative")
    total = float(xa.size) if wa is None else float(wa.sum())
    if total <= 0:
        return np.zeros(grid.shape)
    lattice = KernelLattice.for_grid(grid, h)
    return lattice.smooth(lattice.bin(xa, ya, wa)) / total


@dataclass(frozen=True, slots=True)
class KernelLattice:
    """The fine node lattice that :func:`kde_grid` bins points onto before smoothing.

    Build it with :meth:`for_grid`. :meth:`bin` spreads points over the lattice nodes
    and :meth:`smooth` turns a binned lattice into the Gaussian kernel sum at the
    grid's cell centres, so ``lattice.smooth(lattice.bin(x, y)) / len(x)`` equals
    ``kde_grid(x, y, bounds=grid.bounds, cell_size=grid.cell_size, bandwidth=h)``.
    Binning is additive: the binning of a union of point sets is the sum of their
    binnings, which lets a caller bin a growing history in slices and smooth any prefix.

    Attributes
    ----------
    grid : Grid
        The grid whose cell centres :meth:`smooth` evaluates at.
    bandwidth : float
        Standard deviation ``h`` of the Gaussian kernel, metres.
    x0, y0 : float
        Coordinates of node ``(0, 0)``, metres: 6 h west and south of the first cell centre.
    spacing : float
        Distance between neighbouring nodes, metres (``h / 12``, but no finer than a
        sixth of a cell, and coarser when the lattice would exceed 1.6e7 nodes).
    nx, ny : int
        Number of nodes along x and y; the lattice reaches 6 h beyond the outermost
        cell centres.
    reach : float
        Kernel support, metres (6 h): points further than this from every cell
        centre do not contribute.
    """

    grid: Grid
    bandwidth: float
    x0: float
    y0: float
    spacing: float
    nx: int
    ny: int
    reach: float

    @classmethod
    def for_grid(cls, grid: Grid, bandwidth: float) -> KernelLattice:
        """The lattice for a Gaussian KDE with sd ``bandwidth`` metres on ``grid``.

        Parameters
        ----------
        grid : Grid
            Grid of the density.
        bandwidth : float
            Kernel standard deviation ``h``, metres (> 0).

        Returns
        -------
        KernelLattice
        """
        if not isinstance(grid, Grid):
            raise ValueError(f"grid must be a Grid, got {type(grid).__name__}")
        h = positive(bandwidth, "bandwidth")
        xc, yc = grid.centres()
        pad = _TRUNCATE * h
        spacing = max(h / _NODES_PER_BANDWIDTH, grid.cell_size / _MAX_NODES_PER_CELL)
        span_x = xc[-1] - xc[0] + 2 * pad
        span_y = yc[-1] - yc[0] + 2 * pad
        n_nodes = (span_x / spacing + 2) * (span_y / spacing + 2)
        if n_nodes > _MAX_NODES:
            spacing *= math.sqrt(n_nodes / _MAX_NODES)
        return cls(
            grid=grid,
            bandwidth=h,
            x0=float(xc[0] - pad),
            y0=float(yc[0] - pad),
            spacing=float(spacing),
            nx=math.ceil(span_x / spacing) + 2,
            ny=math.ceil(span_y / spacing) + 2,
            reach=pad,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(ny, nx)`` of a binned lattice."""
        return (self.ny, self.nx)

    def bin(self, x: ArrayLike, y: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64]:
        """Linear ("cloud-in-cell") binning of points onto the lattice nodes.

        Parameters
        ----------
        x, y : array_like, shape (n,)
            Point coordinates in metres (finite). Points beyond the lattice (more than
            6 bandwidths from every cell centre) are dropped.
        weights : array_like, shape (n,), optional
            Weight per point (default 1).

        Returns
        -------
        ndarray of float64, shape (ny, nx) of the lattice
            Summed weight per node: each point's weight is shared among the four
            nodes around it in proportion to its closeness (bilinear weights).
            Additive over point sets.
        """
        xa = as_1d_float(x, "x")
        ya = as_1d_float(y, "y")
        wa = None if weights is None else as_1d_float(weights, "weights")
        if wa is None:
            same_length(x=xa, y=ya)
        else:
            same_length(x=xa, y=ya, weights=wa)
        ux = (xa - self.x0) / self.spacing
        uy = (ya - self.y0) / self.spacing
        ix = np.floor(ux)
        iy = np.floor(uy)
        keep = (ix >= 0) & (ix <= self.nx - 2) & (iy >= 0) & (iy <= self.ny - 2)
        fx = ux[keep] - ix[keep]
        fy = uy[keep] - iy[keep]
        nx = self.nx
        base = iy[keep].astype(np.int64) * nx + ix[keep].astype(np.int64)
        wk = np.ones(base.size) if wa is None else wa[keep]
        size = nx * self.ny
        # float even for no points (bincount of nothing is an int array)
        binned = np.bincount(base, weights=wk * (1 - fx) * (1 - fy), minlength=size).astype(
            np.float64, copy=False
        )
        binned += np.bincount(base + 1, weights=wk * fx * (1 - fy), minlength=size)
        binned += np.bincount(base + nx, weights=wk * (1 - fx) * fy, minlength=size)
        binned += np.bincount(base + nx + 1, weights=wk * fx * fy, minlength=size)
        return binned.reshape(self.shape)

    def smooth(self, binned: ArrayLike) -> NDArray[np.float64]:
        """Gaussian kernel sum at the grid's cell centres from a binned lattice.

        Parameters
        ----------
        binned : array_like, shape (ny, nx) of the lattice
            Summed weights per node, e.g. from :meth:`bin` (or a sum of several).

        Returns
        -------
        ndarray of float64, shape (ny, nx) of the grid
            ``sum_k w_k * exp(-|c - p_k|**2 / (2 h**2)) / (2 pi h**2)`` at each cell
            centre ``c``, per square metre (not normalised by the total weight;
            divide by it for :func:`kde_grid`'s density). Never negative.
        """
        lattice = np.asarray(binned, dtype=np.float64)
        if lattice.shape != self.shape:
            raise ValueError(f"binned must have the lattice's shape {self.shape}, got {lattice.shape}")
        xc, yc = self.grid.centres()
        h, spacing = self.bandwidth, self.spacing
        # Linear binning spreads a point over two nodes, which adds u(1-u)·spacing² of
        # variance per axis (mean spacing²/6 for uniform u); narrowing the kernel by the
        # mean removes the first-order bias of binning.
        h_eff = math.sqrt(max(h * h - spacing * spacing / 6.0, 0.25 * h * h))
        ax = _kernel_matrix(xc, origin=self.x0, spacing=spacing, n_nodes=self.nx, h=h_eff, reach=self.reach)
        ay = _kernel_matrix(yc, origin=self.y0, spacing=spacing, n_nodes=self.ny, h=h_eff, reach=self.reach)
        # (ax @ lattice.T) is (grid nx, lattice ny); ay @ its transpose gives (grid ny, grid nx).
        along_x = np.asarray(ax @ np.ascontiguousarray(lattice.T))
        out = np.asarray(ay @ np.ascontiguousarray(along_x.T))
        return np.maximum(out, 0.0)


def _kernel_matrix(
    centres: NDArray[np.float64], *, origin: float, spacing: float, n_nodes: int, h: float, reach: float
) -> sp.csr_array:
    """Sparse (len(centres), n_nodes) matrix of the 1-D Gaussian pdf with sd ``h``."""
    width = math.ceil(reach / spacing) + 1
    first = np.floor((centres - reach - origin) / spacing).astype(np.int64)
    cols = first[:, None] + np.arange(2 * width + 1)[None, :]
    rows = np.broadcast_to(np.arange(centres.size)[:, None], cols.shape)
    valid = (cols >= 0) & (cols < n_nodes)
    dist = (centres[:, None] - (origin + cols * spacing)) / h
    vals = np.exp(-0.5 * dist * dist) / (h * math.sqrt(2 * math.pi))
    valid &= np.abs(dist * h) <= reach + spacing
    return sp.csr_array((vals[valid], (rows[valid], cols[valid])), shape=(centres.size, n_nodes))
