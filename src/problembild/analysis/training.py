"""Training plan: which staff take which course places, so that the most weighted competence gap closes.

Every person has a level (0–4) in each competence and a level their role profile requires;
the *gap* is the shortfall ``clip(required - current, 0, None)``. A course brings a participant
up to a level in the competences it teaches, so staff s taking course c closes, in competence k,

.. math:: \\mathrm{closure}_{s,c,k} = \\mathrm{clip}(\\mathrm{gives}_{c,k} - \\mathrm{current}_{s,k},\\ 0,\\ \\mathrm{gap}_{s,k})

levels, and the pair is worth ``value_{s,c} = sum_k weight_{s,k} * closure_{s,c,k}``, where the
weight of one level of gap is the role's criticality x the area's need x an expiry factor.
Places are scarce (seats per course), and so are money (a budget for the plan) and time away
(days per person, person-days per area or unit), so the plan is a choice.

The model
---------
A mixed-integer program solved with HiGHS (``highspy``): a binary ``x_{s,c}`` for every pair
worth something (``value > 0``), maximising ``sum value * x`` subject to

* seats: ``sum_s x_{s,c} <= seats_c``;
* budget: ``sum cost_c * x_{s,c} <= budget``;
* time away per person: ``sum_c days_c * x_{s,c} <= max_days_per_person``;
* time away per area/unit g: ``sum_{s in g, c} days_c * x_{s,c} <= group_days_g``;
* no double counting: for every (s, k) with a gap, at most one chosen course closes part of it,
  ``sum_{c: closure_{s,c,k} > 0} x_{s,c} <= 1``.

Why the last rule: levels do not add up across courses (two courses that each bring a person
from level 1 to 3 leave them at 3, not at 5), so the true gap closed in (s, k) is the *largest*
closure among the chosen courses, a maximum and not a sum. Forbidding a second course on the
same gap keeps the objective exact and linear (with at most one course per gap, maximum = sum)
at no real cost: a second course on a gap already addressed adds at most the difference between
the two levels, and a plan that sends a person to two courses for the same competence is not one
a training coordinator would make. The row is only written where two or more candidate courses
close (s, k); with one it is implied by ``x <= 1``. It applies to every gap the course touches,
including gaps of weight 0.

Baselines
---------
:func:`largest_gap_first` (people by their weighted gap, largest first, each getting the
courses that close most of their remaining gap) and :func:`first_come_first_served` (people in
application order, no priority across people) are the rules a coordinator might use by hand.
Every plan (the optimum, both baselines and any given plan, :func:`evaluate`) is scored and
checked by the same function, so their ``gap_closed`` are on one scale.

Solving
-------
Models of up to 6,000 candidate pairs go to HiGHS whole. A national one does not: 10,000
staff give some 150,000 candidate pairs, and HiGHS spends longer on presolve and the root LP of
that model than the whole time budget (measured on the benchmark's national instance: 11 s of
presolve, 8-10 s for the root LP alone, no plan of its own within a 30 s limit). But only about 1,700 of them get a place, so the model is solved by decomposition,
where every step either finds a better plan or proves a bound:

1. *LP bound* ``D`` by column generation: HiGHS solves the LP over a growing set of columns,
   and the prices y of its rows price every candidate in one sparse product
   (``rc = value - A^T y``). For any y >= 0, ``D = y @ upper + sum(max(rc, 0))`` bounds the
   optimum, and a plan worth more than ``D - delta`` uses no column with ``rc < -delta``.
2. *Lagrangian bound* ``L``: with the LP's prices on seats and budget, the rest splits into
   independent blocks (an area with its people; a person outside any area), each a
   multiple-choice knapsack over person-days, solved exactly by dynamic programming over
   whole day units (HiGHS when the days have no common unit). The LP's gap lies mostly in
   rounding within the areas' caps, which ``L`` does not lose: on synthetic national instances
   ``D`` is 0.7-1.2 % above the plan found and ``L`` 0.2-0.45 % (longer HiGHS runs find plans
   within about 0.15 % of ``L``: the bound is tight, the search stops as soon as the plan is
   proven within ``mip_gap``).
3. *Incumbent*: HiGHS on a restricted model (the LP's support, the best reduced costs, the
   blocks' optimal solutions), warm-started with the best plan so far (the better baseline or
   the rounded LP), stopped as soon as its plan is within ``mip_gap`` of the bound
   (``objective_target``). On the national benchmark this settles it.
4. If the gap is still open (smaller instances, where seats and caps are fewer per area and
   rounding weighs more): subgradient steps on the prices of seats and budget lower ``L``
   (it is convex in them), and the block solutions met on the way join a wider restricted
   model (four times as many of the best reduced costs, every column a better block solution
   could use).
5. Then, if it has at most 40,000 columns, an exact model over every column a better plan can
   use (``rc >= -(D - incumbent)``), whose bound is then the optimum's.

``optimal`` is set only when the plan is proven within ``mip_gap`` of the smallest of these
bounds, and ``mip_gap`` is the gap to it. ``status`` is ``"Optimal"`` then; otherwise
``"Time limit reached"``, HiGHS's own status when a solve failed, or ``"Gap not closed"`` when
every step ran within the time limit and the gap stayed open.

Implementation notes
--------------------
* Sparsity: candidate pairs are found course by course over all staff (each course teaches a
  few competences), never as an ``n_staff x n_courses x n_comp`` array; pairs that cannot fit
  on their own (a course longer than the person's or the unit's cap, dearer than the budget, or
  without seats) are not candidates. The constraint matrix is built from COO arrays and passed
  whole (``passModel``); rows that cannot bind (a course with as many seats as candidates, a
  person whose candidate courses all fit) are left out.
* Scaling: the objective is divided by its largest coefficient and the budget and day rows by
  the largest cost and number of days, so HiGHS works on numbers of order one.
* Never worse than a baseline: the better baseline is the first incumbent and is handed to
  HiGHS as its start (``setSolution``); a plan replaces it only if it is strictly better and
  holds exactly (HiGHS works within tolerances; a plan that breaks a limit by a rounding error
  is cut back greedily).
* Determinism: HiGHS runs with ``random_seed=seed``; the greedy steps and the dynamic programme
  break ties by index. The same input and seed give the same plan unless the time limit cuts
  the search short (then how far it got depends on the machine).
* HiGHS prints its banner to stdout once per process, when its first model is created;
  ``output_flag`` silences everything after it.

This module never imports Django.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Any, Final

import highspy
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from ._validation import positive

__all__ = [
    "MAX_LEVEL",
    "TrainingPlan",
    "TrainingProblem",
    "evaluate",
    "first_come_first_served",
    "largest_gap_first",
    "plan_training",
]

#: Highest competence level (levels run 0–4).
MAX_LEVEL: Final = 4.0

_INF: Final = math.inf
#: Relative slack on the float limits (budget, days): sums in another order may differ in the last bits.
_TOL: Final = 1e-9


# --------------------------------------------------------------------------- validation


def _levels(value: Any, name: str) -> NDArray[np.float64]:
    arr = _matrix(value, name)
    if (arr > MAX_LEVEL).any():
        raise ValueError(f"{name} must hold levels between 0 and {MAX_LEVEL:g}")
    return arr


def _matrix(value: Any, name: str) -> NDArray[np.float64]:
    """A finite 2-D float array >= 0 (a copy, read-only) or ValueError naming ``name``."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    arr.setflags(write=False)
    return arr


def _vector(value: Any, name: str, n: int, *, allow_inf: bool = False) -> NDArray[np.float64]:
    """A 1-D float array of length ``n``, >= 0 (a copy, read-only) or ValueError naming ``name``."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"{name} must have {n} values, got {len(arr)}")
    if np.isnan(arr).any() or (not allow_inf and np.isinf(arr).any()):
        raise ValueError(f"{name} contains NaN" + ("" if allow_inf else " or infinite") + " values")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    arr.setflags(write=False)
    return arr


def _indices(value: Any, name: str, n: int) -> NDArray[np.int64]:
    """A 1-D array of ``n`` whole numbers (floats with integral values accepted), read-only."""
    try:
        raw = np.asarray(value)
        if raw.dtype == np.bool_:
            raise TypeError("booleans are not indices")
        arr = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold whole numbers: {exc}") from None
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be one-dimensional with {n} values, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr != np.floor(arr)).any():
        raise ValueError(f"{name} must hold whole numbers")
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


def _limit(value: Any, name: str) -> float:
    """A number >= 0, ``inf`` allowed (no limit)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a number >= 0 (inf: none), got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0 (inf: none), got {value!r}") from None
    if math.isnan(out) or out < 0:
        raise ValueError(f"{name} must be a number >= 0 (inf: none), got {value!r}")
    return out


def _fits(total: Any, limit: Any) -> Any:
    """``total <= limit`` up to the relative slack ``_TOL`` (elementwise; inf: no limit)."""
    return total <= limit + _TOL * np.maximum(1.0, np.abs(np.where(np.isfinite(limit), limit, 0.0)))


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True)
class TrainingProblem:
    """A training period's staff, their competences, the courses on offer and the limits.

    Arrays are copied and made read-only on construction; ``__post_init__`` checks shapes and
    values and raises ``ValueError`` naming the field.

    Attributes
    ----------
    current : ndarray, shape (n_staff, n_comp)
        Each person's level now (0–4) in each competence.
    required : ndarray, shape (n_staff, n_comp)
        The level the person's role profile requires (0: not required).
    weights : ndarray, shape (n_staff, n_comp)
        Weight of one level of gap (role criticality x area need x expiry), >= 0.
    gives : ndarray, shape (n_courses, n_comp)
        The level a participant reaches in the competence (0: the course does not teach it).
    seats : ndarray, shape (n_courses,)
        Places available in the period (whole numbers >= 0).
    cost : ndarray, shape (n_courses,)
        SEK per place, >= 0.
    days : ndarray, shape (n_courses,)
        Days away from the area per place, >= 0.
    group : ndarray of int, shape (n_staff,)
        Index of the area/unit whose time-away cap applies; -1: none.
    group_days : ndarray, shape (n_groups,)
        Person-days cap per group (``inf``: none).
    budget : float
        SEK for the whole plan (``inf``: no budget).
    max_days_per_person : float
        Days away per person (``inf``: no cap).
    order : ndarray of int or None
        Application order for :func:`first_come_first_served` (a permutation of the staff
        indices); None: 0..n_staff-1.
    """

    current: NDArray[np.float64]
    required: NDArray[np.float64]
    weights: NDArray[np.float64]
    gives: NDArray[np.float64]
    seats: NDArray[np.float64]
    cost: NDArray[np.float64]
    days: NDArray[np.float64]
    group: NDArray[np.int64]
    group_days: NDArray[np.float64]
    budget: float = _INF
    max_days_per_person: float = _INF
    order: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: the normalised arrays replace the inputs once, here
        current = _levels(self.current, "current")
        n_staff, n_comp = current.shape
        put(self, "current", current)
        for name in ("required", "weights"):
            arr = _levels(getattr(self, name), name) if name == "required" else _matrix(self.weights, name)
            if arr.shape != current.shape:
                raise ValueError(f"{name} must have the shape of current {current.shape}, got {arr.shape}")
            put(self, name, arr)
        gives = _levels(self.gives, "gives")
        if gives.shape[1] != n_comp:
            raise ValueError(f"gives must have {n_comp} columns (one per competence), got {gives.shape[1]}")
        put(self, "gives", gives)
        n_courses = gives.shape[0]
        seats = _vector(self.seats, "seats", n_courses)
        if (seats != np.floor(seats)).any():
            raise ValueError("seats must hold whole numbers")
        put(self, "seats", seats)
        put(self, "cost", _vector(self.cost, "cost", n_courses))
        put(self, "days", _vector(self.days, "days", n_courses))
        try:
            n_groups = len(self.group_days)
        except TypeError:
            raise ValueError("group_days must be one-dimensional") from None
        put(self, "group_days", _vector(self.group_days, "group_days", n_groups, allow_inf=True))
        group = _indices(self.group, "group", n_staff)
        if ((group < -1) | (group >= n_groups)).any():
            raise ValueError(f"group must hold -1 (none) or a group index 0..{n_groups - 1}")
        put(self, "group", group)
        put(self, "budget", _limit(self.budget, "budget"))
        put(self, "max_days_per_person", _limit(self.max_days_per_person, "max_days_per_person"))
        if self.order is not None:
            order = _indices(self.order, "order", n_staff)
            if not np.array_equal(np.sort(order), np.arange(n_staff)):
                raise ValueError("order must be a permutation of the staff indices 0..n_staff-1")
            put(self, "order", order)

    @property
    def n_staff(self) -> int:
        return int(self.current.shape[0])

    @property
    def n_comp(self) -> int:
        return int(self.current.shape[1])

    @property
    def n_courses(self) -> int:
        return int(self.gives.shape[0])

    @property
    def gaps(self) -> NDArray[np.float64]:
        """Levels short of the requirement: ``clip(required - current, 0, None)``, (n_staff, n_comp)."""
        return np.clip(self.required - self.current, 0.0, None)


@dataclass(frozen=True)
class TrainingPlan:
    """A set of course places, scored: what it closes, what it costs, how it was found.

    Attributes
    ----------
    pairs : ndarray of int, shape (n_places, 2)
        ``[staff index, course index]`` per place, sorted by staff, then course.
    closed : ndarray, shape (n_staff, n_comp)
        Levels of gap closed per person and competence.
    gap_closed : float
        Weighted gap closed, ``sum(weights * closed)``.
    gap_total : float
        Weighted gap before the plan, ``sum(weights * gaps)``.
    places, cost, days :
        Places, SEK and days away of the plan.
    optimal : bool
        The plan is proven within the requested MIP gap of the optimum (baselines: False).
    mip_gap : float
        Relative gap to the best proven upper bound, ``(bound - gap_closed) / gap_closed``:
        HiGHS's dual bound, or the LP and block bounds of the decomposition (baselines: NaN;
        inf without a bound).
    status : str
        ``"Optimal"`` (proven within the gap), ``"Time limit reached"``, ``"Gap not closed"``
        or another HiGHS model status (see the module docstring); ``"greedy"`` for the
        baselines, ``"given"`` for :func:`evaluate`.
    seconds : float
        Wall time of the call.
    method : str
        ``"highs"``, ``"largest_gap_first"``, ``"first_come_first_served"`` or ``"given"``.
    """

    pairs: NDArray[np.int64]
    closed: NDArray[np.float64]
    gap_closed: float
    gap_total: float
    places: int
    cost: float
    days: float
    optimal: bool
    mip_gap: float
    status: str
    seconds: float
    method: str

    @property
    def share_closed(self) -> float:
        """``gap_closed / gap_total`` (NaN when there is no gap)."""
        return self.gap_closed / self.gap_total if self.gap_total > 0 else math.nan


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class _Candidates:
    """Pairs worth something that fit on their own, sorted by (staff, course); their gaps closed."""

    staff: NDArray[np.int64]
    course: NDArray[np.int64]
    value: NDArray[np.float64]
    entry_var: NDArray[np.int64]  # (var, comp) with closure > 0, sorted by var then comp
    entry_comp: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.staff)


def _candidates(p: TrainingProblem) -> _Candidates:
    """Every (staff, course) pair with value > 0 that respects every limit on its own."""
    gaps = p.gaps
    n_staff, n_courses = p.n_staff, p.n_courses
    cap = np.full(n_staff, p.max_days_per_person)
    grouped = p.group >= 0
    cap[grouped] = np.minimum(cap[grouped], p.group_days[p.group[grouped]])
    staff_parts, course_parts, value_parts, ent_s, ent_c, ent_k = [], [], [], [], [], []
    for c in range(n_courses):
        ks = np.flatnonzero(p.gives[c] > 0)
        if not len(ks) or p.seats[c] < 1 or not _fits(p.cost[c], p.budget):
            continue
        # one course over all staff: (n_staff, few competences), never staff x courses x comps
        clo = np.clip(p.gives[c, ks] - p.current[:, ks], 0.0, gaps[:, ks])
        val = np.einsum("ij,ij->i", p.weights[:, ks], clo)
        ok = (val > 0) & _fits(p.days[c], cap)
        s = np.flatnonzero(ok)
        if not len(s):
            continue
        staff_parts.append(s)
        course_parts.append(np.full(len(s), c, dtype=np.int64))
        value_parts.append(val[s])
        rows, cols = np.nonzero(clo[s] > 0)
        ent_s.append(s[rows])
        ent_c.append(np.full(len(rows), c, dtype=np.int64))
        ent_k.append(ks[cols].astype(np.int64))
    if not staff_parts:
        empty_i = np.zeros(0, dtype=np.int64)
        return _Candidates(empty_i, empty_i, np.zeros(0), empty_i, empty_i)
    staff = np.concatenate(staff_parts).astype(np.int64)
    course = np.concatenate(course_parts)
    value = np.concatenate(value_parts)
    key = staff * n_courses + course
    order = np.argsort(key, kind="stable")
    key = key[order]
    e_key = np.concatenate(ent_s).astype(np.int64) * n_courses + np.concatenate(ent_c)
    e_var = np.searchsorted(key, e_key)
    e_comp = np.concatenate(ent_k)
    e_order = np.lexsort((e_comp, e_var))
    return _Candidates(staff[order], course[order], value[order], e_var[e_order], e_comp[e_order])


# --------------------------------------------------------------------------- scoring


def _check(
    p: TrainingProblem, staff: NDArray[np.int64], course: NDArray[np.int64], clo: NDArray[np.float64]
) -> str | None:
    """The first constraint the pairs break, as a sentence; None when the plan is feasible."""
    n_staff, n_courses = p.n_staff, p.n_courses
    key = staff * n_courses + course
    if len(np.unique(key)) != len(key):
        first = np.sort(key)[np.flatnonzero(np.diff(np.sort(key)) == 0)[0]]
        return f"staff {first // n_courses} takes course {first % n_courses} more than once"
    taken = np.bincount(course, minlength=n_courses)
    over = np.flatnonzero(taken > p.seats)
    if len(over):
        c = int(over[0])
        return f"course {c} has {int(taken[c])} places taken but {int(p.seats[c])} seats"
    spent = float(np.sum(p.cost[course]))
    if not _fits(spent, p.budget):
        return f"the plan costs {spent:,.2f} SEK, over the budget of {p.budget:,.2f}"
    away = np.bincount(staff, weights=p.days[course], minlength=n_staff)
    over = np.flatnonzero(~_fits(away, p.max_days_per_person))
    if len(over):
        s = int(over[0])
        return f"staff {s} is away {away[s]:g} days, over max_days_per_person={p.max_days_per_person:g}"
    g = p.group[staff]
    inside = g >= 0
    group_away = np.bincount(g[inside], weights=p.days[course[inside]], minlength=len(p.group_days))
    over = np.flatnonzero(~_fits(group_away, p.group_days))
    if len(over):
        k = int(over[0])
        return f"group {k} is away {group_away[k]:g} person-days, over group_days={p.group_days[k]:g}"
    touches = np.zeros((n_staff, p.n_comp), dtype=np.int64)
    np.add.at(touches, staff, (clo > 0).astype(np.int64))
    twice = np.argwhere(touches > 1)
    if len(twice):
        s, k = (int(v) for v in twice[0])
        return (
            f"staff {s} takes {int(touches[s, k])} courses that close the gap in competence {k} (at most one)"
        )
    return None


def _plan(
    p: TrainingProblem,
    pairs: NDArray[np.int64],
    *,
    optimal: bool,
    mip_gap: float,
    status: str,
    started: float,
    method: str,
) -> TrainingPlan:
    """Score and check a set of pairs (the one function behind every plan); ValueError if infeasible."""
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)
    staff, course = pairs[:, 0], pairs[:, 1]
    # (places, n_comp): places are few (bounded by the seats), so this stays small
    clo = _closure(p, pairs)
    broken = _check(p, staff, course, clo)
    if broken is not None:
        raise ValueError(f"the plan is infeasible: {broken}")
    closed = np.zeros_like(p.current)
    # levels do not add up across courses: a gap closed twice counts once (the larger closure)
    np.maximum.at(closed, staff, clo)
    closed.setflags(write=False)
    pairs.setflags(write=False)
    return TrainingPlan(
        pairs=pairs,
        closed=closed,
        gap_closed=float(np.sum(p.weights * closed)),
        gap_total=float(np.sum(p.weights * p.gaps)),
        places=len(pairs),
        cost=float(np.sum(p.cost[course])),
        days=float(np.sum(p.days[course])),
        optimal=optimal,
        mip_gap=mip_gap,
        status=status,
        seconds=time.perf_counter() - started,
        method=method,
    )


def _pairs_of(cand: _Candidates, chosen: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.column_stack([cand.staff[chosen], cand.course[chosen]]).astype(np.int64).reshape(-1, 2)


def evaluate(problem: TrainingProblem, pairs: ArrayLike) -> TrainingPlan:
    """Score any set of course places on the scale of :func:`plan_training` (``method="given"``).

    Parameters
    ----------
    problem : TrainingProblem
    pairs : array-like of int, shape (n_places, 2)
        ``[staff index, course index]`` per place (any order; pairs worth nothing are allowed).

    Returns
    -------
    TrainingPlan
        With ``optimal=False``, ``mip_gap=nan``, ``status="given"``.

    Raises
    ------
    ValueError
        If a pair is out of range or repeated, or the plan breaks a constraint (seats, budget,
        days per person, group days, at most one course per gap): the message says which.
    """
    started = time.perf_counter()
    try:
        arr = np.asarray(pairs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pairs must be numeric: {exc}") from None
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_places, 2), got {arr.shape}")
    if not np.isfinite(arr).all() or (arr != np.floor(arr)).any():
        raise ValueError("pairs must hold whole numbers")
    out = arr.astype(np.int64)
    if ((out[:, 0] < 0) | (out[:, 0] >= problem.n_staff)).any():
        raise ValueError(f"pairs: staff index out of range 0..{problem.n_staff - 1}")
    if ((out[:, 1] < 0) | (out[:, 1] >= problem.n_courses)).any():
        raise ValueError(f"pairs: course index out of range 0..{problem.n_courses - 1}")
    return _plan(
        problem, out, optimal=False, mip_gap=math.nan, status="given", started=started, method="given"
    )


# --------------------------------------------------------------------------- greedy plans


def _fill(
    p: TrainingProblem,
    cand: _Candidates,
    order: NDArray[np.int64],
    *,
    coupled: bool = True,
) -> NDArray[np.int64]:
    """Candidates in ``order``, each taken when it still fits next to those taken before.

    Fits means: a seat is left, the budget, the person's and the group's days allow it, and it
    closes no gap that a course the person already has closes (at most one per gap); with
    ``coupled=False`` seats and budget are ignored (a solution of the blocks of
    :func:`_lagrangian_bound`). Returns the taken candidate indices, sorted.
    """
    n = len(cand)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    course_l = cand.course.tolist()
    staff_l = cand.staff.tolist()
    comp_start = np.searchsorted(cand.entry_var, np.arange(n + 1)).tolist()
    comp_l = cand.entry_comp.tolist()
    seats_left = p.seats.astype(np.int64).tolist() if coupled else [len(cand)] * p.n_courses
    cost = p.cost.tolist()
    days = p.days.tolist()
    group = p.group.tolist()
    group_days = p.group_days.tolist()
    group_used = [0.0] * len(group_days)
    away: dict[int, float] = {}
    touched: dict[int, set[int]] = {}
    budget, person_cap = (p.budget if coupled else _INF), p.max_days_per_person

    def fits(total: float, limit: float) -> bool:
        return limit == _INF or total <= limit + _TOL * max(1.0, abs(limit))

    spent = 0.0
    chosen: list[int] = []

    def take(j: int) -> None:
        nonlocal spent
        c, s = course_l[j], staff_l[j]
        seats_left[c] -= 1
        spent += cost[c]
        away[s] = away.get(s, 0.0) + days[c]
        if group[s] >= 0:
            group_used[group[s]] += days[c]
        touched.setdefault(s, set()).update(comp_l[comp_start[j] : comp_start[j + 1]])
        chosen.append(j)

    for j in order.tolist():
        c, s = course_l[j], staff_l[j]
        if seats_left[c] <= 0 or not fits(spent + cost[c], budget):
            continue
        d, g = days[c], group[s]
        if not fits(away.get(s, 0.0) + d, person_cap):
            continue
        if g >= 0 and not fits(group_used[g] + d, group_days[g]):
            continue
        mine = touched.get(s)
        if mine is not None and not mine.isdisjoint(comp_l[comp_start[j] : comp_start[j + 1]]):
            continue
        take(j)
    return np.asarray(sorted(chosen), dtype=np.int64)


def _turns(cand: _Candidates, people: NDArray[np.int64]) -> NDArray[np.int64]:
    """Candidates person by person in ``people`` order, each person's best course first.

    A greedy pass over this order is the person-by-person rule of the baselines: each person in
    turn takes the most valuable course that still fits, repeatedly. One pass suffices because a
    course cannot add to a gap another chosen course already touches (at most one per gap), so
    its value does not change, and within a person's turn what no longer fits never fits again.
    """
    rank = np.empty(len(people), dtype=np.int64)
    rank[people] = np.arange(len(people))
    return np.lexsort((cand.course, -cand.value, rank[cand.staff])).astype(np.int64)


def _by_gap(p: TrainingProblem) -> NDArray[np.int64]:
    """Staff by weighted gap, largest first; ties: lower index first."""
    total = np.sum(p.weights * p.gaps, axis=1)
    return np.argsort(-total, kind="stable").astype(np.int64)


def _application_order(p: TrainingProblem) -> NDArray[np.int64]:
    return np.arange(p.n_staff, dtype=np.int64) if p.order is None else p.order


def _baseline(problem: TrainingProblem, people: NDArray[np.int64], method: str) -> TrainingPlan:
    started = time.perf_counter()
    cand = _candidates(problem)
    chosen = _fill(problem, cand, _turns(cand, people))
    return _plan(
        problem,
        _pairs_of(cand, chosen),
        optimal=False,
        mip_gap=math.nan,
        status="greedy",
        started=started,
        method=method,
    )


def largest_gap_first(problem: TrainingProblem) -> TrainingPlan:
    """Baseline: people by weighted gap, largest first, each getting the courses that close most of it.

    Each person in turn (ties: lower index first) repeatedly gets the fitting course that closes
    the most of their remaining weighted gap, within every constraint of :func:`plan_training`,
    until none adds anything or nothing fits; then the next person.

    Returns
    -------
    TrainingPlan
        ``method="largest_gap_first"``, ``status="greedy"``, ``optimal=False``, ``mip_gap=nan``.
    """
    return _baseline(problem, _by_gap(problem), "largest_gap_first")


def first_come_first_served(problem: TrainingProblem) -> TrainingPlan:
    """Baseline: people in application order (``problem.order``), no priority by gap across people.

    Each person in turn applies for the courses that close most of their own remaining gap, best
    first, and gets those that still have seats, budget and time away left.

    Returns
    -------
    TrainingPlan
        ``method="first_come_first_served"``, ``status="greedy"``, ``optimal=False``, ``mip_gap=nan``.
    """
    return _baseline(problem, _application_order(problem), "first_come_first_served")


# --------------------------------------------------------------------------- the model

# Row kinds of the constraint matrix; seats and budget couple the blocks (areas, ungrouped
# people), every other row lies within one block.
_SEATS: Final = 0
_BUDGET: Final = 1
_PERSON: Final = 2
_GROUP: Final = 3
_ONE: Final = 4


@dataclass(frozen=True)
class _Model:
    """``max cost @ x`` s.t. ``a @ x <= upper``, x binary: the objective and rows scaled to order one."""

    a: sparse.csc_matrix  # (rows, candidates)
    upper: NDArray[np.float64]
    kind: NDArray[np.int8]
    row_block: NDArray[np.int64]  # -1: a coupling row (seats, budget)
    col_block: NDArray[np.int64]
    n_blocks: int
    cost: NDArray[np.float64]
    vscale: float

    @property
    def n(self) -> int:
        return len(self.cost)


def _model(p: TrainingProblem, cand: _Candidates) -> _Model:
    """The constraint rows that can bind, as one sparse matrix (COO pieces, assembled once)."""
    n = len(cand)
    var = np.arange(n, dtype=np.int64)
    days = p.days[cand.course]
    n_groups = len(p.group_days)
    # a block is an area/unit, or a person outside any area: every non-coupling row is inside one
    staff_block = np.where(p.group >= 0, p.group, n_groups + np.arange(p.n_staff))
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []
    kinds: list[NDArray[np.int8]] = []
    blocks: list[NDArray[np.int64]] = []
    count = 0

    def add(
        local: NDArray[np.int64], col: NDArray[np.int64], val: Any, hi: Any, kind: int, block: Any
    ) -> None:
        nonlocal count
        hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
        rows.append(local + count)
        cols.append(col)
        vals.append(np.broadcast_to(np.asarray(val, dtype=np.float64), col.shape).copy())
        upper.append(hi)
        kinds.append(np.full(len(hi), kind, dtype=np.int8))
        blocks.append(np.broadcast_to(np.asarray(block, dtype=np.int64), hi.shape).copy())
        count += len(hi)

    def rows_for(owner: NDArray[np.int64], tight: NDArray[np.int64], size: int) -> NDArray[np.int64]:
        """Local row of each entry whose owner has a row (-1 where it has none)."""
        local = np.full(size, -1, dtype=np.int64)
        local[tight] = np.arange(len(tight))
        return np.where(owner >= 0, local[np.maximum(owner, 0)], -1)

    # seats: only courses with more candidates than seats
    tight = np.flatnonzero(np.bincount(cand.course, minlength=p.n_courses) > p.seats)
    if len(tight):
        r = rows_for(cand.course, tight, p.n_courses)
        sel = r >= 0
        add(r[sel], var[sel], 1.0, p.seats[tight], _SEATS, -1)
    # budget, scaled by the dearest place
    costs = p.cost[cand.course]
    cscale = float(costs.max()) if n else 0.0
    if math.isfinite(p.budget) and cscale > 0 and not _fits(float(costs.sum()), p.budget):
        dear = np.flatnonzero(costs > 0)
        add(
            np.zeros(len(dear), dtype=np.int64),
            var[dear],
            costs[dear] / cscale,
            p.budget / cscale,
            _BUDGET,
            -1,
        )
    dscale = float(days.max()) if n else 0.0
    if dscale > 0:
        # days per person: only people whose candidate courses do not all fit
        if math.isfinite(p.max_days_per_person):
            away = np.bincount(cand.staff, weights=days, minlength=p.n_staff)
            tight = np.flatnonzero(~_fits(away, p.max_days_per_person))
            if len(tight):
                r = rows_for(cand.staff, tight, p.n_staff)
                sel = (r >= 0) & (days > 0)
                cap = np.full(len(tight), p.max_days_per_person / dscale)
                add(r[sel], var[sel], days[sel] / dscale, cap, _PERSON, staff_block[tight])
        # person-days per group
        g = p.group[cand.staff]
        inside = g >= 0
        group_away = np.bincount(g[inside], weights=days[inside], minlength=n_groups)
        tight = np.flatnonzero(~_fits(group_away, p.group_days))
        if len(tight):
            r = rows_for(g, tight, n_groups)
            sel = (r >= 0) & (days > 0)
            add(r[sel], var[sel], days[sel] / dscale, p.group_days[tight] / dscale, _GROUP, tight)
    # at most one course per gap, where two or more candidates close it
    gap_key = cand.staff[cand.entry_var] * p.n_comp + cand.entry_comp
    uniq, inverse, counts = np.unique(gap_key, return_inverse=True, return_counts=True)
    multi = np.flatnonzero(counts >= 2)
    if len(multi):
        r = rows_for(inverse, multi, len(uniq))
        sel = r >= 0
        add(r[sel], cand.entry_var[sel], 1.0, np.ones(len(multi)), _ONE, staff_block[uniq[multi] // p.n_comp])
    cat = np.concatenate
    if rows:
        a = sparse.csc_matrix((cat(vals), (cat(rows), cat(cols))), shape=(count, n))
        a.sum_duplicates()
        row_upper, kind, row_block = cat(upper), cat(kinds), cat(blocks)
    else:
        a = sparse.csc_matrix((0, n))
        row_upper, kind, row_block = np.zeros(0), np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int64)
    vscale = float(cand.value.max()) if n else 1.0
    return _Model(
        a=a,
        upper=row_upper,
        kind=kind,
        row_block=row_block,
        col_block=staff_block[cand.staff],
        n_blocks=n_groups + p.n_staff,
        cost=cand.value / vscale,
        vscale=vscale,
    )


@dataclass(frozen=True)
class _Solved:
    status: str
    optimal: bool  # HiGHS status Optimal (within its gap)
    chosen: NDArray[np.int64] | None  # candidate indices of the incumbent (None: none found)
    bound: float  # dual bound, scaled objective units (inf: none)
    value: float  # objective of chosen, scaled units


def _solve_mip(
    m: _Model,
    cols: NDArray[np.int64],
    cost: NDArray[np.float64],
    *,
    start: NDArray[np.int64] | None,
    rows: NDArray[np.bool_] | None,
    mip_gap: float,
    abs_gap: float,
    deadline: float,
    seed: int,
    target: float = -_INF,
) -> _Solved:
    """HiGHS on the columns ``cols`` of ``m`` (objective ``cost[cols]``) and the rows ``rows``."""
    sub = m.a[:, cols].tocsr()
    if rows is not None:
        sub = sub[rows]
    upper = m.upper if rows is None else m.upper[rows]
    used = np.diff(sub.indptr) > 0  # rows without entries: nothing to say
    sub, upper = sub[used], upper[used]
    k, n_rows = len(cols), sub.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = k
    lp.num_row_ = n_rows
    lp.col_cost_ = np.ascontiguousarray(cost[cols])
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    lp.row_lower_ = np.full(n_rows, -_INF)
    lp.row_upper_ = np.ascontiguousarray(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
    lp.a_matrix_.index_ = sub.indices.astype(np.int32)
    lp.a_matrix_.value_ = sub.data.astype(np.float64)
    lp.a_matrix_.num_col_ = k
    lp.a_matrix_.num_row_ = n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(deadline - time.perf_counter(), 1e-3)))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("random_seed", int(seed))
    if math.isfinite(target):
        h.setOptionValue("objective_target", float(target))
    h.passModel(lp)
    if start is not None and len(start):
        x0 = np.isin(cols, start).astype(np.float64)
        h.setSolution(k, np.arange(k, dtype=np.int32), x0)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    chosen, value = None, -_INF
    if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        chosen = cols[x > 0.5]
        value = float(cost[chosen].sum())
    bound = float(info.mip_dual_bound)
    if not math.isfinite(bound) and model_status == highspy.HighsModelStatus.kOptimal:
        bound = value
    return _Solved(
        status=h.modelStatusToString(model_status),
        optimal=model_status == highspy.HighsModelStatus.kOptimal,
        chosen=chosen,
        bound=bound if math.isfinite(bound) else _INF,
        value=value,
    )


@dataclass(frozen=True)
class _Dual:
    y: NDArray[np.float64]  # row prices >= 0
    rc: NDArray[np.float64]  # reduced costs cost - a.T @ y, every candidate
    bound: float  # y @ upper + sum(max(rc, 0)): an upper bound on the optimum (scaled units)
    x: NDArray[np.float64]  # the LP solution (0 outside the columns generated)


def _lp_bound(m: _Model, initial: NDArray[np.int64], deadline: float) -> _Dual:
    """The LP relaxation by column generation: few of the candidates are ever worth a place.

    HiGHS solves the LP over a growing set of columns (warm-started from its last basis); the
    prices y of its rows give every candidate's reduced cost in one sparse product, and the
    columns with a positive one join. For *any* prices y >= 0 and binary (or [0, 1]) x,
    ``cost @ x = rc @ x + y @ (a @ x) <= sum(max(rc, 0)) + y @ upper``, so :attr:`_Dual.bound`
    is an upper bound on the optimum even if the loop stops early.
    """
    n_rows = len(m.upper)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = 0
    lp.num_row_ = n_rows
    lp.row_lower_ = np.full(n_rows, -_INF)
    lp.row_upper_ = m.upper
    lp.sense_ = highspy.ObjSense.kMaximize
    h.passModel(lp)
    in_model = np.zeros(m.n, dtype=bool)
    order: list[NDArray[np.int64]] = []

    def add(js: NDArray[np.int64]) -> None:
        sub = m.a[:, js]
        h.addCols(
            len(js),
            m.cost[js],
            np.zeros(len(js)),
            np.ones(len(js)),
            sub.nnz,
            sub.indptr[:-1].astype(np.int32),
            sub.indices.astype(np.int32),
            sub.data.astype(np.float64),
        )
        in_model[js] = True
        order.append(js)

    add(np.unique(initial))
    y = np.zeros(n_rows)
    batch = max(2_000, len(initial))
    for _ in range(100):
        h.setOptionValue("time_limit", float(max(deadline - time.perf_counter(), 1e-3)))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        y = np.clip(np.asarray(h.getSolution().row_dual, dtype=np.float64), 0.0, None)
        rc = m.cost - m.a.T @ y
        new = np.flatnonzero((rc > 1e-9) & ~in_model)
        if not len(new):
            break
        if len(new) > batch:
            new = np.sort(new[np.argsort(-rc[new], kind="stable")[:batch]])
        add(new)
    rc = m.cost - m.a.T @ y
    x = np.zeros(m.n)
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        x[np.concatenate(order)] = np.asarray(h.getSolution().col_value, dtype=np.float64)
    bound = float(y @ m.upper + np.maximum(rc, 0.0).sum())
    return _Dual(y=y, rc=rc, bound=bound, x=np.clip(x, 0.0, 1.0))


@dataclass(frozen=True)
class _Lagrangian:
    bound: float  # an upper bound on the optimum, scaled units (inf: none)
    solution: NDArray[np.int64]  # the blocks' best solutions (seats and budget ignored)
    columns: NDArray[np.int64]  # the columns any better block solution is made of


def _lagrangian_bound(
    p: TrainingProblem,
    cand: _Candidates,
    m: _Model,
    dual: _Dual,
    starts: list[NDArray[np.int64]],
    deadline: float,
    seed: int,
    prices: NDArray[np.float64] | None = None,
) -> _Lagrangian:
    """An upper bound that keeps the integrality of every area: seats and budget priced out.

    With the LP's prices y_c on the coupling rows (seats, budget), the rest splits into
    independent blocks (an area with its people, or one person outside any area), each a small
    integer program over person-days, days per person and at most one course per gap:
    ``optimum <= y_c @ upper_c + sum_b max_b`` (Lagrangian relaxation). Its gain over the LP
    bound is the rounding the LP gets wrong inside the areas' caps, where most of the LP's gap
    lies.

    Only columns that can matter are kept: those with a positive price-adjusted value, and in
    block b only those with ``rc >= P_b - D_b``, where ``D_b`` is the block's share of the LP
    bound and ``P_b`` the best block value among ``starts``: any block solution better than
    ``P_b`` uses no other column (``value <= D_b + rc_j`` for every column j it uses with
    rc_j < 0). The blocks are solved exactly by dynamic programming over days (when the days
    are whole multiples of a unit), else by HiGHS, a few blocks at a time.
    """
    coupling = m.row_block < 0
    local = ~coupling
    y = dual.y if prices is None else np.where(coupling, prices, dual.y)
    value = m.cost - m.a.T @ np.where(coupling, y, 0.0)
    rc = dual.rc if prices is None else m.cost - m.a.T @ y
    d_b = np.bincount(m.row_block[local], weights=(y * m.upper)[local], minlength=m.n_blocks)
    d_b += np.bincount(m.col_block, weights=np.maximum(rc, 0.0), minlength=m.n_blocks)
    # per block, the best of the given solutions (each feasible within the blocks)
    best_b = np.zeros(m.n_blocks)
    pick: list[NDArray[np.int64]] = []
    owner = np.full(m.n_blocks, -1)
    for i, start in enumerate(starts):
        mine = start[value[start] > 0]
        p_i = np.bincount(m.col_block[mine], weights=value[mine], minlength=m.n_blocks)
        owner = np.where(p_i > best_b, i, owner)
        best_b = np.maximum(best_b, p_i)
        pick.append(mine)
    kept = [mine[owner[m.col_block[mine]] == i] for i, mine in enumerate(pick)]
    start_cols = np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=np.int64)
    slack = np.maximum(d_b - best_b, 0.0) + 1e-9
    keep = (value > 1e-12) & (rc >= -slack[m.col_block])
    keep[start_cols] = True
    cols = np.flatnonzero(keep)
    fixed = float(y[coupling] @ m.upper[coupling])
    if not len(cols):
        return _Lagrangian(fixed, np.zeros(0, dtype=np.int64), cols)
    solved = _blocks_by_days(p, cand, m, cols, value)
    if solved is None:
        solved = _blocks_by_highs(m, cols, value, start_cols, local, deadline, seed)
    if solved is None:
        return _Lagrangian(_INF, start_cols, cols)
    return _Lagrangian(fixed + solved[0], solved[1], cols)


def _day_unit(days: NDArray[np.float64]) -> float | None:
    """The largest of 1, 1/2, 1/4, 1/10, 1/20, 1/100 days that every value is a whole multiple of."""
    for unit in (1.0, 0.5, 0.25, 0.1, 0.05, 0.01):
        steps = days / unit
        if np.all(np.abs(steps - np.round(steps)) <= 1e-9 * np.maximum(1.0, steps)):
            return unit
    return None


#: Most capacity steps (days / unit) of a block's dynamic programme before HiGHS takes over.
_DP_STEPS: Final = 20_000
#: Most feasible course sets of one person the dynamic programme enumerates before HiGHS takes over.
_PATTERNS: Final = 4_096


class _TooMany(Exception):
    """A person has too many feasible course sets to enumerate."""


def _blocks_by_days(
    p: TrainingProblem,
    cand: _Candidates,
    m: _Model,
    cols: NDArray[np.int64],
    value: NDArray[np.float64],
) -> tuple[float, NDArray[np.int64]] | None:
    """Every block's optimum by dynamic programming; None when the days have no common unit.

    Per person, every feasible set of the person's columns (within the person's days, at most
    one course per gap) is a *pattern*; the Pareto-best value per number of day units is kept.
    An area is then a multiple-choice knapsack over its person-days, solved exactly over whole
    day units (``f[c]``: the best value of the people so far within c units); a block without a
    cap takes every person's best pattern.
    """
    days_all = p.days[cand.course[cols]]
    unit = _day_unit(days_all)
    if unit is None:
        return None
    n_groups = len(p.group_days)
    caps = np.full(m.n_blocks, _INF)
    caps[:n_groups] = p.group_days
    steps_cap = np.where(np.isfinite(caps), np.floor(caps / unit + 1e-9 * np.maximum(1.0, caps / unit)), -1)
    if (steps_cap > _DP_STEPS).any():
        return None
    person_cap = p.max_days_per_person
    person_steps = (
        math.floor(person_cap / unit + 1e-9 * max(1.0, person_cap / unit))
        if math.isfinite(person_cap)
        else None
    )
    w_all = np.round(days_all / unit).astype(np.int64).tolist()
    v_all = value[cols].tolist()
    staff_all = cand.staff[cols].tolist()
    block_all = m.col_block[cols].tolist()
    comp_start = np.searchsorted(cand.entry_var, cols).tolist()
    comp_end = np.searchsorted(cand.entry_var, cols + 1).tolist()
    comp_l = cand.entry_comp.tolist()
    # cols are sorted by candidate index, i.e. by staff; group them by block, then staff
    order = sorted(range(len(cols)), key=lambda i: (block_all[i], staff_all[i]))
    total = 0.0
    chosen: list[int] = []
    i = 0
    count = len(order)
    while i < count:
        b = block_all[order[i]]
        people: list[list[tuple[int, float, tuple[int, ...]]]] = []
        while i < count and block_all[order[i]] == b:
            s = staff_all[order[i]]
            mine: list[int] = []
            while i < count and block_all[order[i]] == b and staff_all[order[i]] == s:
                mine.append(order[i])
                i += 1
            try:
                frontier = _patterns(
                    mine, w_all, v_all, comp_start, comp_end, comp_l, person_steps, steps_cap[b]
                )
            except _TooMany:
                return None
            people.append(frontier)
        cap = int(steps_cap[b])
        if cap < 0:
            # no area cap: each person's best pattern
            for frontier in people:
                w, v, pat = max(frontier, key=lambda e: e[1])
                total += v
                chosen.extend(pat)
            continue
        f = np.zeros(cap + 1)
        choices = []
        for frontier in people:
            new = f.copy()
            choice = np.full(cap + 1, -1, dtype=np.int64)
            for k, (w, v, _pat) in enumerate(frontier):
                if w > cap or v <= 0:
                    continue
                shifted = f[: cap + 1 - w] + v
                better = shifted > new[w:]
                new[w:][better] = shifted[better]
                choice[w:][better] = k
            f = new
            choices.append(choice)
        total += float(f[cap])
        c = cap
        for frontier, choice in zip(reversed(people), reversed(choices), strict=True):
            k = int(choice[c])
            if k >= 0:
                w, _v, pat = frontier[k]
                chosen.extend(pat)
                c -= w
    return total, np.sort(cols[np.asarray(chosen, dtype=np.int64)]) if chosen else np.zeros(0, dtype=np.int64)


def _patterns(
    mine: list[int],
    w_all: list[int],
    v_all: list[float],
    comp_start: list[int],
    comp_end: list[int],
    comp_l: list[int],
    person_steps: int | None,
    block_steps: float,
) -> list[tuple[int, float, tuple[int, ...]]]:
    """A person's feasible sets of columns, the best value per day units (Pareto frontier)."""
    limit = block_steps if block_steps >= 0 else _INF
    if person_steps is not None:
        limit = min(limit, person_steps)
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    comps = [frozenset(comp_l[comp_start[i] : comp_end[i]]) for i in mine]
    seen = [0]

    def extend(k: int, w: int, v: float, used: frozenset[int], pat: tuple[int, ...]) -> None:
        seen[0] += 1
        if seen[0] > _PATTERNS:
            raise _TooMany
        for j in range(k, len(mine)):
            i = mine[j]
            w2 = w + w_all[i]
            if w2 > limit or not used.isdisjoint(comps[j]):
                continue
            v2 = v + v_all[i]
            pat2 = (*pat, i)
            if v2 > best.get(w2, (-_INF, ()))[0]:
                best[w2] = (v2, pat2)
            extend(j + 1, w2, v2, used | comps[j], pat2)

    extend(0, 0, 0.0, frozenset(), ())
    frontier: list[tuple[int, float, tuple[int, ...]]] = []
    top = -_INF
    for w in sorted(best):
        v, pat = best[w]
        if v > top:
            frontier.append((w, v, pat))
            top = v
    return frontier


def _blocks_by_highs(
    m: _Model,
    cols: NDArray[np.int64],
    value: NDArray[np.float64],
    start: NDArray[np.int64],
    local: NDArray[np.bool_],
    deadline: float,
    seed: int,
    chunk: int = 100,
) -> tuple[float, NDArray[np.int64]] | None:
    """Every block's optimum by HiGHS, a few whole blocks per solve; None if one fails."""
    cols = cols[np.argsort(m.col_block[cols], kind="stable")]
    starts = np.r_[0, np.flatnonzero(np.diff(m.col_block[cols])) + 1]
    cuts = [0]
    for s in starts.tolist():
        if s - cuts[-1] >= chunk:
            cuts.append(s)
    cuts.append(len(cols))
    total = 0.0
    chosen: list[NDArray[np.int64]] = []
    for lo, hi in itertools.pairwise(cuts):
        part = np.sort(cols[lo:hi])
        solved = _solve_mip(
            m,
            part,
            value,
            start=np.intersect1d(start, part),
            rows=local,
            mip_gap=0.0,
            abs_gap=1e-9,
            deadline=deadline,
            seed=seed,
        )
        if not math.isfinite(solved.bound):
            return None
        total += solved.bound
        if solved.chosen is not None:
            chosen.append(solved.chosen)
    return total, (np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64))


def _subgradient(
    p: TrainingProblem,
    cand: _Candidates,
    m: _Model,
    dual: _Dual,
    lag: _Lagrangian,
    starts: list[NDArray[np.int64]],
    incumbent: float,
    gap_tol: float,
    deadline: float,
    seed: int,
    iterations: int = 20,
) -> tuple[float, NDArray[np.int64]]:
    """Lower the block bound by better prices for seats and budget (subgradient steps).

    The LP's prices are optimal for the LP, not for the blocks' bound ``L(y)``, which is convex
    in y: a step against its subgradient ``upper_c - A_c x(y)`` (Polyak's step length towards
    the incumbent, halved when two steps bring nothing) lowers it. Every block solution met on
    the way is a set of columns worth trying in the restricted MIP. Returns the lowest bound
    (scaled units) and those columns.
    """
    coupling = m.row_block < 0
    y = dual.y.copy()
    best_bound, current = lag.bound, lag
    found = [lag.solution]
    factor, stall = 1.0, 0
    for _ in range(iterations):
        if time.perf_counter() >= deadline or best_bound <= (1.0 + gap_tol) * incumbent:
            break
        x = np.zeros(m.n)
        x[current.solution] = 1.0
        step = (m.upper - m.a @ x)[coupling]
        y_c = y[coupling]
        step = np.where((y_c <= 0) & (step > 0), 0.0, step)  # prices stay >= 0
        norm = float(step @ step)
        if norm <= 0 or current.bound <= incumbent:
            break
        y[coupling] = np.maximum(0.0, y_c - factor * (current.bound - incumbent) / norm * step)
        current = _lagrangian_bound(p, cand, m, dual, starts, deadline, seed, prices=y)
        if not math.isfinite(current.bound):
            break
        found.append(current.solution)
        if current.bound < best_bound - 1e-12 * max(1.0, abs(best_bound)):
            best_bound, stall = current.bound, 0
        else:
            stall += 1
            if stall >= 2:
                factor, stall = factor / 2, 0
    return best_bound, np.unique(np.concatenate(found))


def _check_options(mip_gap: float, time_limit: float, seed: int) -> tuple[float, float, int]:
    try:
        gap = float(mip_gap)
    except (TypeError, ValueError):
        raise ValueError(f"mip_gap must be a number >= 0, got {mip_gap!r}") from None
    if not math.isfinite(gap) or gap < 0:
        raise ValueError(f"mip_gap must be a number >= 0, got {mip_gap!r}")
    limit = positive(time_limit, "time_limit")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**31:
        raise ValueError(f"seed must be a whole number 0..2**31-1, got {seed!r}")
    return gap, limit, int(seed)


#: Below this many candidates the whole model is solved at once.
_RESTRICTED: Final = 6_000
#: Columns of the restricted MIP: this share of the LP's support (at least _RESTRICTED_MIN),
#: the candidates with the best reduced costs.
_RESTRICTED_SHARE: Final = 1.25
_RESTRICTED_MIN: Final = 500
#: The wider restricted MIP takes this many times as many of the best reduced costs.
_WIDER: Final = 4
#: Most columns of the last, exact MIP.
_EXACT_MAX: Final = 40_000
#: Share of the remaining time the subgradient steps may take.
_SUBGRADIENT_SHARE: Final = 0.2


def plan_training(
    problem: TrainingProblem, *, mip_gap: float = 0.005, time_limit: float = 30.0, seed: int = 0
) -> TrainingPlan:
    """The training plan that closes the most weighted competence gap (HiGHS, mixed-integer program).

    The model and how it is solved are in the module docstring: a binary per (staff, course)
    pair worth something, within seats, budget, days away per person and per area/unit, and at
    most one course per gap; HiGHS on the whole model when it is small, else a decomposition
    with proven bounds. Started from the better of :func:`largest_gap_first` and
    :func:`first_come_first_served`, so the result is never worse than either.

    Parameters
    ----------
    problem : TrainingProblem
    mip_gap : float
        Relative gap at which the search stops (default 0.5 %); 0 asks for the proven optimum.
    time_limit : float
        Seconds for the whole call (> 0; HiGHS may overrun it by its presolve).
    seed : int
        HiGHS ``random_seed``; the same input and seed give the same plan (unless the time
        limit is hit).

    Returns
    -------
    TrainingPlan
        ``method="highs"``; ``optimal`` is True iff the plan is proven within ``mip_gap`` of the
        optimum; ``mip_gap`` is its relative gap to the best proven upper bound (HiGHS's dual
        bound, or the LP and block bounds of the decomposition); ``status`` as in the module
        docstring.

    Raises
    ------
    ValueError
        On bad options (naming them).
    """
    started = time.perf_counter()
    gap_tol, limit, seed_i = _check_options(mip_gap, time_limit, seed)
    deadline = started + limit
    cand = _candidates(problem)
    if len(cand) == 0:
        return _plan(
            problem,
            np.zeros((0, 2), dtype=np.int64),
            optimal=True,
            mip_gap=0.0,
            status="Optimal",
            started=started,
            method="highs",
        )
    m = _model(problem, cand)
    greedy = [
        _fill(problem, cand, _turns(cand, _by_gap(problem))),
        _fill(problem, cand, _turns(cand, _application_order(problem))),
    ]
    best = max(greedy, key=lambda c: float(m.cost[c].sum()))
    status, bound = "Optimal", _INF

    def gap_of(chosen: NDArray[np.int64], upper: float) -> float:
        return _rel_gap(float(m.cost[chosen].sum()), upper)

    def better(found: NDArray[np.int64] | None) -> None:
        nonlocal best
        if found is not None and float(m.cost[found].sum()) > float(m.cost[best].sum()):
            best = found

    if m.n <= _RESTRICTED:
        # small: the whole model at once
        solved = _solve_mip(
            m,
            np.arange(m.n),
            m.cost,
            start=best,
            rows=None,
            mip_gap=gap_tol,
            abs_gap=1e-9,
            deadline=deadline,
            seed=seed_i,
        )
        status, bound = solved.status, solved.bound
        better(_feasible(problem, cand, solved.chosen))
    else:
        dual = _lp_bound(m, np.concatenate([*greedy, _top_per_course(problem, cand)]), deadline)
        bound = dual.bound
        # rounding the LP: its whole columns first, then the fractional ones, then by reduced cost
        better(_fill(problem, cand, np.lexsort((-dual.rc, -dual.x)).astype(np.int64)))
        by_rc = np.argsort(-dual.rc, kind="stable")
        size = max(_RESTRICTED_MIN, int(_RESTRICTED_SHARE * np.count_nonzero(dual.x > 1e-9)))

        def is_open() -> bool:
            return gap_of(best, bound) > gap_tol and time.perf_counter() < deadline

        def restricted(cols: NDArray[np.int64], gap: float) -> None:
            """HiGHS on some columns, stopped once its plan is within the gap of the bound."""
            nonlocal bound, status
            cols = np.union1d(cols, best)
            solved = _solve_mip(
                m,
                cols,
                m.cost,
                start=best,
                rows=None,
                mip_gap=gap,
                abs_gap=1e-9,
                deadline=deadline,
                seed=seed_i,
                target=bound / (1.0 + gap_tol),
            )
            status = solved.status
            better(_feasible(problem, cand, solved.chosen))
            bound = min(bound, _restricted_bound(dual, cols, solved.bound))

        lag: _Lagrangian | None = None
        pool = np.zeros(0, dtype=np.int64)
        if is_open():
            # 1. the blocks' bound, with the LP rounded within the blocks as a start
            lp_order = np.lexsort((-dual.rc, -dual.x))
            value = m.cost - m.a.T @ np.where(m.row_block < 0, dual.y, 0.0)
            blocks_start = _fill(problem, cand, lp_order[value[lp_order] > 0], coupled=False)
            lag = _lagrangian_bound(problem, cand, m, dual, [best, blocks_start], deadline, seed_i)
            bound = min(bound, lag.bound)
            pool = lag.solution
        if is_open():
            # 2. the LP's support, the best reduced costs and the blocks' best solutions
            restricted(np.union1d(by_rc[:size], pool), 0.5 * gap_tol)
        if is_open() and lag is not None:
            # 3. better prices for seats and budget: a lower bound and more columns worth trying
            share = time.perf_counter() + _SUBGRADIENT_SHARE * (deadline - time.perf_counter())
            lag_bound, found = _subgradient(
                problem,
                cand,
                m,
                dual,
                lag,
                [best, blocks_start],
                float(m.cost[best].sum()),
                gap_tol,
                share,
                seed_i,
            )
            bound = min(bound, lag_bound)
            pool = np.union1d(pool, found)
        if is_open():
            # 4. wider: many more of the best reduced costs, every column a better block
            # solution could use
            cols = np.union1d(by_rc[: _WIDER * size], pool)
            if lag is not None:
                cols = np.union1d(cols, lag.columns)
            restricted(cols, gap_tol)
        if is_open():
            # 5. exact: every plan better than the incumbent uses only columns with
            # rc >= -(D - incumbent) (value <= D + rc_j), so HiGHS over them settles it
            incumbent = float(m.cost[best].sum())
            cols = np.union1d(np.flatnonzero(dual.rc >= -(dual.bound - incumbent) - 1e-9), best)
            if len(cols) <= _EXACT_MAX:  # beyond, HiGHS's presolve alone would overrun the time limit
                solved = _solve_mip(
                    m,
                    cols,
                    m.cost,
                    start=best,
                    rows=None,
                    mip_gap=gap_tol,
                    abs_gap=1e-9,
                    deadline=deadline,
                    seed=seed_i,
                )
                status = solved.status
                better(_feasible(problem, cand, solved.chosen))
                bound = min(bound, max(incumbent, solved.bound))
            elif time.perf_counter() < deadline:
                status = "Gap not closed"
    gap = gap_of(best, bound)
    optimal = gap <= gap_tol * (1.0 + 1e-9) + 1e-12
    if optimal:
        status = "Optimal"
    elif time.perf_counter() >= deadline:
        status = "Time limit reached"
    elif status in ("Optimal", "Target for objective reached"):
        status = "Gap not closed"  # every step ran; HiGHS settled the restricted models only
    return _plan(
        problem,
        _pairs_of(cand, best),
        optimal=optimal,
        mip_gap=gap,
        status=status,
        started=started,
        method="highs",
    )


def _restricted_bound(dual: _Dual, cols: NDArray[np.int64], restricted: float) -> float:
    """An upper bound from a MIP over some columns only: ``max(D - delta, restricted bound)``.

    ``delta`` is the least reduced-cost loss of a column left out: a solution using such a
    column is worth at most ``D - delta`` (``value <= D + rc_j``), any other lies within the
    columns solved.
    """
    out = np.ones(len(dual.rc), dtype=bool)
    out[cols] = False
    if not out.any():
        return restricted
    delta = -float(dual.rc[out].max())
    return max(dual.bound - delta, restricted)


def _top_per_course(p: TrainingProblem, cand: _Candidates) -> NDArray[np.int64]:
    """Per course, the twice-its-seats most valuable candidates: a start for the column generation."""
    order = np.lexsort((-cand.value, cand.course))
    start = np.searchsorted(cand.course[order], np.arange(p.n_courses + 1))
    rank = np.arange(len(order)) - np.repeat(start[:-1], np.diff(start))
    keep = rank < 2 * p.seats[cand.course[order]]
    return order[keep].astype(np.int64)


def _feasible(
    p: TrainingProblem, cand: _Candidates, chosen: NDArray[np.int64] | None
) -> NDArray[np.int64] | None:
    """``chosen`` when it holds exactly, else its greedy feasible part (HiGHS works within tolerances)."""
    if chosen is None:
        return None
    pairs = _pairs_of(cand, chosen)
    if _check(p, pairs[:, 0], pairs[:, 1], _closure(p, pairs)) is None:
        return chosen
    return _fill(p, cand, chosen[np.argsort(-cand.value[chosen], kind="stable")])


def _closure(p: TrainingProblem, pairs: NDArray[np.int64]) -> NDArray[np.float64]:
    """Levels each pair closes per competence, ``(n_pairs, n_comp)``."""
    staff, course = pairs[:, 0], pairs[:, 1]
    return np.clip(p.gives[course] - p.current[staff], 0.0, p.gaps[staff])


def _rel_gap(value: float, bound: float) -> float:
    """``(bound - value) / value``; 0 when the value meets the bound, inf without a value or bound."""
    if not math.isfinite(bound):
        return _INF
    if bound - value <= 1e-9 * max(1.0, abs(value)):
        return 0.0
    return (bound - value) / value if value > 0 else _INF
