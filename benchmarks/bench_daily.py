"""The daily update: one day's incidents imported into ten million, then ``problembild refresh``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_daily.py                    # 10 M incidents of history
    .venv/bin/python benchmarks/bench_daily.py --quick            # 200,000
    .venv/bin/python benchmarks/bench_daily.py --from DIR         # copy DIR's prepared database
    .venv/bin/python benchmarks/bench_daily.py --quick --postgres # on PostgreSQL (stored as daily_pg)

The morning routine of a police organisation: yesterday's incidents are imported and the
pictures refreshed. In a throw-away data directory (``init`` + ``demo-data --incidents N
--years 5``, or a copy of a prepared directory's database with ``--from``), ``refresh
--full`` runs first (not timed). Then a day's worth of incidents (``--day``, default 5,000),
each a copy of a random stored incident's type and place (so spread as the history is),
at times in the 24 hours before the last stored incident (so the end of the data, and
with it every period of the pictures, stays where it was), is written as CSV; the timed
part is ``problembild import incidents`` of that file plus ``problembild refresh --json``,
each a subprocess. Afterwards the stored pictures are compared with those before: the
areas that received no new incident must keep their expensive parts (hot spots, trends,
forecast) byte for byte — an area is recomputed when an incident falls in it or near enough
to reach its hot-spot grid; the figures compared across all areas (ranks, comparisons) are
rebuilt for every area by design, so whole documents are counted separately.
Target: import + refresh ≤ 5 s.

With ``--engine postgresql`` the history is in a fresh PostgreSQL database
(``run.bench_database``), dropped afterwards; ``--from DIR`` then copies the database named in
DIR's ``bench-prepared.json`` (``bench_refresh.py --data-dir DIR --postgres``) with
``CREATE DATABASE … TEMPLATE``, which needs that database to have no other connections.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

import numpy as np
from bench_refresh import PREPARED, prepare
from run import (
    SQLITE_FILE,
    BenchDB,
    bench_args,
    bench_database,
    bench_env,
    check_engine,
    engine_args,
    engine_facts,
    finish,
    make_data_dir,
    problembild_cmd,
    remove_data_dir,
    run_measured,
    tail,
)

TARGET_S = 5.0
#: The parts of a picture recomputed only where an area's incidents changed.
EXPENSIVE = ("trends", "unusual_weeks", "hour_of_week", "space")
DB = SQLITE_FILE


def pictures(data_dir: Path, url: str | None = None) -> dict[int, dict[str, Any]]:
    """Each area's stored picture document, by panel id."""
    with BenchDB(data_dir, url) as db:
        rows = db.all(
            "SELECT a.panel_id, p.data FROM picture_areapicture p JOIN areas_area a ON a.id = p.area_id"
        )
    return {int(a): BenchDB.json(d) for a, d in rows}


def write_day(data_dir: Path, path: Path, n: int, seed: int, url: str | None = None) -> dict[str, Any]:
    """``n`` incidents copying random stored ones' type and place, in the last stored day."""
    rng = np.random.default_rng(seed)
    with BenchDB(data_dir, url) as db:
        top = db.scalar("SELECT max(id) FROM incidents_incident")
        last = db.scalar("SELECT max(occurred_at) FROM incidents_incident")
        picks = rng.choice(np.arange(1, int(top) + 1), size=min(4 * n, int(top)), replace=False)
        rows = []
        for chunk in np.array_split(picks, max(1, len(picks) // 900)):
            marks = ",".join("?" * len(chunk))
            rows += db.all(
                f"SELECT raw_type, x, y FROM incidents_incident WHERE id IN ({marks}) AND x IS NOT NULL",
                [int(i) for i in chunk],
            )
    rows = rows[:n]
    # SQLite stores UTC text, PostgreSQL returns an aware datetime in the session's zone: both to naive UTC.
    if hasattr(last, "astimezone") and getattr(last, "tzinfo", None) is not None:
        import datetime as dt

        last = last.astimezone(dt.UTC).replace(tzinfo=None)
    end = np.datetime64(str(last).replace(" ", "T")[:19], "s")
    times = end - rng.integers(1, 24 * 3600, len(rows)).astype("timedelta64[s]")
    with path.open("w", encoding="utf-8") as f:
        f.write("id,occurred_at,type,x,y\n")
        for i, ((kind, x, y), when) in enumerate(zip(rows, times, strict=True)):
            kind = str(kind).replace('"', '""')
            f.write(f'daily-{seed}-{i},{when}Z,"{kind}",{x:.1f},{y:.1f}\n')
    return {"incidents": len(rows), "last_stored": str(last)}


def compare(
    before: dict[int, dict], after: dict[int, dict], computed: set[int], touched: int
) -> dict[str, Any]:
    """How the pictures of the areas the refresh did not recompute changed (panel ids)."""
    untouched = [a for a in before if a not in computed and a in after]
    same_expensive = [
        a
        for a in untouched
        if all(json.dumps(before[a].get(k)) == json.dumps(after[a].get(k)) for k in EXPENSIVE)
    ]
    same_whole = [a for a in untouched if json.dumps(before[a]) == json.dumps(after[a])]
    return {
        "areas": len(before),
        "touched": touched,
        "recomputed": len(computed),
        "untouched": len(untouched),
        "untouched_expensive_identical": len(same_expensive),
        "untouched_document_identical": len(same_whole),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--incidents", type=int, default=None, help="history (default 10,000,000; quick 200,000)"
    )
    parser.add_argument("--day", type=int, default=5_000, help="incidents of the day imported")
    parser.add_argument(
        "--from", dest="source", type=Path, default=None, help="copy this data directory's database"
    )
    parser.add_argument("--repeats", type=int, default=3, help="days imported one after the other (median)")
    parser.add_argument("--timeout", type=float, default=3600)
    engine_args(parser)
    args = parser.parse_args(argv)
    check_engine(parser, args)
    n = args.incidents or (200_000 if args.quick else 10_000_000)
    template = None
    if args.source and args.engine == "postgresql":
        marker = args.source / PREPARED
        template = (
            json.loads(marker.read_text(encoding="utf-8")).get("database_url") if marker.exists() else None
        )
        if not template:
            parser.error(
                f"{args.source} names no PostgreSQL database ({PREPARED} of bench_refresh.py --postgres)"
            )
    data_dir = make_data_dir("daily")
    pb = problembild_cmd()
    entry: dict[str, Any] = {"incidents": n, "day": args.day, "target_s": TARGET_S}
    try:
        with bench_database(args.engine, "daily", url=args.database_url, template=template) as url:
            entry.update(engine_facts(args.engine, url))
            run_days(entry, args, data_dir, url, pb, n)
    except Exception as exc:  # record, do not crash the whole run
        entry["status"] = "failed"
        entry["error"] = f"{type(exc).__name__}: {exc}"
        print(entry["error"], flush=True)
    finally:
        remove_data_dir(data_dir)
    finish("daily", entry, quick=args.quick, output=args.output)
    return entry


def run_days(entry: dict[str, Any], args, data_dir: Path, url: str | None, pb: list[str], n: int) -> None:
    """Setup (or copy), ``refresh --full``, then the timed days into ``entry``."""
    env = bench_env(data_dir, url)
    if args.source:
        if url is None:
            shutil.copy2(args.source / DB, data_dir / DB)
        with BenchDB(data_dir, url) as db:
            n = db.scalar("SELECT count(*) FROM incidents_incident")
        entry.update(incidents=int(n), copied_from=str(args.source))
        # A database prepared by an older version: its schema brought up to date (not timed).
        migrate = run_measured([*pb, "manage", "migrate", "--no-input"], env=env, timeout=args.timeout)
        if not migrate.ok:
            entry.update(status="failed", error=tail(migrate.stderr or migrate.stdout))
            return
    else:
        entry["setup"] = prepare(data_dir, n, timeout=args.timeout, database_url=url)
        if not all(s["ok"] for s in entry["setup"]):
            entry["status"] = "failed"
            return
    full = run_measured([*pb, "refresh", "--full", "--json"], env=env, timeout=args.timeout)
    entry["refresh_full"] = full.summary()
    print(f"refresh --full: {full.seconds:.1f} s", flush=True)
    if not full.ok:
        entry["status"] = "failed"
        return
    days = []
    for k in range(args.repeats):
        before = pictures(data_dir, url)
        csv = data_dir / f"day-{k}.csv"
        made = write_day(data_dir, csv, args.day, seed=k, url=url)
        imp = run_measured([*pb, "import", "incidents", str(csv), "--source", "daily"], env=env)
        ref = run_measured([*pb, "refresh", "--json"], env=env, timeout=args.timeout)
        day: dict[str, Any] = {
            **made,
            "import": imp.summary(),
            "refresh": ref.summary(),
            "seconds": imp.seconds + ref.seconds,
        }
        if imp.ok and ref.ok:
            summary = json.loads(ref.stdout[ref.stdout.find("{") :])
            day["refresh_timings"] = summary.get("timings", {})
            day["areas_recomputed"] = summary.get("areas_recomputed")
            day["loaded"] = summary.get("loaded")
            day["contests"] = {k: summary.get(f"contests_{k}") for k in ("run", "reused")}
            day["stages_reused"] = summary.get("stages_reused")
            with BenchDB(data_dir, url) as db:
                touched = db.scalar(
                    "SELECT count(DISTINCT area_id) FROM incidents_incident WHERE source = 'daily' "
                    "AND external_id LIKE ? AND area_id IS NOT NULL",
                    (f"daily-{k}-%",),
                )
            computed = set(summary.get("computed", []))
            day["pictures"] = compare(before, pictures(data_dir, url), computed, int(touched))
        else:
            day["error"] = tail((imp.stderr or imp.stdout) if not imp.ok else (ref.stderr or ref.stdout))
        days.append(day)
        print(
            f"day {k}: import {imp.seconds:.2f} s + refresh {ref.seconds:.2f} s; {day.get('pictures')}",
            flush=True,
        )
    entry["days"] = days
    ok = [d for d in days if "error" not in d]
    entry["median_s"] = statistics.median(d["seconds"] for d in ok) if ok else None
    entry["median_import_s"] = statistics.median(d["import"]["seconds"] for d in ok) if ok else None
    entry["median_refresh_s"] = statistics.median(d["refresh"]["seconds"] for d in ok) if ok else None
    entry["status"] = "ok" if ok else "failed"


def targets(e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    if not e.get("median_s"):
        return [("daily update (import + refresh) ≤ 5 s", "not measured", None)]
    last = next((d for d in reversed(e.get("days", [])) if "pictures" in d), {})
    pics = last.get("pictures", {})
    return [
        (
            f"daily update: import {e['day']:,} + refresh over {e['incidents']:,} ≤ {TARGET_S:g} s",
            f"{e['median_s']:.1f} s (import {e['median_import_s']:.1f} s, refresh {e['median_refresh_s']:.1f} s)",
            e["median_s"] <= TARGET_S,
        ),
        (
            "areas without new incidents keep their expensive parts byte for byte",
            f"{pics.get('untouched_expensive_identical', 0)} of {pics.get('untouched', 0)}",
            bool(pics) and pics.get("untouched_expensive_identical") == pics.get("untouched"),
        ),
    ]


def markdown(e: dict[str, Any]) -> str:
    days = [d for d in e.get("days", []) if "refresh_timings" in d]
    if not days:
        return "Not measured."
    out = [
        f"{e['incidents']:,} incidents of history; each day {e['day']:,} incidents are imported and `refresh` runs "
        f"(median of {len(days)} days; `refresh --full` before them took "
        f"{e.get('refresh_full', {}).get('seconds', float('nan')):.1f} s).",
        "",
        "| day | import | refresh | total | areas with new incidents | areas recomputed "
        "| untouched areas: expensive parts identical "
        "| untouched areas: whole document identical |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, d in enumerate(days):
        p = d["pictures"]
        out.append(
            f"| {i + 1} | {d['import']['seconds']:.2f} s | {d['refresh']['seconds']:.2f} s | {d['seconds']:.2f} s | "
            f"{p['touched']} | {d['areas_recomputed']} of {p['areas']} | "
            f"{p['untouched_expensive_identical']} of {p['untouched']} | "
            f"{p['untouched_document_identical']} of {p['untouched']} |"
        )
    stages: dict[str, list[float]] = {}
    for d in days:
        for k, v in d["refresh_timings"].items():
            stages.setdefault(k, []).append(float(v))
    out += [
        "",
        "Where the refresh's time goes (median seconds per stage; `space_wait` overlaps the others):",
        "",
        "| " + " | ".join(stages) + " |",
        "|" + "---|" * len(stages),
        "| " + " | ".join(f"{statistics.median(v):.2f}" for v in stages.values()) + " |",
        "",
        _why(e, days, stages),
    ]
    return "\n".join(out)


def _why(e: dict[str, Any], days: list[dict[str, Any]], stages: dict[str, list[float]]) -> str:
    """Where the time goes, in words, from the measured stages of the last day."""
    last = days[-1]
    p = last["pictures"]
    refresh = statistics.median(d["refresh"]["seconds"] for d in days)
    own = {
        k: statistics.median(v) for k, v in stages.items() if k not in ("space_and_forecast", "space_wait")
    }
    top = sorted(own.items(), key=lambda kv: -kv[1])[:6]
    loaded = last.get("loaded") or {}
    contests = last.get("contests") or {}
    read = (
        f"the store was read from the kept columns ({loaded.get('kept_rows', 0):,} rows) plus "
        f"{loaded.get('new_rows', 0):,} new rows"
        if loaded.get("how") == "reused"
        else f"the whole store was read ({loaded.get('reason') or 'no kept columns'})"
    )
    met = statistics.median(d["seconds"] for d in days) <= TARGET_S
    return (
        f"{'Where the time goes' if met else 'Why the target is missed'}: a day of {e['day']:,} incidents "
        f"spread as the history falls in or near {p['touched']} of the {p['areas']} areas, so "
        f"{last['areas_recomputed']} areas get their trends, hot spots and forecasts recomputed (the untouched "
        f"areas keep theirs, byte for byte); {contests.get('reused') or 0} forecast contests were reused "
        f"(`--contest-days`) and {contests.get('run') or 0} run; {read}. The refresh took {refresh:.1f} s; "
        "its largest stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in top) + ". " + _rebuilt(last)
    )


def _rebuilt(day: dict[str, Any]) -> str:
    """What the day's refresh still rebuilt, and why."""
    reused = day.get("stages_reused")
    if reused is None:
        tables = ""
    elif reused:
        tables = f"The stages whose inputs stood were skipped ({', '.join(reused)}). "
    else:
        tables = (
            "The indicator values and unit pictures were rebuilt: the day's incidents fall in "
            "complete periods here (the history ends at a year's end and the day lies before it), "
            "so their counts changed; on a day whose incidents fall in the period in progress they "
            "are skipped (`stages_reused`). "
        )
    return (
        tables + "Rebuilt on every run: the fingerprints and compared parts of every area, and the "
        "trends and time parts of the touched ones; each of the two commands also starts an "
        "interpreter and Django. docs/architecture.md (The daily update) says what comes next."
    )


if __name__ == "__main__":
    main()
