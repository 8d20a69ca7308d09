"""``refresh --full`` on a busy machine: while 20 clients load the pages, against the same refresh alone.

Run from the repository root::

    .venv/bin/python benchmarks/bench_busy.py                        # 10 million incidents
    .venv/bin/python benchmarks/bench_busy.py --quick                # 200,000 incidents
    .venv/bin/python benchmarks/bench_busy.py --from /tmp/pb10m      # a copy of a prepared database
    .venv/bin/python benchmarks/bench_busy.py --quick --worker-nice 10,5,0 --refresh-nice 0,10
    .venv/bin/python benchmarks/bench_busy.py --quick --server-nice 5 --repeats 3

In production the nightly ``refresh --full`` shares the server with the pages. In a throw-away
data directory (``init`` + ``demo-data --incidents N --years 5``, or a copy of a prepared
directory's database with ``--from``; then one ``refresh --full``, not timed, so that every
page has its picture and the file cache is warm) the production server is started as
``bench_web.py`` starts it (gunicorn, production settings) and, for each niceness setting
and repeat:

1. *quiet*: ``problembild refresh --full --json`` alone (the server idle);
2. *busy*: 20 clients (``bench_web.run_threads``: keep-alive connections, no think time, half
   on the overview ``/``, half on the area page with the largest picture) load the pages
   continuously; after a warm-up and a baseline window, the same refresh runs; the pages'
   p50/p95/p99 and errors are taken from the requests that started while it ran, and the
   baseline p95 from those of the window before it (load, no refresh).

The refresh's process tree is sampled meanwhile: the worker processes it started, their
niceness and the CPU seconds of refresh, server and client over the refresh, with the load
average. Settings: ``--worker-nice`` (the worker processes' niceness increment, passed as
``PROBLEMBILD_REFRESH_WORKER_NICE``, which ``picture/refresh/space.py`` reads; default: not set,
so the module's ``WORKER_NICENESS``), ``--refresh-nice`` (the refresh runs under ``nice -n K``;
its workers add their increment to it) and ``--server-nice`` (gunicorn under ``nice -n K``).
Lists of the first two are tried one after the other within each repeat. Figures are
medians over ``--repeats``; page percentiles are pooled over the repeats' windows.

Targets: busy refresh ≤ 2 × the quiet one; page p95 during the refresh ≤ 300 ms.
The refresh spreads the hot spots over worker processes only from 500,000 candidate points
(``space.PARALLEL_FROM``): at ``--quick`` size it runs in one process, so ``--worker-nice``
changes nothing there and ``--refresh-nice`` stands in for it. SQLite only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench_refresh import prepare
from bench_web import get, login, pick_panel_id, run_threads
from bench_web import start_gunicorn as start_web_server
from run import (
    ROOT,
    SQLITE_FILE,
    bench_args,
    bench_env,
    engine_facts,
    finish,
    make_data_dir,
    problembild_cmd,
    remove_data_dir,
    run_measured,
    stop_server,
    tail,
)

TARGET_RATIO = 2.0
TARGET_P95_MS = 300.0
#: Read by ``picture/refresh/space.py``: the niceness increment of the refresh's worker processes.
WORKER_NICE_ENV = "PROBLEMBILD_REFRESH_WORKER_NICE"
SPACE_PY = ROOT / "src" / "problembild" / "picture" / "refresh" / "space.py"


def default_worker_nice() -> int | None:
    """``WORKER_NICENESS`` of space.py (read from the source: importing it would load numpy and shapely)."""
    found = re.search(r"^WORKER_NICENESS\s*=\s*(-?\d+)", SPACE_PY.read_text(encoding="utf-8"), re.M)
    return int(found.group(1)) if found else None


def nice_prefix(k: int, group: bool = False) -> list[str]:
    """``nice -n k`` before a command; with ``group``, its scheduling group's niceness set to ``k`` first.

    Linux with autogroup (``kernel.sched_autogroup_enabled``) shares the CPU between sessions
    first and applies niceness only within one; ``run_measured`` and ``start_server`` start each
    command in a session of its own, so a process's niceness does not weigh against the others'
    (as with separate systemd services, each its own cgroup). ``group`` gives the command's
    autogroup the niceness too (``/proc/self/autogroup``), which then weighs between the sessions
    as ``CPUWeight=`` weighs between services.
    """
    prefix = ["sh", "-c", 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec "$@"', str(k)] if group else []
    return prefix + (["nice", "-n", str(k)] if k else [])


def autogroup(pid: int) -> str | None:
    """The scheduling group of a process and its niceness (``/autogroup-123 nice 0``), if any."""
    try:
        return Path(f"/proc/{pid}/autogroup").read_text(encoding="utf-8").strip()
    except OSError:
        return None


def sched_facts() -> dict[str, Any]:
    try:
        enabled = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text(encoding="utf-8").strip() == "1"
    except OSError:
        enabled = None
    return {"autogroup_enabled": enabled, "benchmark_autogroup": autogroup(os.getpid())}


def int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


# --------------------------------------------------------------------------- measuring


class Watch:
    """Samples, while a refresh runs: its worker processes and their niceness, and the CPU
    seconds of the refresh's tree, the server's tree and this process (the clients)."""

    def __init__(self, server_pid: int | None, every: float = 0.25) -> None:
        import psutil

        self.psutil = psutil
        self.me = psutil.Process()
        self.server = psutil.Process(server_pid) if server_pid else None
        self.every = every
        self.cpu: dict[int, float] = {}  # refresh tree: pid -> last CPU seconds seen
        self.nice: dict[str, set[int]] = {"main": set(), "workers": set()}
        self.workers_seen: set[int] = set()
        self.max_workers = 0
        self.load_max = 0.0
        self.group: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_cpu(self, proc) -> float:
        total = 0.0
        with contextlib.suppress(self.psutil.Error):
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(self.psutil.Error):
                    t = p.cpu_times()
                    total += t.user + t.system
        return total

    def _sample(self) -> None:
        ps = self.psutil
        with contextlib.suppress(ps.Error):
            for child in self.me.children():
                with contextlib.suppress(ps.Error):
                    argv = child.cmdline()
                    if "refresh" not in argv or Path(argv[0]).name in ("sh", "nice"):
                        continue  # not the refresh, or `sh` / `nice` before they exec it
                    self.nice["main"].add(child.nice())
                    self.group = self.group or autogroup(child.pid)
                    t = child.cpu_times()
                    self.cpu[child.pid] = t.user + t.system
                    alive = 0
                    for sub in child.children(recursive=True):
                        with contextlib.suppress(ps.Error):
                            t = sub.cpu_times()
                            self.cpu[sub.pid] = t.user + t.system
                            if "spawn_main" in " ".join(sub.cmdline()):
                                alive += 1
                                self.workers_seen.add(sub.pid)
                                self.nice["workers"].add(sub.nice())
                    self.max_workers = max(self.max_workers, alive)
        self.load_max = max(self.load_max, os.getloadavg()[0])

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> Watch:
        self.t0 = time.perf_counter()
        self.load_before = [round(v, 2) for v in os.getloadavg()]
        self.server_cpu0 = self._tree_cpu(self.server) if self.server else None
        mine = self.me.cpu_times()
        self.client_cpu0 = mine.user + mine.system
        self.psutil.cpu_percent(None)  # starts the machine-wide utilisation interval
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.seconds = time.perf_counter() - self.t0
        self.cpu_busy_percent = self.psutil.cpu_percent(None)
        mine = self.me.cpu_times()
        self.client_cpu = mine.user + mine.system - self.client_cpu0
        self.server_cpu = self._tree_cpu(self.server) - self.server_cpu0 if self.server else None
        self.load_after = [round(v, 2) for v in os.getloadavg()]

    def facts(self) -> dict[str, Any]:
        n_cpu = os.cpu_count() or 1
        out: dict[str, Any] = {
            "workers_started": len(self.workers_seen),
            "workers_at_once": self.max_workers,
            "nice_main": sorted(self.nice["main"]),
            "nice_workers": sorted(self.nice["workers"]),
            "autogroup": self.group,
            "cpu_s_refresh": round(sum(self.cpu.values()), 2),
            "cpu_busy_percent": self.cpu_busy_percent,  # of all cores, every process of the machine
            "cores_used_by_refresh": round(sum(self.cpu.values()) / self.seconds, 2)
            if self.seconds
            else None,
            "load_avg_before": self.load_before,
            "load_avg_after": self.load_after,
            "load_1m_max": round(self.load_max, 2),
            "cpu_count": n_cpu,
        }
        if self.server_cpu is not None:
            out["cpu_s_server"] = round(self.server_cpu, 2)
            out["cpu_s_clients"] = round(self.client_cpu, 2)
        return out


def refresh_once(
    pb: list[str],
    env: dict[str, str],
    refresh_nice: int,
    timeout: float,
    server_pid: int | None = None,
    group: bool = False,
) -> dict:
    """One timed ``refresh --full --json`` (under ``nice -n refresh_nice``), with what :class:`Watch` saw."""
    with Watch(server_pid) as watch:
        m = run_measured(
            [*nice_prefix(refresh_nice, group), *pb, "refresh", "--full", "--json"], env=env, timeout=timeout
        )
    out = {**m.summary(), **watch.facts()}
    if not m.ok:
        out["stderr_tail"] = tail(m.stderr or m.stdout, lines=40, chars=4000)
        # The app's frames of the traceback (rich prints the library's frames last).
        out["app_frames"] = re.findall(r"problembild/[\w/]+\.py:\d+ in \w+", m.stderr)[-12:]
    if m.ok:
        with contextlib.suppress(ValueError):
            summary = json.loads(m.stdout[m.stdout.find("{") :])
            out["timings"] = summary.get("timings", {})
            out["refresh_reported_s"] = summary.get("seconds")
    return out


def percentiles(rows: list[tuple[float, float | None, int]], seconds: float) -> dict[str, Any]:
    """Latency figures of ``(start, seconds, status)`` request records."""
    import numpy as np

    lat = np.array([r[1] for r in rows if r[1] is not None]) * 1e3
    out: dict[str, Any] = {
        "requests": len(lat),
        "requests_per_s": round(len(lat) / seconds, 2) if seconds > 0 else None,
        "non_2xx": sum(1 for r in rows if r[1] is not None and r[2] >= 300),
        "socket_errors": sum(1 for r in rows if r[1] is None),
    }
    if len(lat):
        p50, p90, p95, p99 = np.percentile(lat, [50, 90, 95, 99])
        out.update(p50_ms=float(p50), p90_ms=float(p90), p95_ms=float(p95), p99_ms=float(p99))
        out["max_ms"] = float(lat.max())
    return out


def window(logs: dict[str, list], spans: list[tuple[float, float]]) -> dict[str, Any]:
    """Per page and for all pages: the requests that started within one of ``spans``."""
    seconds = sum(b - a for a, b in spans)

    def inside(rows: list) -> list:
        return [r for r in rows if any(a <= r[0] < b for a, b in spans)]

    pages = {label: percentiles(inside(rows), seconds) for label, rows in logs.items()}
    every = percentiles([r for rows in logs.values() for r in inside(rows)], seconds)
    worst = [p["p95_ms"] for p in pages.values() if "p95_ms" in p]
    return {
        "seconds": round(seconds, 2),
        **every,
        "errors": every["non_2xx"] + every["socket_errors"],
        "worst_page_p95_ms": max(worst) if worst else None,
        "pages": pages,
    }


class Load:
    """``connections`` clients on the pages until stopped; every request logged (``bench_web.run_threads``)."""

    def __init__(self, port: int, session: str, pages: list[tuple[str, str]], connections: int) -> None:
        self.until = threading.Event()
        self.logs: dict[str, list] = {label: [] for label, _ in pages}
        share = [connections // len(pages) + (i < connections % len(pages)) for i in range(len(pages))]
        self.threads = [
            threading.Thread(
                target=run_threads,
                args=(port, path, session),
                kwargs={"connections": k, "seconds": 24 * 3600, "until": self.until, "log": self.logs[label]},
                daemon=True,
            )
            for (label, path), k in zip(pages, share, strict=True)
            if k
        ]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.until.set()
        for t in self.threads:
            t.join(120)


# --------------------------------------------------------------------------- the run


def start_gunicorn(
    data_dir: Path, workers: int, server_nice: int, group: bool = False
) -> tuple[Any, int, str, dict[str, str]]:
    """gunicorn as ``bench_web.py`` starts it, under the niceness asked for; (process, port, command, env)."""
    server, port, cmd, prod = start_web_server(data_dir, None, workers, nice_prefix(server_nice, group))
    prefix = " ".join(nice_prefix(server_nice, group))
    return server, port, f"{prefix} {cmd}".strip(), prod


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--incidents", type=int, default=None, help="synthetic incidents (default 10,000,000; quick 200,000)"
    )
    parser.add_argument(
        "--from", dest="source", type=Path, default=None, help="copy this data directory's database"
    )
    parser.add_argument(
        "--worker-nice",
        type=int_list,
        default=None,
        help=f"niceness increment(s) of the refresh's workers, comma-separated ({WORKER_NICE_ENV}; "
        "default: not set, space.py's WORKER_NICENESS)",
    )
    parser.add_argument(
        "--refresh-nice",
        type=int_list,
        default=[0],
        help="nice -n K of the refresh, comma-separated (default 0)",
    )
    parser.add_argument("--server-nice", type=int, default=0, help="nice -n K of gunicorn (default 0)")
    parser.add_argument(
        "--group-nice",
        action="store_true",
        help="give the refresh's and the server's scheduling groups (Linux autogroup) their niceness too, "
        "so that it weighs between them (see nice_prefix)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="quiet + busy pairs per setting (default 3; quick 1)"
    )
    parser.add_argument("--connections", type=int, default=20, help="concurrent clients")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers (default as bench_web.py: max(2, 2 × CPUs), ≤ 4)",
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="seconds of load not counted (default 5; quick 3)"
    )
    parser.add_argument(
        "--baseline",
        type=float,
        default=None,
        help="seconds of load before the refresh (default 20; quick 8)",
    )
    parser.add_argument("--user", default="noa.analytiker", help="demo user to log in as")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per step")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args(argv)
    n = args.incidents or (200_000 if args.quick else 10_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    warmup = args.warmup if args.warmup is not None else (3 if args.quick else 5)
    baseline = args.baseline if args.baseline is not None else (8 if args.quick else 20)
    workers = args.workers or min(4, max(2, (os.cpu_count() or 1) * 2))
    if args.source and not (args.source / SQLITE_FILE).exists():
        parser.error(f"{args.source} holds no {SQLITE_FILE}")

    default_nice = default_worker_nice()
    settings = [
        {"worker_nice": w, "refresh_nice": r, "server_nice": args.server_nice, "group_nice": args.group_nice}
        for w, r in itertools.product(args.worker_nice or [None], args.refresh_nice)
    ]
    data_dir = make_data_dir("busy")
    entry: dict[str, Any] = {
        "incidents": n,
        **engine_facts("sqlite", None),
        "connections": args.connections,
        "server_workers": workers,
        "server_nice": args.server_nice,
        "group_nice": args.group_nice,
        "sched": sched_facts(),
        "worker_nice_default": default_nice,
        "warmup_s": warmup,
        "baseline_s": baseline,
        "repeats": repeats,
        "client": "Python threads with keep-alive connections (bench_web.run_threads), half on each page",
        "target_ratio": TARGET_RATIO,
        "target_p95_ms": TARGET_P95_MS,
        "settings": [],
    }
    try:
        measure(entry, args, data_dir, n, settings, repeats, warmup, baseline, workers)
    except Exception as exc:  # record, do not crash the whole run
        entry["error"] = f"{type(exc).__name__}: {exc}"
        print(entry["error"], flush=True)
    finally:
        if args.keep:
            print(f"kept {data_dir}", flush=True)
        else:
            remove_data_dir(data_dir)
    runs = [run for s in entry["settings"] for run in s["runs"]]
    good = runs and all(r["quiet"]["ok"] and r["busy"]["ok"] and r["during"]["requests"] for r in runs)
    intact = entry.get("quick_check") in (None, "ok")
    entry["status"] = "ok" if good and intact and "error" not in entry else "failed"
    entry["notes"] = [
        "Clients, server and refresh share the machine's CPUs (and whatever else runs on it: see the load "
        "averages); the clients have no think time, so the server takes every core it is given.",
        "Niceness: the workers' value is an increment over the refresh's own (nice -n), as os.nice() adds.",
    ]
    if not any(r["busy"].get("workers_started") for r in runs):
        entry["notes"].append(
            "The refresh started no worker processes (fewer than 500,000 candidate points, space.PARALLEL_FROM): "
            "it ran in one process, so the workers' niceness had no effect; the refresh's own niceness (with "
            "--group-nice, see above) stands in."
        )
    finish("busy", entry, quick=args.quick, output=args.output)
    return entry


def measure(
    entry: dict[str, Any],
    args,
    data_dir: Path,
    n: int,
    settings: list[dict],
    repeats: int,
    warmup: float,
    baseline: float,
    workers: int,
) -> None:
    """Setup (or copy), the untimed refresh, the server, then every setting's quiet and busy runs."""
    pb = problembild_cmd()
    env = bench_env(data_dir)
    if args.source:
        for suffix in ("", "-wal"):
            if (args.source / (SQLITE_FILE + suffix)).exists():
                shutil.copy2(args.source / (SQLITE_FILE + suffix), data_dir / (SQLITE_FILE + suffix))
        import sqlite3

        with contextlib.closing(sqlite3.connect(data_dir / SQLITE_FILE)) as con:
            n = int(con.execute("SELECT count(*) FROM incidents_incident").fetchone()[0])
        entry.update(incidents=n, copied_from=str(args.source))
    else:
        entry["setup"] = prepare(data_dir, n, timeout=args.timeout)
        if not all(s["ok"] for s in entry["setup"]):
            raise RuntimeError("setup failed")
    first = run_measured([*pb, "refresh", "--full", "--json"], env=env, timeout=args.timeout)
    entry["first_refresh"] = first.summary("refresh --full (not timed: pictures and file cache)")
    print(f"first refresh --full (not timed): {first.seconds:.1f} s", flush=True)
    if not first.ok:
        raise RuntimeError(f"first refresh failed: {tail(first.stderr or first.stdout)}")
    users = run_measured([*pb, "demo-users", "--reset"], env=env)
    found = re.search(r"password (\S+)", users.stdout)
    if not users.ok or not found:
        raise RuntimeError(f"demo-users printed no password: {tail(users.stdout + users.stderr)}")

    server, port, command, _ = start_gunicorn(data_dir, workers, args.server_nice, args.group_nice)
    entry["server"] = command
    entry["sched"]["server_autogroup"] = autogroup(server.pid)
    try:
        session = login(port, args.user, found.group(1))
        panel_id = pick_panel_id(data_dir)
        pages = [("overview /", "/"), (f"area /areas/{panel_id}/", f"/areas/{panel_id}/")]
        entry["pages"] = [label for label, _ in pages]
        for _, path in pages:
            status, _size = get(port, path, session)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status} before the load")
        entry["settings"] = [{**s, "runs": []} for s in settings]
        for rep in range(repeats):
            for s in entry["settings"]:
                s["runs"].append(
                    pair(s, rep, pb, data_dir, server.pid, port, session, pages, args, warmup, baseline)
                )
    finally:
        stop_server(server)
        entry["settings"] = [s for s in entry["settings"] if s.get("runs")]
        for s in entry["settings"]:
            summarise(s)
        entry["quick_check"] = quick_check(data_dir / SQLITE_FILE)
        print(f"PRAGMA quick_check after the runs: {entry['quick_check']}", flush=True)


def quick_check(path: Path) -> str:
    """SQLite's ``PRAGMA quick_check`` of the database after the runs: ``ok``, or its first complaints."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(path)) as con:
            rows = con.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return "; ".join(str(r[0]) for r in rows)


def pair(
    s: dict,
    rep: int,
    pb,
    data_dir: Path,
    server_pid: int,
    port: int,
    session: str,
    pages,
    args,
    warmup,
    baseline,
) -> dict:
    """One quiet and one busy refresh of a setting."""
    extra = {} if s["worker_nice"] is None else {WORKER_NICE_ENV: str(s["worker_nice"])}
    env = bench_env(data_dir, None, **extra)
    label = f"workers nice {'default' if s['worker_nice'] is None else s['worker_nice']}, refresh nice {s['refresh_nice']}"
    quiet = refresh_once(pb, env, s["refresh_nice"], args.timeout, group=args.group_nice)
    print(
        f"[{rep + 1}] {label}: quiet {quiet['seconds']:.1f} s{'' if quiet['ok'] else ' FAILED'}, workers {quiet['workers_started']}",
        flush=True,
    )
    with Load(port, session, pages, args.connections) as load:
        time.sleep(warmup)
        t_base = time.perf_counter()
        time.sleep(baseline)
        t_start = time.perf_counter()
        busy = refresh_once(
            pb, env, s["refresh_nice"], args.timeout, server_pid=server_pid, group=args.group_nice
        )
        t_end = time.perf_counter()
    run = {
        "repeat": rep,
        "quiet": quiet,
        "busy": busy,
        "before": window(load.logs, [(t_base, t_start)]),
        "during": window(load.logs, [(t_start, t_end)]),
        "spans": {"baseline": [t_base, t_start], "refresh": [t_start, t_end]},
        "_logs": load.logs,
    }
    d, b = run["during"], run["before"]
    print(
        f"[{rep + 1}] {label}: busy {busy['seconds']:.1f} s{'' if busy['ok'] else ' FAILED'} ({busy['seconds'] / quiet['seconds']:.2f}×), "
        f"pages p95 before {b.get('p95_ms', float('nan')):.0f} ms, during {d.get('p95_ms', float('nan')):.0f} ms "
        f"(worst page {d.get('worst_page_p95_ms') or float('nan'):.0f} ms), errors {d['errors']}; "
        f"refresh used {busy.get('cores_used_by_refresh')} cores, load {busy['load_1m_max']}",
        flush=True,
    )
    return run


def summarise(s: dict) -> None:
    """Medians of the setting's runs, page figures pooled over their windows."""
    runs = s["runs"]
    quiet = [r["quiet"]["seconds"] for r in runs if r["quiet"]["ok"]]
    busy_ok = [r["busy"]["seconds"] for r in runs if r["busy"]["ok"]]
    s["quiet_s"] = statistics.median(quiet) if quiet else None
    s["busy_s"] = statistics.median(busy_ok) if busy_ok else None
    s["ratio"] = s["busy_s"] / s["quiet_s"] if quiet and busy_ok else None
    s["busy_failed"] = len(runs) - len(busy_ok)
    logs: dict[str, list] = {}
    for r in runs:
        for label, rows in r.pop("_logs").items():
            logs.setdefault(label, []).extend(rows)
    s["before"] = window(logs, [tuple(r["spans"]["baseline"]) for r in runs])
    s["during"] = window(logs, [tuple(r["spans"]["refresh"]) for r in runs])
    for r in runs:
        r.pop("spans")
    busy = [r["busy"] for r in runs]
    s["workers_started"] = max(b.get("workers_started", 0) for b in busy)
    s["nice_workers"] = sorted({v for b in busy for v in b.get("nice_workers", [])})
    s["nice_main"] = sorted({v for b in busy for v in b.get("nice_main", [])})
    s["load_1m_max"] = max(b.get("load_1m_max", 0) for b in busy)
    s["cores_used_by_refresh_busy"] = statistics.median(b["cores_used_by_refresh"] for b in busy)
    s["cores_used_by_refresh_quiet"] = statistics.median(r["quiet"]["cores_used_by_refresh"] for r in runs)
    s["meets"] = {
        "ratio": s.get("ratio") is not None and s["ratio"] <= TARGET_RATIO,
        "p95": s["during"].get("worst_page_p95_ms") is not None
        and s["during"]["worst_page_p95_ms"] <= TARGET_P95_MS
        and s["during"]["errors"] == 0,
    }


if __name__ == "__main__":
    main()
