"""``problembild import incidents FILE`` of millions of CSV rows into a fresh database.

Run from the repository root::

    .venv/bin/python benchmarks/bench_import.py                 # 10 million rows
    .venv/bin/python benchmarks/bench_import.py --quick         # 200,000 rows
    .venv/bin/python benchmarks/bench_import.py --rows 1000000 --profile   # plus a cProfile of an import
    .venv/bin/python benchmarks/bench_import.py --quick --postgres   # on PostgreSQL (stored as import_pg)

In a throw-away data directory (``PROBLEMBILD_DATA_DIR``; with ``--engine postgresql`` also
a fresh PostgreSQL database, see ``run.bench_database``) it runs ``problembild init``
(not timed), writes a CSV with columns ``id,occurred_at,type,x,y`` (ISO 8601 local times
without offset, the police's incident types of the default taxonomy, SWEREF99 TM
coordinates placed as in ``bench_assign.py``: 60 % around the real areas, 40 % anywhere in
Sweden), then times the import as a subprocess with its peak memory (the command and its
children), and a re-import of the same file, which must add nothing; then the same rows as a Parquet
file (converted, not timed) imported into a second fresh database.
Targets: ≥ 150,000 rows/s end to end and ≤ 4 GB peak memory. When a full-size run misses
one, a second fresh database gets a cProfile'd import of 1 million rows (``--profile-rows``)
and the stages' shares are stored with the figures.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
from run import (
    BenchDB,
    Measured,
    bench_args,
    bench_database,
    bench_env,
    check_engine,
    engine_args,
    engine_facts,
    finish,
    make_data_dir,
    problembild_cmd,
    realistic_points,
    remove_data_dir,
    run_measured,
)

#: Raw types of the default taxonomy with rough relative frequencies (others weight 1).
TYPE_WEIGHTS = {
    "Misshandel": 30,
    "Skadegörelse": 20,
    "Narkotikabrott": 18,
    "Olaga hot": 10,
    "Brand": 8,
    "Rån": 5,
    "Misshandel, grov": 4,
    "Vapenlagen": 3,
    "Knivlagen": 3,
    "Bråk": 6,
    "Skottlossning": 2,
    "Explosion": 1,
    "Stöld": 12,  # not in the taxonomy: falls into its default group
}


def raw_types() -> tuple[list[str], np.ndarray]:
    import tomllib

    path = Path(__file__).resolve().parents[1] / "src" / "problembild" / "incidents" / "taxonomy.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    names = list(
        dict.fromkeys([t for types in data["indicators"].values() for t in types] + list(TYPE_WEIGHTS))
    )
    weights = np.array([TYPE_WEIGHTS.get(t, 1) for t in names], dtype=float)
    return names, weights / weights.sum()


def write_csv(path: Path, n: int, seed: int, batch: int = 1_000_000) -> int:
    """Write ``n`` incident rows; return the file size in bytes."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names, p = raw_types()
    x_all, y_all, _ = realistic_points(n, seed)
    rng = np.random.default_rng(seed + 1)
    start = np.datetime64("2021-01-01T00:00:00", "s").astype(np.int64)
    end = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)
    type_arr = np.array(names, dtype=object)
    schema = pa.schema(
        [(c, pa.string()) for c in ("id", "occurred_at", "type")] + [("x", pa.float64()), ("y", pa.float64())]
    )
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for lo in range(0, n, batch):
            hi = min(lo + batch, n)
            m = hi - lo
            ids = np.strings.add("inc-", np.arange(lo + 1, hi + 1).astype("U10"))
            secs = rng.integers(start, end, m).astype("datetime64[s]")
            when = np.datetime_as_string(secs, unit="s")
            types = type_arr[rng.choice(len(names), m, p=p)]
            table = pa.table(
                {
                    "id": pa.array(ids, pa.string()),
                    "occurred_at": pa.array(when, pa.string()),
                    "type": pa.array(types, pa.string()),
                    "x": np.round(x_all[lo:hi], 1),
                    "y": np.round(y_all[lo:hi], 1),
                },
                schema=schema,
            )
            writer.write_table(table)
    return path.stat().st_size


def import_summary(m: Measured) -> dict:
    """The JSON summary the import command prints."""
    text = m.stdout
    start = text.find("{")
    if start < 0:
        return {}
    try:
        return json.loads(text[start : text.rfind("}") + 1])
    except json.JSONDecodeError:
        return {}


def profile_import(cmd: list[str], env: dict, out: Path, top: int = 25) -> dict:
    """cProfile one import; return the functions with the most own and cumulative time."""
    import pstats
    import sys

    prof = out.with_suffix(".prof")
    m = run_measured(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "problembild.cli", *cmd], env=env
    )
    if not m.ok:
        return {"ok": False, "error": m.stderr[-800:]}
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]

    def rows(key: str) -> list[dict]:
        stats.sort_stats(key)
        result = []
        for func in stats.fcn_list[:top]:  # type: ignore[attr-defined]
            _cc, nc, tt, ct, _ = stats.stats[func]  # type: ignore[attr-defined]
            filename, line, name = func
            short = re.sub(r".*/(site-packages|src)/", "", filename)
            result.append(
                {
                    "function": f"{short}:{line}({name})",
                    "calls": nc,
                    "tottime_s": tt,
                    "cumtime_s": ct,
                    "share_cum": ct / total if total else None,
                }
            )
        return result

    breakdown = []
    for label, match in STAGES:
        cum = [ct for (fn, _, name), (_, _, _, ct, _) in stats.stats.items() if match(fn, name)]  # type: ignore[attr-defined]
        if cum:
            breakdown.append(
                {"stage": label, "cumtime_s": max(cum), "share": max(cum) / total if total else None}
            )
    return {
        "ok": True,
        "seconds": m.seconds,
        "profile_total_s": total,
        "breakdown": breakdown,
        "by_tottime": rows("tottime"),
        "by_cumtime": rows("cumulative"),
    }


def _in(module: str, function: str):
    return lambda fn, name: fn.endswith(module) and name == function


#: Stages of the import, as cProfile names them (cumulative time; nested stages overlap).
#: The profiled import runs without the worker process, so every stage is in one profile.
STAGES = [
    ("whole import (`import_incidents`)", _in("incidents/importers.py", "import_incidents")),
    ("read the CSV (`Table._frames`)", _in("incidents/rows.py", "_frames")),
    ("prepare chunks (`ChunkPreparer.__call__`)", _in("incidents/rows.py", "__call__")),
    ("… validate (`check_rows`)", _in("incidents/rows.py", "check_rows")),
    ("… … parse times (`parse_times`)", _in("incidents/rows.py", "parse_times")),
    ("… … content hashes (`_content_hashes`)", _in("incidents/rows.py", "_content_hashes")),
    ("… … id keys (`id_keys`)", _in("incidents/rows.py", "id_keys")),
    ("… area assignment (`AreaIndex.assign`)", _in("analysis/spatial.py", "assign")),
    ("… database rows (`build_rows`)", _in("incidents/rows.py", "build_rows")),
    ("duplicate check (`DuplicateChecker.check`)", _in("incidents/store.py", "check")),
    ("write (`insert_incidents`)", _in("incidents/store.py", "insert_incidents")),
    ("… SQLite multi-row INSERTs (`insert_columns`)", _in("core/db.py", "insert_columns")),
    (
        "… … SQLite `executemany` (C: insert and index maintenance)",
        lambda fn, name: fn == "~" and "executemany" in name,
    ),
    ("… PostgreSQL `COPY` of CSV text (`copy_csv`)", _in("core/db.py", "copy_csv")),
    ("rebuild indexes (`DeferredIndexes.restore`)", _in("incidents/store.py", "restore")),
    ("commit", lambda fn, name: fn == "~" and "'commit'" in name),
]


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument("--rows", type=int, default=None, help="CSV rows (default 10,000,000; quick 200,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile an import (into a second fresh database)"
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="no cProfile even when a full-size run misses a target"
    )
    parser.add_argument("--no-parquet", action="store_true", help="skip the Parquet import of the same rows")
    parser.add_argument("--profile-rows", type=int, default=1_000_000, help="rows of the profiled import")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data directory and CSV (and the PostgreSQL database)"
    )
    engine_args(parser)
    args = parser.parse_args(argv)
    check_engine(parser, args)
    n = args.rows or (200_000 if args.quick else 10_000_000)

    data_dir = make_data_dir("import")
    pb = problembild_cmd()
    entry: dict = {"status": "ok", "rows": n, "data_dir": str(data_dir)}
    try:
        with bench_database(args.engine, "import", url=args.database_url, keep=args.keep) as url:
            entry.update(engine_facts(args.engine, url))
            run_import(entry, args, data_dir, url, pb, n)
    except Exception as exc:  # record, do not crash the whole run
        entry["status"] = "failed"
        entry["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if not args.keep:
            remove_data_dir(data_dir)
    entry["notes"] = [
        "End-to-end time of the `problembild import incidents` subprocess: interpreter and Django start-up, "
        "reading and validating the CSV, duplicate check, area assignment and the "
        + ("PostgreSQL `COPY`." if args.engine == "postgresql" else "SQLite insert."),
    ]
    finish("import", entry, quick=args.quick, output=args.output)
    return entry


def database_bytes(data_dir: Path, url: str | None) -> int | None:
    """Size of the benchmark's database: the SQLite file, or ``pg_database_size``."""
    if url:
        with BenchDB(data_dir, url) as db:
            return int(db.scalar("SELECT pg_database_size(current_database())"))
    path = data_dir / "problembild.sqlite3"
    return path.stat().st_size if path.exists() else None


def timed_import(pb: list[str], cmd: list[str], env: dict, n: int) -> tuple[Measured, dict]:
    """Run one import of ``n`` rows as a measured subprocess; (the measurement, its figures)."""
    m = run_measured([*pb, *cmd], env=env)
    summary = import_summary(m)
    return m, {
        "seconds": m.seconds,
        "ok": m.ok,
        "rows_per_s": n / m.seconds if m.ok else None,
        "peak_rss_bytes": m.peak_rss_bytes,
        **{k: summary.get(k) for k in ("added", "accepted", "assigned")},
    }


def write_parquet(csv: Path, path: Path) -> int:
    """The CSV's rows as a Parquet file (streamed in batches; times stay text, as in the CSV)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    convert = pacsv.ConvertOptions(column_types={"id": "string", "occurred_at": "string", "type": "string"})
    reader = pacsv.open_csv(str(csv), convert_options=convert)
    with pq.ParquetWriter(str(path), reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    return path.stat().st_size


def run_parquet(csv: Path, args, pb: list[str], n: int) -> dict:
    """The same rows as Parquet, imported into a second fresh database (init not timed)."""
    parquet_dir = make_data_dir("import-parquet")
    out: dict = {"rows": n}
    try:
        with bench_database(args.engine, "import_parquet", keep=args.keep) as purl:
            env = bench_env(parquet_dir, purl)
            init = run_measured([*pb, "init"], env=env)
            if not init.ok:
                raise RuntimeError(f"init failed: {init.stderr[-800:]}")
            path = parquet_dir / "incidents.parquet"
            out["file_bytes"] = write_parquet(csv, path)
            m, figures = timed_import(pb, ["import", "incidents", str(path), "--source", "bench"], env, n)
            out.update(figures)
            summary = import_summary(m)
            if not m.ok:
                out["error"] = m.stderr[-1500:]
            print(
                f"Parquet import: {m.seconds:.1f} s, peak {m.peak_rss_bytes / 1e9:.2f} GB, {summary}",
                flush=True,
            )
    except Exception as exc:  # record, do not lose the CSV figures
        out.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    finally:
        if not args.keep:
            remove_data_dir(parquet_dir)
    return out


def run_import(entry: dict, args, data_dir: Path, url: str | None, pb: list[str], n: int) -> None:
    """init, the CSV, the timed import and re-import (and the profile) into ``entry``."""
    env = bench_env(data_dir, url)
    init = run_measured([*pb, "init"], env=env)
    entry["init_s"] = init.seconds
    if not init.ok:
        raise RuntimeError(f"init failed: {init.stderr[-800:]}")
    csv = data_dir / "incidents.csv"
    t0 = time.perf_counter()
    entry["file_bytes"] = write_csv(csv, n, args.seed)
    entry["generate_s"] = time.perf_counter() - t0
    print(
        f"{n:,} rows written ({entry['file_bytes'] / 1e6:.0f} MB) in {entry['generate_s']:.1f} s",
        flush=True,
    )

    cmd = ["import", "incidents", str(csv), "--source", "bench"]
    first, figures = timed_import(pb, cmd, env, n)
    entry.update(figures)
    summary = import_summary(first)
    print(f"import: {first.seconds:.1f} s, peak {first.peak_rss_bytes / 1e9:.2f} GB, {summary}", flush=True)
    if not first.ok:
        entry["status"] = "failed"
        entry["error"] = first.stderr[-1500:]
    else:
        again = run_measured([*pb, *cmd], env=env)
        s2 = import_summary(again)
        entry["reimport"] = {**again.summary(), "added": s2.get("added"), "accepted": s2.get("accepted")}
        print(f"re-import: {again.seconds:.1f} s, added {s2.get('added')}", flush=True)
        if not again.ok or s2.get("added") != 0:
            entry["status"] = "failed"
    entry["db_bytes"] = database_bytes(data_dir, url)
    if first.ok and not args.no_parquet:
        entry["parquet"] = run_parquet(csv, args, pb, n)
    missed = not first.ok or (entry["rows_per_s"] or 0) < 150_000 or first.peak_rss_bytes > 4e9
    if args.profile or (missed and not args.quick and not args.no_profile):
        prof_dir = make_data_dir("import-profile")
        try:
            with bench_database(args.engine, "import_profile", keep=args.keep) as purl:
                penv = bench_env(prof_dir, purl)
                run_measured([*pb, "init"], env=penv)
                rows = min(n, args.profile_rows)
                pcsv = prof_dir / "profile.csv"
                write_csv(pcsv, rows, args.seed)
                pcmd = ["import", "incidents", str(pcsv), "--source", "bench", "--no-parallel"]
                entry["profile"] = {"rows": rows, **profile_import(pcmd, penv, prof_dir / "import")}
                print(f"profile of {rows:,} rows: {entry['profile'].get('breakdown')}", flush=True)
        finally:
            if not args.keep:
                remove_data_dir(prof_dir)


if __name__ == "__main__":
    main()
