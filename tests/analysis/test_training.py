"""Training plans: hand-computed cases, a brute-force oracle, every constraint, the baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from problembild.analysis import training
from problembild.analysis.training import (
    TrainingPlan,
    TrainingProblem,
    evaluate,
    first_come_first_served,
    largest_gap_first,
    plan_training,
)

# --------------------------------------------------------------------------- helpers


def small(**changes) -> TrainingProblem:
    """3 staff, 2 courses, 2 competences (the hand-computed case).

    gaps = [[2, 2], [2, 0], [1, 2]]; pair values: (0,0) 2, (0,1) 2, (1,0) 4, (2,0) 1, (2,1) 3;
    (1,1) closes nothing. Weighted gap before: 4 + 4 + 7 = 15.
    """
    args = {
        "current": [[1, 0], [0, 2], [2, 1]],
        "required": [[3, 2], [2, 2], [3, 3]],
        "weights": [[1, 1], [2, 1], [1, 3]],
        "gives": [[3, 0], [0, 2]],
        "seats": [1, 1],
        "cost": [100, 50],
        "days": [2, 1],
        "group": [-1, -1, -1],
        "group_days": [],
    }
    args.update(changes)
    return TrainingProblem(**args)


def random_problem(rng: np.random.Generator, n_staff: int, n_comp: int, n_courses: int, *, tight=True):
    """A random problem; ``tight`` draws seats, budget, days per person and group caps that bind."""
    required = rng.integers(1, 5, (n_staff, n_comp)) * (rng.random((n_staff, n_comp)) < 0.8)
    current = np.clip(required - rng.integers(0, 4, (n_staff, n_comp)), 0, 4)
    current = np.where(rng.random((n_staff, n_comp)) < 0.15, rng.integers(0, 5, (n_staff, n_comp)), current)
    weights = rng.choice([0.0, 0.5, 1.0, 2.0, 3.5], (n_staff, n_comp), p=[0.1, 0.2, 0.3, 0.3, 0.1])
    gives = np.zeros((n_courses, n_comp))
    for c in range(n_courses):
        ks = rng.choice(n_comp, rng.integers(1, min(3, n_comp) + 1), replace=False)
        gives[c, ks] = rng.integers(2, 5, len(ks))
    if rng.random() < 0.5:
        days = rng.integers(0, 5, n_courses).astype(float)
    else:
        days = np.round(rng.uniform(0.2, 4.0, n_courses), 3)  # no common day unit
    cost = np.round(rng.uniform(0, 10, n_courses), 2)
    n_groups = int(rng.integers(1, 3))
    group = rng.integers(-1, n_groups, n_staff)
    if tight:
        seats = rng.integers(1, n_staff + 1, n_courses) * (rng.random(n_courses) > 0.15).astype(float)
        budget = float(rng.uniform(0.3, 1.0) * cost.sum() * n_staff / 2) if rng.random() < 0.7 else math.inf
        max_days = float(rng.uniform(2, 8)) if rng.random() < 0.6 else math.inf
        share = rng.uniform(0.5, 2.5, n_groups) * n_staff / n_groups
        group_days = np.where(rng.random(n_groups) < 0.7, share, np.inf)
    else:
        seats = np.full(n_courses, float(n_staff))
        budget, max_days, group_days = math.inf, math.inf, np.full(n_groups, np.inf)
    return TrainingProblem(
        current=current,
        required=required,
        weights=weights,
        gives=gives,
        seats=seats,
        cost=cost,
        days=days,
        group=group,
        group_days=group_days,
        budget=budget,
        max_days_per_person=max_days,
        order=rng.permutation(n_staff),
    )


def brute_force(p: TrainingProblem) -> float:
    """The best weighted gap closed over every feasible set of pairs (depth-first, pruned)."""
    gaps = p.gaps
    pairs = []
    for s in range(p.n_staff):
        for c in range(p.n_courses):
            closure = np.clip(p.gives[c] - p.current[s], 0, gaps[s])
            value = float(np.dot(p.weights[s], closure))
            if value > 0:
                pairs.append((s, c, value, frozenset(np.flatnonzero(closure > 0).tolist())))
    tol = 1e-9
    best = 0.0

    def fits(total, limit):
        return total <= limit + tol * max(1.0, abs(limit)) if math.isfinite(limit) else True

    def go(i, value, seats, spent, away, group_away, touched):
        nonlocal best
        best = max(best, value)
        for j in range(i, len(pairs)):
            s, c, v, comps = pairs[j]
            g = int(p.group[s])
            d = float(p.days[c])
            if seats.get(c, 0) + 1 > p.seats[c] or not fits(spent + p.cost[c], p.budget):
                continue
            if not fits(away.get(s, 0.0) + d, p.max_days_per_person):
                continue
            if g >= 0 and not fits(group_away.get(g, 0.0) + d, p.group_days[g]):
                continue
            if comps & touched.get(s, frozenset()):
                continue
            seats2 = {**seats, c: seats.get(c, 0) + 1}
            away2 = {**away, s: away.get(s, 0.0) + d}
            group2 = {**group_away, g: group_away.get(g, 0.0) + d} if g >= 0 else group_away
            touched2 = {**touched, s: touched.get(s, frozenset()) | comps}
            go(j + 1, value + v, seats2, spent + p.cost[c], away2, group2, touched2)

    go(0, 0.0, {}, 0.0, {}, {}, {})
    return best


def assert_feasible(p: TrainingProblem, plan: TrainingPlan) -> None:
    """Every constraint, checked here independently of the module's own check."""

    def fits(total, limit):
        return total <= limit + 1e-9 * max(1.0, limit) if math.isfinite(limit) else True

    staff, course = plan.pairs[:, 0], plan.pairs[:, 1]
    assert len({(int(s), int(c)) for s, c in plan.pairs}) == len(plan.pairs)
    assert (np.bincount(course, minlength=p.n_courses) <= p.seats).all()
    assert fits(p.cost[course].sum(), p.budget)
    away = np.bincount(staff, weights=p.days[course], minlength=p.n_staff)
    assert all(fits(a, p.max_days_per_person) for a in away)
    for g in range(len(p.group_days)):
        assert fits(p.days[course[p.group[staff] == g]].sum(), p.group_days[g])
    closure = np.clip(p.gives[course] - p.current[staff], 0, p.gaps[staff])
    touches = np.zeros((p.n_staff, p.n_comp), dtype=int)
    np.add.at(touches, staff, (closure > 0).astype(int))
    assert touches.max(initial=0) <= 1, "two chosen courses close the same gap"
    # the score is the same objective for every plan
    assert plan.gap_closed == pytest.approx(float((closure * p.weights[staff]).sum()), abs=1e-9)
    assert plan.places == len(plan.pairs)
    assert plan.cost == pytest.approx(float(p.cost[course].sum()))
    assert plan.days == pytest.approx(float(p.days[course].sum()))
    assert list(map(tuple, plan.pairs)) == sorted(map(tuple, plan.pairs.tolist()))


@pytest.fixture(params=["restricted", "narrow"])
def decomposed(request, monkeypatch):
    """Send every model through the decomposition (LP bound, blocks, restricted MIPs).

    ``narrow``: restricted models too small to settle anything, so the wider and the exact
    steps run as well.
    """
    monkeypatch.setattr(training, "_RESTRICTED", 0)
    if request.param == "narrow":
        monkeypatch.setattr(training, "_RESTRICTED_SHARE", 0.2)
        monkeypatch.setattr(training, "_RESTRICTED_MIN", 1)
    return request.param


# --------------------------------------------------------------------------- hand-computed


def test_small_case_by_hand():
    p = small()
    assert p.gaps.tolist() == [[2, 2], [2, 0], [1, 2]]
    plan = plan_training(p, mip_gap=0.0)
    # course 0 to staff 1 (4), course 1 to staff 2 (3)
    assert plan.pairs.tolist() == [[1, 0], [2, 1]]
    assert plan.gap_closed == pytest.approx(7.0)
    assert plan.gap_total == pytest.approx(15.0)
    assert plan.cost == 150 and plan.days == 3 and plan.places == 2
    assert plan.closed.tolist() == [[0, 0], [2, 0], [0, 1]]
    assert plan.optimal and plan.mip_gap == 0.0 and plan.status == "Optimal" and plan.method == "highs"
    assert plan.share_closed == pytest.approx(7 / 15)


def test_small_case_baselines_by_hand():
    p = small()
    lgf = largest_gap_first(p)
    # weighted gaps 4, 4, 7: staff 2 first takes course 1 (3) and course 0 (1); nothing is left
    assert lgf.pairs.tolist() == [[2, 0], [2, 1]]
    assert lgf.gap_closed == pytest.approx(4.0)
    fcfs = first_come_first_served(p)
    # staff 0 applies first and gets both courses (2 + 2; tie: the lower course first)
    assert fcfs.pairs.tolist() == [[0, 0], [0, 1]]
    assert fcfs.gap_closed == pytest.approx(4.0)
    for plan, method in ((lgf, "largest_gap_first"), (fcfs, "first_come_first_served")):
        assert plan.method == method and plan.status == "greedy"
        assert not plan.optimal and math.isnan(plan.mip_gap)
    # the application order decides first come, first served
    assert first_come_first_served(small(order=[1, 2, 0])).pairs.tolist() == [[1, 0], [2, 1]]


def test_small_case_with_each_limit():
    # budget 120: both places (150) no longer fit; course 0 to staff 1 (4) is the best single one
    plan = plan_training(small(budget=120), mip_gap=0.0)
    assert plan.pairs.tolist() == [[1, 0]] and plan.gap_closed == pytest.approx(4.0) and plan.cost == 100
    # at most 2 days each: the optimum is unchanged, largest gap first loses course 0 for staff 2
    assert plan_training(small(max_days_per_person=2), mip_gap=0.0).gap_closed == pytest.approx(7.0)
    lgf = largest_gap_first(small(max_days_per_person=2))
    assert lgf.pairs.tolist() == [[0, 0], [2, 1]] and lgf.gap_closed == pytest.approx(5.0)
    # staff 0 and 1 share one person-day: course 0 (2 days) is out of their reach
    grouped = small(group=[0, 0, 1], group_days=[1.0, np.inf])
    plan = plan_training(grouped, mip_gap=0.0)
    assert plan.pairs.tolist() == [[2, 0], [2, 1]] and plan.gap_closed == pytest.approx(4.0)
    # no seats at all: nothing to plan
    empty = plan_training(small(seats=[0, 0]))
    assert empty.places == 0 and empty.gap_closed == 0 and empty.optimal and empty.pairs.shape == (0, 2)


def test_at_most_one_course_per_gap():
    # one person 3 levels short; course A brings them to 2, course B to 3: together they would
    # count 5 levels for a gap of 3
    p = TrainingProblem(
        current=[[0.0]],
        required=[[3.0]],
        weights=[[1.0]],
        gives=[[2.0], [3.0]],
        seats=[1, 1],
        cost=[1, 1],
        days=[1, 1],
        group=[-1],
        group_days=[],
    )
    for plan in (plan_training(p, mip_gap=0.0), largest_gap_first(p), first_come_first_served(p)):
        assert plan.pairs.tolist() == [[0, 1]]
        assert plan.gap_closed == pytest.approx(3.0)
        assert plan.closed.tolist() == [[3.0]]
    with pytest.raises(ValueError, match="at most one"):
        evaluate(p, [[0, 0], [0, 1]])


# --------------------------------------------------------------------------- oracle


@pytest.mark.parametrize("seed", range(60))
def test_optimum_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(
        rng, int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(2, 4)), tight=seed % 6 != 0
    )
    expected = brute_force(p)
    plan = plan_training(p, mip_gap=0.0)
    assert plan.gap_closed == pytest.approx(expected, abs=1e-9)
    assert plan.optimal
    assert_feasible(p, plan)
    for base in (largest_gap_first(p), first_come_first_served(p)):
        assert_feasible(p, base)
        assert base.gap_closed <= expected + 1e-9
        assert base.gap_closed <= plan.gap_closed + 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_decomposition_equals_brute_force(seed, decomposed):
    """The LP and block bounds are valid: with mip_gap=0 the decomposition reaches the optimum."""
    rng = np.random.default_rng(1000 + seed)
    p = random_problem(rng, int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(2, 4)))
    plan = plan_training(p, mip_gap=0.0)
    assert plan.gap_closed == pytest.approx(brute_force(p), abs=1e-9)
    assert plan.optimal and plan.mip_gap == 0.0
    assert_feasible(p, plan)


# --------------------------------------------------------------------------- a medium instance


def medium(seed: int = 7) -> TrainingProblem:
    """300 staff, 12 competences, 10 courses, with seats, budget and day caps that bind."""
    rng = np.random.default_rng(seed)
    n_staff, n_comp, n_courses = 300, 12, 10
    required = rng.integers(1, 5, (n_staff, n_comp)) * (rng.random((n_staff, n_comp)) < 0.5)
    current = np.clip(
        required - rng.integers(0, 4, (n_staff, n_comp)) * (rng.random((n_staff, n_comp)) < 0.4), 0, 4
    )
    weights = rng.integers(1, 4, (n_staff, n_comp)) * rng.choice([1.0, 1.3, 2.0], (n_staff, n_comp))
    gives = np.zeros((n_courses, n_comp))
    for c in range(n_courses):
        ks = rng.choice(n_comp, rng.integers(1, 4), replace=False)
        gives[c, ks] = rng.integers(2, 5, len(ks))
    days = rng.integers(1, 8, n_courses).astype(float)
    cost = rng.integers(20, 300, n_courses) * 100.0
    seats = rng.integers(5, 20, n_courses).astype(float)
    group = rng.integers(-1, 6, n_staff)
    return TrainingProblem(
        current=current,
        required=required,
        weights=weights,
        gives=gives,
        seats=seats,
        cost=cost,
        days=days,
        group=group,
        group_days=np.array([40.0, 25.5, 60.0, np.inf, 30.0, 45.0]),
        budget=0.5 * float(seats @ cost),
        max_days_per_person=8.0,
        order=rng.permutation(n_staff),
    )


@pytest.mark.parametrize("path", ["whole", "decomposed"])
def test_medium_instance_respects_every_constraint(path, monkeypatch):
    if path == "decomposed":
        monkeypatch.setattr(training, "_RESTRICTED", 0)
    p = medium()
    plan = plan_training(p)
    lgf, fcfs = largest_gap_first(p), first_come_first_served(p)
    for each in (plan, lgf, fcfs):
        assert_feasible(p, each)
    assert plan.optimal and plan.mip_gap <= 0.005
    assert plan.gap_closed >= max(lgf.gap_closed, fcfs.gap_closed)
    # every limit binds somewhere, so the test means something
    staff, course = plan.pairs[:, 0], plan.pairs[:, 1]
    assert (np.bincount(course, minlength=p.n_courses) == p.seats).any()
    assert plan.cost > 0.9 * p.budget
    group_away = np.bincount(p.group[staff][p.group[staff] >= 0], weights=p.days[course][p.group[staff] >= 0])
    assert (group_away[: len(p.group_days)] > p.group_days[: len(group_away)] - 8).any()
    # each scored by the one function: evaluate agrees
    for each in (plan, lgf, fcfs):
        assert evaluate(p, each.pairs).gap_closed == pytest.approx(each.gap_closed)


def test_a_course_never_closes_more_than_the_gap():
    p = medium(3)
    for plan in (plan_training(p), largest_gap_first(p), first_come_first_served(p)):
        assert (plan.closed >= 0).all()
        assert (plan.closed <= p.gaps + 1e-12).all()
        assert (plan.closed[p.gaps == 0] == 0).all()
        assert plan.gap_closed <= plan.gap_total + 1e-9


@pytest.mark.parametrize("path", ["whole", "decomposed"])
def test_deterministic(path, monkeypatch):
    if path == "decomposed":
        monkeypatch.setattr(training, "_RESTRICTED", 0)
    p = medium(11)
    a, b = plan_training(p, seed=3), plan_training(p, seed=3)
    assert np.array_equal(a.pairs, b.pairs)
    assert a.gap_closed == b.gap_closed and a.mip_gap == b.mip_gap and a.status == b.status
    assert np.array_equal(largest_gap_first(p).pairs, largest_gap_first(p).pairs)


def test_decomposition_matches_the_whole_model(decomposed, monkeypatch):
    p = medium(5)
    decomposed_plan = plan_training(p, mip_gap=0.0, time_limit=60)
    monkeypatch.setattr(training, "_RESTRICTED", 10**9)
    whole = plan_training(p, mip_gap=0.0, time_limit=60)
    assert whole.optimal
    assert decomposed_plan.gap_closed == pytest.approx(whole.gap_closed, rel=1e-9)


# --------------------------------------------------------------------------- evaluate


def test_evaluate_scores_and_rejects():
    p = small()
    given = evaluate(p, [[2, 1], [1, 0]])
    assert given.method == "given" and given.status == "given" and not given.optimal
    assert given.pairs.tolist() == [[1, 0], [2, 1]] and given.gap_closed == pytest.approx(7.0)
    # a pair worth nothing is allowed and scores 0
    assert evaluate(p, [[1, 1]]).gap_closed == 0.0
    assert evaluate(p, np.zeros((0, 2))).places == 0
    with pytest.raises(ValueError, match="seats"):
        evaluate(p, [[0, 0], [1, 0]])
    with pytest.raises(ValueError, match="budget"):
        evaluate(small(budget=120), [[1, 0], [2, 1]])
    with pytest.raises(ValueError, match="max_days_per_person"):
        evaluate(small(max_days_per_person=2), [[2, 0], [2, 1]])
    with pytest.raises(ValueError, match="group_days"):
        evaluate(small(group=[0, 0, 1], group_days=[1.0, np.inf]), [[1, 0]])
    with pytest.raises(ValueError, match="more than once"):
        evaluate(small(seats=[2, 2]), [[1, 0], [1, 0]])
    with pytest.raises(ValueError, match="staff index"):
        evaluate(p, [[3, 0]])
    with pytest.raises(ValueError, match="course index"):
        evaluate(p, [[0, -1]])
    with pytest.raises(ValueError, match="shape"):
        evaluate(p, [1, 0])


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"current": [[1, 0], [0, 2]]}, "required"),
        ({"current": [[1, 0], [0, 5], [2, 1]]}, "current"),
        ({"current": [1, 0, 2]}, "current"),
        ({"required": [[3, 2], [2, 2], [3, -1]]}, "required"),
        ({"weights": [[1, 1], [2, np.nan], [1, 3]]}, "weights"),
        ({"weights": [[1, 1], [2, -1], [1, 3]]}, "weights"),
        ({"gives": [[3, 0, 1], [0, 2, 1]]}, "gives"),
        ({"gives": [[3, 0], [0, "x"]]}, "gives"),
        ({"seats": [1]}, "seats"),
        ({"seats": [1.5, 1]}, "seats"),
        ({"seats": [np.inf, 1]}, "seats"),
        ({"cost": [100, -1]}, "cost"),
        ({"days": [2, np.nan]}, "days"),
        ({"group": [0, -1, -1], "group_days": []}, "group"),
        ({"group": [-2, -1, -1]}, "group"),
        ({"group": [0.5, -1, -1], "group_days": [1.0]}, "group"),
        ({"group": [-1, -1]}, "group"),
        ({"group": [0, -1, -1], "group_days": [-1.0]}, "group_days"),
        ({"group": [0, -1, -1], "group_days": [np.nan]}, "group_days"),
        ({"budget": -1}, "budget"),
        ({"budget": np.nan}, "budget"),
        ({"max_days_per_person": -0.5}, "max_days_per_person"),
        ({"order": [0, 0, 1]}, "order"),
        ({"order": [0, 1]}, "order"),
    ],
)
def test_validation_names_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        small(**change)


def test_problem_arrays_are_copied_and_read_only():
    current = np.array([[1.0, 0.0], [0.0, 2.0], [2.0, 1.0]])
    p = small(current=current, group=np.array([0, 0, -1]), group_days=[np.inf])
    current[0, 0] = 4.0
    assert p.current[0, 0] == 1.0
    assert p.group.dtype == np.int64 and p.order is None
    with pytest.raises(ValueError):
        p.current[0, 0] = 2.0
    assert p.budget == math.inf and p.max_days_per_person == math.inf


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"mip_gap": -0.1}, "mip_gap"),
        ({"time_limit": 0}, "time_limit"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_options_are_checked(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plan_training(small(), **kwargs)


def test_block_dynamic_programme_equals_highs():
    """The blocks' optimum by dynamic programming over day units is HiGHS's, block by block."""
    p = medium(9)
    cand = training._candidates(p)
    m = training._model(p, cand)
    dual = training._lp_bound(m, np.arange(m.n), math.inf)
    coupling = m.row_block < 0
    value = m.cost - m.a.T @ np.where(coupling, dual.y, 0.0)
    cols = np.flatnonzero(value > 1e-12)
    by_days = training._blocks_by_days(p, cand, m, cols, value)
    by_highs = training._blocks_by_highs(m, cols, value, np.zeros(0, dtype=np.int64), ~coupling, math.inf, 0)
    assert by_days is not None and by_highs is not None
    assert by_days[0] == pytest.approx(by_highs[0], rel=1e-9)
    # the programme's solution is feasible within the blocks and worth what it says
    assert float(value[by_days[1]].sum()) == pytest.approx(by_days[0], rel=1e-9)
    sub = m.a[:, by_days[1]][~coupling]
    used = np.asarray(sub.sum(axis=1)).ravel()
    assert (used <= m.upper[~coupling] + 1e-9).all()
    # days without a common unit: no programme (HiGHS takes over)
    fractional = TrainingProblem(**{**_fields(p), "days": p.days + 0.1234})
    cand_f = training._candidates(fractional)
    m_f = training._model(fractional, cand_f)
    assert training._blocks_by_days(fractional, cand_f, m_f, np.arange(m_f.n), m_f.cost) is None


def _fields(p: TrainingProblem) -> dict:
    return {f: getattr(p, f) for f in TrainingProblem.__dataclass_fields__}
