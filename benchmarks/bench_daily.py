"""The daily update: one day's incidents imported into ten million, then ``problembild refresh``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_daily.py                    # 10 M incidents of history
    .venv/bin/python benchmarks/bench_daily.py --quick            # 200,000
    .venv/bin/python benchmarks/bench_daily.py --from DIR         # copy DIR's prepared database
    .venv/bin/python benchmarks/bench_daily.py --quick --postgres # on PostgreSQL (stored as daily_pg)

The morning routine of a police organisation: yesterday's incidents are imported and the
pictures refreshed. In a throw-away data directory (``init`` + ``demo-data --incidents N
--years 5``, or a copy of a prepared directory's database with ``--from``), ``refresh
--full`` runs first (not timed). Then days of incidents (``--day``, default 5,000 each),
each a copy of a random stored incident's type and place (so spread as the history is),
are written as CSV and imported with ``problembild import incidents FILE --refresh``, the
morning routine in one process (timed whole; the refresh's own seconds are in its summary,
the rest is the interpreter, Django and the import). Two kinds of day:

* **closing** (one, first): times in the 24 hours before the last stored incident, so the
  day's incidents fall in periods already complete. This is the first morning of a month
  (or a week, a quarter, a year): the period just closed gets new counts, so its indicator
  values and the unit pictures are rebuilt.
* **typical** (``--repeats``, median; the headline figure): the local day after the last
  stored incident, one day after the other, as on most mornings; no period closes, so the
  stages whose inputs stood are skipped (``stages_reused``).

After each day the stored pictures are compared with those before: the areas that
received no new incident must keep their expensive parts (hot spots, trends, forecast)
byte for byte — an area is recomputed when an incident falls in it or near enough to reach
its hot-spot grid; the figures compared across all areas (ranks, comparisons) are rebuilt
for every area by design, so whole documents are counted separately.
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


def write_day(
    data_dir: Path, path: Path, n: int, seed: int, url: str | None = None, *, after: bool = False
) -> dict[str, Any]:
    """``n`` incidents copying random stored ones' type and place: in the 24 hours before the
    last stored incident, or (``after``) in the local day after its local day."""
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
    if after:
        # The next local day (on a day when the clocks change, an hour spills into the next: harmless).
        times = _next_local_midnight(end) + rng.integers(0, 24 * 3600, len(rows)).astype("timedelta64[s]")
    else:
        times = end - rng.integers(1, 24 * 3600, len(rows)).astype("timedelta64[s]")
    with path.open("w", encoding="utf-8") as f:
        f.write("id,occurred_at,type,x,y\n")
        for i, ((kind, x, y), when) in enumerate(zip(rows, times, strict=True)):
            kind = str(kind).replace('"', '""')
            f.write(f'daily-{seed}-{i},{when}Z,"{kind}",{x:.1f},{y:.1f}\n')
    return {"incidents": len(rows), "last_stored": str(last), "kind": "typical" if after else "closing"}


def _next_local_midnight(utc: np.datetime64) -> np.datetime64:
    """The first local (Stockholm) midnight after ``utc`` (naive UTC seconds), as naive UTC."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Stockholm")
    local = dt.datetime.fromisoformat(str(utc)).replace(tzinfo=dt.UTC).astimezone(zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return np.datetime64(midnight.astimezone(dt.UTC).replace(tzinfo=None), "s")


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
    parser.add_argument(
        "--repeats", type=int, default=3, help="typical days imported one after the other (median)"
    )
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
    days = [run_day(0, data_dir, url, pb, env, args, after=False)]
    days += [run_day(k, data_dir, url, pb, env, args, after=True) for k in range(1, args.repeats + 1)]
    entry["closing_days"] = [d for d in days if d["kind"] == "closing"]
    days = [d for d in days if d["kind"] == "typical"]
    entry["days"] = days
    ok = [d for d in days if "error" not in d]
    entry["median_s"] = statistics.median(d["seconds"] for d in ok) if ok else None
    entry["median_import_s"] = statistics.median(d["import"]["seconds"] for d in ok) if ok else None
    entry["median_refresh_s"] = statistics.median(d["refresh"]["seconds"] for d in ok) if ok else None
    entry["status"] = "ok" if ok else "failed"


def run_day(k: int, data_dir: Path, url: str | None, pb: list[str], env: dict, args, *, after: bool) -> dict:
    """One day imported with ``import incidents --refresh``, timed, and its pictures compared."""
    before = pictures(data_dir, url)
    csv = data_dir / f"day-{k}.csv"
    made = write_day(data_dir, csv, args.day, seed=k, url=url, after=after)
    run = run_measured(
        [*pb, "import", "incidents", str(csv), "--source", "daily", "--refresh"],
        env=env,
        timeout=args.timeout,
    )
    day: dict[str, Any] = {**made, "command": run.summary(), "seconds": run.seconds}
    summary = json.loads(run.stdout[run.stdout.find("{") :]) if run.ok else {}
    refreshed = summary.get("refresh") or {}
    if run.ok and refreshed:
        inner = float(refreshed["seconds"])
        # The import part: the interpreter and Django start, the import itself, and the
        # refresh's set-up before its clock starts.
        day["import"] = {"seconds": run.seconds - inner, "added": summary.get("added")}
        day["refresh"] = {"seconds": inner}
        day["refresh_timings"] = refreshed.get("timings", {})
        day["areas_recomputed"] = refreshed.get("areas_recomputed")
        day["loaded"] = refreshed.get("loaded")
        day["contests"] = {c: refreshed.get(f"contests_{c}") for c in ("run", "reused")}
        day["stages_reused"] = refreshed.get("stages_reused")
        with BenchDB(data_dir, url) as db:
            touched = db.scalar(
                "SELECT count(DISTINCT area_id) FROM incidents_incident WHERE source = 'daily' "
                "AND external_id LIKE ? AND area_id IS NOT NULL",
                (f"daily-{k}-%",),
            )
        computed = set(refreshed.get("computed", []))
        day["pictures"] = compare(before, pictures(data_dir, url), computed, int(touched))
    else:
        day["error"] = tail(run.stderr or run.stdout)
    print(
        f"{made['kind']} day {k}: {run.seconds:.2f} s (refresh {day.get('refresh', {}).get('seconds', 0):.2f} s); "
        f"reused {day.get('stages_reused')}; {day.get('pictures')}",
        flush=True,
    )
    return day


def targets(e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    if not e.get("median_s"):
        return [("daily update (import + refresh) ≤ 5 s", "not measured", None)]
    # On a typical day the end of the data moves, and with it every area's hot-spot window:
    # every area is recomputed. The closing day keeps the end, so it shows the untouched areas.
    checked = [*e.get("closing_days", []), *e.get("days", [])]
    last = next((d for d in checked if "pictures" in d and d["pictures"].get("untouched")), {})
    pics = last.get("pictures", {})
    # Entries from before the split into closing and typical days measured a closing day, two commands.
    kind = "a typical morning" if "closing_days" in e else "a closing day, two commands (an older run)"
    rows: list[tuple[str, str, bool | None]] = [
        (
            f"daily update, {kind}: import {e['day']:,} + refresh over {e['incidents']:,} ≤ {TARGET_S:g} s",
            f"{e['median_s']:.1f} s (import {e['median_import_s']:.1f} s, refresh {e['median_refresh_s']:.1f} s)",
            e["median_s"] <= TARGET_S,
        )
    ]
    for d in e.get("closing_days", []):
        if "refresh" in d:
            rows.append(
                (
                    f"daily update, a morning that closes a period ≤ {TARGET_S:g} s",
                    f"{d['seconds']:.1f} s (import {d['import']['seconds']:.1f} s, "
                    f"refresh {d['refresh']['seconds']:.1f} s)",
                    d["seconds"] <= TARGET_S,
                )
            )
    rows.append(
        (
            "areas without new incidents keep their expensive parts byte for byte",
            f"{pics.get('untouched_expensive_identical', 0)} of {pics.get('untouched', 0)}",
            bool(pics) and pics.get("untouched_expensive_identical") == pics.get("untouched"),
        )
    )
    return rows


def markdown(e: dict[str, Any]) -> str:
    days = [d for d in e.get("days", []) if "refresh_timings" in d]
    if not days:
        return "Not measured."
    closing = [d for d in e.get("closing_days", []) if "refresh_timings" in d]
    how = (
        "imported with `import incidents --refresh` (one process); the figure is the median of "
        f"{len(days)} typical days"
        if "closing_days" in e
        else "imported and `refresh` runs (two commands; an older run, before the split into closing "
        f"and typical days: each day lay before the end of the data); median of {len(days)} days"
    )
    out = [
        f"{e['incidents']:,} incidents of history; each day {e['day']:,} incidents are {how} "
        f"(`refresh --full` before them took {e.get('refresh_full', {}).get('seconds', float('nan')):.1f} s)."
        + (
            " *Import* is the command's time less the refresh's own: the interpreter and Django start and the import."
            if "closing_days" in e
            else ""
        ),
        "",
        "| day | kind | import | refresh | total | areas with new incidents | areas recomputed "
        "| stages skipped | untouched areas: expensive parts identical "
        "| untouched areas: whole document identical |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, d in enumerate(closing + days):
        p = d["pictures"]
        out.append(
            f"| {i + 1} | {d.get('kind', 'closing (older run)')} | {d['import']['seconds']:.2f} s | "
            f"{d['refresh']['seconds']:.2f} s | {d['seconds']:.2f} s | "
            f"{p['touched']} | {d['areas_recomputed']} of {p['areas']} | "
            f"{', '.join(d.get('stages_reused') or []) or 'none'} | "
            f"{p['untouched_expensive_identical']} of {p['untouched']} | "
            f"{p['untouched_document_identical']} of {p['untouched']} |"
        )
    stages = _stages(days)
    names = list(stages)
    closing_stages = _stages(closing)
    names += [k for k in closing_stages if k not in stages]
    out += [
        "",
        "Where the refresh's time goes (seconds per stage; typical days: median; `space_wait` "
        "overlaps the others):",
        "",
        "| day | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| typical | " + " | ".join(_cell(stages.get(k)) for k in names) + " |",
    ]
    if closing:
        out.append("| closing | " + " | ".join(_cell(closing_stages.get(k)) for k in names) + " |")
    out += ["", _why(e, days, stages)]
    return "\n".join(out)


def _stages(days: list[dict[str, Any]]) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = {}
    for d in days:
        for k, v in d["refresh_timings"].items():
            stages.setdefault(k, []).append(float(v))
    return stages


def _cell(values: list[float] | None) -> str:
    return f"{statistics.median(values):.2f}" if values else "–"


def _why(e: dict[str, Any], days: list[dict[str, Any]], stages: dict[str, list[float]]) -> str:
    """Where the time goes on a typical morning, in words, from the measured stages."""
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
        f"{'Where the time goes' if met else 'Why the target is missed'}: a typical day of {e['day']:,} "
        f"incidents spread as the history falls in or near {p['touched']} of the {p['areas']} areas, so "
        f"{last['areas_recomputed']} areas get their hot spots, forecasts and time parts recomputed (the "
        f"untouched areas keep theirs, byte for byte); {contests.get('reused') or 0} forecast contests were "
        f"reused (`--contest-days`) and {contests.get('run') or 0} run; {read}. The refresh took "
        f"{refresh:.1f} s; its largest stages: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in top)
        + ". "
        + _rebuilt(last, e.get("closing_days", []))
    )


def _rebuilt(day: dict[str, Any], closing: list[dict[str, Any]]) -> str:
    """What a typical day's refresh still rebuilt, and what a closing day adds."""
    reused = day.get("stages_reused")
    tables = f"Skipped because their inputs stood: {', '.join(reused)}. " if reused else ""
    if closing and "refresh" in closing[0]:
        c = closing[0]
        tables += (
            f"On the morning that closes a period ({c['seconds']:.1f} s) the period just closed has new "
            "counts, so the indicator values are rebuilt "
            f"({c['refresh_timings'].get('indicator_values', 0):.1f} s) and the trends refitted. "
        )
    return (
        tables + "Rebuilt on every run: the fingerprints and compared parts of every area, the hot "
        "spots, forecasts and time parts of the touched ones, and the counts. docs/architecture.md "
        "(The daily update) says what comes next."
    )


if __name__ == "__main__":
    main()
