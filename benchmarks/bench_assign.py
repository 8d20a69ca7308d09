"""Area assignment: ``AreaIndex(geoms, ids).assign(x, y)`` against ``geopandas.sjoin``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_assign.py            # 10 million points
    .venv/bin/python benchmarks/bench_assign.py --quick    # 500,000 points

Points are realistic for an import: 60 % uniform in a random area's bounding box widened
by 1 km on each side, 40 % uniform over Sweden's mainland box. AreaIndex is timed
including its construction; sjoin (``predicate="intersects"``) is timed on the same points,
with and without building the point GeoDataFrame (``points_from_xy``). Where several
polygons match a point, the lowest index wins (AreaIndex's rule), and the two must agree on
every point. Targets: ≥ 1 million points/s and at least as fast as sjoin.
"""

from __future__ import annotations

import gc
import statistics
import time

import numpy as np
from run import bench_args, finish, realistic_points

SJOIN_BUDGET_S = 120.0  # per repeat; beyond this sjoin runs on fewer points and is extrapolated
SJOIN_FALLBACK_POINTS = 2_000_000


def time_area_index(geoms, ids, x, y, repeats: int) -> tuple[dict, np.ndarray]:
    from problembild.analysis.spatial import AreaIndex

    builds, assigns, totals = [], [], []
    result = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        index = AreaIndex(geoms, ids)
        t1 = time.perf_counter()
        result = index.assign(x, y)
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        assigns.append(t2 - t1)
        totals.append(t2 - t0)
        del index
    assert result is not None
    return {
        "build_s": statistics.median(builds),
        "assign_s": statistics.median(assigns),
        "total_s": statistics.median(totals),
        "all_total_s": totals,
    }, result


def sjoin_once(gpd, frame, x, y) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(points_from_xy seconds, sjoin seconds, left positions, right positions) of one run."""
    right = frame[["geometry"]]
    gc.collect()
    t0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y, crs=frame.crs))
    t1 = time.perf_counter()
    joined = gpd.sjoin(points, right, how="inner", predicate="intersects")
    t2 = time.perf_counter()
    left = joined.index.to_numpy()
    rpos = joined["index_right"].to_numpy()
    del joined, points
    return t1 - t0, t2 - t1, left, rpos


def first_match(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Lowest matching polygon position per point, -1 where none."""
    out = np.full(n, -1, dtype=np.int64)
    if len(left):
        order = np.lexsort((right, left))
        left, right = left[order], right[order]
        first = np.ones(len(left), dtype=bool)
        first[1:] = left[1:] != left[:-1]
        out[left[first]] = right[first]
    return out


def choose_sjoin_points(gpd, frame, x, y, n: int, requested: int | None) -> tuple[int, str]:
    """How many points sjoin runs on: all, unless a probe says it would take too long or too much memory."""
    if requested:
        return min(requested, n), "requested with --sjoin-points"
    import psutil

    probe = min(n, 500_000)
    before = psutil.Process().memory_info().rss
    pf, sj, _, _ = sjoin_once(gpd, frame, x[:probe], y[:probe])
    grown = max(psutil.Process().memory_info().rss - before, 0)
    est_s = (pf + sj) * n / probe
    per_point = max(grown / probe, 300.0)  # bytes: shapely point + frame + join result
    est_bytes = per_point * n * 1.5
    avail = psutil.virtual_memory().available
    if est_s > SJOIN_BUDGET_S:
        return SJOIN_FALLBACK_POINTS, f"probe estimated {est_s:.0f} s per run on all points"
    if est_bytes > 0.5 * avail:
        return SJOIN_FALLBACK_POINTS, (
            f"probe estimated {est_bytes / 1e9:.1f} GB on all points, {avail / 1e9:.1f} GB available"
        )
    return n, ""


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument("--points", type=int, default=None, help="points (default 10,000,000; quick 500,000)")
    parser.add_argument("--repeats", type=int, default=None, help="AreaIndex runs (default 5; quick 3)")
    parser.add_argument("--sjoin-repeats", type=int, default=None, help="sjoin runs (default 3; quick 2)")
    parser.add_argument("--sjoin-points", type=int, default=None, help="run sjoin on this many points only")
    parser.add_argument("--seed", type=int, default=20231)
    args = parser.parse_args(argv)
    n = args.points or (500_000 if args.quick else 10_000_000)
    repeats = args.repeats or (3 if args.quick else 5)
    sj_repeats = args.sjoin_repeats or (2 if args.quick else 3)

    import geopandas as gpd

    t0 = time.perf_counter()
    x, y, frame = realistic_points(n, args.seed)
    geoms = list(frame.geometry.values)
    ids = frame["panel_id"].to_numpy(dtype=np.int64)
    print(f"{n:,} points generated in {time.perf_counter() - t0:.1f} s; {len(geoms)} areas", flush=True)

    ours, assigned = time_area_index(geoms, ids, x, y, repeats)
    print(f"AreaIndex: build {ours['build_s']:.3f} s, assign {ours['assign_s']:.3f} s", flush=True)

    n_sj, reason = choose_sjoin_points(gpd, frame, x, y, n, args.sjoin_points)
    pfs, sjs = [], []
    left = rpos = None
    for _ in range(sj_repeats):
        pf, sj, left, rpos = sjoin_once(gpd, frame, x[:n_sj], y[:n_sj])
        pfs.append(pf)
        sjs.append(sj)
        print(f"sjoin on {n_sj:,}: points_from_xy {pf:.2f} s, sjoin {sj:.2f} s", flush=True)
    assert left is not None and rpos is not None
    ref_pos = first_match(n_sj, left, rpos)
    ref = np.where(ref_pos >= 0, ids[np.maximum(ref_pos, 0)], -1)
    mismatches = int(np.count_nonzero(ref != assigned[:n_sj]))
    multi = int(len(left) - np.count_nonzero(ref_pos >= 0))

    scale = n / n_sj
    pf_s = statistics.median(pfs) * scale
    sj_s = statistics.median(sjs) * scale
    e2e = statistics.median(np.add(pfs, sjs)) * scale
    entry = {
        "status": "ok",
        "points": n,
        "areas": len(geoms),
        "assigned": int(np.count_nonzero(assigned >= 0)),
        "repeats": repeats,
        **ours,
        "points_per_s": n / ours["total_s"],
        "assign_only_points_per_s": n / ours["assign_s"],
        "sjoin": {
            "points": n_sj,
            "repeats": sj_repeats,
            "extrapolated": n_sj < n,
            "reason": reason,
            "sjoin_s": sj_s,
            "points_from_xy_s": pf_s,
            "end_to_end_s": e2e,
            "measured_sjoin_s": sjs,
            "measured_points_from_xy_s": pfs,
            "sjoin_points_per_s": n / sj_s,
            "end_to_end_points_per_s": n / e2e,
            "how": "inner",
            "predicate": "intersects",
        },
        "ratio_vs_sjoin": sj_s / ours["total_s"],
        "ratio_vs_sjoin_end_to_end": e2e / ours["total_s"],
        "compared": n_sj,
        "mismatches": mismatches,
        "identical": mismatches == 0,
        "multi_match_points": multi,
        "notes": [
            "Ratios are sjoin time / AreaIndex time (construction included) for the same points in the same "
            "run; > 1 means AreaIndex is faster.",
            "sjoin's time excludes reducing its pairs to one area per point (done untimed for the identity "
            "check), which favours sjoin.",
        ],
    }
    if n_sj < n:
        entry["notes"].append(
            f"sjoin ran on the first {n_sj:,} points; its times are extrapolated linearly ({reason})."
        )
    finish("assign", entry, quick=args.quick, output=args.output)
    return entry


if __name__ == "__main__":
    main()
