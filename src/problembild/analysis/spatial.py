"""Coordinates and point-in-area assignment.

Problembild stores every coordinate in SWEREF99 TM (EPSG:3006, metres east/north), the
Swedish national grid, so distances and areas are plain Euclidean arithmetic. Maps use
WGS84 longitude/latitude (EPSG:4326). This module converts between the two, recognises
which one a file uses, and assigns points to the area polygon containing them.

:class:`AreaIndex` is the hot path of every import: it answers "which area contains this
point?" for millions of points per second. It rasterises each area onto a fine grid once;
points in a cell that lies wholly inside one area (or wholly outside all areas) are
assigned by a table lookup, and only points in cells crossed by a boundary are tested
exactly with shapely's STRtree. The result is identical to an exact ``intersects`` join
(``geopandas.sjoin``), which the tests use as the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from ._validation import as_1d_float, positive, same_length

__all__ = [
    "SWEDEN_BOUNDS_SWEREF",
    "SWEDEN_BOUNDS_WGS84",
    "SWEREF99TM",
    "WGS84",
    "AreaIndex",
    "area_weighted_overlay",
    "detect_crs",
    "inside_sweden",
    "to_sweref",
    "to_wgs84",
]

SWEREF99TM = "EPSG:3006"
WGS84 = "EPSG:4326"

#: A generous box around Sweden in SWEREF99 TM metres (xmin, ymin, xmax, ymax). The
#: mainland spans about x 266,000–921,000 and y 6,133,000–7,669,000.
SWEDEN_BOUNDS_SWEREF = (200_000.0, 6_100_000.0, 1_000_000.0, 7_700_000.0)
#: The same in WGS84 degrees (lon_min, lat_min, lon_max, lat_max).
SWEDEN_BOUNDS_WGS84 = (10.0, 55.0, 25.0, 69.5)

_OUTSIDE = -1  # cell outside every area
_BOUNDARY = -2  # cell crossed by a boundary (or shared by two areas): test exactly


@lru_cache(maxsize=2)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_sweref(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude (degrees) to SWEREF99 TM ``(x, y)`` metres."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    x, y = _transformer(WGS84, SWEREF99TM).transform(lon_a, lat_a)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert SWEREF99 TM ``(x, y)`` metres to WGS84 ``(lon, lat)`` degrees."""
    x_a = np.asarray(x, dtype=np.float64)
    y_a = np.asarray(y, dtype=np.float64)
    lon, lat = _transformer(SWEREF99TM, WGS84).transform(x_a, y_a)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def inside_sweden(x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
    """True where SWEREF99 TM ``(x, y)`` lies in the box around Sweden; NaN gives False.

    The box is a plausibility check for imports (it catches swapped axes, degrees given
    as metres and points in another country's grid), not a border test.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    xmin, ymin, xmax, ymax = SWEDEN_BOUNDS_SWEREF
    with np.errstate(invalid="ignore"):
        return (xa >= xmin) & (xa <= xmax) & (ya >= ymin) & (ya <= ymax)


def detect_crs(x: ArrayLike, y: ArrayLike) -> str:
    """Tell whether coordinates are WGS84 degrees or SWEREF99 TM metres.

    Returns ``"EPSG:4326"`` or ``"EPSG:3006"``; raises ``ValueError`` when there are no
    finite coordinates or they fit neither system over Sweden.
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    ok = np.isfinite(xa) & np.isfinite(ya)
    if not ok.any():
        raise ValueError("no finite coordinates to detect the coordinate system from")
    xa, ya = xa[ok], ya[ok]
    lon0, lat0, lon1, lat1 = SWEDEN_BOUNDS_WGS84
    if np.all((xa >= lon0) & (xa <= lon1) & (ya >= lat0) & (ya <= lat1)):
        return WGS84
    if np.all(inside_sweden(xa, ya)):
        return SWEREF99TM
    raise ValueError(
        "coordinates fit neither WGS84 over Sweden (lon 10–25, lat 55–69.5) nor SWEREF99 TM "
        f"(x 200,000–1,000,000, y 6,100,000–7,700,000): x {xa.min():g}–{xa.max():g}, "
        f"y {ya.min():g}–{ya.max():g}"
    )


class AreaIndex:
    """Assign points to the polygon that contains them.

    Parameters
    ----------
    geoms : sequence of shapely geometries in SWEREF99 TM metres; ``None`` or empty
        entries are kept in position but never match.
    ids : the value returned for each geometry (default ``0..n-1``), int64.
    cell_size : float, metres. The raster cell used to decide most points by lookup;
        smaller cells send fewer points to the exact test but cost memory per area.
    block : int, cells per side of a raster block (the lookup is two-level: a coarse
        table of blocks, then cells within a block, so memory follows the areas, not
        the extent between them).

    Points on a boundary count as inside (``intersects`` semantics). Where areas
    overlap, the one that comes first in ``geoms`` wins.
    """

    def __init__(
        self,
        geoms: Sequence[Any] | Iterable[Any],
        ids: ArrayLike | None = None,
        *,
        cell_size: float = 50.0,
        block: int = 32,
    ) -> None:
        geom_list = list(geoms)
        geom_arr = np.empty(len(geom_list), dtype=object)
        geom_arr[:] = geom_list
        n = len(geom_arr)
        if ids is None:
            self.ids = np.arange(n, dtype=np.int64)
        else:
            self.ids = np.asarray(ids, dtype=np.int64)
            if self.ids.shape != (n,):
                raise ValueError(
                    f"ids must have one entry per geometry: {self.ids.shape[0]} ids, {n} geometries"
                )
        self.cell_size = positive(cell_size, "cell_size")
        if int(block) < 1:
            raise ValueError(f"block must be a positive integer, got {block!r}")
        self.block = int(block)
        valid = np.array([g is not None and not shapely.is_empty(g) for g in geom_arr], dtype=bool)
        self._valid_index = np.flatnonzero(valid)
        self._geoms = geom_arr[valid] if valid.any() else np.empty(0, dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._build_raster()

    def __len__(self) -> int:
        return len(self.ids)

    def _build_raster(self) -> None:
        c, b = self.cell_size, self.block
        if len(self._geoms) == 0:
            self._x0 = self._y0 = 0.0
            self._nbx = self._nby = 0
            self._block_of = np.full((0, 0), -1, dtype=np.int32)
            self._cells = np.empty((0, b * b), dtype=np.int32)
            return
        bounds = shapely.bounds(self._geoms)
        self._x0 = float(np.floor(bounds[:, 0].min() / c) * c) - c
        self._y0 = float(np.floor(bounds[:, 1].min() / c) * c) - c
        span_x = bounds[:, 2].max() - self._x0 + c
        span_y = bounds[:, 3].max() - self._y0 + c
        self._nbx = int(np.ceil(span_x / (c * b)))
        self._nby = int(np.ceil(span_y / (c * b)))
        self._block_of = np.full((self._nbx, self._nby), -1, dtype=np.int32)
        # A hair of padding on each cell box makes the classification robust to the
        # rounding in floor((x - x0) / c) at a cell edge.
        eps = 1e-6 * c
        per_geom = []
        for geom, bnd in zip(self._geoms, bounds, strict=True):
            ix0, iy0 = (int(np.floor((v - o) / c)) for v, o in ((bnd[0], self._x0), (bnd[1], self._y0)))
            ix1, iy1 = (int(np.floor((v - o) / c)) for v, o in ((bnd[2], self._x0), (bnd[3], self._y0)))
            gx, gy = np.meshgrid(np.arange(ix0, ix1 + 1), np.arange(iy0, iy1 + 1), indexing="ij")
            cx, cy = gx.ravel(), gy.ravel()
            boxes = shapely.box(
                self._x0 + cx * c - eps,
                self._y0 + cy * c - eps,
                self._x0 + (cx + 1) * c + eps,
                self._y0 + (cy + 1) * c + eps,
            )
            hit = shapely.intersects(geom, boxes)
            inside = shapely.contains_properly(geom, boxes[hit])
            per_geom.append((cx[hit], cy[hit], inside))
            self._block_of[cx[hit] // b, cy[hit] // b] = 0
        used = self._block_of >= 0
        self._block_of[used] = np.arange(int(used.sum()), dtype=np.int32)
        self._cells = np.full((int(used.sum()), b * b), _OUTSIDE, dtype=np.int32)
        for gi, (cx, cy, inside) in enumerate(per_geom):
            blk = self._block_of[cx // b, cy // b]
            local = (cx % b) * b + (cy % b)
            cur = self._cells[blk, local]
            # Each cell occurs once per geometry: an unclaimed cell takes this area (or
            # becomes a boundary cell); a cell another area already touched is shared.
            fresh = np.where(inside, gi, _BOUNDARY)
            self._cells[blk, local] = np.where(cur == _OUTSIDE, fresh, _BOUNDARY).astype(np.int32)

    def assign(self, x: ArrayLike, y: ArrayLike, *, chunk_size: int = 2_000_000) -> NDArray[np.int64]:
        """Return the id of the area containing each point, or -1 where none does.

        ``x`` and ``y`` are SWEREF99 TM metres; NaN coordinates give -1.
        """
        xa = as_1d_float(x, "x", allow_nan=True)
        ya = as_1d_float(y, "y", allow_nan=True)
        n = same_length(x=xa, y=ya)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0 or len(self._geoms) == 0:
            return out
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            out[start:stop] = self._assign_chunk(xa[start:stop], ya[start:stop])
        return out

    def _assign_chunk(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        c, b = self.cell_size, self.block
        gidx = np.full(len(x), -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self._x0) / c)
            fy = np.floor((y - self._y0) / c)
            ok = (fx >= 0) & (fy >= 0) & (fx < self._nbx * b) & (fy < self._nby * b)
        pos = np.flatnonzero(ok)
        if len(pos) == 0:
            return gidx
        cx = fx[pos].astype(np.int64)
        cy = fy[pos].astype(np.int64)
        blk = self._block_of[cx // b, cy // b]
        has = blk >= 0
        pos, cx, cy, blk = pos[has], cx[has], cy[has], blk[has]
        value = self._cells[blk, (cx % b) * b + (cy % b)]
        direct = value >= 0
        gidx[pos[direct]] = value[direct]
        exact = pos[value == _BOUNDARY]
        if len(exact):
            points = shapely.points(x[exact], y[exact])
            left, right = self._tree.query(points, predicate="intersects")
            if len(left):
                # The first geometry wins where areas overlap: sort pairs by point, then
                # by geometry, and keep each point's first pair.
                order = np.lexsort((right, left))
                left, right = left[order], right[order]
                first = np.ones(len(left), dtype=bool)
                first[1:] = left[1:] != left[:-1]
                gidx[exact[left[first]]] = right[first]
        found = gidx >= 0
        result = np.full(len(x), -1, dtype=np.int64)
        result[found] = self.ids[self._valid_index[gidx[found]]]
        return result


def area_weighted_overlay(
    source_geoms: Sequence[Any], values: ArrayLike, target_geoms: Sequence[Any]
) -> NDArray[np.float64]:
    """Move counts from source polygons to target polygons in proportion to overlap area.

    Each source's ``value`` is spread evenly over its area (the usual assumption for
    population counts in small statistical areas such as DeSO); a target receives
    ``sum(value_s * area(s ∩ t) / area(s))``. ``None`` targets receive 0.
    """
    src = np.empty(len(source_geoms), dtype=object)
    src[:] = list(source_geoms)
    vals = as_1d_float(values, "values")
    same_length(source_geoms=src, values=vals)
    tgt = np.empty(len(target_geoms), dtype=object)
    tgt[:] = list(target_geoms)
    out = np.zeros(len(tgt), dtype=np.float64)
    ok_src = np.array([g is not None and not shapely.is_empty(g) for g in src], dtype=bool)
    ok_tgt = np.array([g is not None and not shapely.is_empty(g) for g in tgt], dtype=bool)
    if not ok_src.any() or not ok_tgt.any():
        return out
    src_idx, tgt_idx = np.flatnonzero(ok_src), np.flatnonzero(ok_tgt)
    tree = shapely.STRtree(src[src_idx])
    t_local, s_local = tree.query(tgt[tgt_idx], predicate="intersects")
    if len(t_local) == 0:
        return out
    s_geo = src[src_idx[s_local]]
    t_geo = tgt[tgt_idx[t_local]]
    overlap = shapely.area(shapely.intersection(s_geo, t_geo))
    src_area = shapely.area(s_geo)
    share = np.divide(overlap, src_area, out=np.zeros_like(overlap), where=src_area > 0)
    np.add.at(out, tgt_idx[t_local], vals[src_idx[s_local]] * share)
    return out
