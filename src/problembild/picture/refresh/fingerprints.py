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
from collections.abc import Mapping

import numpy as np
import pandas as pd

from problembild.areas.geometry import from_wkb
from problembild.areas.models import Area

from .load import IncidentArrays
from .space import SpaceSettings, nearby


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
    near: Mapping[int, np.ndarray] | None = None,
) -> dict[int, str]:
    """A hash per area of what its expensive parts are computed from (see the module docstring).

    ``near``: area id -> the rows around it (:func:`~.space.nearby`), when the caller has
    them (the space tasks read the same rows); else they are found here, with ``order``
    (``np.argsort(data.x, kind="stable")``) when the caller has it.
    """
    inside = data.area >= 0
    own = pd.Series(data.id[inside]).groupby(data.area[inside])
    own_digest = {int(a): _digest(ids.to_numpy()) for a, ids in own}
    rows = list(Area.objects.order_by("pk").values_list("pk", "geometry"))
    shapes = [(pk, from_wkb(geometry) if geometry else None) for pk, geometry in rows]
    if near is None:
        near = nearby(shapes, data.x, data.y, space, order=order)
    key = json.dumps({**settings_key, "end_of_data": as_of.isoformat()}, sort_keys=True, default=str)
    out = {}
    for pk, geometry in rows:
        around = _digest(data.id[near[pk]]) if geometry else (0, 0, 0)
        digest = hashlib.sha256()
        digest.update(key.encode())
        digest.update(json.dumps([own_digest.get(pk, (0, 0, 0)), around]).encode())
        digest.update(bytes(geometry) if geometry else b"")
        out[pk] = digest.hexdigest()
    return out
