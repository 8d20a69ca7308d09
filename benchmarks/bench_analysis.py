"""Benchmark the spatial analytics against the reference implementations.

Run from the repository root::

    .venv/bin/python benchmarks/bench_analysis.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_analysis.py --quick    # small sizes, a smoke test

Times are medians over repeats (``time.perf_counter``). Figures are merged into
``benchmarks/results.json`` under the key ``"analysis"`` (other keys are kept) and
printed as a Markdown table. This is a script, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"

try:
    import problembild.analysis  # noqa: F401
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time in seconds over ``repeats`` calls, all times, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def bench_gi_star(size: int, radius: float, repeats: int, esda_sizes: list[int], esda_budget: float) -> dict:
    import esda
    import libpysal

    from problembild.analysis.hotspots import gi_star

    out: dict[str, Any] = {"radius_cells": radius, "sizes": {}}
    for n in sorted({size, *esda_sizes}):
        counts = np.random.default_rng(n).poisson(2.0, (n, n)).astype(float)
        ours, _, z = timed(lambda counts=counts: gi_star(counts, radius), repeats=max(repeats, 5))
        entry: dict[str, Any] = {"cells": n * n, "gi_star_s": ours}
        if n in esda_sizes:
            rows, cols = np.mgrid[0:n, 0:n]
            centres = np.column_stack([cols.ravel(), rows.ravel()]).astype(float)

            def run_esda(centres=centres, counts=counts):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    w = libpysal.weights.DistanceBand(
                        centres, threshold=radius, binary=True, silence_warnings=True
                    )
                    return esda.G_Local(counts.ravel(), w, transform="B", star=True, permutations=0)

            # One call first to see whether repeats fit in the budget.
            first, _, g = timed(run_esda, 1)
            more = min(repeats - 1, int(esda_budget // max(first, 1e-9)) - 1)
            times = [first]
            if more > 0:
                _, extra, g = timed(run_esda, more)
                times += extra
            entry.update(
                esda_s=statistics.median(times),
                esda_repeats=len(times),
                ratio=statistics.median(times) / ours,
                max_abs_z_diff=float(np.max(np.abs(z.ravel() - np.asarray(g.Zs)))),
            )
        out["sizes"][f"{n}x{n}"] = entry
    out["note"] = (
        "esda time = libpysal DistanceBand(binary) construction + G_Local(star=True, permutations=0)"
    )
    return out


def bench_kde(n_points: int, n_cells: int, bandwidth_cells: float, repeats: int, n_sample: int) -> dict:
    from sklearn.neighbors import KernelDensity

    from problembild.analysis.density import kde_grid
    from problembild.analysis.grid import Grid

    rng = np.random.default_rng(42)
    cell = 10.0
    extent = n_cells * cell
    # Half clustered (a few hot spots), half uniform, some points outside the bounds.
    half = n_points // 2
    centres = rng.uniform(0.2 * extent, 0.8 * extent, (20, 2))
    pick = rng.integers(0, 20, half)
    x = np.r_[centres[pick, 0] + rng.normal(0, 60, half), rng.uniform(-100, extent + 100, n_points - half)]
    y = np.r_[centres[pick, 1] + rng.normal(0, 60, half), rng.uniform(-100, extent + 100, n_points - half)]
    bounds = (0.0, 0.0, extent, extent)
    h = bandwidth_cells * cell
    ours, _, density = timed(lambda: kde_grid(x, y, bounds=bounds, cell_size=cell, bandwidth=h), repeats)

    grid = Grid.from_bounds(bounds, cell)
    xc, yc = grid.centres()
    flat = rng.choice(grid.n_cells, size=min(n_sample, grid.n_cells), replace=False)
    rows, cols = np.divmod(flat, grid.nx)
    queries = np.column_stack([xc[cols], yc[rows]])
    kde = KernelDensity(kernel="gaussian", bandwidth=h)
    fit_s, _, _ = timed(lambda: kde.fit(np.column_stack([x, y])), 1)
    score_s, _, logd = timed(lambda: kde.score_samples(queries), 1)
    exact = np.exp(logd)
    fast = density[rows, cols]
    relevant = exact > 0.01 * density.max()
    per_centre = score_s / len(queries)
    sklearn_full = fit_s + per_centre * grid.n_cells
    return {
        "points": n_points,
        "grid": f"{grid.ny}x{grid.nx}",
        "bandwidth_cells": bandwidth_cells,
        "kde_grid_s": ours,
        "sklearn_fit_s": fit_s,
        "sklearn_score_s_sampled": score_s,
        "sklearn_sampled_centres": len(queries),
        "sklearn_full_grid_s_extrapolated": sklearn_full,
        "ratio": sklearn_full / ours,
        "max_rel_err_where_density_gt_1pct_of_max": float(
            np.max(np.abs(fast[relevant] / exact[relevant] - 1))
        ),
        "note": (
            f"sklearn KernelDensity.score_samples timed on {len(queries)} random cell centres and "
            f"extrapolated linearly to all {grid.n_cells} (plus one fit)"
        ),
    }


def bench_knox(n_events: int, permutations: int, repeats: int) -> dict:
    from problembild.analysis.nearrepeat import knox

    rng = np.random.default_rng(7)
    size = 30_000.0  # metres: a police region of 30 x 30 km
    days = 3 * 365.0
    x = rng.uniform(0, size, n_events)
    y = rng.uniform(0, size, n_events)
    t = rng.uniform(0, days, n_events)
    bands = {"distance_bands": [0, 100, 200, 400], "time_bands": [0, 7, 14, 28]}
    median, times, res = timed(lambda: knox(x, y, t, permutations=permutations, seed=1, **bands), repeats)
    return {
        "events": n_events,
        "permutations": permutations,
        "extent_m": size,
        "days": days,
        **bands,
        "close_pairs": res.n_close_pairs,
        "knox_s": median,
        "pair_permutations_per_s": res.n_close_pairs * permutations / median,
        "all_s": times,
    }


def synthetic_history(seed: int, days: float, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform background, two persistent hot spots, a new 10-day flare every 14 days."""
    rng = np.random.default_rng(seed)
    xs, ys, ts = [], [], []
    area_scale = (size / 1500.0) ** 2
    n = rng.poisson(1.5 * days * area_scale)
    xs.append(rng.uniform(0, size, n))
    ys.append(rng.uniform(0, size, n))
    ts.append(rng.uniform(0, days, n))
    for fx, fy, rate in ((0.27, 0.73, 0.6), (0.73, 0.33, 0.4)):
        n = rng.poisson(rate * days)
        xs.append(rng.normal(fx * size, 50, n))
        ys.append(rng.normal(fy * size, 50, n))
        ts.append(rng.uniform(0, days, n))
    for start in np.arange(0.0, days, 14.0):
        cx, cy = rng.uniform(150, size - 150, 2)
        n = rng.poisson(20)
        xs.append(rng.normal(cx, 40, n))
        ys.append(rng.normal(cy, 40, n))
        ts.append(start + rng.exponential(10, n))
    x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
    keep = t < days
    return x[keep], y[keep], t[keep]


def bench_forecast(n_seeds: int, n_origins: int) -> dict:
    from problembild.analysis.evaluation import COVERAGES, backtest, compare_methods
    from problembild.analysis.forecast import METHODS, forecaster

    size, cell, days = 2000.0, 50.0, 730.0
    bounds = (0.0, 0.0, size, size)
    frames = []
    start = time.perf_counter()
    for seed in range(n_seeds):
        x, y, t = synthetic_history(seed, days, size)
        origins = [days - 7.0 * k for k in range(n_origins, 0, -1)]
        frame = backtest(
            x,
            y,
            t,
            bounds=bounds,
            cell_size=cell,
            origins=origins,
            horizon=7.0,
            methods={m: forecaster(m) for m in METHODS},
        )
        frame["seed"] = seed
        frames.append(frame)
    backtest_s = time.perf_counter() - start
    import pandas as pd

    detail = pd.concat(frames, ignore_index=True)
    summary = detail.groupby(["method", "coverage"])[["hit_rate", "pai", "pei"]].mean()
    x, y, t = synthetic_history(0, days, size)
    cmp_s, _, table = timed(
        lambda: compare_methods(x, y, t, bounds=bounds, cell_size=cell, at=days, horizon=7.0, n_origins=6), 1
    )
    return {
        "grid": "40x40 cells of 50 m",
        "history_days": days,
        "seeds": n_seeds,
        "weekly_origins_per_seed": n_origins,
        "backtest_s": backtest_s,
        "compare_methods_s": cmp_s,
        "compare_methods_winner_seed0": table.attrs["winner"],
        "mean": {
            method: {
                f"{cov:g}": {k: float(summary.loc[(method, cov), k]) for k in ("hit_rate", "pai", "pei")}
                for cov in COVERAGES
            }
            for method in METHODS
        },
    }


def markdown(results: dict) -> str:
    lines = ["| benchmark | ours | reference | ratio |", "|---|---|---|---|"]
    gi = results["gi_star"]
    for size, entry in gi["sizes"].items():
        if "esda_s" in entry:
            lines.append(
                f"| Gi* {size}, radius {gi['radius_cells']:g} | {entry['gi_star_s'] * 1e3:.1f} ms | "
                f"esda {entry['esda_s']:.2f} s (n={entry['esda_repeats']}) | {entry['ratio']:.0f}× |"
            )
        else:
            lines.append(f"| Gi* {size} | {entry['gi_star_s'] * 1e3:.1f} ms | – | – |")
    kd = results["kde"]
    lines.append(
        f"| KDE {kd['points']:,} pts → {kd['grid']}, h={kd['bandwidth_cells']:g} cells | "
        f"{kd['kde_grid_s']:.3f} s | sklearn ≈ {kd['sklearn_full_grid_s_extrapolated']:.0f} s "
        f"(extrapolated from {kd['sklearn_sampled_centres']} centres) | {kd['ratio']:.0f}× |"
    )
    kn = results["knox"]
    lines.append(
        f"| Knox {kn['events']:,} events, {kn['permutations']} perms, {kn['close_pairs']:,} close pairs | "
        f"{kn['knox_s']:.2f} s | – | {kn['pair_permutations_per_s'] / 1e6:.0f} M pair-perms/s |"
    )
    out = "\n".join(lines)
    fc = results["forecast"]
    rows = ["| method | " + " | ".join(f"PAI@{c} (hit, PEI)" for c in next(iter(fc["mean"].values()))) + " |"]
    rows.append("|---|" + "---|" * len(next(iter(fc["mean"].values()))))
    for method, by_cov in fc["mean"].items():
        cells = [f"{v['pai']:.2f} ({v['hit_rate']:.2f}, {v['pei']:.2f})" for v in by_cov.values()]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    out += (
        f"\n\nForecast backtest ({fc['seeds']} synthetic histories × {fc['weekly_origins_per_seed']} weekly "
        f"origins, {fc['grid']}; backtest {fc['backtest_s']:.1f} s; compare_methods winner on seed 0: "
        f"{fc['compare_methods_winner_seed0']}):\n\n" + "\n".join(rows)
    )
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON to merge into")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.quick:
        gi = bench_gi_star(100, 3.0, repeats=3, esda_sizes=[50], esda_budget=10)
        kd = bench_kde(50_000, 128, 3.0, repeats=3, n_sample=512)
        kn = bench_knox(5_000, 99, repeats=1)
        fc = bench_forecast(n_seeds=1, n_origins=2)
    else:
        gi = bench_gi_star(500, 3.0, repeats=3, esda_sizes=[200, 500], esda_budget=90)
        kd = bench_kde(1_000_000, 512, 3.0, repeats=5, n_sample=4096)
        kn = bench_knox(50_000, 999, repeats=3)
        fc = bench_forecast(n_seeds=3, n_origins=8)

    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "quick": args.quick,
        "gi_star": gi,
        "kde": kd,
        "knox": kn,
        "forecast": fc,
        "total_s": time.perf_counter() - started,
    }
    existing: dict[str, Any] = {}
    if args.output.exists():
        existing = json.loads(args.output.read_text(encoding="utf-8"))
    existing["analysis"] = results
    args.output.write_text(json.dumps(existing, indent=2, default=float) + "\n", encoding="utf-8")
    print(markdown(results))
    print(f"\nTotal {results['total_s']:.0f} s; figures merged into {args.output} under 'analysis'.")
    return results


if __name__ == "__main__":
    main()
