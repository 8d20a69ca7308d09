"""Allocating area officers between areas, and an area's officers over the hours of the week.

Two optimisation models of one family, solved with HiGHS (``highspy``): need-weighted
*coverage with diminishing returns*,

.. math:: \\mathrm{coverage}(x, \\mathrm{need}) = \\sum_a \\mathrm{need}_a \\log(1 + x_a),

so the k-th officer in area a adds ``need_a * (log(1 + k) - log(k))`` and every further
officer adds less than the one before.

Why the logarithm
-----------------
Maximising ``sum_a need_a * log(x_a)`` with ``sum_a x_a = N`` gives ``need_a / x_a = lambda``
(Lagrange), i.e. ``x_a = N * need_a / sum(need)``: the continuous optimum of the
unconstrained problem *is* the proportional allocation. ``log(1 + x)`` is the same idea made
finite at zero (an area without officers has coverage 0, not minus infinity), so an area
with zero need gains nothing from officers and one with little need may get none. The
integer optimum under caps, floors and a turnover limit is therefore measured against
proportional allocation: :func:`proportional_allocation` (Hamilton rounding) is the
baseline, and :func:`coverage` scores any allocation (proposed, proportional, today's) on
the same scale, as RAND's Patrol Car Allocation Model (PCAM) does. Need is e.g.
harm-weighted incidents in twelve months (:mod:`problembild.analysis.need`), >= 0.

Because the increments ``log(1 + k) - log(k)`` decrease in k, the concave objective equals
the piecewise-linear function with breakpoints at the integers: incremental variables
``y_{a,k}`` in [0, 1] fill in order and ``x_a = sum_k y_{a,k}`` is an integer, so the models
are exact mixed-integer programs.

* :func:`allocate_officers` — officers per area: coverage, subject to the number available,
  caps, the 1-per-5,000-residents floor (:mod:`problembild.analysis.officers`) where feasible
  and a limit on turnover; optionally robust over need scenarios.
* :func:`allocate_hours` — one area's presence over the 168 hours of the week: shifts of
  given lengths that follow the demand profile within the area's weekly hours.

Implementation notes
--------------------
* Exactness: the increments per area stop at a bound that provably keeps an optimum (see
  ``_phase_coverage``), so the models stay small (about ``available + areas`` increments).
* Lexicographic goals are separate HiGHS solves: first the least relaxation of the turnover
  limit and the least floor shortfall (one small integer program; both are whole numbers, so a
  weight of ``sum(floors) + 1`` on the relaxation orders them exactly), then coverage with both
  fixed at their optimum.
* Ties: a final pass of single officer moves makes the result canonical among equally good
  allocations (less turnover first, then officers in earlier areas; worthless officers beyond
  today's count are left unallocated) and repairs losses a MIP gap may leave.
* Infeasible ``max_change`` is relaxed by the fewest officers and reported, never raised;
  infeasible ``min_staff`` in :func:`allocate_hours` raises ``ValueError`` with the hours it
  needs (a shift plan that breaks a minimum is no plan).
* HiGHS prints its banner to stdout once per process, when its first model is created;
  ``output_flag`` silences everything after it.

This module never imports Django.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import highspy
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ._validation import positive
from .officers import RESIDENTS_PER_OFFICER

__all__ = [
    "HOURS_PER_WEEK",
    "REASONS",
    "Explanation",
    "HoursAllocation",
    "OfficerAllocation",
    "allocate_hours",
    "allocate_officers",
    "coverage",
    "marginal_values",
    "proportional_allocation",
]

#: Hour-of-week blocks in :func:`allocate_hours` (Monday 00-01 is block 0).
HOURS_PER_WEEK: Final = 168

#: The fixed vocabulary of :attr:`Explanation.reasons`, most decisive first:
#:
#: ``"no_capacity"``
#:     no officer can be placed: none are available, or the area's cap is 0.
#: ``"floor_short"``
#:     the floor is not met (see ``cap`` / ``turnover`` beside it for what stopped it; alone:
#:     there are not enough officers for every floor).
#: ``"floor"``
#:     the floor binds: the area has exactly its floor and on need alone it would have fewer
#:     (its last officer is worth less than the threshold, or its need is 0).
#: ``"cap"``
#:     the cap binds: the area is at its cap and its next officer is worth more than the
#:     threshold.
#: ``"turnover"``
#:     the turnover limit binds: it keeps officers the area would otherwise give up, or stops
#:     the area from growing (a per-area limit) although its next officer is worth more than
#:     the threshold.
#: ``"need"``
#:     no constraint binds: need alone decides (the next officer is worth no more than the
#:     threshold, the last one no less).
#: ``"zero_need"``
#:     the area's need is 0 (in every scenario).
#: ``"no_floor_unknown_population"``
#:     the floor would apply but the number of residents is unknown, so there is none.
REASONS: Final = (
    "no_capacity",
    "floor_short",
    "floor",
    "cap",
    "turnover",
    "need",
    "zero_need",
    "no_floor_unknown_population",
)

#: Relative tolerance under which two officer values count as equal (ties).
_TIE: Final = 1e-9
_INF: Final = math.inf


# --------------------------------------------------------------------------- validation


def _whole(value: Any, name: str) -> int:
    """A whole number >= 0 (floats with an integral value are accepted)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}") from None
    if not math.isfinite(out) or out < 0 or out != math.floor(out):
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(out)


def _need(need: Any, name: str = "need") -> tuple[NDArray[np.float64], pd.Index | None]:
    """Need as a float array (finite, >= 0) and its index when it is a Series."""
    index = None
    if isinstance(need, pd.Series):
        if need.index.has_duplicates:
            raise ValueError(f"{name} has duplicate index values")
        index = need.index
    values = _vector(need, name, None, None)
    return values, index


def _vector(
    value: Any,
    name: str,
    n: int | None,
    index: pd.Index | None,
    *,
    allow_nan: bool = False,
    allow_inf: bool = False,
    integer: bool = False,
    missing_ok: bool = False,
) -> NDArray[np.float64]:
    """A 1-D float array of length ``n`` (aligned on ``index`` when both are keyed) or ValueError."""
    if isinstance(value, pd.Series):
        if index is not None:
            if value.index.has_duplicates:
                raise ValueError(f"{name} has duplicate index values")
            missing = ~index.isin(value.index)
            if missing.any() and not missing_ok:
                raise ValueError(f"{name} has no value for area(s) {list(index[missing][:5])}")
            value = value.reindex(index)
        try:
            arr = pd.to_numeric(value, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from None
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} must have one value per area: {len(arr)} != {n}")
    if np.isnan(arr).any() and not allow_nan:
        raise ValueError(f"{name} contains missing (NaN) values")
    if np.isinf(arr).any() and not allow_inf:
        raise ValueError(f"{name} contains infinite values")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    if integer:
        finite = arr[np.isfinite(arr)]
        if (finite != np.floor(finite)).any():
            raise ValueError(f"{name} must hold whole numbers")
    return arr


def _bool_vector(value: Any, name: str, n: int, index: pd.Index | None) -> NDArray[np.bool_]:
    if isinstance(value, pd.Series) and index is not None:
        missing = ~index.isin(value.index)
        if missing.any():
            raise ValueError(f"{name} has no value for area(s) {list(index[missing][:5])}")
        value = value.reindex(index)
    arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value, dtype=object)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be a one-dimensional boolean array with one value per area")
    out = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr):
        if isinstance(v, bool | np.bool_) or (isinstance(v, int | np.integer) and v in (0, 1)):
            out[i] = bool(v)
        else:
            raise ValueError(f"{name} must hold True/False, got {v!r}")
    return out


def _wrap(values: NDArray[Any], index: pd.Index | None, dtype: Any = None) -> Any:
    """A Series on ``index`` when the inputs were keyed, else the array itself."""
    if index is None:
        return values if dtype is None else values.astype(dtype)
    return pd.Series(values, index=index, dtype=dtype)


def _keys(index: pd.Index | None, n: int) -> list[Hashable]:
    return list(index) if index is not None else list(range(n))


# --------------------------------------------------------------------------- objective


def _step(k: NDArray[np.float64] | NDArray[np.int64]) -> NDArray[np.float64]:
    """``log(1 + k) - log(k)``: the value per unit need of the k-th officer (k >= 1)."""
    return np.log1p(1.0 / np.asarray(k, dtype=np.float64))


def _next_value(x: NDArray[Any], nu: NDArray[np.float64]) -> NDArray[np.float64]:
    return nu * _step(np.asarray(x, dtype=np.float64) + 1.0)


def _last_value(x: NDArray[Any], nu: NDArray[np.float64]) -> NDArray[np.float64]:
    xf = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(xf >= 1, nu * _step(np.maximum(xf, 1.0)), np.nan)


def coverage(officers: ArrayLike | pd.Series, need: ArrayLike | pd.Series) -> float:
    """Need-weighted coverage ``sum_a need_a * log(1 + officers_a)`` of any allocation.

    The objective of :func:`allocate_officers` (and, with demand per hour for need, of
    :func:`allocate_hours`), so the current allocation or :func:`proportional_allocation`
    can be scored on the same scale.

    Parameters
    ----------
    officers : array-like or pandas.Series
        Officers per area (>= 0; fractional values are allowed). A Series is aligned on
        ``need``'s index when ``need`` is one too.
    need : array-like or pandas.Series
        Need per area (>= 0, e.g. harm-weighted incidents in twelve months).

    Returns
    -------
    float
        Coverage in need units (need x log officers); 0 for empty input.
    """
    nu, index = _need(need)
    x = _vector(officers, "officers", len(nu), index)
    return float(np.sum(nu * np.log1p(x)))


def marginal_values(officers: ArrayLike | pd.Series, need: ArrayLike | pd.Series) -> Any:
    """Coverage the next officer would add in each area: ``need_a * log((2 + x_a) / (1 + x_a))``.

    Parameters
    ----------
    officers, need : array-like or pandas.Series
        As in :func:`coverage`.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float values in need units; a Series on ``need``'s index when ``need`` is one.
    """
    nu, index = _need(need)
    x = _vector(officers, "officers", len(nu), index)
    return _wrap(_next_value(x, nu), index)


def _cvar(values: NDArray[np.float64], alpha: float) -> tuple[float, NDArray[np.float64]]:
    """Mean of the worst ``alpha`` share of ``values`` (fractional boundary) and the weights used."""
    s = len(values)
    k = alpha * s
    order = np.argsort(values, kind="stable")
    weights = np.zeros(s)
    full = min(math.floor(k + 1e-12), s)
    weights[order[:full]] = 1.0
    if full < s and k - full > 1e-12:
        weights[order[full]] = k - full
    weights /= k
    return float(np.dot(weights, values)), weights


# --------------------------------------------------------------------------- proportional


def proportional_allocation(
    need: ArrayLike | pd.Series, available: int, *, cap: ArrayLike | pd.Series | float | None = None
) -> Any:
    """Officers in proportion to need, rounded by largest remainders (Hamilton).

    Quotas ``available * need_a / sum(need)`` are computed first; an area whose quota exceeds
    its cap gets the cap and the rest is shared again over the uncapped areas in proportion
    to their need (repeated until no quota exceeds a cap). Every area then gets the whole part
    of its quota and the officers left over go one each to the largest remainders; ties go to
    the earlier area. Areas with zero need get none; if every area is capped, the officers
    beyond the caps stay unallocated.

    Parameters
    ----------
    need : array-like or pandas.Series
        Need per area (>= 0).
    available : int
        Officers to share (>= 0).
    cap : scalar, array-like or pandas.Series, optional
        Most officers per area (whole numbers >= 0; NaN or inf: no cap).

    Returns
    -------
    numpy.ndarray or pandas.Series
        int64 officers per area (a Series on ``need``'s index when ``need`` is one); the sum
        is ``min(available, sum of caps over areas with need)``, or 0 if all need is 0.
    """
    nu, index = _need(need)
    a = _whole(available, "available")
    caps = _caps(cap, len(nu), index)
    return _wrap(_hamilton(nu, a, caps), index)


def _caps(cap: Any, n: int, index: pd.Index | None) -> NDArray[np.float64]:
    if cap is None:
        return np.full(n, _INF)
    if np.ndim(cap) == 0 and not isinstance(cap, pd.Series):
        try:
            value = float(cap)
        except (TypeError, ValueError):
            raise ValueError(f"cap must be a whole number >= 0 or an array, got {cap!r}") from None
        if math.isnan(value) or math.isinf(value):
            return np.full(n, _INF)
        return np.full(n, float(_whole(value, "cap")))
    arr = _vector(cap, "cap", n, index, allow_nan=True, allow_inf=True, integer=True, missing_ok=True)
    return np.where(np.isfinite(arr), arr, _INF)


def _hamilton(nu: NDArray[np.float64], available: int, caps: NDArray[np.float64]) -> NDArray[np.int64]:
    n = len(nu)
    out = np.zeros(n, dtype=np.int64)
    active = nu > 0
    if available == 0 or not active.any():
        return out
    quota = np.zeros(n)
    fixed = np.zeros(n, dtype=bool)
    pool = float(min(available, np.sum(np.where(active, caps, 0.0))))
    while True:
        free = active & ~fixed
        if not free.any():
            break
        remaining = pool - float(np.sum(quota[fixed]))
        quota[free] = remaining * nu[free] / float(np.sum(nu[free]))
        over = free & (quota > caps)
        if not over.any():
            break
        quota[over] = caps[over]
        fixed |= over
    target = round(pool)
    base = np.floor(quota + 1e-9)
    base = np.minimum(base, np.where(np.isfinite(caps), caps, base))
    out[:] = base.astype(np.int64)
    left = target - int(out.sum())
    if left > 0:
        remainder = np.where(active & (out < caps), quota - base, -_INF)
        order = np.argsort(-remainder, kind="stable")
        for i in order[:left]:
            if remainder[i] == -_INF:
                break
            out[i] += 1
    return out


# --------------------------------------------------------------------------- HiGHS


@dataclass
class _Solved:
    status: str
    values: NDArray[np.float64] | None
    objective: float
    bound: float
    gap: float
    optimal: bool
    seconds: float


class _Builder:
    """Columns and sparse rows collected in blocks, then passed to HiGHS in one call."""

    def __init__(self) -> None:
        self.cost: list[NDArray[np.float64]] = []
        self.lower: list[NDArray[np.float64]] = []
        self.upper: list[NDArray[np.float64]] = []
        self.integer: list[NDArray[np.bool_]] = []
        self.ncol = 0
        self.rlo: list[float] = []
        self.rhi: list[float] = []
        self.ri: list[NDArray[np.int64]] = []
        self.ci: list[NDArray[np.int64]] = []
        self.val: list[NDArray[np.float64]] = []
        self.nrow = 0

    def cols(
        self, cost: Any, lower: Any, upper: Any, count: int, *, integer: bool = False
    ) -> NDArray[np.int64]:
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,)).copy())
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)).copy())
        self.integer.append(np.full(count, integer))
        idx = np.arange(self.ncol, self.ncol + count, dtype=np.int64)
        self.ncol += count
        return idx

    def row(self, cols: Any, vals: Any, lo: float, hi: float) -> int:
        c = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=np.float64), c.shape)
        self.ri.append(np.full(len(c), self.nrow, dtype=np.int64))
        self.ci.append(c)
        self.val.append(v.copy())
        self.rlo.append(lo)
        self.rhi.append(hi)
        self.nrow += 1
        return self.nrow - 1

    def rows(self, rows: Any, cols: Any, vals: Any, lo: Any, hi: Any, count: int) -> None:
        """``count`` rows at once: entries (local row, column, value) and bounds per row."""
        r = np.asarray(rows, dtype=np.int64).ravel()
        self.ri.append(r + self.nrow)
        self.ci.append(np.asarray(cols, dtype=np.int64).ravel())
        self.val.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), r.shape).copy())
        self.rlo.extend(np.broadcast_to(np.asarray(lo, dtype=np.float64), (count,)).tolist())
        self.rhi.extend(np.broadcast_to(np.asarray(hi, dtype=np.float64), (count,)).tolist())
        self.nrow += count

    def solve(
        self,
        *,
        maximize: bool,
        time_limit: float,
        mip_rel_gap: float,
        seed: int = 0,
        relax: bool = False,
        start: tuple[NDArray[np.int64], NDArray[np.float64]] | None = None,
        bounds: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> _Solved:
        cat = np.concatenate
        ri = cat(self.ri) if self.ri else np.zeros(0, dtype=np.int64)
        ci = cat(self.ci) if self.ci else np.zeros(0, dtype=np.int64)
        va = cat(self.val) if self.val else np.zeros(0)
        matrix = sparse.csc_matrix((va, (ri, ci)), shape=(self.nrow, self.ncol))
        matrix.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_ = self.ncol
        lp.num_row_ = self.nrow
        lp.col_cost_ = cat(self.cost)
        col_lower, col_upper = cat(self.lower), cat(self.upper)
        if bounds is not None:
            col_lower[bounds[0]], col_upper[bounds[0]] = bounds[1], bounds[2]
        lp.col_lower_ = col_lower
        lp.col_upper_ = col_upper
        lp.row_lower_ = np.asarray(self.rlo, dtype=np.float64)
        lp.row_upper_ = np.asarray(self.rhi, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        integer = cat(self.integer)
        mip = bool(integer.any()) and not relax
        if mip:
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer
            ]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.setOptionValue("random_seed", int(seed))
        h.passModel(lp)
        if start is not None and mip:
            h.setSolution(len(start[0]), start[0].astype(np.int32), start[1].astype(np.float64))
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
        model_status = h.getModelStatus()
        status = h.modelStatusToString(model_status)
        info = h.getInfo()
        has = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has else None
        objective = float(info.objective_function_value) if has else math.nan
        optimal = model_status == highspy.HighsModelStatus.kOptimal
        if mip:
            bound = float(info.mip_dual_bound)
            gap = float(info.mip_gap) if has else _INF
            if optimal and not math.isfinite(gap):
                gap = 0.0
        else:
            bound = objective
            gap = 0.0 if optimal else _INF
        return _Solved(status, values, objective, bound, gap, optimal, seconds)


def _level(mu: NDArray[np.float64], upper: NDArray[np.float64], budget: float) -> float:
    """Value of the ``budget``-th best officer when officers go greedily by ``mu * step(k)``.

    The largest lambda > 0 with ``sum_a min(upper_a, n_a(lambda)) >= budget``, where
    ``n_a(lambda)`` counts the k with ``mu_a * step(k) >= lambda``; ``inf`` for a budget of 0
    and 0 when the areas with need cannot take ``budget`` officers.
    """
    if budget <= 0:
        return _INF
    pos = mu > 0
    if not pos.any() or float(np.sum(upper[pos])) < budget:
        return 0.0
    lo = float(np.min(mu[pos])) * math.log1p(1.0 / (budget + 1.0)) * 0.5
    hi = float(np.max(mu)) * math.log(2.0) * (1.0 + 1e-9)
    if not lo > 1e-300:  # needs near underflow: no useful level, the trivial bound holds
        return 0.0
    llo, lhi = math.log(lo), math.log(hi)
    for _ in range(80):
        mid = 0.5 * (llo + lhi)
        if float(np.sum(_count_at(math.exp(mid), mu, upper))) >= budget:
            llo = mid
        else:
            lhi = mid
    return math.exp(llo)


def _count_at(lam: float, nu: NDArray[np.float64], upper: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per area, how many officers are worth at least ``lam`` (at most ``upper``)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        n = np.floor(1.0 / np.expm1(lam / nu))
    return np.where(nu > 0, np.minimum(n, upper), 0.0)


# --------------------------------------------------------------------------- explanations


def _fmt_int(value: float, language: str) -> str:
    text = f"{round(value):,}"
    return text.replace(",", " ") if language == "sv" else text


def _fmt_num(value: float, language: str) -> str:
    if not math.isfinite(value):
        return "–"
    a = abs(value)
    decimals = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    text = f"{value:,.{decimals}f}"
    if language == "sv":
        text = text.replace(",", " ").replace(".", ",")
    return text


def _fmt_pct(value: float, language: str) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.1f}".replace(".", ",") + " %" if language == "sv" else f"{value:.1f}%"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an area got its officers: reason codes, the numbers behind them and a sentence.

    Attributes
    ----------
    area : hashable
        The area's key (``need``'s index label, or its position for arrays).
    officers : int
        Officers allocated.
    current : int or None
        Officers today, when ``current`` was given.
    reasons : tuple of str
        Codes from :data:`REASONS`, most decisive first.
    need : float
        The area's need (as given).
    need_share : float
        Its share of the total need, in percent (NaN if the total is 0).
    residents : float or None
        Residents (None when unknown).
    floor : int or None
        Officers the floor requires (None where no floor applies).
    shortfall : int
        Officers short of the floor.
    cap : int or None
        The area's cap (None: no cap).
    last_value : float
        Coverage its last officer adds, in need units (NaN without officers).
    marginal : float
        Coverage its next officer would add.
    threshold : float
        The value of the last officer placed freely anywhere (NaN if none was).
    residents_per_officer : float
        The floor's ratio (5,000).
    turnover_side : str
        ``"kept"`` (the limit keeps officers here), ``"blocked"`` (it stops the area from
        growing) or ``""``.
    available_zero : bool
        No officers were available at all.
    """

    area: Hashable
    officers: int
    current: int | None
    reasons: tuple[str, ...]
    need: float
    need_share: float
    residents: float | None
    floor: int | None
    shortfall: int
    cap: int | None
    last_value: float
    marginal: float
    threshold: float
    residents_per_officer: float = float(RESIDENTS_PER_OFFICER)
    turnover_side: str = ""
    available_zero: bool = False

    def text(self, language: Literal["sv", "en"] = "sv") -> str:
        """One or two short sentences on the allocation, in Swedish (``"sv"``) or English (``"en"``).

        Numbers are formatted for the language (sv: ``12 400``, ``0,52``, ``12,4 %``).
        """
        if language not in ("sv", "en"):
            raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
        sv = language == "sv"
        x = self.officers
        head = (
            (f"{x} områdespolis" + ("er" if x != 1 else ""))
            if sv
            else (f"{x} area officer" + ("s" if x != 1 else ""))
        )
        notes = []
        if self.current is not None:
            notes.append(f"i dag {self.current}" if sv else f"now {self.current}")
        if "no_floor_unknown_population" in self.reasons:
            notes.append("invånarantalet okänt, inget golv" if sv else "residents unknown, no floor")
        head += f" ({'; '.join(notes)})." if notes else "."
        return f"{head} {self._reason_sentence(language)}"

    def _reason_sentence(self, language: str) -> str:
        sv = language == "sv"
        r = self.reasons
        rpo = _fmt_int(self.residents_per_officer, language)
        m = _fmt_num(self.marginal, language)
        t = _fmt_num(self.threshold, language)
        has_t = math.isfinite(self.threshold)
        floor_clause = ""
        if self.floor is not None:
            res = _fmt_int(self.residents or 0.0, language)
            floor_clause = (
                f"Golvet 1 per {rpo} invånare kräver {self.floor} ({res} invånare)"
                if sv
                else f"The floor of 1 per {rpo} residents requires {self.floor} ({res} residents)"
            )
        if "no_capacity" in r:
            if self.cap == 0:
                return (
                    "Taket är 0, så ingen polis kan placeras här."
                    if sv
                    else "The cap is 0, so no officer can go here."
                )
            return "Det finns inga poliser att fördela." if sv else "There are no officers to allocate."
        if "floor_short" in r:
            if "cap" in r:
                why = f"eftersom taket är {self.cap}" if sv else f"because the cap is {self.cap}"
            elif "turnover" in r:
                why = (
                    "eftersom gränsen för omflyttning hindrar fler"
                    if sv
                    else "because the turnover limit allows no more"
                )
            else:
                why = (
                    "eftersom poliserna inte räcker till alla golv"
                    if sv
                    else "because there are not enough officers for every floor"
                )
            return (
                f"{floor_clause}; {self.shortfall} saknas {why}."
                if sv
                else f"{floor_clause}; {self.shortfall} short {why}."
            )
        if "floor" in r:
            return f"{floor_clause}; golvet avgör." if sv else f"{floor_clause}; the floor decides."
        if "cap" in r:
            if sv:
                return f"Taket på {self.cap} avgör" + (
                    f": nästa polis skulle tillföra {m} mot tröskeln {t}." if has_t else "."
                )
            return f"The cap of {self.cap} decides" + (
                f": the next officer would add {m} against a threshold of {t}." if has_t else "."
            )
        if "turnover" in r:
            if self.turnover_side == "blocked":
                return (
                    "Gränsen för omflyttning avgör: utan den skulle området få fler."
                    if sv
                    else "The turnover limit decides: without it the area would get more."
                )
            return (
                "Gränsen för omflyttning avgör: utan den skulle poliser flyttas härifrån."
                if sv
                else "The turnover limit decides: without it officers would move away from here."
            )
        if "zero_need" in r:
            if self.officers == 0:
                return "Inget registrerat behov." if sv else "No recorded need."
            return (
                "Inget registrerat behov; poliserna står kvar eftersom de inte gör mer nytta någon annanstans."
                if sv
                else "No recorded need; the officers stay as they would add nothing elsewhere."
            )
        share = _fmt_pct(self.need_share, language)
        if sv:
            return f"Behovet avgör ({share} av behovet)" + (
                f": nästa polis skulle tillföra {m}, tröskeln är {t}." if has_t else "."
            )
        return f"Need decides ({share} of the need)" + (
            f": the next officer would add {m}, the threshold is {t}." if has_t else "."
        )


# --------------------------------------------------------------------------- officers: result


@dataclass(frozen=True, eq=False)
class OfficerAllocation:
    """Result of :func:`allocate_officers`.

    Per-area values are pandas Series on ``need``'s index when ``need`` was a Series, else
    NumPy arrays in the order given; :attr:`explanations` is a dict keyed the same way (index
    labels or positions).

    Attributes
    ----------
    officers : Series or ndarray of int64
        Officers per area; the sum is at most ``available``.
    objective : float
        :func:`coverage` of the allocation on ``need``.
    robust_objective : float or None
        With ``scenarios``: the mean scenario coverage (``robust="expected"``) or the mean of
        the worst ``decile`` share of scenario coverages (``"worst_decile"``, CVaR).
    scenario_coverage : ndarray or None
        Coverage of the allocation in each scenario.
    floors : Series (Int64, NA) or ndarray (float, NaN)
        Officers the floor requires; missing where no floor applies.
    floors_met : bool
        True iff no area where a floor applies is short of it.
    shortfall : Series or ndarray of int64
        Officers short of the floor per area (0 where met or none applies).
    shortfall_total : int
        Their sum, the least possible (the floor is met where feasible).
    feasible : bool
        False iff ``max_change`` could not be kept and was relaxed (see :attr:`messages`).
    turnover : int or None
        Officers taken away from areas, ``sum(max(0, current - officers))`` (None without
        ``current``).
    turnover_excess : int
        Officers beyond ``max_change`` that the relaxation needed (0 when feasible).
    unallocated : int
        ``available - sum(officers)``: officers no area can use (caps, zero need).
    optimal : bool
        HiGHS proved every solve optimal within ``mip_rel_gap``.
    gap : float
        Relative MIP gap of the coverage solve (0.0 when proved optimal with no gap).
    status : str
        HiGHS model status of the coverage solve (e.g. ``"Optimal"``, ``"Time limit reached"``).
    solve_seconds : float
        Wall time of the HiGHS solves.
    effective_need : Series or ndarray
        The need the objective weighs: ``need``; the scenario mean (``"expected"``); or the
        mean need over the worst scenarios at the solution (``"worst_decile"``, the CVaR's
        supergradient weights). :attr:`marginal`, :attr:`threshold` and
        :meth:`marginal_officers` use it.
    marginal : Series or ndarray of float
        Coverage the next officer would add in each area.
    threshold : float
        The value of the last officer placed freely (beyond floors and officers kept by the
        turnover limit): the "price" an area's next officer must beat. NaN if none was.
    explanations : dict
        One :class:`Explanation` per area.
    baselines : dict
        ``"proportional"`` (:func:`proportional_allocation` of ``available`` under the caps) and,
        with ``current``, ``"current"``: each a dict with ``officers``, ``coverage``,
        ``improvement_pct`` (how much :attr:`objective` beats it, in percent),
        ``shortfall_total``, ``floors_met``, ``turnover`` (with current) and, with scenarios,
        ``robust_objective`` and ``robust_improvement_pct``.
    messages : list of str
        What the caller should know (unknown residents, floors not met, relaxed limits,
        unallocated officers, time limits).
    robust : str
        ``"none"``, ``"expected"`` or ``"worst_decile"``.
    """

    officers: Any
    objective: float
    robust_objective: float | None
    scenario_coverage: NDArray[np.float64] | None
    floors: Any
    floors_met: bool
    shortfall: Any
    shortfall_total: int
    feasible: bool
    turnover: int | None
    turnover_excess: int
    unallocated: int
    optimal: bool
    gap: float
    status: str
    solve_seconds: float
    effective_need: Any
    marginal: Any
    threshold: float
    explanations: dict[Hashable, Explanation]
    baselines: dict[str, dict[str, Any]]
    messages: list[str]
    robust: str
    _x: NDArray[np.int64] = field(repr=False)
    _nu: NDArray[np.float64] = field(repr=False)
    _floor: NDArray[np.int64] = field(repr=False)
    _upper: NDArray[np.float64] = field(repr=False)
    _keys: list[Hashable] = field(repr=False)

    def marginal_officers(self, n: int) -> pd.DataFrame:
        """Where each of the next ``n`` officers would go, and the coverage each adds.

        For "today's allocation + N officers" questions: starting from this allocation,
        each extra officer goes first to an area short of its floor, else to the area
        whose next officer adds the most coverage (:attr:`effective_need`), within caps and
        per-area turnover limits (adding officers is never turnover); ties go to the earlier
        area. This is the greedy continuation of the solution: exact for the coverage
        objective without floors or turnover limits (separable concave: greedy is
        optimal); with them, re-run :func:`allocate_officers` with ``available + n`` for a
        full re-optimisation.

        Parameters
        ----------
        n : int
            Extra officers (>= 0).

        Returns
        -------
        pandas.DataFrame
            One row per officer placed: ``officer`` (1..n), ``area`` (key), ``value``
            (coverage it adds), ``officers`` (the area's count with it), ``floor`` (True if it
            fills a floor shortfall), ``cumulative_value``. Fewer than ``n`` rows when no area
            can take another officer (all at caps, or no need left).
        """
        count = _whole(n, "n")
        x = self._x.astype(np.int64).copy()
        rows: list[dict[str, Any]] = []
        total = 0.0
        for k in range(1, count + 1):
            room = x < self._upper
            short = room & (x < self._floor)
            value = _next_value(x, self._nu)
            cand = short if short.any() else room & (value > 0)
            if not cand.any():
                break
            i = int(np.argmax(np.where(cand, value, -_INF)))
            x[i] += 1
            total += float(value[i])
            rows.append(
                {
                    "officer": k,
                    "area": self._keys[i],
                    "value": float(value[i]),
                    "officers": int(x[i]),
                    "floor": bool(short[i]),
                    "cumulative_value": total,
                }
            )
        columns = ["officer", "area", "value", "officers", "floor", "cumulative_value"]
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- officers: model


@dataclass
class _Problem:
    n: int
    budget: int
    need: NDArray[np.float64]
    nu: NDArray[np.float64]  # need weighed by the objective (plain or scenario mean)
    scen: NDArray[np.float64] | None
    cvar: bool
    alpha: float
    floor: NDArray[np.int64]  # 0 where no floor applies
    has_floor: NDArray[np.bool_]
    unknown: NDArray[np.bool_]
    residents: NDArray[np.float64]
    cap: NDArray[np.float64]  # inf: none
    current: NDArray[np.int64] | None
    total_limit: int | None
    area_limit: NDArray[np.float64] | None  # inf: none
    upper: NDArray[np.float64]  # min(cap, current + area_limit); without the budget
    lower: NDArray[np.int64]  # current - area_limit clipped at 0
    rpo: float
    time_limit: float
    gap: float
    seed: int


def _phase_limits(p: _Problem) -> tuple[NDArray[np.int64] | None, _Solved | None]:
    """Least turnover relaxation, then least floor shortfall (one weighted MIP, exact: integers)."""
    has_limits = p.current is not None and (p.total_limit is not None or p.area_limit is not None)
    if not (p.floor > 0).any() and not has_limits:
        return None, None
    b = _Builder()
    upper = np.minimum(p.upper, p.budget)
    x = b.cols(0.0, 0.0, upper, p.n, integer=True)
    weight = float(p.floor.sum()) + 1.0
    _limit_rows(b, p, x, weight)
    fl = np.flatnonzero(p.floor > 0)
    if len(fl):
        s = b.cols(1.0, 0.0, _INF, len(fl))
        b.rows(
            np.r_[np.arange(len(fl)), np.arange(len(fl))], np.r_[s, x[fl]], 1.0, p.floor[fl], _INF, len(fl)
        )
    b.row(x, 1.0, -_INF, float(p.budget))
    solved = b.solve(maximize=False, time_limit=p.time_limit, mip_rel_gap=0.0, seed=p.seed)
    if solved.values is None:
        return None, solved
    return np.rint(solved.values[x]).astype(np.int64), solved


def _limit_rows(
    b: _Builder, p: _Problem, x: NDArray[np.int64], weight: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Turnover columns and rows: per-area lower limits with slack e, total with slack E."""
    slack: list[NDArray[np.int64]] = []
    if p.current is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = np.flatnonzero(p.lower > 0)
    if len(low):
        e = b.cols(weight, 0.0, _INF, len(low))
        b.rows(
            np.r_[np.arange(len(low)), np.arange(len(low))],
            np.r_[x[low], e],
            1.0,
            p.lower[low],
            _INF,
            len(low),
        )
        slack.append(e)
    if p.total_limit is not None:
        has = np.flatnonzero(p.current > 0)
        d = b.cols(0.0, 0.0, _INF, len(has))
        if len(has):
            b.rows(
                np.r_[np.arange(len(has)), np.arange(len(has))],
                np.r_[d, x[has]],
                1.0,
                p.current[has],
                _INF,
                len(has),
            )
        big_e = b.cols(weight, 0.0, _INF, 1)
        b.row(np.r_[d, big_e], np.r_[np.ones(len(d)), -1.0], -_INF, float(p.total_limit))
        slack.append(big_e)
    cols = np.concatenate(slack) if slack else np.zeros(0, dtype=np.int64)
    return cols, low


def _excess(x: NDArray[np.int64], p: _Problem) -> tuple[int, int]:
    """(officers beyond the per-area limits, officers beyond the total limit) of ``x``."""
    if p.current is None:
        return 0, 0
    area = int(np.maximum(p.lower - x, 0).sum())
    total = 0
    if p.total_limit is not None:
        total = max(0, int(np.maximum(p.current - x, 0).sum()) - p.total_limit)
    return area, total


def _phase_coverage(
    p: _Problem, max_short: int | None, max_excess: int | None, fallback: NDArray[np.int64] | None
) -> tuple[NDArray[np.int64], _Solved | None]:
    """Maximise coverage (or its CVaR) with the shortfall and relaxation fixed at their optimum."""
    if p.scen is not None and p.cvar:
        mu, nu_hi = p.scen.min(axis=0), p.scen.max(axis=0)
    else:
        mu = nu_hi = p.nu
    upper = np.minimum(p.upper, p.budget)
    if not (nu_hi > 0).any():
        base = fallback if fallback is not None else np.zeros(p.n, dtype=np.int64)
        return base, None
    # A bound on the increments per area that keeps an optimum. Let GM be the greedy allocation
    # of the budget by the pessimistic need mu (scenario minimum; the need itself otherwise) with
    # level lam: each of its officers is worth >= lam under mu. H_a counts the officers worth
    # >= lam under the optimistic need nu_hi (scenario maximum). If an optimum had x_a > max(H_a,
    # current_a, floor_a, lower_a), then, as sum(x) <= budget <= sum(GM) and x_a > GM_a, some b
    # has x_b < GM_b; moving one officer from a to b keeps every constraint (a stays at or above
    # current, floor and its lower limit; b gains) and loses no scenario any coverage:
    # need_b * step(x_b + 1) >= mu_b * step(GM_b) >= lam > nu_hi_a * step(x_a) >= need_a * step(x_a).
    # Repeating gives an optimum within the bound (+1 for rounding). Without a level (lam = 0)
    # the bound is the cap.
    lam = _level(mu, upper, p.budget)
    if lam == 0.0:
        greedy = np.where(nu_hi > 0, upper, 0.0)
    else:
        greedy = np.minimum(_count_at(lam * (1 - 1e-12), nu_hi, upper) + 1, upper)
    keep = np.maximum(p.floor, p.lower).astype(np.float64)
    if p.current is not None:
        keep = np.maximum(keep, p.current)
    bound = np.minimum(upper, np.maximum(greedy, keep))
    bound = np.where(nu_hi > 0, bound, np.minimum(upper, keep))
    bound = bound.astype(np.int64)

    b = _Builder()
    x = b.cols(0.0, 0.0, bound, p.n, integer=True)
    scale = float(np.max(nu_hi)) * math.log(2.0)
    areas = np.flatnonzero((nu_hi > 0) & (bound > 0))
    counts = bound[areas]
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(areas)), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    step = _step(k)
    cvar = p.scen is not None and p.cvar
    cost = 0.0 if cvar else p.nu[areas][owner] * step / scale
    y = b.cols(cost, 0.0, 1.0, total)
    # x_a - sum_k y_ak = 0
    b.rows(
        np.r_[np.arange(len(areas)), owner],
        np.r_[x[areas], y],
        np.r_[np.ones(len(areas)), -np.ones(total)],
        0.0,
        0.0,
        len(areas),
    )
    b.row(x, 1.0, -_INF, float(p.budget))
    # Relaxation and shortfall are fixed at their optimum; should that solve have failed (time
    # limit), they are priced above any coverage instead.
    penalty = 0.0 if max_short is not None else -(float(np.sum(nu_hi)) * math.log1p(p.budget) / scale + 1.0)
    slack, _ = _limit_rows(b, p, x, penalty * (float(p.floor.sum()) + 1.0))
    if max_excess is not None and len(slack):
        b.row(slack, 1.0, -_INF, max_excess + 0.5)
    fl = np.flatnonzero(p.floor > 0)
    if len(fl):
        s = b.cols(penalty, 0.0, _INF, len(fl))
        b.rows(
            np.r_[np.arange(len(fl)), np.arange(len(fl))], np.r_[s, x[fl]], 1.0, p.floor[fl], _INF, len(fl)
        )
        if max_short is not None:
            b.row(s, 1.0, -_INF, max_short + 0.5)
    if cvar:
        assert p.scen is not None
        n_s = p.scen.shape[0]
        lvar = b.cols(0.0, 0.0, _INF, len(areas))
        # L_a - sum_k step_k y_ak = 0
        b.rows(
            np.r_[np.arange(len(areas)), owner],
            np.r_[lvar, y],
            np.r_[np.ones(len(areas)), -step],
            0.0,
            0.0,
            len(areas),
        )
        t = b.cols(1.0, -_INF, _INF, 1)
        u = b.cols(-1.0 / (p.alpha * n_s), 0.0, _INF, n_s)
        # u_s - t + sum_a need_sa L_a >= 0
        w = p.scen[:, areas] / scale
        rr = np.repeat(np.arange(n_s), len(areas))
        b.rows(
            np.r_[np.arange(n_s), np.arange(n_s), rr],
            np.r_[u, np.full(n_s, t[0]), np.tile(lvar, n_s)],
            np.r_[np.ones(n_s), -np.ones(n_s), w.ravel()],
            0.0,
            _INF,
            n_s,
        )
    solved = b.solve(maximize=True, time_limit=p.time_limit, mip_rel_gap=p.gap, seed=p.seed)
    if solved.values is None:
        base = fallback if fallback is not None else _greedy(p, np.zeros(p.n, dtype=np.int64))
        return base, solved
    return np.rint(solved.values[x]).astype(np.int64), solved


def _greedy(p: _Problem, start: NDArray[np.int64]) -> NDArray[np.int64]:
    """Fill the officers left by marginal value (a fallback when a solve finds nothing)."""
    x = start.copy()
    for _ in range(p.budget - int(x.sum())):
        room = x < np.minimum(p.upper, p.budget)
        value = np.where(room, _next_value(x, p.nu), -_INF)
        i = int(np.argmax(value))
        if value[i] <= 0:
            break
        x[i] += 1
    return x


def _polish(x: NDArray[np.int64], p: _Problem, turnover_cap: float) -> NDArray[np.int64]:
    """Canonical form among equally good allocations: single moves (area to area, to or from the
    unallocated pool) that lexicographically improve (shortfall, -coverage, turnover) or, at
    equal value (ties within a relative 1e-9), move an officer to an earlier area or release a
    worthless one. Keeps every constraint; repairs small losses left by a MIP gap too."""
    x = x.copy()
    n = p.n
    tol = _TIE * max(float(np.max(p.nu)), 1e-300)
    f = p.floor
    fmask = f > 0
    c = p.current
    upper = np.minimum(p.upper, p.budget)
    pos = np.arange(n + 1)
    for _ in range(4 * (p.budget + n) + 100):
        spare = p.budget - int(x.sum())
        add_ok = np.r_[x < upper, True]
        rem_ok = np.r_[x > p.lower, spare > 0]
        add_val = np.r_[_next_value(x, p.nu), 0.0]
        rem_val = np.r_[np.where(x > 0, np.nan_to_num(_last_value(x, p.nu)), _INF), 0.0]
        ds_add = np.r_[-(fmask & (x < f)).astype(np.int64), 0]
        ds_rem = np.r_[(fmask & (x <= f)).astype(np.int64), 0]
        if c is not None:
            dt_add = np.r_[-(x < c).astype(np.int64), 0]
            dt_rem = np.r_[(x <= c).astype(np.int64), 0]
            turnover = int(np.maximum(c - x, 0).sum())
        else:
            dt_add = np.zeros(n + 1, dtype=np.int64)
            dt_rem = np.zeros(n + 1, dtype=np.int64)
            turnover = 0
        # [j, i]: one officer from j to i (index n: the pool)
        delta = add_val[None, :] - rem_val[:, None]
        ds = ds_add[None, :] + ds_rem[:, None]
        dt = dt_add[None, :] + dt_rem[:, None]
        ok = rem_ok[:, None] & add_ok[None, :] & (pos[:, None] != pos[None, :])
        if p.total_limit is not None:
            ok &= turnover + dt <= turnover_cap + 1e-9
        same = np.abs(delta) <= tol
        earlier = np.where(
            pos[None, :] == n, True, np.where(pos[:, None] == n, False, pos[None, :] < pos[:, None])
        )
        accept = ok & (
            (ds < 0)
            | ((ds == 0) & (delta > tol))
            | ((ds == 0) & same & (dt < 0))
            | ((ds == 0) & same & (dt == 0) & earlier)
        )
        # releasing to the pool needs a worthless officer; keep the rule of earlier areas for ties
        if not accept.any():
            break
        j, i = np.unravel_index(
            np.lexsort(
                (
                    -np.broadcast_to(pos[:, None], accept.shape).ravel(),
                    np.broadcast_to(pos[None, :], accept.shape).ravel(),
                    dt.ravel(),
                    -np.where(same, 0.0, delta).ravel(),
                    ds.ravel(),
                    ~accept.ravel(),
                )
            )[0],
            accept.shape,
        )
        if j < n:
            x[j] -= 1
        if i < n:
            x[i] += 1
    return x


def allocate_officers(
    need: ArrayLike | pd.Series,
    residents: ArrayLike | pd.Series,
    available: int,
    *,
    current: ArrayLike | pd.Series | None = None,
    cap: ArrayLike | pd.Series | float | None = None,
    max_change: ArrayLike | pd.Series | int | None = None,
    residents_per_officer: float = RESIDENTS_PER_OFFICER,
    floor_applies: ArrayLike | pd.Series | None = None,
    scenarios: ArrayLike | pd.DataFrame | None = None,
    robust: Literal["expected", "worst_decile"] = "expected",
    decile: float = 0.1,
    time_limit: float = 10.0,
    mip_rel_gap: float = 1e-4,
    seed: int = 0,
) -> OfficerAllocation:
    """Officers per area that maximise need-weighted coverage, floors first, within limits.

    The model (HiGHS, exact mixed-integer program):

    * ``x_a`` officers in area a, integers with ``sum_a x_a <= available`` and ``x_a <= cap_a``.
    * Objective: ``coverage(x, need) = sum_a need_a * log(1 + x_a)`` as a piecewise-linear
      sum of increments ``y_{a,k}`` in [0, 1], ``k = 1..U_a``, worth ``need_a * (log(1 + k) -
      log(k))`` each; ``U_a`` is ``min(cap_a, available, max(current_a, floor_a, H_a))`` where
      ``H_a`` is the count of officers worth at least the greedy level of the uncapped
      problem, plus one (officers beyond it never improve the optimum; see the source).
    * Floor (soft): ``floor_a = ceil(residents_a / residents_per_officer)`` (5,000 -> 1,
      5,001 -> 2, 0 -> 0) where ``floor_applies`` and residents are known, with shortfall
      ``s_a >= floor_a - x_a``, ``s_a >= 0``.
    * Turnover: officers taken away from areas, ``sum_a max(0, current_a - x_a)``; new
      officers (``available - sum(current)``) are not turnover. A scalar ``max_change`` bounds
      that total; an array bounds ``|x_a - current_a|`` per area.
    * Lexicographic: (1) the least relaxation of ``max_change`` (0 when it can be kept),
      (2) the least total floor shortfall ("the floor where feasible"), (3) the most coverage,
      each fixed at its optimum before the next. Among equally good allocations, the one with
      less turnover, and then officers in earlier areas, is returned (ties are broken by
      position, deterministically).

    If ``max_change`` cannot be kept (e.g. ``available`` is below ``sum(current)`` by more than
    the limit, or a cap lies below ``current - max_change``), the limit is relaxed by as few
    officers as possible: :attr:`~OfficerAllocation.feasible` is False, the excess is in
    :attr:`~OfficerAllocation.turnover_excess` and a message names the areas. Nothing raises
    for infeasible limits.

    Robust option: ``scenarios`` (S x areas) are draws of need, e.g. from a forecast's
    uncertainty. ``robust="expected"`` maximises the mean scenario coverage, which by
    linearity is the coverage of the mean scenario need (so it is solved as such);
    ``robust="worst_decile"`` maximises the CVaR, the mean coverage of the worst ``decile``
    share of scenarios, with the Rockafellar–Uryasev LP ``max t - 1/(decile S) sum_s u_s``,
    ``u_s >= t - cov_s``, ``u_s >= 0`` (a fractional boundary scenario when ``decile * S`` is
    not whole). ``need`` is then the point estimate: it gives the need shares, the
    proportional baseline and :attr:`~OfficerAllocation.objective`.

    Parameters
    ----------
    need : array-like or pandas.Series
        Need per area (>= 0), e.g. harm-weighted incidents in twelve months. With a Series,
        results are keyed by its index and the other Series are aligned on it (their extra
        keys are ignored).
    residents : array-like or pandas.Series
        Residents per area; NaN (or a key missing from a Series) means unknown: no floor, and
        a message says so.
    available : int
        Officers to allocate (>= 0).
    current : array-like or pandas.Series, optional
        Officers per area today (whole numbers >= 0): the turnover reference and a baseline.
    cap : scalar, array-like or pandas.Series, optional
        Most officers per area (whole numbers >= 0; NaN/inf or a missing key: no cap).
    max_change : int, array-like or pandas.Series, optional
        Turnover limit (needs ``current``): an int bounds the officers taken away in total; an
        array bounds ``|x_a - current_a|`` per area (NaN/inf: unlimited).
    residents_per_officer : float
        The floor's ratio (default 5,000).
    floor_applies : array-like of bool or pandas.Series, optional
        Where the floor applies (e.g. only 'särskilt utsatt område'); default: every area with
        known residents.
    scenarios : 2-D array-like or pandas.DataFrame, optional
        S x areas need draws (>= 0); a DataFrame's columns are aligned on ``need``'s index.
    robust : {"expected", "worst_decile"}
        The scenario objective (see above).
    decile : float
        Share of worst scenarios in the CVaR, in (0, 1] (default 0.1).
    time_limit : float
        Seconds per HiGHS solve (at most two solves).
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops (default 1e-4); floors and turnover are solved
        to proven optimality (integers).
    seed : int
        HiGHS's ``random_seed``: the only randomness (the result is deterministic for a seed).

    Returns
    -------
    OfficerAllocation

    Raises
    ------
    ValueError
        On bad input; the message names the argument.
    """
    started = time.perf_counter()
    nu_point, index = _need(need)
    n = len(nu_point)
    if n == 0:
        raise ValueError("need must not be empty")
    budget = _whole(available, "available")
    res = _vector(residents, "residents", n, index, allow_nan=True, missing_ok=True)
    rpo = positive(residents_per_officer, "residents_per_officer")
    caps = _caps(cap, n, index)
    cur = None
    if current is not None:
        cur = _vector(current, "current", n, index, integer=True).astype(np.int64)
    applies = (
        np.ones(n, dtype=bool)
        if floor_applies is None
        else _bool_vector(floor_applies, "floor_applies", n, index)
    )
    if robust not in ("expected", "worst_decile"):
        raise ValueError(f"robust must be 'expected' or 'worst_decile', got {robust!r}")
    try:
        alpha = float(decile)
    except (TypeError, ValueError):
        raise ValueError(f"decile must be a number in (0, 1], got {decile!r}") from None
    if not (0 < alpha <= 1):
        raise ValueError(f"decile must be in (0, 1], got {decile!r}")
    limit_s = positive(time_limit, "time_limit")
    try:
        gap = float(mip_rel_gap)
    except (TypeError, ValueError):
        raise ValueError(f"mip_rel_gap must be a number >= 0, got {mip_rel_gap!r}") from None
    if not math.isfinite(gap) or gap < 0:
        raise ValueError(f"mip_rel_gap must be a number >= 0, got {mip_rel_gap!r}")
    seed_i = _whole(seed, "seed")
    if seed_i > 2_147_483_647:
        raise ValueError(f"seed must be below 2**31, got {seed!r}")

    total_limit: int | None = None
    area_limit: NDArray[np.float64] | None = None
    if max_change is not None:
        if cur is None:
            raise ValueError("max_change needs current (turnover is measured from it)")
        if np.ndim(max_change) == 0 and not isinstance(max_change, pd.Series):
            total_limit = _whole(max_change, "max_change")
        else:
            area_limit = _vector(
                max_change, "max_change", n, index, allow_nan=True, allow_inf=True, integer=True
            )
            area_limit = np.where(np.isfinite(area_limit), area_limit, _INF)

    scen = None
    if scenarios is not None:
        if isinstance(scenarios, pd.DataFrame) and index is not None:
            missing = ~index.isin(scenarios.columns)
            if missing.any():
                raise ValueError(f"scenarios has no column for area(s) {list(index[missing][:5])}")
            scenarios = scenarios.reindex(columns=index)
        try:
            scen = np.asarray(scenarios, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"scenarios must be numeric: {exc}") from None
        if scen.ndim != 2 or scen.shape[1] != n or scen.shape[0] == 0:
            raise ValueError(f"scenarios must be a (scenarios x {n} areas) array, got shape {scen.shape}")
        if not np.isfinite(scen).all() or (scen < 0).any():
            raise ValueError("scenarios must be finite and >= 0")
    elif robust == "worst_decile":
        raise ValueError("robust='worst_decile' needs scenarios")
    cvar = scen is not None and robust == "worst_decile"

    known = ~np.isnan(res)
    has_floor = applies & known
    floor = np.where(has_floor, np.ceil(np.where(known, res, 0.0) / rpo - 1e-12), 0.0).astype(np.int64)
    floor = np.maximum(floor, 0)
    upper = caps.copy()
    lower = np.zeros(n, dtype=np.int64)
    if area_limit is not None and cur is not None:
        upper = np.minimum(upper, cur + area_limit)
        lower = np.maximum(cur - area_limit, 0.0).astype(np.int64)
    nu_opt = nu_point if scen is None else scen.mean(axis=0)
    p = _Problem(
        n=n,
        budget=budget,
        need=nu_point,
        nu=nu_opt,
        scen=scen,
        cvar=cvar,
        alpha=alpha,
        floor=floor,
        has_floor=has_floor,
        unknown=applies & ~known,
        residents=res,
        cap=caps,
        current=cur,
        total_limit=total_limit,
        area_limit=area_limit,
        upper=upper,
        lower=lower,
        rpo=rpo,
        time_limit=limit_s,
        gap=gap,
        seed=seed_i,
    )

    # (1) + (2): least relaxation of the turnover limit, then least shortfall
    x_limits, solved_limits = _phase_limits(p)
    max_short = max_excess = None
    if x_limits is not None:
        area_ex, total_ex = _excess(x_limits, p)
        max_excess = area_ex + total_ex
        max_short = int(np.maximum(floor - x_limits, 0).sum())
    # (3): coverage
    x, solved = _phase_coverage(p, max_short, max_excess, x_limits)
    area_ex, total_ex = _excess(x, p)
    if not cvar:
        cap_turn = _INF if total_limit is None else float(total_limit + total_ex)
        x = _polish(x, p, cap_turn)
    return _result(p, x, index, [s for s in (solved_limits, solved) if s is not None], solved, started)


def _result(
    p: _Problem,
    x: NDArray[np.int64],
    index: pd.Index | None,
    solves: Sequence[_Solved],
    main: _Solved | None,
    started: float,
) -> OfficerAllocation:
    keys = _keys(index, p.n)
    messages: list[str] = []
    area_ex, total_ex = _excess(x, p)
    short = np.where(p.has_floor, np.maximum(p.floor - x, 0), 0).astype(np.int64)
    scen_cov = None
    robust_obj = None
    nu_eff = p.nu
    if p.scen is not None:
        scen_cov = p.scen @ np.log1p(x)
        if p.cvar:
            robust_obj, weights = _cvar(scen_cov, p.alpha)
            nu_eff = weights @ p.scen
        else:
            robust_obj = float(np.mean(scen_cov))
    turnover = None if p.current is None else int(np.maximum(p.current - x, 0).sum())
    spare = p.budget - int(x.sum())

    # the price: the last officer placed freely
    tol = _TIE * max(float(np.max(nu_eff)), 1e-300)
    lo = np.maximum(np.where(p.has_floor, p.floor, 0), p.lower)
    binding_total = (
        p.current is not None
        and p.total_limit is not None
        and turnover is not None
        and turnover >= p.total_limit + total_ex
    )
    if binding_total and p.current is not None:
        lo = np.maximum(lo, p.current)
    last = _last_value(x, nu_eff)
    nxt = _next_value(x, nu_eff)
    free = (x > lo) & (nu_eff > tol)
    threshold = float(np.min(last[free])) if free.any() else math.nan
    price = threshold if math.isfinite(threshold) else (0.0 if spare > 0 else _INF)

    zero_need = (p.scen.max(axis=0) if p.scen is not None else p.nu) <= 0
    total_need = float(p.need.sum())
    explanations: dict[Hashable, Explanation] = {}
    for a in range(p.n):
        codes: list[str] = []
        xa = int(x[a])
        capped = math.isfinite(p.cap[a]) and xa >= p.cap[a]
        fa = int(p.floor[a]) if p.has_floor[a] else 0
        side = ""
        if xa == 0 and (p.budget == 0 or p.cap[a] == 0) and (p.nu[a] > 0 or fa > 0):
            codes.append("no_capacity")
        up_limit = p.area_limit is not None and p.current is not None and xa >= p.current[a] + p.area_limit[a]
        if short[a] > 0:
            codes.append("floor_short")
            if capped:
                codes.append("cap")
            elif up_limit or binding_total:
                codes.append("turnover")
                side = "blocked"
        else:
            nv = float(nxt[a])
            lv = float(last[a]) if xa > 0 else math.nan
            if fa > 0 and xa == fa and (zero_need[a] or lv < price - tol):
                codes.append("floor")
            if capped and nv > price + tol and "no_capacity" not in codes:
                codes.append("cap")
            if p.current is not None and "floor" not in codes:
                kept = xa > fa and xa <= p.current[a] and lv < price - tol
                if kept and (binding_total or (p.lower[a] > 0 and xa == p.lower[a])):
                    codes.append("turnover")
                    side = "kept"
                elif up_limit and not capped and nv > price + tol:
                    codes.append("turnover")
                    side = "blocked"
        if not codes and not zero_need[a]:
            codes.append("need")
        if zero_need[a]:
            codes.append("zero_need")
        if p.unknown[a]:
            codes.append("no_floor_unknown_population")
        explanations[keys[a]] = Explanation(
            area=keys[a],
            officers=xa,
            current=None if p.current is None else int(p.current[a]),
            reasons=tuple(codes),
            need=float(p.need[a]),
            need_share=100.0 * float(p.need[a]) / total_need if total_need > 0 else math.nan,
            residents=None if math.isnan(p.residents[a]) else float(p.residents[a]),
            floor=fa if p.has_floor[a] else None,
            shortfall=int(short[a]),
            cap=int(p.cap[a]) if math.isfinite(p.cap[a]) else None,
            last_value=float(last[a]),
            marginal=float(nxt[a]),
            threshold=threshold,
            residents_per_officer=p.rpo,
            turnover_side=side,
            available_zero=p.budget == 0,
        )

    # messages
    if p.unknown.any():
        names = [str(keys[a]) for a in np.flatnonzero(p.unknown)]
        messages.append(
            f"residents unknown for {len(names)} area(s), so no floor there: {', '.join(names[:10])}"
        )
    if short.sum() > 0:
        parts = [f"{keys[a]} {short[a]} short" for a in np.flatnonzero(short)]
        messages.append(
            f"floors not met in {len(parts)} area(s), {int(short.sum())} officer(s) short in total "
            f"(the least possible): {', '.join(parts[:10])}"
        )
    if p.current is not None and int(p.current.sum()) > p.budget:
        messages.append(
            f"available ({p.budget}) is below today's total ({int(p.current.sum())}): "
            f"at least {int(p.current.sum()) - p.budget} officer(s) must be taken from areas"
        )
    if total_ex > 0:
        messages.append(
            f"max_change={p.total_limit} cannot be kept: the allocation takes {turnover} officer(s) from areas, "
            f"the fewest possible ({total_ex} over the limit)"
        )
    if area_ex > 0:
        over = [f"{keys[a]} by {int(p.lower[a] - x[a])}" for a in np.flatnonzero(x < p.lower)]
        messages.append(
            f"max_change cannot be kept in {len(over)} area(s), relaxed as little as possible: {', '.join(over[:10])}"
        )
    if spare > 0:
        messages.append(f"{spare} officer(s) left unallocated: no area can use them (caps, zero need)")
    optimal = all(s.optimal for s in solves)
    for s in solves:
        if not s.optimal:
            messages.append(
                f"HiGHS stopped with status {s.status!r} (gap {s.gap:.2%}): the allocation may not be optimal"
            )

    baselines: dict[str, dict[str, Any]] = {}
    objective = float(np.sum(p.need * np.log1p(x)))
    base_sets = {"proportional": _hamilton(p.need, p.budget, p.cap)}
    if p.current is not None:
        base_sets["current"] = p.current
    for name, bx in base_sets.items():
        cov = float(np.sum(p.need * np.log1p(bx)))
        bshort = int(np.where(p.has_floor, np.maximum(p.floor - bx, 0), 0).sum())
        entry: dict[str, Any] = {
            "officers": _wrap(bx.astype(np.int64), index),
            "coverage": cov,
            "improvement_pct": 100.0 * (objective - cov) / cov if cov > 0 else math.nan,
            "shortfall_total": bshort,
            "floors_met": bshort == 0,
        }
        if p.current is not None:
            entry["turnover"] = int(np.maximum(p.current - bx, 0).sum())
        if p.scen is not None and robust_obj is not None:
            bcov = p.scen @ np.log1p(bx)
            rob = _cvar(bcov, p.alpha)[0] if p.cvar else float(np.mean(bcov))
            entry["robust_objective"] = rob
            entry["robust_improvement_pct"] = 100.0 * (robust_obj - rob) / rob if rob > 0 else math.nan
        baselines[name] = entry

    floors_out: Any
    if index is not None:
        floors_out = pd.Series(pd.array(np.where(p.has_floor, p.floor, 0), dtype="Int64"), index=index)
        floors_out[~p.has_floor] = pd.NA
    else:
        floors_out = np.where(p.has_floor, p.floor.astype(np.float64), np.nan)
    upper_extra = p.upper.astype(np.float64)
    return OfficerAllocation(
        officers=_wrap(x.astype(np.int64), index),
        objective=objective,
        robust_objective=robust_obj,
        scenario_coverage=scen_cov,
        floors=floors_out,
        floors_met=bool(short.sum() == 0),
        shortfall=_wrap(short, index),
        shortfall_total=int(short.sum()),
        feasible=area_ex + total_ex == 0,
        turnover=turnover,
        turnover_excess=area_ex + total_ex,
        unallocated=spare,
        optimal=optimal,
        gap=0.0 if main is None else (main.gap if math.isfinite(main.gap) else math.inf),
        status="Optimal" if main is None else main.status,
        solve_seconds=sum(s.seconds for s in solves) if solves else time.perf_counter() - started,
        effective_need=_wrap(nu_eff.astype(np.float64), index),
        marginal=_wrap(nxt, index),
        threshold=threshold,
        explanations=explanations,
        baselines=baselines,
        messages=messages,
        robust="none" if p.scen is None else ("worst_decile" if p.cvar else "expected"),
        _x=x.astype(np.int64),
        _nu=nu_eff.astype(np.float64),
        _floor=np.where(p.has_floor, p.floor, 0).astype(np.int64),
        _upper=upper_extra,
        _keys=keys,
    )


# --------------------------------------------------------------------------- hours


@dataclass(frozen=True, eq=False)
class HoursAllocation:
    """Result of :func:`allocate_hours`.

    Attributes
    ----------
    hours : ndarray of int64, shape (168,)
        Officers present in each hour-of-week block (Monday 00–01 first).
    shifts : pandas.DataFrame
        One row per shift start and length used: ``start`` (block 0–167), ``day`` (0 =
        Monday … 6 = Sunday), ``hour`` (0–23), ``length`` (hours), ``count`` (officers
        starting such a shift); sorted by start and length. A shift starting late on Sunday
        wraps into Monday.
    used_hours : int
        ``sum(length * count)``, at most ``weekly_hours``.
    weekly_hours : float
        As given.
    objective : float
        ``sum_b demand_b * log(1 + hours_b)``.
    bound : float
        HiGHS's upper bound on the objective (LP relaxation or branch and bound).
    optimal : bool
        The solution is proven within ``mip_rel_gap`` of ``bound``.
    gap : float
        ``(bound - objective) / objective`` (0 when both are 0).
    status : str
        ``"Optimal"``, or HiGHS's model status when branch and bound stopped early.
    solve_seconds : float
        Wall time of the whole call.
    messages : list of str
    """

    hours: NDArray[np.int64]
    shifts: pd.DataFrame
    used_hours: int
    weekly_hours: float
    objective: float
    bound: float
    optimal: bool
    gap: float
    status: str
    solve_seconds: float
    messages: list[str]


class _Week:
    """Shift cover on a circular week of ``blocks`` blocks: windows by cumulative sums."""

    def __init__(self, blocks: int, lengths: NDArray[np.int64]) -> None:
        self.b = blocks
        self.lengths = lengths
        self.starts = np.arange(blocks)

    def cover(self, n: NDArray[np.int64]) -> NDArray[np.int64]:
        """Officers per block from shift counts ``n`` (lengths x starts)."""
        h = np.zeros(self.b, dtype=np.int64)
        for li, ln in enumerate(self.lengths):
            cs = np.concatenate([[0], np.cumsum(np.concatenate([n[li], n[li]]))])
            end = self.starts + self.b + 1
            h += cs[end] - cs[end - ln]
        return h

    def windows(self, g: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum of ``g`` over each shift (lengths x starts)."""
        cs = np.concatenate([[0.0], np.cumsum(np.concatenate([g, g]))])
        return np.stack([cs[self.starts + ln] - cs[self.starts] for ln in self.lengths])

    def blocks_of(self, li: int, s: int) -> NDArray[np.int64]:
        return (s + np.arange(self.lengths[li])) % self.b


def _hours_value(d: NDArray[np.float64], h: NDArray[np.int64]) -> float:
    return float(np.sum(d * np.log1p(h)))


def _fill(
    week: _Week, d: NDArray[np.float64], n: NDArray[np.int64], budget: int, need: NDArray[np.int64]
) -> NDArray[np.int64] | None:
    """Repair ``need`` (min staff) then add shifts by coverage per hour until none fits or helps."""
    n = n.copy()
    h = week.cover(n)
    left = budget - int((n.sum(axis=1) * week.lengths).sum())
    fits = week.lengths[:, None]
    while (h < need).any():
        # the shift that covers most missing block-officers per hour, then adds most coverage
        lack = week.windows((need - h > 0).astype(np.float64))
        primary = np.where((fits <= left) & (lack > 0), lack / fits, -_INF)
        best = float(primary.max())
        if best == -_INF:
            return None
        gain = week.windows(d * np.log1p(1.0 / (h + 1.0)))
        score = np.where(primary >= best - 1e-12, gain, -_INF)
        li, s = np.unravel_index(int(np.argmax(score)), score.shape)
        n[li, s] += 1
        h[week.blocks_of(int(li), int(s))] += 1
        left -= int(week.lengths[li])
    while left >= int(week.lengths.min()):
        gain = week.windows(d * np.log1p(1.0 / (h + 1.0)))
        score = np.where(fits <= left, gain / fits, -_INF)
        li, s = np.unravel_index(int(np.argmax(score)), score.shape)
        if not score[li, s] > 0:
            break
        n[li, s] += 1
        h[week.blocks_of(int(li), int(s))] += 1
        left -= int(week.lengths[li])
    return n


def _improve(
    week: _Week,
    d: NDArray[np.float64],
    n: NDArray[np.int64],
    budget: int,
    need: NDArray[np.int64],
    target: float,
    deadline: float,
) -> NDArray[np.int64]:
    """Local search: replace one shift by the best shift of any start and length that fits
    (and refill greedily) while coverage rises, until ``target`` or ``deadline``."""
    n = n.copy()
    h = week.cover(n)
    best = _hours_value(d, h)
    fits = week.lengths[:, None]
    for _ in range(200):
        improved = False
        left = budget - int((n.sum(axis=1) * week.lengths).sum())
        for li, s in zip(*np.nonzero(n), strict=True):
            if time.perf_counter() > deadline or best >= target:
                return n
            if n[li, s] == 0:
                continue
            blocks = week.blocks_of(int(li), int(s))
            if (h[blocks] - 1 < need[blocks]).any():
                continue
            h2 = h.copy()
            h2[blocks] -= 1
            loss = float(np.sum(d[blocks] * (np.log1p(h[blocks]) - np.log1p(h2[blocks]))))
            room = left + int(week.lengths[li])
            gain = np.where(fits <= room, week.windows(d * np.log1p(1.0 / (h2 + 1.0))), -_INF)
            lj, sj = np.unravel_index(int(np.argmax(gain)), gain.shape)
            if gain[lj, sj] <= loss + 1e-12 * max(best, 1e-300):
                continue
            trial = n.copy()
            trial[li, s] -= 1
            trial[lj, sj] += 1
            filled = _fill(week, d, trial, budget, need)
            if filled is None:
                continue
            h_new = week.cover(filled)
            value = _hours_value(d, h_new)
            if value > best * (1 + 1e-12):
                n, h, best, improved = filled, h_new, value, True
                left = budget - int((n.sum(axis=1) * week.lengths).sum())
        if not improved:
            break
    return n


def _drop_idle(
    week: _Week, d: NDArray[np.float64], n: NDArray[np.int64], need: NDArray[np.int64], tol: float
) -> NDArray[np.int64]:
    """Remove shifts that add (next to) nothing and are not needed for min staff."""
    n = n.copy()
    changed = True
    while changed:
        changed = False
        h = week.cover(n)
        for li, s in zip(*np.nonzero(n), strict=True):
            blocks = week.blocks_of(int(li), int(s))
            if (h[blocks] - 1 < need[blocks]).any():
                continue
            loss = float(np.sum(d[blocks] * (np.log1p(h[blocks]) - np.log1p(h[blocks] - 1))))
            if loss <= tol:
                n[li, s] -= 1
                changed = True
                break
    return n


def _hours_model(
    week: _Week,
    d: NDArray[np.float64],
    budget: int,
    need: NDArray[np.int64],
    depth: NDArray[np.int64],
    hmax: int,
    scale: float,
) -> tuple[_Builder, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Shifts (integer), increments per block up to ``depth`` and a tail past it (priced at the
    next increment, so the model over-estimates and its bound stays valid)."""
    b = _Builder()
    nl, nb = len(week.lengths), week.b
    caps = np.repeat(budget // week.lengths, nb).astype(np.float64)
    shifts = b.cols(0.0, 0.0, caps, nl * nb, integer=True)
    # cover matrix entries: block (s + t) % nb <- shift (li, s)
    rows_cov = np.concatenate(
        [(s0 + t) % nb for s0, ln in ((week.starts, ln) for ln in week.lengths) for t in range(ln)]
    )
    cols_cov = np.concatenate(
        [shifts[li * nb : (li + 1) * nb] for li, ln in enumerate(week.lengths) for _ in range(ln)]
    )
    active = np.flatnonzero(d > 0)
    counts = depth[active]
    total = int(counts.sum())
    owner = np.repeat(active, counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    y = b.cols(d[owner] * _step(k) / scale, 0.0, 1.0, total)
    tail = b.cols(
        d[active] * _step(counts + 1) / scale,
        0.0,
        np.maximum(hmax - counts, 0).astype(np.float64),
        len(active),
    )
    pos_of = np.full(nb, -1)
    pos_of[active] = np.arange(len(active))
    keep = pos_of[rows_cov] >= 0
    rowmap = pos_of[owner]
    b.rows(
        np.r_[pos_of[rows_cov[keep]], rowmap, np.arange(len(active))],
        np.r_[cols_cov[keep], y, tail],
        np.r_[np.ones(int(keep.sum())), -np.ones(total), -np.ones(len(active))],
        0.0,
        0.0,
        len(active),
    )
    floor_rows = np.flatnonzero(need > 0)
    if len(floor_rows):
        pos_f = np.full(nb, -1)
        pos_f[floor_rows] = np.arange(len(floor_rows))
        kf = pos_f[rows_cov] >= 0
        b.rows(
            pos_f[rows_cov[kf]], cols_cov[kf], 1.0, need[floor_rows].astype(np.float64), _INF, len(floor_rows)
        )
    b.row(shifts, np.repeat(week.lengths, nb).astype(np.float64), -_INF, float(budget))
    return b, shifts, tail, active


def _min_hours(
    week: _Week, need: NDArray[np.int64], time_limit: float
) -> tuple[int, NDArray[np.int64]] | None:
    """Fewest shift hours that give at least ``need`` officers in every block, and the shifts
    (None: none found in time, or infeasible)."""
    b = _Builder()
    nl, nb = len(week.lengths), week.b
    shifts = b.cols(np.repeat(week.lengths, nb).astype(np.float64), 0.0, _INF, nl * nb, integer=True)
    rows = np.flatnonzero(need > 0)
    pos = np.full(nb, -1)
    pos[rows] = np.arange(len(rows))
    rr = np.concatenate([(week.starts + t) % nb for ln in week.lengths for t in range(ln)])
    cc = np.concatenate(
        [shifts[li * nb : (li + 1) * nb] for li, ln in enumerate(week.lengths) for _ in range(ln)]
    )
    keep = pos[rr] >= 0
    b.rows(pos[rr[keep]], cc[keep], 1.0, need[rows].astype(np.float64), _INF, len(rows))
    solved = b.solve(maximize=False, time_limit=time_limit, mip_rel_gap=0.0)
    if solved.values is None:
        return None
    n = np.rint(solved.values[shifts]).reshape(nl, nb).astype(np.int64)
    return int((n.sum(axis=1) * week.lengths).sum()), n


def allocate_hours(
    demand_168: ArrayLike,
    weekly_hours: float,
    shift_lengths: Sequence[int] = (8, 10),
    min_staff: ArrayLike | int | None = None,
    *,
    time_limit: float = 10.0,
    mip_rel_gap: float = 1e-4,
) -> HoursAllocation:
    """Shifts over the week that follow an area's demand with diminishing returns.

    The model (HiGHS, exact mixed-integer program), the hourly analogue of
    :func:`allocate_officers`:

    * Shifts start on the hour in any of the 168 blocks (Monday 00–01 is block 0) and last
      one of ``shift_lengths`` hours, wrapping from Sunday into Monday; ``n_{s,l}`` officers
      start a shift of length l at s (integers).
    * Officers present ``h_b`` = the shifts covering block b; hours used
      ``sum l * n_{s,l} <= weekly_hours``; ``h_b >= min_staff_b``.
    * Objective: ``sum_b demand_b * log(1 + h_b)``, piecewise linear with integer breakpoints
      (increments per block up to a bound that is doubled while the solution reaches it).

    Solving: the LP relaxation gives a bound; its rounding, repaired and filled greedily and
    improved by a local search, is accepted when it is within ``mip_rel_gap`` of the bound;
    otherwise branch and bound runs from it. Shifts that add nothing (zero demand) are
    dropped, so ``used_hours`` can be below ``weekly_hours``. With all demand 0 only
    ``min_staff`` is covered, with the fewest hours.

    Parameters
    ----------
    demand_168 : array-like
        168 numbers >= 0: demand per hour-of-week block, e.g. harm-weighted incidents by
        hour of week (:mod:`problembild.analysis.timepattern`).
    weekly_hours : float
        Presence hours of the area's officers in the week (>= 0; the whole hours are used).
    shift_lengths : sequence of int
        Shift lengths in hours, each 1–168 (default (8, 10)).
    min_staff : int or array-like of 168 ints, optional
        Officers required in every block / per block.
    time_limit : float
        Seconds for the whole call.
    mip_rel_gap : float
        Relative gap at which the solution counts as optimal.

    Returns
    -------
    HoursAllocation

    Raises
    ------
    ValueError
        On bad input (naming the argument), and when ``min_staff`` cannot be met within
        ``weekly_hours``: the message gives the hours it needs.
    """
    return _allocate_hours_blocks(
        demand_168,
        weekly_hours,
        shift_lengths,
        min_staff,
        blocks=HOURS_PER_WEEK,
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
        demand_name="demand_168",
    )


def _allocate_hours_blocks(
    demand: ArrayLike,
    weekly_hours: float,
    shift_lengths: Sequence[int],
    min_staff: ArrayLike | int | None,
    *,
    blocks: int,
    time_limit: float,
    mip_rel_gap: float,
    demand_name: str = "demand",
) -> HoursAllocation:
    """:func:`allocate_hours` on a circular week of ``blocks`` blocks (small ones for tests)."""
    started = time.perf_counter()
    d = _vector(demand, demand_name, blocks, None)
    try:
        w_float = float(weekly_hours)
    except (TypeError, ValueError):
        raise ValueError(f"weekly_hours must be a number >= 0, got {weekly_hours!r}") from None
    if not math.isfinite(w_float) or w_float < 0:
        raise ValueError(f"weekly_hours must be a number >= 0, got {weekly_hours!r}")
    budget = math.floor(w_float + 1e-9)
    try:
        lengths_list = sorted({_whole(v, "shift_lengths") for v in shift_lengths})
    except TypeError:
        raise ValueError(
            f"shift_lengths must be a sequence of whole numbers, got {shift_lengths!r}"
        ) from None
    if not lengths_list or lengths_list[0] < 1 or lengths_list[-1] > blocks:
        raise ValueError(f"shift_lengths must be whole numbers between 1 and {blocks}, got {shift_lengths!r}")
    lengths = np.asarray(lengths_list, dtype=np.int64)
    if min_staff is None:
        need = np.zeros(blocks, dtype=np.int64)
    elif np.ndim(min_staff) == 0:
        need = np.full(blocks, _whole(min_staff, "min_staff"), dtype=np.int64)
    else:
        need = _vector(min_staff, "min_staff", blocks, None, integer=True).astype(np.int64)
    limit_s = positive(time_limit, "time_limit")
    try:
        gap_tol = float(mip_rel_gap)
    except (TypeError, ValueError):
        raise ValueError(f"mip_rel_gap must be a number >= 0, got {mip_rel_gap!r}") from None
    if not math.isfinite(gap_tol) or gap_tol < 0:
        raise ValueError(f"mip_rel_gap must be a number >= 0, got {mip_rel_gap!r}")
    deadline = started + limit_s
    week = _Week(blocks, lengths)
    hmax = budget // int(lengths.min())
    messages: list[str] = []

    def infeasible() -> ValueError:
        fewest = _min_hours(week, need, max(deadline - time.perf_counter(), 1.0))
        needs = f"at least {fewest[0]} hours a week" if fewest is not None else "more hours than given"
        return ValueError(
            f"min_staff cannot be met within weekly_hours={w_float:g}: it needs {needs} "
            f"with shifts of {', '.join(str(v) for v in lengths_list)} hours"
        )

    if (need > hmax).any() or int(need.sum()) > budget:
        raise infeasible()
    empty = np.zeros((len(lengths), blocks), dtype=np.int64)
    if not (d > 0).any():
        n = empty
        if (need > 0).any():
            fewest = _min_hours(week, need, max(deadline - time.perf_counter(), 1e-3))
            if fewest is None or fewest[0] > budget:
                raise infeasible()
            n = fewest[1]
        return _hours_result(week, d, n, budget, w_float, 0.0, True, 0.0, "Optimal", started, messages)

    scale = float(d.max()) * math.log(2.0)
    # depth per block: twice the level of an even spread of the hours by demand, then doubled
    # wherever the LP reaches it
    lam = _level(d, np.full(blocks, float(hmax)), float(budget))
    level = _count_at(lam, d, np.full(blocks, float(hmax))) if lam > 0 else np.full(blocks, float(hmax))
    depth = np.minimum(hmax, np.maximum(need, 3 * level.astype(np.int64) + 4)).astype(np.int64)
    depth = np.where(d > 0, depth, 0)
    relaxed = None
    for _ in range(12):
        b, shifts, tail, active = _hours_model(week, d, budget, need, depth, hmax, scale)
        relaxed = b.solve(
            maximize=True,
            time_limit=max(deadline - time.perf_counter(), 1e-3),
            mip_rel_gap=0.0,
            relax=True,
        )
        if relaxed.values is None:
            break
        used_tail = relaxed.values[tail] > 1e-7
        if not used_tail.any() or (depth[active[used_tail]] >= hmax).all():
            break
        grow = active[used_tail]
        depth[grow] = np.minimum(hmax, 2 * depth[grow] + 2)
    assert relaxed is not None
    if relaxed.values is None:
        if relaxed.status == "Infeasible":
            raise infeasible()
        raise ValueError(f"the hours model could not be solved: HiGHS status {relaxed.status!r}")
    bound = relaxed.objective * scale
    lp_n = np.floor(relaxed.values[shifts].reshape(len(lengths), blocks) + 1e-9).astype(np.int64)
    tol = _TIE * scale

    def gap_of(value: float, upper: float) -> float:
        if upper - value <= tol:
            return 0.0
        return (upper - value) / max(abs(value), tol)

    n_best = _fill(week, d, lp_n, budget, need)
    value = _hours_value(d, week.cover(n_best)) if n_best is not None else -_INF
    target = bound / (1 + gap_tol) if gap_tol > 0 else bound
    if n_best is not None and gap_of(value, bound) > gap_tol:
        n_best = _improve(
            week, d, n_best, budget, need, target, min(deadline, time.perf_counter() + 0.5 * limit_s)
        )
        value = _hours_value(d, week.cover(n_best))
    status = "Optimal"
    if n_best is None or gap_of(value, bound) > gap_tol:
        b, shifts, tail, active = _hours_model(week, d, budget, need, depth, hmax, scale)
        start = None
        if n_best is not None:
            start = (shifts, n_best.ravel().astype(np.float64))
        solved = b.solve(
            maximize=True,
            time_limit=max(deadline - time.perf_counter(), 0.05),
            mip_rel_gap=gap_tol,
            start=start,
        )
        status = solved.status
        if solved.values is not None:
            cand = np.rint(solved.values[shifts]).reshape(len(lengths), blocks).astype(np.int64)
            cand_value = _hours_value(d, week.cover(cand))
            if n_best is None or cand_value > value:
                n_best, value = cand, cand_value
        if math.isfinite(solved.bound):
            bound = min(bound, solved.bound * scale)
        if n_best is None:
            if status == "Infeasible":
                raise infeasible()
            raise ValueError(
                f"no shift plan found within time_limit={time_limit:g} s (HiGHS status {status!r})"
            )
    n_best = _drop_idle(week, d, n_best, need, tol)
    value = _hours_value(d, week.cover(n_best))
    gap = gap_of(value, bound)
    optimal = gap <= gap_tol + 1e-12
    if optimal:
        status = "Optimal"
    else:
        messages.append(f"stopped at a gap of {gap:.3%} (status {status!r}): the plan may not be optimal")
    return _hours_result(week, d, n_best, budget, w_float, bound, optimal, gap, status, started, messages)


def _hours_result(
    week: _Week,
    d: NDArray[np.float64],
    n: NDArray[np.int64],
    budget: int,
    weekly_hours: float,
    bound: float,
    optimal: bool,
    gap: float,
    status: str,
    started: float,
    messages: list[str],
) -> HoursAllocation:
    h = week.cover(n)
    li, s = np.nonzero(n)
    frame = pd.DataFrame(
        {
            "start": s.astype(np.int64),
            "day": (s // 24).astype(np.int64),
            "hour": (s % 24).astype(np.int64),
            "length": week.lengths[li].astype(np.int64),
            "count": n[li, s].astype(np.int64),
        }
    )
    frame = frame.sort_values(["start", "length"], kind="stable").reset_index(drop=True)
    used = int((n.sum(axis=1) * week.lengths).sum())
    value = _hours_value(d, h)
    return HoursAllocation(
        hours=h.astype(np.int64),
        shifts=frame,
        used_hours=used,
        weekly_hours=weekly_hours,
        objective=value,
        bound=max(bound, value),
        optimal=optimal,
        gap=gap,
        status=status,
        solve_seconds=time.perf_counter() - started,
        messages=messages,
    )
