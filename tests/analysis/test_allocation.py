"""Officer allocation (floors, caps, turnover, robust need) and shift plans over the week."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problembild.analysis.allocation import (
    REASONS,
    _allocate_hours_blocks,
    allocate_hours,
    allocate_officers,
    coverage,
    marginal_values,
    proportional_allocation,
)

# --------------------------------------------------------------------------- helpers


def floors_of(residents, rpo=5000, applies=None):
    res = np.asarray(residents, dtype=float)
    f = np.where(np.isnan(res), 0, np.ceil(np.nan_to_num(res) / rpo)).astype(int)
    return f if applies is None else np.where(applies, f, 0)


def brute(need, residents, available, *, current=None, cap=None, max_change=None, applies=None):
    """Lexicographic optimum (turnover relaxation, floor shortfall, -coverage) by enumeration."""
    need = np.asarray(need, dtype=float)
    n = len(need)
    caps = np.full(n, np.inf) if cap is None else np.asarray(cap, dtype=float)
    floors = floors_of(residents, applies=applies)
    best_key, best_x = None, None
    for combo in itertools.product(*[range(int(min(available, caps[a])) + 1) for a in range(n)]):
        x = np.array(combo)
        if x.sum() > available:
            continue
        excess = 0
        if max_change is not None:
            if np.ndim(max_change) == 0:
                excess = max(0, int(np.maximum(current - x, 0).sum()) - max_change)
            else:
                limit = np.asarray(max_change, dtype=float)
                if (x > current + limit).any():
                    continue
                excess = int(np.maximum(current - limit - x, 0).sum())
        short = int(np.maximum(floors - x, 0).sum())
        cov = float(np.sum(need * np.log1p(x)))
        key = (excess, short, -cov)
        if (
            best_key is None
            or key[:2] < best_key[:2]
            or (key[:2] == best_key[:2] and key[2] < best_key[2] - 1e-9 * max(1.0, abs(key[2])))
        ):
            best_key, best_x = key, x
    return best_key, best_x


def greedy(need, available, cap=None):
    """Officers one at a time to the largest marginal value; ties to the earlier area."""
    need = np.asarray(need, dtype=float)
    caps = np.full(len(need), np.inf) if cap is None else np.asarray(cap, dtype=float)
    x = np.zeros(len(need), dtype=int)
    heap = [(-need[a] * math.log(2.0), a) for a in range(len(need)) if caps[a] > 0 and need[a] > 0]
    heapq.heapify(heap)
    for _ in range(available):
        if not heap:
            break
        _, a = heapq.heappop(heap)
        x[a] += 1
        if x[a] < caps[a]:
            heapq.heappush(heap, (-need[a] * math.log1p(1.0 / (x[a] + 1)), a))
    return x


def random_instance(rng, *, floors=True, turnover=True):
    n = int(rng.integers(1, 5))
    available = int(rng.integers(0, 9))
    need = np.round(rng.gamma(1.0, 3.0, n) * (rng.random(n) > 0.2), 1)
    residents = np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 15_000, n).astype(float))
    if not floors:
        residents = np.full(n, np.nan)
    cap = np.where(rng.random(n) < 0.5, rng.integers(0, 5, n), np.inf) if rng.random() < 0.6 else None
    current = rng.integers(0, 4, n) if turnover and rng.random() < 0.7 else None
    max_change = None
    if current is not None and rng.random() < 0.8:
        if rng.random() < 0.5:
            max_change = int(rng.integers(0, 4))
        else:
            max_change = np.where(rng.random(n) < 0.7, rng.integers(0, 3, n), np.inf)
    return dict(
        need=need, residents=residents, available=available, current=current, cap=cap, max_change=max_change
    )


# --------------------------------------------------------------------------- objective and proportional


def test_coverage_and_marginal_values():
    need = pd.Series({"a": 2.0, "b": 1.0, "c": 0.0})
    x = pd.Series({"c": 5, "a": 1, "b": 0})  # aligned on need's index
    assert coverage(x, need) == pytest.approx(2 * math.log(2))
    m = marginal_values(x, need)
    assert list(m.index) == ["a", "b", "c"]
    assert m["a"] == pytest.approx(2 * math.log(3 / 2)) and m["b"] == pytest.approx(math.log(2))
    assert m["c"] == 0.0
    assert isinstance(marginal_values([0, 1], [1.0, 1.0]), np.ndarray)
    with pytest.raises(ValueError, match="officers must be >= 0"):
        coverage([-1], [1.0])
    with pytest.raises(ValueError, match="need must be >= 0"):
        coverage([1], [-1.0])


def test_proportional_allocation_largest_remainders_ties_and_caps():
    # quotas 3.5, 2.1, 1.4 -> 3, 2, 1 and the one left goes to the largest remainder (0.5)
    assert proportional_allocation([5, 3, 2], 7).tolist() == [4, 2, 1]
    # equal remainders: the earlier area
    assert proportional_allocation([1, 1, 1], 2).tolist() == [1, 1, 0]
    # a capped area's excess is shared over the others in proportion to need
    assert proportional_allocation([10, 1, 1], 6, cap=[2, np.inf, np.inf]).tolist() == [2, 2, 2]
    assert proportional_allocation([10, 1, 1], 6, cap=2).tolist() == [2, 2, 2]
    # more officers than all caps: the rest stays unallocated; zero need gets none
    assert proportional_allocation([3, 1, 0], 10, cap=[2, 3, 5]).tolist() == [2, 3, 0]
    assert proportional_allocation([0, 0], 5).tolist() == [0, 0]
    out = proportional_allocation(pd.Series({"x": 1.0, "y": 3.0}), 4)
    assert out.to_dict() == {"x": 1, "y": 3} and out.dtype == np.int64
    with pytest.raises(ValueError, match="available must be a whole number"):
        proportional_allocation([1, 2], 2.5)
    with pytest.raises(ValueError, match="cap must hold whole numbers"):
        proportional_allocation([1, 2], 3, cap=[1.5, 2])


# --------------------------------------------------------------------------- optimum vs brute force


@pytest.mark.parametrize("seed", range(60))
def test_matches_brute_force_lexicographic_optimum(seed):
    rng = np.random.default_rng(seed)
    kw = random_instance(rng)
    res = allocate_officers(
        kw["need"],
        kw["residents"],
        kw["available"],
        current=kw["current"],
        cap=kw["cap"],
        max_change=kw["max_change"],
    )
    (excess, short, neg_cov), _ = brute(**kw)
    x = res.officers
    assert res.turnover_excess == excess and res.feasible == (excess == 0)
    assert res.shortfall_total == short and res.floors_met == (short == 0)
    assert res.objective == pytest.approx(-neg_cov, rel=2e-4, abs=1e-9)
    assert res.optimal
    # every hard constraint holds
    assert x.sum() <= kw["available"] and (x >= 0).all()
    if kw["cap"] is not None:
        assert (x <= kw["cap"]).all()
    if kw["max_change"] is not None and np.ndim(kw["max_change"]) == 1:
        assert (x <= kw["current"] + kw["max_change"]).all()
    if kw["current"] is not None:
        assert res.turnover == int(np.maximum(kw["current"] - x, 0).sum())
        if kw["max_change"] is not None and np.ndim(kw["max_change"]) == 0:
            assert res.turnover <= kw["max_change"] + res.turnover_excess
    assert res.unallocated == kw["available"] - x.sum()
    assert set(itertools.chain.from_iterable(e.reasons for e in res.explanations.values())) <= set(REASONS)


@pytest.mark.parametrize("seed", range(25))
def test_greedy_marginal_allocation_is_the_optimum_without_floors_or_turnover(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 7))
    need = rng.gamma(1.0, 5.0, n)
    cap = np.where(rng.random(n) < 0.4, rng.integers(0, 6, n), np.inf)
    available = int(rng.integers(0, 25))
    res = allocate_officers(need, np.full(n, np.nan), available, cap=cap)
    assert res.officers.tolist() == greedy(need, available, cap).tolist()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    need=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6),
    available=st.integers(0, 30),
    cap_seed=st.integers(0, 2**16),
)
def test_never_below_proportional_rounding_without_floors(need, available, cap_seed):
    rng = np.random.default_rng(cap_seed)
    n = len(need)
    cap = np.where(rng.random(n) < 0.5, rng.integers(0, 8, n), np.inf)
    res = allocate_officers(need, np.full(n, np.nan), available, cap=cap)
    prop = proportional_allocation(need, available, cap=cap)
    assert res.objective >= coverage(prop, need) * (1 - 2e-4) - 1e-9
    assert res.baselines["proportional"]["coverage"] == pytest.approx(coverage(prop, need))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    need=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6),
    residents=st.lists(st.integers(0, 25_000), min_size=6, max_size=6),
    available=st.integers(0, 20),
)
def test_with_floors_lexicographically_no_worse_than_proportional(need, residents, available):
    n = len(need)
    res_arr = np.asarray(residents[:n], dtype=float)
    res = allocate_officers(need, res_arr, available)
    prop = proportional_allocation(need, available)
    prop_short = int(np.maximum(floors_of(res_arr) - prop, 0).sum())
    assert res.shortfall_total <= prop_short
    if res.shortfall_total == prop_short:
        assert res.objective >= coverage(prop, need) * (1 - 2e-4) - 1e-9
    assert res.baselines["proportional"]["shortfall_total"] == prop_short


# --------------------------------------------------------------------------- floors, ties, edge cases


def test_infeasible_floors_give_the_least_shortfall_and_name_the_areas():
    need = pd.Series({"Alby": 5.0, "Fittja": 1.0, "Hjulsta": 1.0})
    residents = pd.Series({"Alby": 12_400, "Fittja": 9_000, "Hjulsta": 4_000})  # floors 3, 2, 1
    res = allocate_officers(need, residents, 4)
    assert res.floors.tolist() == [3, 2, 1]
    assert res.shortfall_total == 2 and not res.floors_met
    assert res.officers.sum() == 4 and (res.officers <= res.floors).all()
    short = res.shortfall[res.shortfall > 0]
    assert short.sum() == 2
    assert any("floors not met" in m and "short" in m for m in res.messages)
    for area in short.index:
        assert area in " ".join(res.messages)
        e = res.explanations[area]
        assert e.reasons[0] == "floor_short" and e.shortfall == short[area]
        assert "saknas eftersom poliserna inte räcker till alla golv" in e.text("sv")
        assert "short because there are not enough officers for every floor" in e.text("en")


def test_floor_boundaries_and_floor_applies():
    res = allocate_officers([0.0, 0.0, 0.0, 0.0], [5000, 5001, 0, np.nan], 10)
    assert res.floors[:3].tolist() == [1, 2, 0] and math.isnan(res.floors[3])
    assert res.officers.tolist() == [1, 2, 0, 0]  # zero need: floors only, the rest unallocated
    assert res.unallocated == 7 and any("unallocated" in m for m in res.messages)
    assert any("residents unknown" in m for m in res.messages)
    assert "no_floor_unknown_population" in res.explanations[3].reasons
    only = allocate_officers([0.0, 0.0], [20_000, 20_000], 10, floor_applies=[True, False])
    assert only.officers.tolist() == [4, 0] and math.isnan(only.floors[1])
    assert "no_floor_unknown_population" not in only.explanations[1].reasons


def test_ties_are_deterministic_and_go_to_earlier_areas():
    first = allocate_officers([2.0, 2.0, 2.0], [np.nan] * 3, 4)
    again = allocate_officers([2.0, 2.0, 2.0], [np.nan] * 3, 4)
    assert first.officers.tolist() == again.officers.tolist() == [2, 1, 1]
    tie = allocate_officers([1.0, 1.0], [np.nan, np.nan], 1)
    assert tie.officers.tolist() == [1, 0]


def test_zero_need_and_zero_available():
    res = allocate_officers([0.0, 0.0, 5.0], [np.nan] * 3, 3)
    assert res.officers.tolist() == [0, 0, 3]
    assert res.explanations[0].reasons == ("zero_need", "no_floor_unknown_population")
    assert res.explanations[0].text("en").endswith("No recorded need.")
    none = allocate_officers([3.0, 1.0], [8000, np.nan], 0)
    assert none.officers.tolist() == [0, 0] and none.objective == 0.0
    assert none.shortfall_total == 2 and not none.floors_met
    assert none.explanations[0].reasons[:2] == ("no_capacity", "floor_short")
    assert none.explanations[1].text("sv").endswith("Det finns inga poliser att fördela.")
    capped = allocate_officers([3.0, 1.0], [np.nan, np.nan], 5, cap=[0, np.nan])
    assert capped.officers.tolist() == [0, 5]
    assert "no_capacity" in capped.explanations[0].reasons
    assert "Taket är 0" in capped.explanations[0].text("sv")


# --------------------------------------------------------------------------- turnover


def test_total_turnover_limit_and_new_officers():
    need = np.array([10.0, 1.0, 1.0])
    current = np.array([1, 4, 4])
    res = allocate_officers(need, [np.nan] * 3, 9, current=current, max_change=2, floor_applies=[False] * 3)
    assert res.turnover == 2 and res.feasible
    assert res.officers.tolist() == [3, 3, 3]
    # new officers are not turnover: with max_change=0 nobody loses an officer
    grown = allocate_officers(need, [np.nan] * 3, 12, current=current, max_change=0)
    assert (grown.officers >= current).all() and grown.officers.sum() == 12 and grown.turnover == 0
    kept = [e for e in res.explanations.values() if "turnover" in e.reasons]
    assert kept and all(e.turnover_side == "kept" for e in kept)
    text = kept[0].text("sv")
    assert "(i dag 4)" in text and "Gränsen för omflyttning avgör" in text
    assert "The turnover limit decides" in kept[0].text("en")


def test_per_area_limits_hold_and_name_the_binding_ones():
    need = np.array([10.0, 1.0, 3.0])
    current = np.array([1, 4, 4])
    res = allocate_officers(need, [np.nan] * 3, 9, current=current, max_change=[1, 1, 4])
    assert (np.abs(res.officers - current) <= [1, 1, 4]).all()
    assert res.officers.tolist() == [2, 3, 4]
    assert res.threshold == pytest.approx(3 * math.log(5 / 4))
    assert res.explanations[2].reasons[0] == "need"
    assert res.explanations[0].reasons[0] == "turnover" and res.explanations[0].turnover_side == "blocked"
    assert res.explanations[1].reasons[0] == "turnover" and res.explanations[1].turnover_side == "kept"
    assert "skulle området få fler" in res.explanations[0].text("sv")


def test_infeasible_turnover_limit_is_relaxed_as_little_as_possible():
    current = np.array([5, 5])
    res = allocate_officers([1.0, 1.0], [np.nan, np.nan], 6, current=current, max_change=1)
    assert not res.feasible and res.turnover == 4 and res.turnover_excess == 3
    assert res.officers.sum() == 6
    assert any("max_change=1 cannot be kept" in m for m in res.messages)
    assert any("below today's total" in m for m in res.messages)
    # a cap below current - max_change forces the per-area limit open
    area = allocate_officers([1.0, 1.0], [np.nan, np.nan], 10, current=[5, 1], cap=[2, 9], max_change=[1, 9])
    assert area.officers[0] == 2 and area.turnover_excess == 2 and not area.feasible
    assert any("max_change cannot be kept in 1 area" in m for m in area.messages)


# --------------------------------------------------------------------------- robust


def test_cvar_on_two_areas_by_hand():
    scenarios = np.array([[10.0, 0.0], [0.0, 1.0]])
    need = scenarios.mean(axis=0)
    expected = allocate_officers(need, [np.nan, np.nan], 3, scenarios=scenarios)
    assert expected.officers.tolist() == [3, 0]  # mean need (5, 0.5): 5 log 4 beats 5 log 3 + 0.5 log 2
    assert expected.robust_objective == pytest.approx(0.5 * 10 * math.log(4))
    worst = allocate_officers(
        need, [np.nan, np.nan], 3, scenarios=scenarios, robust="worst_decile", decile=0.5
    )
    # worst of two scenarios: (1, 2) gives min(10 log 2, log 3) = log 3, the best minimum
    assert worst.officers.tolist() == [1, 2]
    assert worst.robust_objective == pytest.approx(math.log(3))
    assert worst.scenario_coverage.tolist() == pytest.approx([10 * math.log(2), math.log(3)])
    assert worst.robust == "worst_decile" and expected.robust == "expected"
    # decile 0.75 of 2 scenarios: the worst plus half of the other, over 1.5
    frac = allocate_officers(
        need, [np.nan, np.nan], 3, scenarios=scenarios, robust="worst_decile", decile=0.75
    )
    assert frac.officers.tolist() == [3, 0]
    assert frac.robust_objective == pytest.approx((0 + 0.5 * 10 * math.log(4)) / 1.5)
    # the effective need of the CVaR is the worst scenario's (supergradient weights)
    assert worst.effective_need.tolist() == pytest.approx([0.0, 1.0])
    assert worst.baselines["proportional"]["robust_objective"] == pytest.approx(
        min(scenarios @ np.log1p(proportional_allocation(need, 3)))
    )


def cvar_of(values, alpha):
    k = alpha * len(values)
    ordered = np.sort(values)
    full = math.floor(k + 1e-12)
    total = ordered[:full].sum() + ((k - full) * ordered[full] if full < len(values) else 0.0)
    return total / k


@pytest.mark.parametrize("seed", range(20))
def test_worst_decile_matches_brute_force(seed):
    rng = np.random.default_rng(500 + seed)
    n, n_s = int(rng.integers(1, 4)), int(rng.integers(1, 12))
    available = int(rng.integers(0, 8))
    scenarios = rng.gamma(1.0, 3.0, (n_s, n))
    residents = np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 15_000, n).astype(float))
    cap = np.where(rng.random(n) < 0.5, rng.integers(0, 5, n), np.inf)
    alpha = float(rng.choice([0.1, 0.25, 0.5, 1.0]))
    res = allocate_officers(
        scenarios.mean(axis=0),
        residents,
        available,
        cap=cap,
        scenarios=scenarios,
        robust="worst_decile",
        decile=alpha,
    )
    floors = floors_of(residents)
    best = None
    for combo in itertools.product(*[range(int(min(available, cap[a])) + 1) for a in range(n)]):
        x = np.array(combo)
        if x.sum() > available:
            continue
        key = (int(np.maximum(floors - x, 0).sum()), -cvar_of(scenarios @ np.log1p(x), alpha))
        if best is None or key[0] < best[0] or (key[0] == best[0] and key[1] < best[1] - 1e-12):
            best = key
    assert res.shortfall_total == best[0]
    assert res.robust_objective == pytest.approx(-best[1], rel=2e-4, abs=1e-9)
    assert res.robust_objective == pytest.approx(cvar_of(res.scenario_coverage, alpha))
    assert res.officers.sum() <= available and (res.officers <= cap).all()


def test_scenario_frame_is_aligned_on_need():
    need = pd.Series({"a": 1.0, "b": 3.0})
    frame = pd.DataFrame({"b": [3.0, 3.0], "a": [1.0, 1.0]})  # columns in another order
    res = allocate_officers(need, [np.nan, np.nan], 4, scenarios=frame)
    assert res.officers.to_dict() == allocate_officers(need, [np.nan, np.nan], 4).officers.to_dict()
    assert res.robust_objective == pytest.approx(res.objective)
    with pytest.raises(ValueError, match="scenarios has no column for area"):
        allocate_officers(need, [np.nan, np.nan], 4, scenarios=frame[["a"]])


# --------------------------------------------------------------------------- explanations


def test_explanations_name_the_binding_constraint_in_both_languages():
    need = pd.Series({"Alby": 1.0, "Rinkeby": 50.0, "Tensta": 10.0})
    residents = pd.Series({"Alby": 12_400, "Rinkeby": 3_000, "Tensta": 4_000})
    current = pd.Series({"Alby": 2, "Rinkeby": 2, "Tensta": 2})
    res = allocate_officers(need, residents, 10, current=current, cap=pd.Series({"Rinkeby": 4}))
    assert res.officers.to_dict() == {"Alby": 3, "Rinkeby": 4, "Tensta": 3}
    alby, rinkeby, tensta = (res.explanations[k] for k in ("Alby", "Rinkeby", "Tensta"))
    assert alby.reasons == ("floor",)
    assert alby.text("sv") == (
        "3 områdespoliser (i dag 2). Golvet 1 per 5 000 invånare kräver 3 (12 400 invånare); golvet avgör."
    )
    assert alby.text("en") == (
        "3 area officers (now 2). The floor of 1 per 5,000 residents requires 3 (12,400 residents); "
        "the floor decides."
    )
    assert rinkeby.reasons == ("cap",) and rinkeby.cap == 4
    assert rinkeby.marginal > rinkeby.threshold
    assert rinkeby.text("sv").startswith(
        "4 områdespoliser (i dag 2). Taket på 4 avgör: nästa polis skulle tillföra "
    )
    assert "," in rinkeby.text("sv").split("tillföra ")[1]  # decimal comma
    assert rinkeby.text("en").startswith(
        "4 area officers (now 2). The cap of 4 decides: the next officer would add "
    )
    assert tensta.reasons == ("need",)
    assert tensta.need_share == pytest.approx(100 * 10 / 61)
    assert "Behovet avgör (16,4 % av behovet)" in tensta.text("sv")
    assert "Need decides (16.4% of the need)" in tensta.text("en")
    assert res.threshold == pytest.approx(10 * math.log(4 / 3))  # Tensta's third officer
    with pytest.raises(ValueError, match="language must be 'sv' or 'en'"):
        tensta.text("de")


def test_series_results_keep_the_index_and_align_inputs():
    need = pd.Series([4.0, 1.0, 2.0], index=[30, 10, 20])
    residents = pd.Series({10: 6_000.0, 20: np.nan})  # 30 missing: unknown
    res = allocate_officers(need, residents, 6)
    assert list(res.officers.index) == [30, 10, 20] and res.officers.dtype == np.int64
    assert list(res.explanations) == [30, 10, 20]
    assert str(res.floors.dtype) == "Int64" and res.floors[10] == 2 and pd.isna(res.floors[30])
    assert list(res.shortfall.index) == [30, 10, 20] and list(res.marginal.index) == [30, 10, 20]
    assert res.baselines["proportional"]["officers"].index.tolist() == [30, 10, 20]
    assert "current" not in res.baselines
    assert res.officers.sum() == 6 and res.floors_met


def test_marginal_officers_continue_the_allocation():
    need = np.array([9.0, 3.0, 1.0])
    res = allocate_officers(need, [np.nan] * 3, 4)
    extra = res.marginal_officers(5)
    assert list(extra.columns) == ["officer", "area", "value", "officers", "floor", "cumulative_value"]
    bigger = allocate_officers(need, [np.nan] * 3, 9)
    placed = np.bincount(extra["area"], minlength=3)
    assert (res.officers + placed).tolist() == bigger.officers.tolist()
    assert extra["value"].is_monotonic_decreasing
    assert extra["cumulative_value"].iloc[-1] == pytest.approx(bigger.objective - res.objective)
    # an area short of its floor comes first, and caps stop the list
    short = allocate_officers([9.0, 0.0], [np.nan, 10_000], 1, cap=[3, 9])
    more = short.marginal_officers(10)
    assert more["floor"].tolist() == [True, False, False, False]
    assert short.officers.tolist() == [0, 1]  # the one officer goes to the floor first
    assert more["area"].tolist() == [1, 0, 0, 0]  # the floor, then area 0 up to its cap; area 1 adds nothing
    assert res.marginal_officers(0).empty


def test_result_fields():
    res = allocate_officers([3.0, 1.0], [6000, 1000], 5, current=[2, 2], max_change=3)
    assert res.optimal and res.status == "Optimal" and 0.0 <= res.gap <= 1e-4
    assert res.solve_seconds >= 0 and res.messages == []
    assert set(res.baselines) == {"proportional", "current"}
    cur = res.baselines["current"]
    assert cur["coverage"] == pytest.approx(coverage([2, 2], [3.0, 1.0])) and cur["turnover"] == 0
    assert cur["improvement_pct"] == pytest.approx(100 * (res.objective / cur["coverage"] - 1))
    assert res.robust_objective is None and res.scenario_coverage is None and res.robust == "none"


def test_validation_names_the_argument():
    ok = dict(need=[1.0, 2.0], residents=[1000, 2000], available=3)
    cases = [
        (dict(need=[-1.0, 2.0]), "need must be >= 0"),
        (dict(need=[]), "need must not be empty"),
        (dict(residents=[1000]), "residents must have one value per area"),
        (dict(available=-1), "available must be a whole number"),
        (dict(available=2.5), "available must be a whole number"),
        (dict(current=[1, np.nan]), "current contains missing"),
        (dict(current=[1.5, 1]), "current must hold whole numbers"),
        (dict(max_change=2), "max_change needs current"),
        (dict(cap=[1, -1]), "cap must be >= 0"),
        (dict(floor_applies=[1, "yes"]), "floor_applies must hold True/False"),
        (dict(residents_per_officer=0), "residents_per_officer must be a positive number"),
        (dict(robust="worst"), "robust must be 'expected' or 'worst_decile'"),
        (dict(robust="worst_decile"), "robust='worst_decile' needs scenarios"),
        (dict(scenarios=[[1.0, 2.0]], decile=0), "decile must be in"),
        (dict(scenarios=[1.0, 2.0]), "scenarios must be a"),
        (dict(scenarios=[[1.0, -2.0]]), "scenarios must be finite and >= 0"),
        (dict(time_limit=0), "time_limit must be a positive number"),
        (dict(mip_rel_gap=-1), "mip_rel_gap must be a number >= 0"),
        (dict(seed=-1), "seed must be a whole number"),
    ]
    for extra, message in cases:
        with pytest.raises(ValueError, match=message):
            allocate_officers(**{**ok, **extra})
    with pytest.raises(ValueError, match="current has no value for area"):
        allocate_officers(pd.Series({"a": 1.0, "b": 1.0}), [1, 1], 2, current=pd.Series({"a": 1}))


# --------------------------------------------------------------------------- hours


def test_flat_demand_gives_balanced_cover():
    res = allocate_hours(np.ones(168), 168 * 3, (8, 10))
    assert res.hours.tolist() == [3] * 168
    assert res.used_hours == 504 <= res.weekly_hours and res.optimal and res.status == "Optimal"
    assert list(res.shifts.columns) == ["start", "day", "hour", "length", "count"]
    assert (res.shifts["length"].isin([8, 10])).all()
    assert int((res.shifts["length"] * res.shifts["count"]).sum()) == res.used_hours
    assert res.objective == pytest.approx(168 * math.log(4))


def test_evening_demand_gets_the_shifts():
    hour = np.arange(168) % 24
    demand = np.where((hour >= 18) & (hour <= 23), 5.0, 0.2)
    res = allocate_hours(demand, 40 * 8, (8, 10))
    evening = (hour >= 18) & (hour <= 23)
    assert res.hours[evening].mean() > 3 * res.hours[~evening].mean()
    starts = res.shifts.loc[res.shifts.index.repeat(res.shifts["count"]), "hour"]
    assert ((starts >= 12) & (starts <= 20)).mean() > 0.8
    assert res.used_hours <= 320


def test_min_staff_is_respected_and_infeasible_min_staff_raises():
    demand = np.zeros(168)
    demand[20::24] = 1.0
    res = allocate_hours(demand, 300, (8, 10), min_staff=1)
    assert (res.hours >= 1).all() and res.used_hours <= 300
    need = np.zeros(168, dtype=int)
    need[100:110] = 2
    res2 = allocate_hours(np.ones(168), 60, (8, 10), min_staff=need)
    assert (res2.hours >= need).all() and res2.used_hours <= 60
    with pytest.raises(
        ValueError, match=r"min_staff cannot be met within weekly_hours=150: it needs at least 168 hours"
    ):
        allocate_hours(np.ones(168), 150, (8,), min_staff=1)
    # feasible for the LP relaxation (0.1 of a shift at every start) but not in whole shifts
    with pytest.raises(ValueError, match="it needs at least 170 hours a week with shifts of 10 hours"):
        allocate_hours(np.ones(168), 168, (10,), min_staff=1)
    # zero demand: only min staff, with the fewest hours
    quiet = allocate_hours(np.zeros(168), 500, (8, 10), min_staff=need)
    assert (quiet.hours >= need).all() and quiet.used_hours == 20  # two 10-hour shifts


def test_shifts_wrap_over_sunday_midnight():
    demand = np.zeros(168)
    demand[[165, 166, 167, 0, 1, 2, 3]] = 1.0
    res = allocate_hours(demand, 8, (8,))
    assert len(res.shifts) == 1
    start = int(res.shifts["start"].iloc[0])
    assert start in (163, 164, 165) and start + 8 > 168
    assert res.hours[0] == 1 and res.hours[167] == 1 and res.hours.sum() == 8
    assert res.shifts["day"].iloc[0] == 6


def brute_hours(demand, weekly, lengths, min_staff):
    blocks = len(demand)
    options = [(ln, s) for ln in lengths for s in range(blocks)]
    best = -math.inf

    def rec(i, left, h):
        nonlocal best
        if i == len(options):
            if (h >= min_staff).all():
                best = max(best, float(np.sum(demand * np.log1p(h))))
            return
        ln, s = options[i]
        cover = np.zeros(blocks, dtype=int)
        cover[(s + np.arange(ln)) % blocks] = 1
        k = 0
        while k * ln <= left:
            rec(i + 1, left - k * ln, h + k * cover)
            k += 1

    rec(0, weekly, np.zeros(blocks, dtype=int))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_hours_match_brute_force_on_six_blocks(seed):
    rng = np.random.default_rng(seed)
    demand = np.round(rng.gamma(1.0, 2.0, 6) * (rng.random(6) > 0.2), 2)
    weekly = int(rng.integers(0, 10))
    min_staff = rng.integers(0, 2, 6) if rng.random() < 0.3 else np.zeros(6, dtype=int)
    best = brute_hours(demand, weekly, (2, 3), min_staff)
    if best == -math.inf:
        with pytest.raises(ValueError, match="min_staff cannot be met"):
            _allocate_hours_blocks(
                demand, weekly, (2, 3), min_staff, blocks=6, time_limit=10, mip_rel_gap=1e-4
            )
        return
    res = _allocate_hours_blocks(demand, weekly, (2, 3), min_staff, blocks=6, time_limit=10, mip_rel_gap=1e-4)
    assert res.objective == pytest.approx(best, rel=2e-4, abs=1e-9)
    assert res.used_hours <= weekly and (res.hours >= min_staff).all() and res.optimal


def test_hours_with_tiny_weekly_hours_on_the_full_week():
    demand = np.zeros(168)
    demand[[40, 41, 42, 43]] = [1.0, 4.0, 4.0, 1.0]
    demand[[100, 101]] = [3.0, 3.0]
    res = allocate_hours(demand, 4, (2, 3))
    # best: two 2-hour shifts on the 4,4 and the 3,3 pairs (4 log 2 * 2 + 3 log 2 * 2) beat the rest
    assert res.objective == pytest.approx(14 * math.log(2))
    assert sorted(res.shifts["start"].tolist()) == [41, 100]


def test_hours_validation_names_the_argument():
    with pytest.raises(ValueError, match="demand_168 must have one value per area: 167 != 168"):
        allocate_hours(np.ones(167), 100)
    with pytest.raises(ValueError, match="demand_168 must be >= 0"):
        allocate_hours(-np.ones(168), 100)
    with pytest.raises(ValueError, match="weekly_hours must be a number >= 0"):
        allocate_hours(np.ones(168), -1)
    with pytest.raises(ValueError, match="shift_lengths must be whole numbers between 1 and 168"):
        allocate_hours(np.ones(168), 100, (0, 8))
    with pytest.raises(ValueError, match="shift_lengths must be a whole number"):
        allocate_hours(np.ones(168), 100, (8.5,))
    with pytest.raises(ValueError, match="min_staff must have one value per area"):
        allocate_hours(np.ones(168), 100, (8,), min_staff=[1, 2])
    with pytest.raises(ValueError, match="mip_rel_gap must be a number >= 0"):
        allocate_hours(np.ones(168), 100, mip_rel_gap=-1)
    empty = allocate_hours(np.ones(168), 5, (8,))
    assert empty.used_hours == 0 and empty.shifts.empty and empty.hours.sum() == 0
