"""Argument checks shared by the public analytics functions.

In scikit-learn's habit, public functions validate at the boundary with a message that
names the argument; the inside then works on clean NumPy arrays without re-checking.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


def as_1d_float(value: ArrayLike, name: str, *, allow_nan: bool = False) -> NDArray[np.float64]:
    """Return ``value`` as a 1-D float64 array or raise ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not allow_nan and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_2d_float(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``value`` as a finite 2-D float64 array or raise ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def same_length(**arrays: Any) -> int:
    """Check that the named arrays have equal length; return that length."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"arrays must have the same length: {described}")
    return next(iter(lengths.values()), 0)


def positive(value: float, name: str) -> float:
    """Return ``value`` as float if it is finite and > 0, else raise ``ValueError`` naming it."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return out


def bounds4(bounds: Any, name: str = "bounds") -> tuple[float, float, float, float]:
    """Validate ``(xmin, ymin, xmax, ymax)`` with xmin < xmax and ymin < ymax."""
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (xmin, ymin, xmax, ymax), got {bounds!r}") from None
    if not all(np.isfinite([xmin, ymin, xmax, ymax])):
        raise ValueError(f"{name} must be finite, got {bounds!r}")
    if xmin >= xmax or ymin >= ymax:
        raise ValueError(f"{name} must have xmin < xmax and ymin < ymax, got {bounds!r}")
    return xmin, ymin, xmax, ymax


def rng_from(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a NumPy Generator from an int seed, a Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def nonnegative_series(values: Any, name: str) -> pd.Series:
    """``values`` as a float Series (a Series keeps its index): finite and >= 0, NaN for missing."""
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if series.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    try:
        out = pd.to_numeric(series, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if np.isinf(out).any() or (out < 0).any():
        raise ValueError(f"{name} must be finite and >= 0 (missing may be NaN)")
    if out.index.has_duplicates:
        raise ValueError(f"{name} has duplicate index values")
    return out
