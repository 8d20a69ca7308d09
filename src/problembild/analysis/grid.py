"""The regular grid and the time convention shared by the spatial analytics.

Every grid-valued result in :mod:`problembild.analysis` (densities, Gi* z-scores,
forecast scores, hit-rate evaluation) is an array of shape ``(ny, nx)`` laid out on a
:class:`Grid`:

* row ``i`` holds cells whose centre is at ``y = ymin + (i + 0.5) * cell_size``
  (row 0 is the *southern* edge, so ``numpy.flipud`` is needed to draw it north-up);
* column ``j`` holds cells whose centre is at ``x = xmin + (j + 0.5) * cell_size``.

Cells are half-open ``[x0, x0 + cell_size) × [y0, y0 + cell_size)``; points lying exactly
on the grid's upper x or y edge are put in the last column or row, as
``numpy.histogram2d`` does.

Times are handled as float *days*: ``numpy.datetime64`` values are converted to days
since 1970-01-01 (:func:`to_days`), plain numbers are taken to be days already.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, bounds4, positive, same_length

__all__ = ["Grid", "days_scalar", "to_days"]

# Bounds that are an exact multiple of the cell size must not get an extra column
# because (xmax - xmin) / cell_size came out as 100.00000000000001.
_CEIL_TOLERANCE = 1e-9

_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")
_DAY = np.timedelta64(86_400_000_000_000, "ns")


@dataclass(frozen=True, slots=True)
class Grid:
    """A regular square-cell grid in projected metres (SWEREF99 TM).

    Parameters
    ----------
    xmin, ymin : float
        Lower-left corner of the grid, metres.
    cell_size : float
        Side of a square cell, metres (> 0).
    nx, ny : int
        Number of columns (x direction) and rows (y direction), each >= 1.

    Notes
    -----
    Arrays on the grid have shape ``(ny, nx)``; ``array[i, j]`` is the cell with centre
    ``(xmin + (j + 0.5) * cell_size, ymin + (i + 0.5) * cell_size)``.
    """

    xmin: float
    ymin: float
    cell_size: float
    nx: int
    ny: int

    def __post_init__(self) -> None:
        for name in ("xmin", "ymin"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        positive(self.cell_size, "cell_size")
        for name in ("nx", "ny"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    @classmethod
    def from_bounds(cls, bounds: Any, cell_size: float) -> Grid:
        """Build the grid that covers ``bounds`` with cells of ``cell_size`` metres.

        Parameters
        ----------
        bounds : sequence of 4 floats
            ``(xmin, ymin, xmax, ymax)`` in metres, ``xmin < xmax`` and ``ymin < ymax``.
        cell_size : float
            Cell side in metres (> 0).

        Returns
        -------
        Grid
            Grid anchored at ``(xmin, ymin)`` with ``nx = ceil((xmax - xmin) / cell_size)``
            and ``ny = ceil((ymax - ymin) / cell_size)``. The grid may extend up to one cell
            beyond ``xmax``/``ymax`` when the extent is not a multiple of ``cell_size``.
        """
        xmin, ymin, xmax, ymax = bounds4(bounds)
        size = positive(cell_size, "cell_size")
        nx = max(1, math.ceil((xmax - xmin) / size - _CEIL_TOLERANCE))
        ny = max(1, math.ceil((ymax - ymin) / size - _CEIL_TOLERANCE))
        return cls(xmin=xmin, ymin=ymin, cell_size=size, nx=int(nx), ny=int(ny))

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(ny, nx)`` of values on this grid."""
        return (self.ny, self.nx)

    @property
    def n_cells(self) -> int:
        """Number of cells, ``nx * ny``."""
        return self.nx * self.ny

    @property
    def cell_area(self) -> float:
        """Area of one cell in square metres."""
        return self.cell_size * self.cell_size

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer edges ``(xmin, ymin, xmax, ymax)`` of the grid in metres."""
        return (
            self.xmin,
            self.ymin,
            self.xmin + self.nx * self.cell_size,
            self.ymin + self.ny * self.cell_size,
        )

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cell-centre coordinates.

        Returns
        -------
        xc : ndarray, shape (nx,)
            x of column centres, metres.
        yc : ndarray, shape (ny,)
            y of row centres, metres.
        """
        xc = self.xmin + (np.arange(self.nx, dtype=np.float64) + 0.5) * self.cell_size
        yc = self.ymin + (np.arange(self.ny, dtype=np.float64) + 0.5) * self.cell_size
        return xc, yc

    def cell_index(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Row and column of the cell holding each point.

        Parameters
        ----------
        x, y : array_like, shape (n,)
            Point coordinates in metres. NaN coordinates are allowed and count as outside.

        Returns
        -------
        row, col : ndarray of int64, shape (n,)
            Cell indices; ``-1`` for points outside the grid.
        inside : ndarray of bool, shape (n,)
            True where the point lies in the grid (upper edges included).
        """
        xa = as_1d_float(x, "x", allow_nan=True)
        ya = as_1d_float(y, "y", allow_nan=True)
        same_length(x=xa, y=ya)
        xmax, ymax = self.bounds[2], self.bounds[3]
        with np.errstate(invalid="ignore"):
            inside = (xa >= self.xmin) & (xa <= xmax) & (ya >= self.ymin) & (ya <= ymax)
        col = np.full(xa.shape, -1, dtype=np.int64)
        row = np.full(ya.shape, -1, dtype=np.int64)
        col[inside] = np.minimum(np.floor((xa[inside] - self.xmin) / self.cell_size), self.nx - 1)
        row[inside] = np.minimum(np.floor((ya[inside] - self.ymin) / self.cell_size), self.ny - 1)
        return row, col, inside

    def counts(self, x: ArrayLike, y: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64]:
        """Number (or summed weight) of points per cell.

        Parameters
        ----------
        x, y : array_like, shape (n,)
            Point coordinates in metres; points outside the grid (or with NaN
            coordinates) are ignored.
        weights : array_like, shape (n,), optional
            Weight per point; default 1.

        Returns
        -------
        ndarray of float64, shape (ny, nx)
            Counts per cell.
        """
        row, col, inside = self.cell_index(x, y)
        w = None
        if weights is not None:
            wa = as_1d_float(weights, "weights")
            same_length(x=row, weights=wa)
            w = wa[inside]
        flat = row[inside] * self.nx + col[inside]
        return np.bincount(flat, weights=w, minlength=self.n_cells).astype(np.float64).reshape(self.shape)


def to_days(t: ArrayLike, name: str = "t") -> NDArray[np.float64]:
    """Convert times to float days.

    Parameters
    ----------
    t : array_like, shape (n,)
        ``numpy.datetime64`` values (any unit) or numbers already in days.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of float64, shape (n,)
        Days since 1970-01-01 for datetimes; the numbers themselves otherwise.

    Raises
    ------
    ValueError
        If ``t`` is not one-dimensional or holds NaT/NaN/infinite values.
    """
    arr = np.asarray(t)
    if arr.dtype.kind == "M":
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if np.any(np.isnat(arr)):
            raise ValueError(f"{name} contains NaT values")
        return ((arr.astype("datetime64[ns]") - _EPOCH) / _DAY).astype(np.float64)
    if arr.dtype.kind == "m":
        raise ValueError(f"{name} must be datetimes or float days, got timedeltas")
    return as_1d_float(arr, name)


def days_scalar(value: Any, name: str, *, duration: bool = False) -> float:
    """Convert one time (or, with ``duration=True``, one time span) to float days.

    Datetimes (``numpy.datetime64``, ``datetime.datetime``/``date``, ISO strings) become
    days since 1970-01-01; ``numpy.timedelta64``/``datetime.timedelta`` spans become
    days; plain numbers are taken as days. Raises ``ValueError`` naming ``name``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a time, got {value!r}")
    # np.timedelta64 subclasses np.signedinteger, so it must not be read as a number.
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, np.timedelta64):
        out = float(value)
    else:
        try:
            if duration:
                out = float(np.timedelta64(value, "ns") / _DAY)
            else:
                dt = np.datetime64(value, "ns")
                if np.isnat(dt):
                    raise ValueError
                out = float((dt - _EPOCH) / _DAY)
        except (TypeError, ValueError):
            kind = "a duration (timedelta or days)" if duration else "a datetime or float days"
            raise ValueError(f"{name} must be {kind}, got {value!r}") from None
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if duration and out <= 0:
        raise ValueError(f"{name} must be a positive duration, got {value!r}")
    return out
