"""Calibration of every mark the app shows: false-alarm rate and power under simulation.

Run from the repository root::

    .venv/bin/python benchmarks/bench_statistics.py            # 1,000 runs per setting, a few minutes
    .venv/bin/python benchmarks/bench_statistics.py --quick    # 100 runs per setting, under a minute

Each mark is simulated on series (or maps) shaped like the areas: Poisson and negative-binomial
counts (NB2 ``alpha`` 0, 0.1, 0.3, i.e. ``Var = mean + alpha mean²``) at 0.05, 0.5, 2, 10 and 30
events per month (per cell for the hot spots), first without any change (the share marked is the
false-alarm rate) and then with a planted effect (the share marked in its direction is the power).
Every run is an independent series or map and gives one yes/no, so each rate carries a binomial
(Wilson) 95 % interval. Target: every false-alarm rate at most nominal + 1.5 points (the point
estimate; the interval shows the simulation's own uncertainty).

The marks, as the app computes them:

* ``change_previous``, ``change_last_year``: :func:`problembild.analysis.change.change_table` on 48
  months (month means proportional to their days), the last month against the month before and the
  same month a year earlier, at 5 %. Planted: the last month doubled.
* ``twelve_months``: the last twelve months against the twelve before,
  :func:`~problembild.analysis.ratetest.rate_test` with the dispersion of the 48-month series
  (:func:`~problembild.analysis.ratetest.dispersion_estimate`), 5 %. Planted: the last twelve
  months x 1.5.
* ``trend``: :func:`problembild.analysis.trend.fit_trend` (``family="auto"``) on the 48 months,
  ``mark()`` at 5 %. Planted: +25 % per year.
* ``unusual_week``: :func:`problembild.analysis.control.control_flags` (52 baseline weeks, 1 %) on
  104 weeks at the same rate per day (a month's mean x 12 / 52 per week), the last week. Planted:
  the last week x 3.
* ``gi_star``: :func:`problembild.analysis.hotspots.gi_star_test` (radius 2, Benjamini–Hochberg at
  5 %) on 40 x 40 cells; a false alarm is a map with any hot cell. The null is spatial
  randomness: every cell has the same risk, and the map's total is Poisson or, with ``alpha``,
  negative binomial (one gamma factor per map: a busier or quieter year). Planted: a 3 x 3 block
  at 4 x the mean, found when its centre cell is hot. Beside it, for information and without a
  target, maps whose *cells* have independent gamma risks (``heterogeneous_cells``): their cells
  do differ in risk, which the test is built to find.

Beside each new rate is the former method's on the same simulated data: the exact Poisson
comparison (``dispersion=None`` / :func:`~problembild.analysis.ratetest.poisson_rate_test_many`),
the trend's former ``family="auto"`` (Poisson, negative binomial above a Pearson dispersion of
1.5, no minimum number of events; rebuilt here with statsmodels), Poisson control limits (``dispersion=1.0``) and Gi*'s
normal p-values (:func:`~problembild.analysis.hotspots.gi_star_labels`).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from run import bench_args, finish

SEED = 20250110
MEANS = (0.05, 0.5, 2.0, 10.0, 30.0)  # events per month, or per cell for the hot spots
ALPHAS = (0.0, 0.1, 0.3)  # negative-binomial alpha (0: Poisson)
MONTHS = 48
WEEKS = 104
GRID = (40, 40)
TOLERANCE = 0.015  # false alarms may exceed nominal by 1.5 points

#: mark -> (nominal level, what a run tests, the planted effect)
MARKS: dict[str, tuple[float, str, str]] = {
    "change_previous": (0.05, "last month vs the month before (`change_table`)", "last month x 2"),
    "change_last_year": (0.05, "last month vs the same month last year (`change_table`)", "last month x 2"),
    "twelve_months": (0.05, "last 12 months vs the 12 before (`rate_test`, estimated dispersion)", "x 1.5"),
    "trend": (0.05, "trend over 48 months (`fit_trend`)", "+25 % per year"),
    "unusual_week": (0.01, "last week vs its 52-week baseline (`control_flags`)", "last week x 3"),
    "gi_star": (0.05, "any hot cell on a 40 x 40 map (`gi_star_test`)", "3 x 3 block at 4 x the mean"),
}
#: simulations: one family of draws gives one or more marks
SIMULATIONS: dict[str, tuple[str, ...]] = {
    "change": ("change_previous", "change_last_year"),
    "twelve_months": ("twelve_months",),
    "trend": ("trend",),
    "unusual_week": ("unusual_week",),
    "gi_star": ("gi_star",),
}


def draw(rng: np.random.Generator, mean: Any, alpha: float, size: Any) -> np.ndarray:
    """Poisson (alpha 0) or NB2 counts: Poisson with a gamma(1/alpha, alpha * mean) mean."""
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), size)
    if alpha == 0:
        return rng.poisson(mean)
    return rng.poisson(rng.gamma(1 / alpha, alpha * mean))


def month_starts():
    import pandas as pd

    return pd.date_range("2021-01-01", periods=MONTHS, freq="MS")


def monthly_means(mean: float, planted: str | None) -> np.ndarray:
    """Expected count per month: ``mean`` per average month, proportional to the days."""
    from problembild.analysis.periods import period_days

    starts = month_starts()
    days = period_days(starts, "month")
    out = mean * days / (365.25 / 12)
    if planted == "last_month":
        out[-1] *= 2
    elif planted == "last_year":
        out[-12:] *= 1.5
    elif planted == "trend":
        years = np.cumsum(days) / 365.25
        out *= 1.25 ** (years - years.mean())
    return out


def sim_change(rng, mean, alpha, runs, effect):
    import pandas as pd

    from problembild.analysis.change import change_table

    starts = month_starts()
    y = draw(rng, monthly_means(mean, "last_month" if effect else None), alpha, (runs, MONTHS))
    table = pd.DataFrame(
        {"key": np.repeat(np.arange(runs), MONTHS), "period_start": np.tile(starts, runs), "count": y.ravel()}
    )
    last = np.arange(runs) * MONTHS + MONTHS - 1
    out: dict[str, dict[str, int]] = {}
    for method, dispersion in (("new", "estimate"), ("former", None)):
        rows = change_table(table, "month", keys=["key"], dispersion=dispersion).iloc[last]
        for prefix in ("previous", "last_year"):
            mark = rows[f"{prefix}_mark"]
            hit = (mark == "↑") if effect else (mark != "")
            out.setdefault(f"change_{prefix}", {})[method] = int(hit.sum())
    return out


def sim_twelve_months(rng, mean, alpha, runs, effect):
    from problembild.analysis.periods import period_days
    from problembild.analysis.ratetest import dispersion_estimates, poisson_rate_test_many, rate_test_many

    starts = month_starts()
    days = period_days(starts, "month")
    y = draw(rng, monthly_means(mean, "last_year" if effect else None), alpha, (runs, MONTHS)).astype(float)
    now, before = y[:, -12:].sum(axis=1), y[:, -24:-12].sum(axis=1)
    e_now, e_before = days[-12:].sum(), days[-24:-12].sum()
    phi, df, _ = dispersion_estimates(y, starts=starts, period="month")
    new = rate_test_many(now, e_now, before, e_before, dispersion=phi, dispersion_df=df)
    former = poisson_rate_test_many(now, e_now, before, e_before)
    out = {}
    for method, table in (("new", new), ("former", former)):
        significant = table["p_value"].to_numpy() < 0.05
        hit = significant & (table["ratio"].to_numpy() > 1) if effect else significant
        out[method] = int(hit.sum())
    return {"twelve_months": out}


def former_trend_mark(y: np.ndarray, x: np.ndarray, offset: np.ndarray) -> str:
    """The former ``fit_trend(family="auto")`` mark, rebuilt with statsmodels: a Poisson GLM,
    a negative binomial (Wald) when the Pearson dispersion exceeds 1.5, quasi-Poisson with
    normal errors when that does not converge; no fit below 2 periods with events."""
    import warnings

    import statsmodels.api as sm
    from statsmodels.discrete.discrete_model import NegativeBinomial

    if np.count_nonzero(y) < 2:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            poisson = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return ""
        if not poisson.converged:
            return ""
        params, p_value = poisson.params, poisson.pvalues[1]
        dispersion = poisson.pearson_chi2 / poisson.df_resid
        if dispersion > 1.5:
            mu = np.exp(x @ poisson.params + offset)
            alpha0 = max(float(np.sum(((y - mu) ** 2 - y) / mu**2) / (len(y) - x.shape[1])), 0.05)
            try:
                nb = NegativeBinomial(y, x, loglike_method="nb2", offset=offset).fit(
                    start_params=np.append(poisson.params, alpha0), method="newton", maxiter=200, disp=False
                )
                ok = nb.mle_retvals.get("converged", False) and np.all(np.isfinite(nb.bse))
            except (ValueError, np.linalg.LinAlgError):
                ok = False
            if ok:
                params, p_value = nb.params[:-1], nb.pvalues[1]
            else:
                p_value = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(scale="X2").pvalues[1]
    if not np.isfinite(params[1]) or abs(params[1]) > 50 or not p_value < 0.05:
        return ""
    return "↑" if params[1] > 0 else "↓"


def sim_trend(rng, mean, alpha, runs, effect):
    from problembild.analysis.periods import period_days
    from problembild.analysis.trend import fit_trend, seasonal_design

    starts = month_starts()
    x, _ = seasonal_design(starts, "month")
    offset = np.log(period_days(starts, "month"))
    means = monthly_means(mean, "trend" if effect else None)
    new = former = 0
    for _ in range(runs):
        y = draw(rng, means, alpha, MONTHS)
        want = ("↑",) if effect else ("↑", "↓")
        new += fit_trend(y, starts).mark() in want
        former += former_trend_mark(y.astype(float), x, offset) in want
    return {"trend": {"new": new, "former": former}}


def sim_unusual_week(rng, mean, alpha, runs, effect):
    import pandas as pd

    from problembild.analysis.control import control_flags

    weekly = mean * 12 / 52
    means = np.full(WEEKS, weekly)
    if effect:
        means[-1] *= 3
    y = draw(rng, means, alpha, (runs, WEEKS))
    weeks = pd.date_range("2023-01-02", periods=WEEKS, freq="W-MON")
    table = pd.DataFrame(
        {"key": np.repeat(np.arange(runs), WEEKS), "period_start": np.tile(weeks, runs), "count": y.ravel()}
    )
    last = np.arange(runs) * WEEKS + WEEKS - 1
    out = {}
    for method, dispersion in (("new", "estimate"), ("former", 1.0)):
        flags = control_flags(table, keys=["key"], baseline_weeks=52, alpha=0.01, dispersion=dispersion)
        out[method] = int(flags["flag"].to_numpy()[last].sum())
    return {"unusual_week": out}


def sim_gi_star(rng, mean, alpha, runs, effect, *, per_cell=False):
    from problembild.analysis.hotspots import gi_star, gi_star_labels, gi_star_test

    means = np.full(GRID, mean)
    centre = (GRID[0] // 2, GRID[1] // 2)
    if effect:
        means[centre[0] - 1 : centre[0] + 2, centre[1] - 1 : centre[1] + 2] *= 4
    new = former = 0
    for _ in range(runs):
        if per_cell:  # independent gamma risks per cell
            counts = draw(rng, means, alpha, GRID)
        else:  # one gamma factor for the whole map, events at random
            busy = rng.gamma(1 / alpha, alpha) if alpha else 1.0
            counts = rng.poisson(means * busy)
        labels = gi_star_test(counts, 2, alpha=0.05).labels
        old = gi_star_labels(gi_star(counts, 2), alpha=0.05).labels
        if effect:
            new += labels[centre] == 1
            former += old[centre] == 1
        else:
            new += bool((labels == 1).any())
            former += bool((old == 1).any())
    return {"gi_star": {"new": int(new), "former": int(former)}}


def sim_heterogeneous_cells(rng, mean, alpha, runs, effect):
    if not alpha or effect:
        return {"heterogeneous_cells": {"new": 0, "former": 0}}
    out = sim_gi_star(rng, mean, alpha, runs, False, per_cell=True)
    return {"heterogeneous_cells": out["gi_star"]}


RUNNERS = {
    "change": sim_change,
    "twelve_months": sim_twelve_months,
    "trend": sim_trend,
    "unusual_week": sim_unusual_week,
    "gi_star": sim_gi_star,
    "heterogeneous_cells": sim_heterogeneous_cells,
}


def task(args: tuple[str, int, int, bool, int]) -> tuple[tuple[str, int, int, bool], dict, float]:
    """One simulation family at one setting, null or planted; seeded by its position."""
    name, i_mean, i_alpha, effect, runs = args
    seed = np.random.SeedSequence(SEED, spawn_key=(list(RUNNERS).index(name), i_mean, i_alpha, int(effect)))
    started = time.perf_counter()
    result = RUNNERS[name](np.random.default_rng(seed), MEANS[i_mean], ALPHAS[i_alpha], runs, effect)
    return (name, i_mean, i_alpha, effect), result, time.perf_counter() - started


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def collect(results: dict, runs: int) -> list[dict[str, Any]]:
    rows = []
    for sim, marks in SIMULATIONS.items():
        for mark in marks:
            nominal = MARKS[mark][0]
            for i_mean, mean in enumerate(MEANS):
                for i_alpha, alpha in enumerate(ALPHAS):
                    null = results[(sim, i_mean, i_alpha, False)][mark]
                    planted = results[(sim, i_mean, i_alpha, True)][mark]
                    rate = null["new"] / runs
                    rows.append(
                        {
                            "mark": mark,
                            "mean": mean,
                            "alpha": alpha,
                            "phi": 1 + alpha * mean,
                            "nominal": nominal,
                            "runs": runs,
                            "false_alarms": null["new"],
                            "false_alarm_rate": rate,
                            "false_alarm_ci": wilson(null["new"], runs),
                            "pass": rate <= nominal + TOLERANCE,
                            "power": planted["new"] / runs,
                            "power_ci": wilson(planted["new"], runs),
                            "former_false_alarm_rate": null["former"] / runs,
                            "former_false_alarm_ci": wilson(null["former"], runs),
                            "former_power": planted["former"] / runs,
                        }
                    )
    return rows


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def markdown(e: dict[str, Any]) -> str:
    """The calibration tables (one per mark) for docs/benchmarks.md."""
    rows = e.get("rows", [])
    lines = [
        f"{e.get('runs', '?'):,} independent simulated series (or maps) per setting and scenario, seeded "
        f"(`benchmarks/bench_statistics.py`, {e.get('seconds', 0):.0f} s on {e.get('workers', '?')} processes). "
        "Negative binomial NB2 with `alpha` (0 = Poisson; dispersion `phi = 1 + alpha × mean`). "
        "False alarms: the share of runs without any change that get the mark; power: the share of runs with "
        "the planted effect marked in its direction. 95 % Wilson intervals in brackets. Target: false "
        f"alarms ≤ nominal + {100 * TOLERANCE:.1f} points. *Former*: the method before issue 10 on the same "
        "data.",
    ]
    passed = sum(r["pass"] for r in rows)
    lines += ["", f"**{passed} of {len(rows)} rows meet the target.**"]
    for mark, (nominal, what, effect) in MARKS.items():
        mine = [r for r in rows if r["mark"] == mark]
        if not mine:
            continue
        unit = "cell" if mark == "gi_star" else "month"
        lines += [
            "",
            f"**`{mark}`**: {what}; nominal {pct(nominal)}; planted effect: {effect}.",
            "",
            f"| events per {unit} | alpha | phi | false alarms | target ≤ {pct(nominal + TOLERANCE)} | power | "
            "former false alarms | former power |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in mine:
            lo, hi = r["false_alarm_ci"]
            plo, phi_ = r["power_ci"]
            flo, fhi = r["former_false_alarm_ci"]
            lines.append(
                f"| {r['mean']:g} | {r['alpha']:g} | {r['phi']:.2f} | {pct(r['false_alarm_rate'])} "
                f"[{pct(lo)}, {pct(hi)}] | {'**pass**' if r['pass'] else '**FAIL**'} | "
                f"{pct(r['power'])} [{pct(plo)}, {pct(phi_)}] | {pct(r['former_false_alarm_rate'])} "
                f"[{pct(flo)}, {pct(fhi)}] | {pct(r['former_power'])} |"
            )
    cells = e.get("heterogeneous_cells", [])
    if cells:
        lines += [
            "",
            "*For information, no target:* maps whose cells have independent gamma risks (NB cells, "
            "no spatial pattern beyond the cells' own risks). The cells do differ in risk, which the "
            "exact test (complete spatial randomness given the total) is built to find; a reading as "
            "spatial association in the strict sense needs `gi_star_test(..., permutations=...)`.",
            "",
            "| events per cell | alpha | maps with a hot cell | former (normal p-values) |",
            "|---|---|---|---|",
            *[
                f"| {c['mean']:g} | {c['alpha']:g} | {pct(c['flagged'])} | {pct(c['former_flagged'])} |"
                for c in cells
            ],
        ]
    return "\n".join(lines)


def targets(e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """One target row per mark for the summary table of docs/benchmarks.md."""
    out: list[tuple[str, str, bool | None]] = []
    rows = e.get("rows", [])
    for mark, (nominal, _, _) in MARKS.items():
        mine = [r for r in rows if r["mark"] == mark]
        if not mine:
            continue
        worst = max(mine, key=lambda r: r["false_alarm_rate"])
        out.append(
            (
                f"`{mark}` false alarms ≤ {pct(nominal + TOLERANCE)} in all {len(mine)} settings",
                f"max {pct(worst['false_alarm_rate'])} (mean {worst['mean']:g}, alpha {worst['alpha']:g}); "
                f"{sum(r['pass'] for r in mine)}/{len(mine)} pass",
                all(r["pass"] for r in mine),
            )
        )
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument("--runs", type=int, default=None, help="runs per setting (default 1,000; quick 100)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    args = parser.parse_args(argv)
    runs = args.runs or (100 if args.quick else 1000)
    workers = args.workers or min(2, os.cpu_count() or 1)
    jobs = [
        (name, i_mean, i_alpha, effect, runs)
        for name in RUNNERS
        for i_mean in range(len(MEANS))
        for i_alpha in range(len(ALPHAS))
        for effect in (False, True)
    ]
    # The slow simulations first, so the pool's tail is short.
    jobs = [j for j in jobs if j[0] != "heterogeneous_cells" or (j[2] > 0 and not j[3])]
    jobs.sort(key=lambda j: j[0] not in ("trend", "gi_star", "heterogeneous_cells"))
    started = time.perf_counter()
    results: dict = {}
    seconds: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for key, result, took in pool.map(task, jobs):
            results[key] = result
            seconds[key[0]] = seconds.get(key[0], 0.0) + took
    rows = collect(results, runs)
    heterogeneous = [
        {
            "mean": MEANS[i_mean],
            "alpha": ALPHAS[i_alpha],
            "flagged": results[("heterogeneous_cells", i_mean, i_alpha, False)]["heterogeneous_cells"]["new"]
            / runs,
            "former_flagged": results[("heterogeneous_cells", i_mean, i_alpha, False)]["heterogeneous_cells"][
                "former"
            ]
            / runs,
        }
        for i_mean in range(len(MEANS))
        for i_alpha in range(1, len(ALPHAS))
    ]
    entry = {
        "status": "ok",
        "runs": runs,
        "workers": workers,
        "seed": SEED,
        "means": list(MEANS),
        "alphas": list(ALPHAS),
        "tolerance": TOLERANCE,
        "rows": rows,
        "heterogeneous_cells": heterogeneous,
        "passed": sum(r["pass"] for r in rows),
        "n_rows": len(rows),
        "seconds": time.perf_counter() - started,
        "cpu_seconds": seconds,
    }
    print(markdown(entry))
    finish("statistics", entry, quick=args.quick, output=args.output)
    return entry


if __name__ == "__main__":
    main()
