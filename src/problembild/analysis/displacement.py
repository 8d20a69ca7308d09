"""Displacement: did the neighbours change when the treated area did?

A measure in one area may push crime next door (displacement) or help the neighbours too
(diffusion of benefits). Comparison areas are therefore chosen away from the treated area,
and the neighbours' own change is reported beside the effect: their counts after the start
against before, next to the same ratio for the comparison areas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["NeighbourChange", "neighbour_change"]


@dataclass(frozen=True)
class NeighbourChange:
    """Relative change (after / before − 1, per period) of the neighbours and of the comparison areas."""

    neighbours: float | None
    comparison: float | None
    difference: float | None  # neighbours minus comparison, in the same fraction units
    n_neighbours: int
    n_comparison: int


def _change(block: np.ndarray, start: int) -> float | None:
    before = block[:, :start].sum() / max(start, 1)
    after = block[:, start:].sum() / max(block.shape[1] - start, 1)
    return None if before <= 0 else float(after / before - 1)


def neighbour_change(outcomes: ArrayLike, neighbours: Any, comparison: Any, start: int) -> NeighbourChange:
    """Pooled per-period change after ``start`` of the ``neighbours`` rows and the ``comparison`` rows.

    Parameters
    ----------
    outcomes : array-like, units × periods
        Counts per period.
    neighbours, comparison : sequences of row indices
        The treated area's neighbours; the areas it is compared with.
    start : int
        First period of the measure (column index, 1 ≤ start < periods).
    """
    data = np.asarray(outcomes, dtype=float)
    if data.ndim != 2:
        raise ValueError("outcomes must be two-dimensional (units × periods)")
    if not 1 <= int(start) < data.shape[1]:
        raise ValueError(f"start must be between 1 and {data.shape[1] - 1}, got {start}")
    if np.isnan(data).any() or (data < 0).any():
        raise ValueError("outcomes must be counts >= 0 without missing values")
    near = [int(i) for i in neighbours]
    comp = [int(i) for i in comparison]
    for name, rows in (("neighbours", near), ("comparison", comp)):
        if any(not 0 <= i < data.shape[0] for i in rows):
            raise ValueError(f"{name} has a row index outside 0..{data.shape[0] - 1}")
    n = _change(data[near], start) if near else None
    c = _change(data[comp], start) if comp else None
    return NeighbourChange(n, c, None if n is None or c is None else n - c, len(near), len(comp))
