"""``problembild refresh --full`` over millions of incidents, and reading a cached picture.

Run from the repository root::

    .venv/bin/python benchmarks/bench_refresh.py                        # 10 million incidents
    .venv/bin/python benchmarks/bench_refresh.py --quick                # 200,000 incidents
    .venv/bin/python benchmarks/bench_refresh.py --incidents 2000000
    .venv/bin/python benchmarks/bench_refresh.py --quick --postgres     # on PostgreSQL (refresh_pg)

In a throw-away data directory it runs ``problembild init`` and ``demo-data --incidents N
--years 5`` (not timed), then times ``problembild refresh --full`` as a subprocess with its
peak memory, then, in a Django process on that database, times reading one area's cached
problem picture (``AreaPicture.objects.get(area__panel_id=…)`` and its JSON), median of 50.
Failures are recorded, not raised. Targets: refresh ≤ 60 s and ≤ 4 GB; a read ≤ 50 ms.

With ``--engine postgresql`` the database is a fresh PostgreSQL one (``run.bench_database``),
dropped afterwards; with ``--data-dir`` it is kept and its URL written into the directory's
``bench-prepared.json`` for ``bench_web.py`` (``--database-url`` names one to use instead).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from run import (
    bench_args,
    bench_database,
    bench_env,
    check_engine,
    engine_args,
    engine_facts,
    finish,
    has_database,
    make_data_dir,
    problembild_cmd,
    remove_data_dir,
    run_measured,
    tail,
)

#: Written into a kept data directory: what it holds, so bench_web.py can reuse it.
PREPARED = "bench-prepared.json"


def prepare(
    data_dir: Path, n: int, *, timeout: float, seed: int = 1, database_url: str | None = None
) -> list[dict]:
    """init + demo-data (+ nothing else) on the data directory's SQLite file or ``database_url``;
    return the steps' summaries."""
    env = bench_env(data_dir, database_url)
    pb = problembild_cmd()
    steps = []
    for label, cmd in (
        ("init", ["init"]),
        (
            f"demo-data --incidents {n} --years 5",
            ["demo-data", "--incidents", str(n), "--years", "5", "--seed", str(seed)],
        ),
    ):
        m = run_measured([*pb, *cmd], env=env, timeout=timeout)
        steps.append(m.summary(label))
        print(f"{label}: {m.seconds:.1f} s {'ok' if m.ok else 'FAILED: ' + tail(m.stderr)}", flush=True)
        if not m.ok:
            break
    return steps


def read_picture(
    data_dir: Path, repeats: int, panel_id: int | None = None, database_url: str | None = None
) -> dict:
    """Median time of reading one area's cached picture in this process (Django set up here)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "problembild.settings.dev"
    os.environ["PROBLEMBILD_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection

    from problembild.areas.models import Area
    from problembild.picture.models import AreaPicture

    try:
        if panel_id is None:
            # The largest cached picture: the worst case for the read.
            pic, area = AreaPicture._meta.db_table, Area._meta.db_table
            with connection.cursor() as cur:
                # CAST: text in SQLite, jsonb (which has no length) in PostgreSQL.
                cur.execute(
                    f"SELECT a.panel_id, length(CAST(p.data AS text)) FROM {pic} p "
                    f"JOIN {area} a ON a.id = p.area_id ORDER BY 2 DESC LIMIT 1"
                )
                row = cur.fetchone()
            if row is None:
                return {"ok": False, "error": "no cached area pictures (refresh wrote none)"}
            panel_id = int(row[0])

        def once() -> int:
            picture = AreaPicture.objects.get(area__panel_id=panel_id)
            data = picture.data  # decoded from JSON by the field
            return len(data) + sum(1 for _ in data.values())

        t0 = time.perf_counter()
        once()
        cold = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            once()
            times.append(time.perf_counter() - t0)
        raw = AreaPicture.objects.filter(area__panel_id=panel_id).values_list("data", flat=True).first()
        return {
            "ok": True,
            "panel_id": panel_id,
            "repeats": repeats,
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "first_read_s": cold,
            "json_bytes": len(json.dumps(raw)),
        }
    except Exception as exc:  # record, do not crash the whole run
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--incidents", type=int, default=None, help="synthetic incidents (default 10,000,000; quick 200,000)"
    )
    parser.add_argument("--reads", type=int, default=50, help="repeated picture reads")
    parser.add_argument(
        "--panel-id", type=int, default=None, help="area to read (default: the largest picture)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per step")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="prepare in this (new) directory and keep it, with its PostgreSQL database (for bench_web.py)",
    )
    engine_args(parser)
    args = parser.parse_args(argv)
    check_engine(parser, args)
    n = args.incidents or (200_000 if args.quick else 10_000_000)

    if args.data_dir:
        data_dir = args.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / PREPARED).exists() or (data_dir / "problembild.sqlite3").exists():
            parser.error(f"{data_dir} holds a database already: give a new directory")
    else:
        data_dir = make_data_dir("refresh")
    entry: dict = {"incidents": n, "years": 5}
    keep = bool(args.keep or args.data_dir)
    url = None
    try:
        with bench_database(args.engine, "refresh", url=args.database_url, keep=keep) as url:
            entry.update(engine_facts(args.engine, url))
            if has_database(data_dir, url):
                raise RuntimeError("the database holds the app's tables already: give an empty one")
            run_refresh(entry, args, data_dir, url, n)
    except Exception as exc:  # record, do not crash the whole run
        entry["error"] = f"{type(exc).__name__}: {exc}"
        print(entry["error"], flush=True)
    finally:
        if args.data_dir:
            marker = {
                "incidents": n,
                "refresh_ok": bool(entry.get("refresh", {}).get("ok")),
                "engine": args.engine,
                "database_url": url,
            }
            (data_dir / PREPARED).write_text(json.dumps(marker), encoding="utf-8")
        elif not args.keep:
            remove_data_dir(data_dir)
    ok = entry.get("refresh", {}).get("ok") and entry.get("read", {}).get("ok")
    entry["status"] = "ok" if ok else "failed"
    finish("refresh", entry, quick=args.quick, output=args.output)
    return entry


def run_refresh(entry: dict, args, data_dir: Path, url: str | None, n: int) -> None:
    """Setup, the timed ``refresh --full`` and the picture reads into ``entry``."""
    entry["setup"] = prepare(data_dir, n, timeout=args.timeout, database_url=url)
    if all(s["ok"] for s in entry["setup"]):
        m = run_measured(
            [*problembild_cmd(), "refresh", "--full", "--json"],
            env=bench_env(data_dir, url),
            timeout=args.timeout,
        )
        entry["refresh"] = m.summary()
        if m.ok:
            # Where the time goes: the refresh's own seconds and peak memory per stage.
            summary = json.loads(m.stdout[m.stdout.find("{") :])
            entry["refresh"]["timings"] = summary.get("timings", {})
            entry["refresh"]["memory_mb"] = summary.get("memory_mb", {})
        print(
            f"refresh --full: {m.seconds:.1f} s, peak {m.peak_rss_bytes / 1e9:.2f} GB, {'ok' if m.ok else 'FAILED'}",
            flush=True,
        )
        if not m.ok:
            print(tail(m.stderr or m.stdout), flush=True)
        entry["read"] = read_picture(data_dir, args.reads, args.panel_id, database_url=url)
        print(f"read: {entry['read']}", flush=True)
    else:
        entry["refresh"] = {"ok": False, "seconds": None, "error": "setup failed"}


if __name__ == "__main__":
    main()
