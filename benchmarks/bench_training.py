"""Training plan: ``plan_training`` (HiGHS) on a national instance, beside both greedy baselines.

Run from the repository root::

    .venv/bin/python benchmarks/bench_training.py            # 5 timed repeats, 10,000 staff
    .venv/bin/python benchmarks/bench_training.py --quick    # 3 timed repeats, 2,000 staff

The instance is **synthetic** and seeded (the package ships no competence register): 10,000 staff in
8 roles and 95 local police areas (and 5 % national staff in one unit of their own), 30 competences,
50 courses.

* Roles: every role requires the 5 basic competences at level 2 and 5–8 role-specific ones at levels
  2–4; each (role, competence) has a criticality 1–3.
* Staff: a role by role shares, an area; in each required competence they meet the requirement with
  probability 0.7, else they are 1–3 levels short (a handful of gaps per person, about 4).
* Weights of one level of gap: criticality x the area's need for the competence (log-normal around 1)
  x an expiry factor (1; 1.3 or 2 for the 6 certified competences that expire within a year / within
  the period).
* Courses teach 1–3 competences (basic ones more often) up to level 2–4, with 15–90 seats (demand is
  several times the places), 2,000–30,000 SEK and 1–10 days per place.
* Limits that bind: a budget of 45 % of what filling every seat would cost, at most 10 days away per
  person, and person-days per area (and for the national unit) of 55 % of its share (by staff) of all
  course days.

Timed: ``plan_training`` at the default ``mip_gap=0.005``, median over repeats after one untimed
warm-up, beside both baselines (``largest_gap_first``, ``first_come_first_served``), all scored by the
same objective (weighted gap closed). Target: within 0.5 % MIP gap in ≤ 5 s.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from run import bench_args, finish

SEED = 20240901
N_STAFF = 10_000
N_STAFF_QUICK = 2_000
N_COMP = 30
N_COURSES = 50
N_ROLES = 8
N_AREAS = 95
BASIC = 5  # competences 0..4: every role needs them at level 2
CERTIFIED = range(24, 30)  # competences whose certificate expires
MAX_DAYS = 10.0
BUDGET_SHARE = 0.45
GROUP_SHARE = 0.55
TARGET_GAP = 0.005  # 0.5 %
TARGET_S = 5.0


def instance(n_staff: int = N_STAFF, seed: int = SEED) -> dict[str, Any]:
    """The arrays of a synthetic national TrainingProblem (see the module docstring)."""
    rng = np.random.default_rng(seed)
    # roles: required levels and criticality
    profile = np.zeros((N_ROLES, N_COMP))
    profile[:, :BASIC] = 2.0
    criticality = rng.integers(1, 4, (N_ROLES, N_COMP)).astype(float)
    for r in range(N_ROLES):
        own = rng.choice(np.arange(BASIC, N_COMP), rng.integers(5, 9), replace=False)
        profile[r, own] = rng.integers(2, 5, len(own))
    role_share = rng.dirichlet(np.full(N_ROLES, 3.0))
    role = rng.choice(N_ROLES, n_staff, p=role_share)
    group = rng.integers(0, N_AREAS, n_staff)
    group[rng.random(n_staff) < 0.05] = N_AREAS  # national staff: one unit with its own cap
    required = profile[role]
    short = rng.integers(1, 4, required.shape)
    gap = np.where(rng.random(required.shape) < 0.3, np.minimum(short, required), 0.0)
    current = np.where(required > 0, required - gap, rng.integers(0, 3, required.shape))
    current = np.where(
        (required > 0) & (gap == 0) & (rng.random(required.shape) < 0.2), required + 1, current
    )
    current = np.clip(current, 0, 4).astype(float)
    need = rng.lognormal(0.0, 0.35, (N_AREAS + 1, N_COMP))  # last row: national staff
    need[N_AREAS] = 1.0
    expiry = np.ones((n_staff, N_COMP))
    cert = np.array(list(CERTIFIED))
    draw = rng.random((n_staff, len(cert)))
    expiry[:, cert] = np.where(draw < 0.15, 2.0, np.where(draw < 0.4, 1.3, 1.0))
    weights = criticality[role] * need[group] * expiry
    # courses
    popularity = np.ones(N_COMP)
    popularity[:BASIC] = 3.0
    popularity /= popularity.sum()
    gives = np.zeros((N_COURSES, N_COMP))
    for c in range(N_COURSES):
        ks = rng.choice(N_COMP, rng.integers(1, 4), replace=False, p=popularity)
        gives[c, ks] = rng.integers(2, 5, len(ks))
    level = gives.max(axis=1)
    seats = rng.integers(15, 91, N_COURSES).astype(float)
    days = np.clip(np.round(level + rng.integers(-1, 5, N_COURSES) + (gives > 0).sum(axis=1)), 1, 10)
    cost = np.round(rng.uniform(2_000, 30_000, N_COURSES) * (0.5 + days / 10), -2)
    scale = n_staff / N_STAFF
    seats = np.maximum(1.0, np.round(seats * scale))
    budget = float(BUDGET_SHARE * np.sum(seats * cost))
    members = np.bincount(group, minlength=N_AREAS + 1)
    group_days = GROUP_SHARE * float(np.sum(seats * days)) * members / n_staff
    return {
        "current": current,
        "required": required,
        "weights": weights,
        "gives": gives,
        "seats": seats,
        "cost": cost,
        "days": days,
        "group": group,
        "group_days": group_days,
        "budget": budget,
        "max_days_per_person": MAX_DAYS,
        "order": rng.permutation(n_staff),
    }


def problem_of(arrays: dict[str, Any]):
    from problembild.analysis.training import TrainingProblem

    return TrainingProblem(**arrays)


def model_size(problem) -> dict[str, Any]:
    """The size of the MIP (as plan_training builds it) and the problem's shape; untimed."""
    from problembild.analysis import training

    cand = training._candidates(problem)
    m = training._model(problem, cand)
    kinds = {name: int(np.sum(m.kind == code)) for name, code in _ROW_KINDS.items()}
    gaps = problem.gaps
    return {
        "variables": m.n,
        "rows": len(m.upper),
        "nonzeros": int(m.a.nnz),
        "rows_by_kind": kinds,
        "at_most_one_rows": kinds["at_most_one"],
        "gaps": int(np.count_nonzero(gaps)),
        "gaps_per_person": float(np.count_nonzero(gaps) / problem.n_staff),
        "candidates_per_person": float(m.n / problem.n_staff),
    }


_ROW_KINDS = {"seats": 0, "budget": 1, "days_per_person": 2, "group_days": 3, "at_most_one": 4}


def solve_trace(problem) -> dict[str, Any]:
    """One untimed run with the steps of the decomposition recorded: bounds, sizes, seconds."""
    from problembild.analysis import training

    trace: dict[str, Any] = {"mip": []}
    originals = {name: getattr(training, name) for name in ("_lp_bound", "_lagrangian_bound", "_solve_mip")}

    def lp_bound(*args, **kwargs):
        t = time.perf_counter()
        out = originals["_lp_bound"](*args, **kwargs)
        trace["lp"] = {
            "seconds": time.perf_counter() - t,
            "bound_scaled": out.bound,
            "support": int((out.x > 1e-9).sum()),
        }
        return out

    def lagrangian(*args, **kwargs):
        t = time.perf_counter()
        out = originals["_lagrangian_bound"](*args, **kwargs)
        trace["lagrangian"] = {
            "seconds": time.perf_counter() - t,
            "bound_scaled": out.bound,
            "block_columns": len(out.columns),
        }
        return out

    def solve_mip(m, cols, cost, **kwargs):
        t = time.perf_counter()
        out = originals["_solve_mip"](m, cols, cost, **kwargs)
        if kwargs.get("rows") is None:
            trace["mip"].append(
                {
                    "seconds": time.perf_counter() - t,
                    "columns": len(cols),
                    "status": out.status,
                    "value_scaled": out.value,
                    "bound_scaled": out.bound,
                }
            )
        trace["vscale"] = m.vscale
        return out

    training._lp_bound, training._lagrangian_bound, training._solve_mip = lp_bound, lagrangian, solve_mip
    try:
        t = time.perf_counter()
        plan = training.plan_training(problem)
        trace["seconds"] = time.perf_counter() - t
    finally:
        for name, f in originals.items():
            setattr(training, name, f)
    v = trace.get("vscale", 1.0)
    out: dict[str, Any] = {"seconds": trace["seconds"], "gap_closed": plan.gap_closed, "status": plan.status}
    if "lp" in trace:
        out["lp"] = {
            "seconds": trace["lp"]["seconds"],
            "bound": trace["lp"]["bound_scaled"] * v,
            "support": trace["lp"]["support"],
        }
    if "lagrangian" in trace:
        lag = trace["lagrangian"]
        out["lagrangian"] = {
            "seconds": lag["seconds"],
            "bound": lag["bound_scaled"] * v,
            "block_columns": lag["block_columns"],
        }
    out["mip"] = [
        {
            "seconds": step["seconds"],
            "columns": step["columns"],
            "status": step["status"],
            "value": step["value_scaled"] * v,
            "bound": step["bound_scaled"] * v,
        }
        for step in trace["mip"]
    ]
    return out


def run_once(problem, seed: int = 0) -> dict[str, Any]:
    from problembild.analysis.training import first_come_first_served, largest_gap_first, plan_training

    t0 = time.perf_counter()
    plan = plan_training(problem, seed=seed)
    t1 = time.perf_counter()
    lgf = largest_gap_first(problem)
    t2 = time.perf_counter()
    fcfs = first_come_first_served(problem)
    t3 = time.perf_counter()
    return {"plan": plan, "lgf": lgf, "fcfs": fcfs, "mip_s": t1 - t0, "lgf_s": t2 - t1, "fcfs_s": t3 - t2}


def _plan_summary(plan, seconds: list[float]) -> dict[str, Any]:
    return {
        "seconds": statistics.median(seconds),
        "all_seconds": seconds,
        "gap_closed": plan.gap_closed,
        "share_closed": plan.share_closed,
        "places": plan.places,
        "cost": plan.cost,
        "days": plan.days,
        "status": plan.status,
        "optimal": plan.optimal,
        "mip_gap": None if plan.mip_gap != plan.mip_gap else plan.mip_gap,
    }


def summary(
    problem, arrays: dict[str, Any], runs: list[dict[str, Any]], size: dict[str, Any], trace: dict[str, Any]
) -> dict[str, Any]:
    last = runs[-1]
    plan, lgf, fcfs = last["plan"], last["lgf"], last["fcfs"]
    same = all(np.array_equal(r["plan"].pairs, plan.pairs) for r in runs)
    mip = _plan_summary(plan, [r["mip_s"] for r in runs])
    mip["max_mip_gap"] = max(r["plan"].mip_gap for r in runs)
    mip["all_optimal"] = all(r["plan"].optimal for r in runs)
    seats_total = float(arrays["seats"].sum())
    staff, course = plan.pairs[:, 0], plan.pairs[:, 1]
    away = np.bincount(
        arrays["group"][staff], weights=arrays["days"][course], minlength=len(arrays["group_days"])
    )
    use = {
        "seats_used": plan.places / seats_total,
        "courses_full": int(np.sum(np.bincount(course, minlength=len(arrays["seats"])) >= arrays["seats"])),
        "budget_used": plan.cost / arrays["budget"],
        "group_days_used": float(away.sum() / arrays["group_days"].sum()),
        "groups_at_cap": int(np.sum(away > arrays["group_days"] - 1.0)),
        "people_at_day_cap": int(
            np.sum(
                np.bincount(staff, weights=arrays["days"][course], minlength=problem.n_staff) > MAX_DAYS - 1.0
            )
        ),
    }
    return {
        "status": "ok",
        "seed": SEED,
        "synthetic": True,
        "staff": problem.n_staff,
        "competences": problem.n_comp,
        "courses": problem.n_courses,
        "roles": N_ROLES,
        "areas": N_AREAS,
        "groups": len(arrays["group_days"]),
        "seats_total": seats_total,
        "budget": arrays["budget"],
        "max_days_per_person": MAX_DAYS,
        "group_days_total": float(arrays["group_days"].sum()),
        "gap_total": plan.gap_total,
        "model": size,
        "trace": trace,
        "repeats": len(runs),
        "identical_runs": same,
        "target_gap": TARGET_GAP,
        "target_s": TARGET_S,
        "highs": mip,
        "largest_gap_first": _plan_summary(lgf, [r["lgf_s"] for r in runs]),
        "first_come_first_served": _plan_summary(fcfs, [r["fcfs_s"] for r in runs]),
        "ratio_vs_largest_gap_first": plan.gap_closed / lgf.gap_closed if lgf.gap_closed > 0 else None,
        "ratio_vs_first_come_first_served": plan.gap_closed / fcfs.gap_closed
        if fcfs.gap_closed > 0
        else None,
        "utilisation": use,
        "notes": [
            "Synthetic, seeded staff, roles, levels, weights and courses (the package has no competence "
            f"register; seed {SEED}); see the script's docstring.",
            "Weighted gap closed = Σ weight × levels closed, the same objective for the MIP and both baselines.",
            "plan_training's time includes building the candidates, both baselines (its warm start) and the "
            "model; the timed repeats follow one untimed warm-up (imports, HiGHS start-up).",
        ],
    }


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def pct(x: float | None) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:.3f} %" if abs(x) < 0.1 else f"{x:.2f} %"


def markdown(e: dict[str, Any]) -> str:
    """The section for docs/benchmarks.md."""
    m = e["model"]
    h = e["highs"]
    lines = [
        f"`plan_training` on a **synthetic** national instance (seed {e['seed']}): {e['staff']:,} staff in "
        f"{e['roles']} roles and {e['areas']} areas (and a national unit), {e['competences']} competences, {e['courses']} courses "
        f"with {e['seats_total']:,.0f} places; {m['gaps']:,} gaps ({m['gaps_per_person']:.1f} per person), "
        f"budget {e['budget']:,.0f} SEK, at most {e['max_days_per_person']:g} days away per person, "
        f"{e['group_days_total']:,.0f} person-days for all areas. Model: {m['variables']:,} binary "
        f"variables ({m['candidates_per_person']:.1f} candidate courses per person), {m['rows']:,} rows "
        f"({m['at_most_one_rows']:,} of them at most one course per gap), {m['nonzeros']:,} non-zeros. "
        f"Median of {e['repeats']} runs after a warm-up; every run gave "
        + ("the same plan." if e["identical_runs"] else "**not** the same plan.")
        + "",
        "",
        "| plan | median time | weighted gap closed | share of the gap | places | cost (SEK) | days | MIP better by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = [
        ("**`plan_training` (HiGHS)**", h, None),
        ("`largest_gap_first`", e["largest_gap_first"], e.get("ratio_vs_largest_gap_first")),
        (
            "`first_come_first_served`",
            e["first_come_first_served"],
            e.get("ratio_vs_first_come_first_served"),
        ),
    ]
    for name, p, ratio in rows:
        lines.append(
            f"| {name} | {_s(p['seconds'])} | {p['gap_closed']:,.1f} | {pct(100 * p['share_closed'])} | "
            f"{p['places']:,} | {p['cost']:,.0f} | {p['days']:,.0f} | "
            + ("–" if ratio is None else f"{ratio:.3f}× ({pct(100 * (ratio - 1))})")
            + " |"
        )
    u = e["utilisation"]
    t = e.get("trace", {})
    if t.get("lp"):
        steps = [
            f"the LP bound by column generation {_s(t['lp']['seconds'])} (D = {t['lp']['bound']:,.1f}, "
            f"{pct(100 * (t['lp']['bound'] / t['gap_closed'] - 1))} above the plan; {t['lp']['support']:,} "
            "columns in the LP's support)"
        ]
        if t.get("lagrangian"):
            lag = t["lagrangian"]
            steps.append(
                f"the block bound {_s(lag['seconds'])} (L = {lag['bound']:,.1f}, "
                f"{pct(100 * (lag['bound'] / t['gap_closed'] - 1))} above; {lag['block_columns']:,} columns "
                "in the areas' knapsacks)"
            )
        steps += [
            f"HiGHS on {m_['columns']:,} columns {_s(m_['seconds'])} (`{m_['status']}`, {m_['value']:,.1f})"
            for m_ in t.get("mip", [])
        ]
        lines += [
            "",
            f"Where the time goes (one more run, traced; {_s(t['seconds'])} in all): "
            + "; ".join(steps)
            + ". "
            "The rest is building the candidates and the model and the two greedy plans (the warm start).",
        ]
    lines += [
        "",
        f"HiGHS status `{h['status']}`, MIP gap {pct(100 * h['mip_gap'])} (largest over the runs "
        f"{pct(100 * h['max_mip_gap'])}), proven within the requested gap: {'yes' if h['all_optimal'] else 'no'}. "
        f"The limits bind: the plan uses {100 * u['seats_used']:.0f} % of the places ({u['courses_full']} courses "
        f"full), {100 * u['budget_used']:.1f} % of the budget and {100 * u['group_days_used']:.0f} % of the "
        f"person-days ({u['groups_at_cap']} of {e['groups']} areas/units "
        f"within a day of their cap; {u['people_at_day_cap']} people within a day of "
        f"{e['max_days_per_person']:g} days). Target ≤ {100 * e['target_gap']:g} % gap in ≤ {e['target_s']:g} s: "
        + ("met." if _met(e) else "**not met**."),
    ]
    return "\n".join(lines)


def _met(e: dict[str, Any]) -> bool:
    h = e["highs"]
    return h["max_mip_gap"] <= e["target_gap"] + 1e-12 and h["seconds"] <= e["target_s"]


def targets(e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    h = e.get("highs", {})
    gap = h.get("max_mip_gap")
    seconds = h.get("seconds")
    return [
        (
            f"national training plan (≈{e.get('staff', 0):,} staff) within 0.5 % MIP gap",
            f"{h.get('status', '?')}, gap {pct(None if gap is None else 100 * gap)}",
            None if gap is None else gap <= TARGET_GAP + 1e-12,
        ),
        (
            "national training plan ≤ 5 s (median, with both baselines and the model build)",
            _s(seconds),
            None if seconds is None else seconds <= TARGET_S,
        ),
        (
            "optimum ≥ both baselines (same objective)",
            f"{_x(e.get('ratio_vs_largest_gap_first'))} largest gap first, "
            f"{_x(e.get('ratio_vs_first_come_first_served'))} first come first served",
            None
            if e.get("ratio_vs_largest_gap_first") is None
            else min(e["ratio_vs_largest_gap_first"], e.get("ratio_vs_first_come_first_served") or 1.0)
            >= 1.0,
        ),
    ]


def _x(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.3f}×"


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 5; quick 3)")
    parser.add_argument(
        "--staff", type=int, default=None, help=f"staff (default {N_STAFF:,}; quick {N_STAFF_QUICK:,})"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    n_staff = args.staff or (N_STAFF_QUICK if args.quick else N_STAFF)

    arrays = instance(n_staff)
    problem = problem_of(arrays)
    size = model_size(problem)
    print(f"model: {size}", flush=True)
    run_once(problem)  # warm-up: imports, HiGHS start-up
    runs = []
    for k in range(repeats):
        run = run_once(problem)
        p = run["plan"]
        print(
            f"run {k + 1}: HiGHS {run['mip_s']:.3f} s ({p.status}, gap {100 * p.mip_gap:.3f} %, "
            f"{p.gap_closed:,.1f}), largest gap first {run['lgf_s']:.3f} s ({run['lgf'].gap_closed:,.1f}), "
            f"first come first served {run['fcfs_s']:.3f} s ({run['fcfs'].gap_closed:,.1f})",
            flush=True,
        )
        runs.append(run)
    trace = solve_trace(problem)
    entry = summary(problem, arrays, runs, size, trace)
    print(markdown(entry))
    finish("training", entry, quick=args.quick, output=args.output)
    return entry


if __name__ == "__main__":
    main()
