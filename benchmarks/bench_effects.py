"""Calibration of the effect estimators: false positives, interval coverage and power.

Run from the repository root::

    .venv/bin/python benchmarks/bench_effects.py            # 1,000 simulations per scenario
    .venv/bin/python benchmarks/bench_effects.py --quick    # 100 per scenario

Each simulation is a count panel shaped like the areas: 60 units x 60 months, Poisson with unit
levels log-uniform in 0.5-30 events a month, a common trend (log slope drawn per panel, sd 0.1 a
year) and a common season (amplitude 0.1-0.3, random phase), so that trends are parallel in
expectation (the assumption of difference-in-differences). The measure starts at month 48 in
unit 0 (12 post months). Scenarios: **null** (nothing planted; a false positive is p < 0.05, and
the 95 % interval should cover 0 in 93-97 % of runs) and a planted **-20 %** and **-40 %** (unit
0's post-period means x 0.8 / 0.6; coverage of the planted relative effect and power, the share
with p < 0.05 and a negative estimate). Rates carry 95 % Wilson intervals, and are also shown by
the treated unit's level (< 2, 2-10, >= 10 events a month).

Estimators: :func:`problembild.analysis.effects_did.difference_in_differences` (``model="poisson"``,
ten comparison units chosen by pre-period similarity) and, when
``from problembild.analysis.effects import synthetic_control`` imports,
:func:`~problembild.analysis.effects.synthetic_control` on the same panels (skipped otherwise).
Time per evaluation: median over the runs (wall clock in the worker process).
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from run import bench_args, finish

SEED = 20261201
UNITS = 60
MONTHS = 60
START = 48
LEVELS = (0.5, 30.0)
SCENARIOS = {"null": 0.0, "minus_20": -0.2, "minus_40": -0.4}
CHUNK = 50  # runs per task
FPR_TARGET = 0.07
COVERAGE_TARGET = (0.93, 0.97)
BANDS = ((0.0, 2.0, "< 2"), (2.0, 10.0, "2-10"), (10.0, np.inf, ">= 10"))


def simulate(rng: np.random.Generator, effect: float) -> tuple[np.ndarray, float]:
    """One panel (units x months) and the treated unit's level (events a month)."""
    level = np.exp(rng.uniform(np.log(LEVELS[0]), np.log(LEVELS[1]), UNITS))
    t = np.arange(MONTHS)
    slope = rng.normal(0.0, 0.1) / 12
    amplitude = rng.uniform(0.1, 0.3)
    phase = rng.uniform(0, 2 * np.pi)
    common = slope * (t - START) + amplitude * np.sin(2 * np.pi * t / 12 + phase)
    mu = level[:, None] * np.exp(common)[None, :]
    mu[0, START:] *= 1 + effect
    return rng.poisson(mu).astype(np.float64), float(level[0])


def estimators() -> dict[str, Any]:
    from problembild.analysis.effects_did import difference_in_differences

    out: dict[str, Any] = {"did_poisson": lambda y: difference_in_differences(y, 0, START, model="poisson")}
    try:
        from problembild.analysis.effects import synthetic_control
    except ImportError:
        return out
    out["synthetic_control"] = lambda y: synthetic_control(y, 0, START)
    return out


def task(args: tuple[str, int, int]) -> dict[str, list[Any]]:
    """``runs`` simulations of one scenario, seeded by its position."""
    scenario, chunk, runs = args
    seed = np.random.SeedSequence(SEED, spawn_key=(list(SCENARIOS).index(scenario), chunk))
    rng = np.random.default_rng(seed)
    effect = SCENARIOS[scenario]
    out: dict[str, list[Any]] = {"level": []}
    methods = estimators()
    for name in methods:
        out[name] = []
    for _ in range(runs):
        y, level = simulate(rng, effect)
        out["level"].append(level)
        for name, fn in methods.items():
            started = time.perf_counter()
            try:
                r = fn(y)
                row = (
                    float(r.p_value),
                    float(r.relative_effect),
                    float(r.relative_interval[0]),
                    float(r.relative_interval[1]),
                    time.perf_counter() - started,
                    None,
                )
            except Exception as exc:  # a failed fit counts as failed, not as a crash
                row = (np.nan, np.nan, np.nan, np.nan, time.perf_counter() - started, repr(exc)[:200])
            out[name].append(row)
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (float("nan"), float("nan"))
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def rates(rows: list[tuple], levels: np.ndarray, effect: float) -> dict[str, Any]:
    p = np.array([r[0] for r in rows], dtype=float)
    est = np.array([r[1] for r in rows], dtype=float)
    lo = np.array([r[2] for r in rows], dtype=float)
    hi = np.array([r[3] for r in rows], dtype=float)
    ok = np.isfinite(p) & np.isfinite(lo) & np.isfinite(hi)
    covered = ok & (lo <= effect) & (effect <= hi)
    marked = ok & (p < 0.05) & (est < 0 if effect < 0 else True)

    def summary(mask: np.ndarray) -> dict[str, Any]:
        n = int(mask.sum())
        k_mark = int((marked & mask).sum())
        k_cov = int((covered & mask).sum())
        return {
            "runs": n,
            "marked": k_mark / n if n else float("nan"),
            "marked_ci": wilson(k_mark, n),
            "coverage": k_cov / n if n else float("nan"),
            "coverage_ci": wilson(k_cov, n),
            "median_estimate": float(np.nanmedian(est[mask])) if n else float("nan"),
        }

    out = summary(np.ones_like(p, dtype=bool))
    out["failed"] = int((~ok).sum())
    out["errors"] = sorted({r[5] for r in rows if r[5]})[:3]
    out["median_seconds"] = statistics.median(r[4] for r in rows)
    out["by_level"] = {label: summary((levels >= low) & (levels < high)) for low, high, label in BANDS}
    return out


def pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f} %"


def markdown(e: dict[str, Any]) -> str:
    """The calibration table for docs/benchmarks.md."""
    lines = [
        f"{e.get('runs', '?'):,} simulated panels per scenario ({UNITS} units x {MONTHS} months, Poisson, unit "
        f"levels {LEVELS[0]}-{LEVELS[1]} a month, common trend and season; start at month {START}), seeded "
        f"(`benchmarks/bench_effects.py`, {e.get('seconds', 0):.0f} s on {e.get('workers', '?')} processes). "
        "Null: *marked* is the false-positive rate (p < 0.05, target ≤ 7 %) and coverage that of 0 (target "
        "93–97 %). Planted −20 % / −40 %: *marked* is the power (p < 0.05, negative estimate), coverage that "
        "of the planted relative effect. 95 % Wilson intervals in brackets.",
        "",
        "| estimator | scenario | marked | coverage | median estimate | failed | median time per evaluation |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, scen in e.get("estimators", {}).items():
        for s, r in scen.items():
            ml, mh = r["marked_ci"]
            cl, ch = r["coverage_ci"]
            lines.append(
                f"| `{name}` | {s} | {pct(r['marked'])} [{pct(ml)}, {pct(mh)}] | {pct(r['coverage'])} "
                f"[{pct(cl)}, {pct(ch)}] | {r['median_estimate']:+.3f} | {r['failed']} | "
                f"{1000 * r['median_seconds']:.0f} ms |"
            )
    lines += [
        "",
        "By the treated unit's level (events a month): marked / coverage.",
        "",
        "| estimator | scenario | " + " | ".join(label for _, _, label in BANDS) + " |",
        "|---|---|" + "---|" * len(BANDS),
    ]
    for name, scen in e.get("estimators", {}).items():
        for s, r in scen.items():
            cells = [
                f"{pct(b['marked'])} / {pct(b['coverage'])} (n={b['runs']})" for b in r["by_level"].values()
            ]
            lines.append(f"| `{name}` | {s} | " + " | ".join(cells) + " |")
    if e.get("skipped"):
        lines += ["", f"Skipped: {', '.join(e['skipped'])}."]
    return "\n".join(lines)


def targets(e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Target rows for the summary table of docs/benchmarks.md."""
    out: list[tuple[str, str, bool | None]] = []
    for name, scen in e.get("estimators", {}).items():
        null = scen.get("null")
        if not null:
            continue
        out.append(
            (
                f"`{name}` false positives ≤ {pct(FPR_TARGET)} (null)",
                pct(null["marked"]),
                null["marked"] <= FPR_TARGET,
            )
        )
        low, high = COVERAGE_TARGET
        out.append(
            (
                f"`{name}` 95 % interval covers 0 in {pct(low)}–{pct(high)} (null)",
                pct(null["coverage"]),
                low <= null["coverage"] <= high,
            )
        )
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--runs", type=int, default=None, help="simulations per scenario (default 1,000; quick 100)"
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    args = parser.parse_args(argv)
    runs = args.runs or (100 if args.quick else 1000)
    workers = args.workers or min(2, os.cpu_count() or 1)
    jobs = []
    for scenario in SCENARIOS:
        done = 0
        chunk = 0
        while done < runs:
            n = min(CHUNK, runs - done)
            jobs.append((scenario, chunk, n))
            done += n
            chunk += 1
    names = list(estimators())
    skipped = [] if "synthetic_control" in names else ["synthetic_control (not importable)"]
    started = time.perf_counter()
    collected: dict[str, dict[str, list[Any]]] = {
        s: {"level": [], **{n: [] for n in names}} for s in SCENARIOS
    }
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for job, result in zip(jobs, pool.map(task, jobs), strict=True):
            for key, values in result.items():
                collected[job[0]][key].extend(values)
    table: dict[str, dict[str, Any]] = {}
    for name in names:
        table[name] = {
            s: rates(collected[s][name], np.array(collected[s]["level"]), SCENARIOS[s]) for s in SCENARIOS
        }
    entry = {
        "status": "ok",
        "runs": runs,
        "workers": workers,
        "seed": SEED,
        "units": UNITS,
        "months": MONTHS,
        "start": START,
        "estimators": table,
        "skipped": skipped,
        "seconds": time.perf_counter() - started,
    }
    print(markdown(entry))
    finish("effects", entry, quick=args.quick, output=args.output)
    return entry


if __name__ == "__main__":
    main()
