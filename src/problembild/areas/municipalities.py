"""Which municipality a place lies in, from the municipality boundaries.

The one way to place points (incidents, an area's representative point) in a
municipality by coordinates: the register uses it for each area's municipality, the
refresh for the incidents around the areas (the "rest of the municipality" comparison
and the areas' shares). Incidents that arrive with a municipality name or code are
placed by name at import (``incidents.importers.municipality_names``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from problembild.analysis.spatial import AreaIndex

from .geometry import from_wkb
from .models import Municipality


class MunicipalityIndex:
    """Municipality code of points in SWEREF99 TM metres ("" outside every municipality).

    Parameters
    ----------
    codes : iterable of str, optional
        Only these municipalities (default: all with a boundary).
    cell_size : float
        Raster cell of the underlying :class:`~problembild.analysis.spatial.AreaIndex`
        (metres; municipalities are large, so coarse cells suffice).
    """

    def __init__(self, codes: Iterable[str] | None = None, *, cell_size: float = 500.0) -> None:
        # In name order, as the register has always placed areas: on a shared border the first wins.
        rows = Municipality.objects.exclude(geometry=None).order_by("name")
        if codes is not None:
            rows = rows.filter(code__in=list(codes))
        pairs = list(rows.values_list("code", "geometry"))
        self.codes = np.array([code for code, _ in pairs] + [""], dtype=object)
        digest = hashlib.sha256()
        for code, wkb in pairs:
            digest.update(code.encode() + b"\0" + bytes(wkb) + b"\0")
        #: What the positions depend on (the codes in order and their boundaries), as a hash:
        #: positions kept between runs are valid under the same key.
        self.key = f"{cell_size} {digest.hexdigest()}"
        self._pairs, self._cell_size = pairs, cell_size

    @functools.cached_property
    def _index(self) -> AreaIndex | None:
        """The raster, built when a point is first placed: a refresh whose positions are all
        kept (under :attr:`key`) needs only the key, and the raster takes half a second."""
        pairs = self._pairs
        if not pairs:
            return None
        return AreaIndex(
            [from_wkb(wkb) for _, wkb in pairs], np.arange(len(pairs)), cell_size=self._cell_size
        )

    def __len__(self) -> int:
        return len(self.codes) - 1

    def codes_at(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.object_]:
        """The municipality code of each point, "" where none contains it."""
        return self.codes[self.positions_at(x, y)]

    def positions_at(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """The position in :attr:`codes` of each point's municipality (``len(self)``, the "", for none).

        For millions of points: integers, where :meth:`codes_at` makes a string per point.
        """
        xa = np.asarray(x, dtype=np.float64)
        if self._index is None:
            return np.full(xa.shape, len(self), dtype=np.int64)
        hit = self._index.assign(xa, np.asarray(y, dtype=np.float64))
        return np.where(hit >= 0, hit, len(self)).astype(np.int64, copy=False)

    def code_of(self, geometry) -> str | None:
        """The municipality containing the geometry's representative point, or None."""
        import shapely

        point = shapely.point_on_surface(geometry)
        code = self.codes_at([point.x], [point.y])[0]
        return code or None
