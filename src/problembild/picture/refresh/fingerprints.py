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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from problembild.areas.geometry import from_wkb
from problembild.areas.models import Area

from .load import IncidentArrays, PartSource
from .space import SpaceSettings, nearby


def _digest(ids: np.ndarray) -> tuple[int, int, int]:
    """Count, highest id and a sum of the ids (which a deletion plus an insertion also changes)."""
    if len(ids) == 0:
        return (0, 0, 0)
    return (len(ids), int(ids.max()), int(ids.sum(dtype=np.int64)))


def _joined(digests: Sequence[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The :func:`_digest` of the union of disjoint sets of ids, from theirs."""
    n = sum(d[0] for d in digests)
    return (n, max(d[1] for d in digests), sum(d[2] for d in digests)) if n else (0, 0, 0)


@dataclass
class Surroundings:
    """Each area's rows around it, and the digests of the ids inside and around it."""

    #: Area id -> the rows (ascending) within reach of its grid (:func:`~.space.nearby`).
    near: dict[int, np.ndarray]
    #: Area id -> :func:`_digest` of the ids of the incidents inside it.
    own: dict[int, tuple[int, int, int]]
    #: Area id -> :func:`_digest` of the ids of the rows in :attr:`near`.
    around: dict[int, tuple[int, int, int]]


def surroundings(
    boundaries: Sequence[tuple[int, object]],
    data: IncidentArrays,
    space: SpaceSettings,
    *,
    parts: PartSource | None = None,
) -> Surroundings:
    """:class:`Surroundings` of the areas with a boundary (and the own digest of every area).

    Per segment of kept rows (``parts``), so that a daily run searches its new rows only:
    rows near a box and the digests of disjoint sets of ids add up over the segments.
    """
    keyed = [(pk, shape) for pk, shape in boundaries if shape is not None]
    margin = space.buffer + 6 * space.bandwidth
    key = json.dumps([margin, [(pk, list(shape.bounds)) for pk, shape in keyed]])

    def compute(rows: IncidentArrays) -> dict[str, np.ndarray]:
        near = nearby(keyed, rows.x, rows.y, space)
        inside = rows.area >= 0
        by_area = np.argsort(rows.area[inside], kind="stable")
        areas, ids = rows.area[inside][by_area], rows.id[inside][by_area]
        own_keys, starts = np.unique(areas, return_index=True)
        own = (
            np.column_stack(
                [
                    np.diff(np.append(starts, len(areas))),
                    np.maximum.reduceat(ids, starts),
                    np.add.reduceat(ids.astype(np.int64), starts),
                ]
            )
            if len(areas)
            else np.zeros((0, 3), dtype=np.int64)
        )
        out = {f"near-{pk}": rows_.astype(np.int32) for pk, rows_ in near.items()}
        out["own_keys"] = own_keys.astype(np.int64)
        out["own"] = own.astype(np.int64)
        out["around"] = np.array([_digest(rows.id[near[pk]]) for pk, _ in keyed], dtype=np.int64).reshape(
            -1, 3
        )
        return out

    found = parts("near", key, compute) if parts else [compute(data)]
    offsets = np.cumsum([0] + [int(p.get("rows", len(data))) for p in found])[:-1]
    near = {
        pk: np.concatenate(
            [p[f"near-{pk}"].astype(np.int64) + off for p, off in zip(found, offsets, strict=True)]
        )
        for pk, _ in keyed
    }
    own_parts: dict[int, list[tuple[int, int, int]]] = {}
    for p in found:
        for pk, d in zip(p["own_keys"].tolist(), p["own"].tolist(), strict=True):
            own_parts.setdefault(int(pk), []).append(tuple(d))
    own = {pk: _joined(ds) for pk, ds in own_parts.items()}
    around = {pk: _joined([tuple(p["around"][i].tolist()) for p in found]) for i, (pk, _) in enumerate(keyed)}
    return Surroundings(near=near, own=own, around=around)


def fingerprints(
    settings_key: dict,
    data: IncidentArrays,
    as_of: pd.Timestamp,
    space: SpaceSettings,
    *,
    around: Surroundings | None = None,
) -> dict[int, str]:
    """A hash per area of what its expensive parts are computed from (see the module docstring).

    ``around``: the areas' :func:`surroundings`, when the caller has them (the space tasks
    read the same rows); else they are found here.
    """
    rows = list(Area.objects.order_by("pk").values_list("pk", "geometry"))
    if around is None:
        shapes = [(pk, from_wkb(geometry) if geometry else None) for pk, geometry in rows]
        around = surroundings(shapes, data, space)
    key = json.dumps({**settings_key, "end_of_data": as_of.isoformat()}, sort_keys=True, default=str)
    out = {}
    for pk, geometry in rows:
        near = around.around.get(pk, (0, 0, 0)) if geometry else (0, 0, 0)
        digest = hashlib.sha256()
        digest.update(key.encode())
        digest.update(json.dumps([list(around.own.get(pk, (0, 0, 0))), list(near)]).encode())
        digest.update(bytes(geometry) if geometry else b"")
        out[pk] = digest.hexdigest()
    return out
