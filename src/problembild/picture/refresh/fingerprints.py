"""What each area's expensive parts are computed from, as a hash: an unchanged area keeps them.

The expensive parts (trends, unusual weeks, hour of week, hot spots and forecast) read the
area's own incidents and the incidents with coordinates around it (as far as the hot-spot
grid and its kernels reach), the area's whole boundary, the end of the data and the
refresh settings. The fingerprint hashes exactly those: a new incident elsewhere, or an
edit of another area, leaves it unchanged; a vertex moved anywhere on the boundary
changes it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from problembild.areas.geometry import from_wkb
from problembild.areas.models import Area

from .load import IncidentArrays
from .space import SpaceSettings


def _digest(ids: np.ndarray) -> tuple[int, int, int]:
    """Count, highest id and a sum of the ids (which a deletion plus an insertion also changes)."""
    if len(ids) == 0:
        return (0, 0, 0)
    return (len(ids), int(ids.max()), int(ids.sum(dtype=np.int64)))


def fingerprints(
    settings_key: dict,
    data: IncidentArrays,
    as_of: pd.Timestamp,
    space: SpaceSettings,
    *,
    order: np.ndarray | None = None,
) -> dict[int, str]:
    """A hash per area of what its expensive parts are computed from (see the module docstring).

    ``order``: the incidents by x (``np.argsort(data.x, kind="stable")``: those without
    coordinates last), when the caller has it already.
    """
    inside = data.area >= 0
    own = pd.Series(data.id[inside]).groupby(data.area[inside])
    own_digest = {int(a): _digest(ids.to_numpy()) for a, ids in own}
    if order is None:
        order = np.argsort(data.x, kind="stable")
    order = order[: int(np.count_nonzero(~np.isnan(data.x)))]  # NaN sorts last: the placed ones
    xs = data.x[order]
    margin = space.buffer + 6 * space.bandwidth
    key = json.dumps({**settings_key, "end_of_data": as_of.isoformat()}, sort_keys=True, default=str)
    out = {}
    for pk, geometry in Area.objects.order_by("pk").values_list("pk", "geometry"):
        around = (0, 0, 0)
        if geometry:
            x0, y0, x1, y1 = from_wkb(geometry).bounds
            near = order[np.searchsorted(xs, x0 - margin) : np.searchsorted(xs, x1 + margin, side="right")]
            yy = data.y[near]
            around = _digest(data.id[near[(yy >= y0 - margin) & (yy <= y1 + margin)]])
        digest = hashlib.sha256()
        digest.update(key.encode())
        digest.update(json.dumps([own_digest.get(pk, (0, 0, 0)), around]).encode())
        digest.update(bytes(geometry) if geometry else b"")
        out[pk] = digest.hexdigest()
    return out
