"""Near-repeat analysis: the Knox space–time test with Monte Carlo inference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ._validation import as_1d_float, rng_from, same_length
from .grid import to_days

__all__ = ["KnoxResult", "knox"]

# Pairs are processed in slices that keep every temporary in L2 cache; measured ~1.6×
# faster than whole-array operations at 700,000 pairs.
_CHUNK = 1 << 15


@dataclass(frozen=True, slots=True, eq=False)
class KnoxResult:
    """Result of :func:`knox`.

    All matrices have shape ``(n_distance_bands, n_time_bands)``; row ``a`` is the
    distance band ``distance_bands[a]..distance_bands[a+1]`` and column ``b`` the time
    band ``time_bands[b]..time_bands[b+1]`` (see :func:`knox` for the closed ends).

    Attributes
    ----------
    observed : ndarray of int64
        Number of event pairs in each space–time band.
    expected : ndarray of float64
        Mean count over the permutations (times shuffled among events).
    ratio : ndarray of float64
        Knox ratio ``observed / expected``; NaN where both are 0, inf where only
        ``expected`` is 0.
    p_values : ndarray of float64
        One-sided Monte Carlo p-values ``(n_greater_equal + 1) / (permutations + 1)``
        for "more pairs than expected"; in ``(0, 1]``.
    n_greater_equal : ndarray of int64
        Number of permutations whose count was ``>= observed``.
    sim_std : ndarray of float64
        Standard deviation of the permutation counts.
    permutations : int
        Number of permutations.
    distance_bands : ndarray of float64
        Distance band edges, metres.
    time_bands : ndarray of float64
        Time band edges, days.
    n_events : int
        Number of events.
    n_close_pairs : int
        Number of event pairs within the distance bands: the quantity that drives the
        cost of the test.
    """

    observed: NDArray[np.int64]
    expected: NDArray[np.float64]
    ratio: NDArray[np.float64]
    p_values: NDArray[np.float64]
    n_greater_equal: NDArray[np.int64]
    sim_std: NDArray[np.float64]
    permutations: int
    distance_bands: NDArray[np.float64]
    time_bands: NDArray[np.float64]
    n_events: int
    n_close_pairs: int

    def to_frame(self) -> pd.DataFrame:
        """One row per (distance band, time band) with edges and all statistics."""
        d_lo, d_hi = self.distance_bands[:-1], self.distance_bands[1:]
        t_lo, t_hi = self.time_bands[:-1], self.time_bands[1:]
        grid_a, grid_b = np.meshgrid(np.arange(d_lo.size), np.arange(t_lo.size), indexing="ij")
        a, b = grid_a.ravel(), grid_b.ravel()
        return pd.DataFrame(
            {
                "distance_from": d_lo[a],
                "distance_to": d_hi[a],
                "time_from": t_lo[b],
                "time_to": t_hi[b],
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "ratio": self.ratio.ravel(),
                "p_value": self.p_values.ravel(),
            }
        )


def _edges(value: ArrayLike, name: str) -> NDArray[np.float64]:
    edges = as_1d_float(value, name)
    if edges.size < 2:
        raise ValueError(f"{name} must have at least two edges, got {edges.size}")
    if edges[0] < 0:
        raise ValueError(f"{name} must be >= 0, got first edge {edges[0]!r}")
    steps = np.diff(edges)
    # Only the first band may have zero width: [0, 0] means "same place" / "same day".
    if steps[0] < 0 or np.any(steps[1:] <= 0):
        raise ValueError(f"{name} must be increasing (only the first two edges may be equal), got {edges}")
    return edges


def _band_of(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Band index under the convention of :func:`knox`; -1 outside all bands."""
    band = np.searchsorted(edges, values, side="left").astype(np.int64) - 1
    band[values == edges[0]] = 0
    band[(values < edges[0]) | (values > edges[-1])] = -1
    return band


def knox(
    x: ArrayLike,
    y: ArrayLike,
    t: ArrayLike,
    *,
    distance_bands: ArrayLike,
    time_bands: ArrayLike,
    permutations: int = 999,
    seed: int | np.random.Generator | None = None,
    max_pairs: int = 50_000_000,
) -> KnoxResult:
    """Knox space–time interaction test, as in Ratcliffe's Near Repeat Calculator.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Event coordinates in metres.
    t : array_like, shape (n,)
        Event times: ``numpy.datetime64`` or float days.
    distance_bands : array_like, shape (a + 1,)
        Distance band edges in metres, e.g. ``[0, 100, 200, 400]``.
    time_bands : array_like, shape (b + 1,)
        Time band edges in days, e.g. ``[0, 7, 14, 28]``.
    permutations : int, default 999
        Number of Monte Carlo permutations (>= 1).
    seed : int, numpy.random.Generator or None
        Randomness for the permutations; an int makes the result reproducible.
    max_pairs : int, default 50,000,000
        Refuse (``ValueError``) when more event pairs lie within the largest distance
        edge, since memory and time grow with them.

    Returns
    -------
    KnoxResult
        Observed and expected pair counts, Knox ratios and p-values per band.

    Raises
    ------
    ValueError
        Naming the argument: mismatched lengths, NaN coordinates or times,
        invalid band edges, ``permutations < 1``, or too many close pairs.

    Notes
    -----
    **Band convention.** Bands are closed on the right, ``(e_k, e_{k+1}]``, and the first
    band is also closed on the left, ``[e_0, e_1]``. With integer days this matches the
    Near Repeat Calculator's "0 to 7 days, 8 to 14 days, ..." labels and its
    "1 to 100 m, 101 to 200 m" distance bands; Ratcliffe's "same location" band is
    obtained with edges ``[0, 0, 100, 200]`` (first band ``[0, 0]``). Pairs closer than
    ``e_0`` or farther than the last edge (in space or time) are not counted.
    Distances are Euclidean; time differences are absolute.

    **Inference.** Times are shuffled among events (locations fixed) ``permutations``
    times; the expected count is the permutation mean and the p-value
    ``(#{perm >= observed} + 1) / (permutations + 1)`` is one-sided, for
    over-representation. A ratio above 1 with a small p-value in the short-distance,
    short-time bands indicates near repeats. The p-values are per band and not
    corrected for the number of bands. Shuffling times keeps both the spatial and the
    temporal marginal patterns, so the test is for space–time *interaction* only;
    strong population shifts over the study period (e.g. a new housing estate) can
    still produce spurious interaction [3]_.

    **Cost.** Candidate pairs within the largest distance edge are found once with a
    KD-tree; each permutation recomputes only their time differences. Time and
    memory therefore scale with the number of close pairs (``n_close_pairs``), about
    ``permutations * n_close_pairs / 2e8`` seconds on one core; e.g. 50,000 events
    over 30 × 30 km with a 400 m largest band (~690,000 pairs) and 999 permutations
    take about 3.5 s. Dense data with wide bands can have orders of magnitude more pairs.

    References
    ----------
    .. [1] Knox, E. G. (1964). The detection of space-time interactions. Journal of the
       Royal Statistical Society C, 13(1), 25-30.
    .. [2] Ratcliffe, J. H. (2009). Near Repeat Calculator (version 1.3). Temple
       University, Philadelphia, PA, and the National Institute of Justice.
    .. [3] Townsley, M., Homel, R. & Chaseling, J. (2003). Infectious burglaries: a test
       of the near repeat hypothesis. British Journal of Criminology, 43(3), 615-633.
    """
    xa = as_1d_float(x, "x")
    ya = as_1d_float(y, "y")
    ta, unit = _times(t)
    n = same_length(x=xa, y=ya, t=ta)
    d_edges = _edges(distance_bands, "distance_bands")
    t_edges = _edges(time_bands, "time_bands")
    t_edges_unit = t_edges * unit
    n_perm = _count(permutations, "permutations")
    limit = _count(max_pairs, "max_pairs")
    rng = rng_from(seed)
    n_d, n_t = d_edges.size - 1, t_edges.size - 1

    if n >= 2:
        tree = cKDTree(np.column_stack([xa, ya]))
        pairs = tree.query_pairs(r=float(d_edges[-1]), output_type="ndarray")
        if len(pairs) > limit:
            raise ValueError(
                f"{len(pairs)} event pairs lie within {d_edges[-1]} m (max_pairs={limit}); "
                "use a smaller largest distance band or fewer events"
            )
        i_idx = pairs[:, 0].astype(np.intp)
        j_idx = pairs[:, 1].astype(np.intp)
        band = _band_of(np.hypot(xa[i_idx] - xa[j_idx], ya[i_idx] - ya[j_idx]), d_edges)
        keep = band >= 0
        order = np.argsort(band[keep], kind="stable")
        i_idx, j_idx = i_idx[keep][order], j_idx[keep][order]
        starts = np.searchsorted(band[keep][order], np.arange(n_d + 1))
    else:
        i_idx = j_idx = np.zeros(0, dtype=np.intp)
        starts = np.zeros(n_d + 1, dtype=np.int64)

    counter = _PairCounter(i_idx, j_idx, starts, t_edges_unit)
    observed = counter.count(ta)
    total = np.zeros((n_d, n_t))
    total_sq = np.zeros((n_d, n_t))
    n_ge = np.zeros((n_d, n_t), dtype=np.int64)
    for _ in range(n_perm):
        sim = counter.count(rng.permutation(ta))
        total += sim
        total_sq += sim * sim.astype(np.float64)
        n_ge += sim >= observed
    expected = total / n_perm
    sim_std = np.sqrt(np.maximum(total_sq / n_perm - expected * expected, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)
    ratio[(expected == 0) & (observed > 0)] = np.inf
    p_values = (n_ge + 1) / (n_perm + 1)
    out = [observed, expected, ratio, p_values, n_ge, sim_std, d_edges, t_edges]
    for arr in out:
        arr.setflags(write=False)
    return KnoxResult(
        observed=observed,
        expected=expected,
        ratio=ratio,
        p_values=p_values,
        n_greater_equal=n_ge,
        sim_std=sim_std,
        permutations=n_perm,
        distance_bands=d_edges,
        time_bands=t_edges,
        n_events=n,
        n_close_pairs=int(i_idx.size),
    )


def _times(t: ArrayLike) -> tuple[NDArray[np.float64], float]:
    """Times as float64 in a unit where band comparisons are exact, and that unit in days.

    Datetimes become whole seconds since the earliest event: integers below 2**53 are
    exact in float64, so a pair exactly 7 days apart lands in the band ending at 7 days
    rather than on either side of it by rounding (fractional days would not be exact).
    """
    arr = np.asarray(t)
    if arr.dtype.kind == "M":
        to_days(arr, "t")  # validates shape and NaT
        seconds = arr.astype("datetime64[s]").astype(np.int64)
        if seconds.size:
            seconds = seconds - seconds.min()
        return seconds.astype(np.float64), 86_400.0
    return to_days(arr, "t"), 1.0


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class _PairCounter:
    """Counts close pairs per (distance band, time band) for one assignment of times."""

    def __init__(
        self,
        i_idx: NDArray[np.intp],
        j_idx: NDArray[np.intp],
        starts: NDArray[np.int64],
        t_edges: NDArray[np.float64],
    ) -> None:
        self.i_idx = i_idx
        self.j_idx = j_idx
        self.starts = starts
        self.t_edges = t_edges
        self.n_t = t_edges.size - 1
        self._a = np.empty(_CHUNK)
        self._b = np.empty(_CHUNK)
        self._mask = np.empty(_CHUNK, dtype=bool)

    def count(self, times: NDArray[np.float64]) -> NDArray[np.int64]:
        n_d = self.starts.size - 1
        edges = self.t_edges
        # cumulative[:, 0] counts |dt| < e_0 (excluded), cumulative[:, k] counts |dt| <= e_k.
        cumulative = np.zeros((n_d, edges.size), dtype=np.int64)
        for band in range(n_d):
            for lo in range(int(self.starts[band]), int(self.starts[band + 1]), _CHUNK):
                hi = min(lo + _CHUNK, int(self.starts[band + 1]))
                m = hi - lo
                a, b, mask = self._a[:m], self._b[:m], self._mask[:m]
                np.take(times, self.i_idx[lo:hi], out=a)
                np.take(times, self.j_idx[lo:hi], out=b)
                np.subtract(a, b, out=a)
                np.abs(a, out=a)
                if edges[0] > 0:
                    np.less(a, edges[0], out=mask)
                    cumulative[band, 0] += np.count_nonzero(mask)
                for k in range(1, edges.size):
                    np.less_equal(a, edges[k], out=mask)
                    cumulative[band, k] += np.count_nonzero(mask)
        return np.diff(cumulative, axis=1)
