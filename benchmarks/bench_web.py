"""Load test of the overview and an area page under gunicorn with production settings.

Run from the repository root::

    .venv/bin/python benchmarks/bench_web.py               # 10 million incidents, 20 s per page
    .venv/bin/python benchmarks/bench_web.py --quick       # 200,000 incidents, 5 s per page
    .venv/bin/python benchmarks/bench_web.py --incidents 1000000 --workers 2
    .venv/bin/python benchmarks/bench_web.py --quick --postgres   # on PostgreSQL (stored as web_pg)

Prepares a throw-away data directory as ``bench_refresh.py`` does (``init``, ``demo-data``,
then ``refresh`` and ``demo-users``), runs ``collectstatic`` and starts ``gunicorn
problembild.wsgi:application`` on 127.0.0.1 with production settings (a random
``SECRET_KEY``, ``ALLOWED_HOSTS=127.0.0.1``, no HTTPS redirect since there is no TLS
proxy), logs in as a demo user through the login form, then drives 20 concurrent
connections with ``wrk`` (a thread-pool client if wrk is missing) against ``/`` and
``/areas/<panel_id>/``. Latency percentiles come from wrk's own histogram (a Lua ``done``
hook prints p50/p90/p95/p99). Target: p95 ≤ 300 ms.

With ``--engine postgresql`` the database is a fresh PostgreSQL one (``run.bench_database``),
dropped afterwards; a ``--data-dir`` prepared by ``bench_refresh.py --postgres`` brings its
database along (its URL is in ``bench-prepared.json``) and keeps it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_refresh import PREPARED, prepare
from run import (
    BenchDB,
    bench_args,
    bench_database,
    bench_env,
    check_engine,
    engine_args,
    engine_facts,
    finish,
    free_port,
    has_database,
    make_data_dir,
    problembild_cmd,
    remove_data_dir,
    run_measured,
    start_server,
    stop_server,
    tail,
    wait_http,
)

WRK_LUA = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    '\nBENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50": %.1f, "p90": %.1f, "p95": %.1f, "p99": %.1f, ' ..
    '"max": %.1f, "mean": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def cookies_of(resp: http.client.HTTPResponse) -> dict[str, str]:
    out = {}
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


def login(port: int, username: str, password: str) -> str:
    """Log in through the form; return the session id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    resp = conn.getresponse()
    page = resp.read().decode("utf-8", errors="replace")
    csrf_cookie = cookies_of(resp).get("csrftoken", "")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if resp.status != 200 or not match or not csrf_cookie:
        raise RuntimeError(f"login page: HTTP {resp.status}, no CSRF token")
    from urllib.parse import urlencode

    body = urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1), "next": "/"}
    )
    conn.request(
        "POST",
        "/login/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}"},
    )
    resp = conn.getresponse()
    resp.read()
    session = cookies_of(resp).get("sessionid")
    conn.close()
    if resp.status != 302 or not session:
        raise RuntimeError(f"login as {username} failed: HTTP {resp.status}")
    return session


def get(port: int, path: str, session: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, len(body)


def run_wrk(
    wrk: str, url: str, session: str, *, connections: int, threads: int, seconds: int, workdir: Path
) -> dict:
    script = workdir / "p95.lua"
    script.write_text(WRK_LUA, encoding="utf-8")
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        "-H",
        f"Cookie: sessionid={session}",
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    match = re.search(r"BENCH_RESULT (\{.*\})", proc.stdout)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-500:]} {proc.stdout[-500:]}")
    r = json.loads(match.group(1))
    dist = re.findall(r"^\s+(\d+)%\s+(\S+)$", proc.stdout, flags=re.M)
    return {
        "requests": r["requests"],
        "requests_per_s": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50"] / 1e3,
        "p90_ms": r["p90"] / 1e3,
        "p95_ms": r["p95"] / 1e3,
        "p99_ms": r["p99"] / 1e3,
        "max_ms": r["max"] / 1e3,
        "mean_ms": r["mean"] / 1e3,
        "non_2xx": r["status"],
        "socket_errors": r["connect"] + r["read"] + r["write"] + r["timeout"],
        "wrk_latency_distribution": dict(dist),
    }


def run_threads(
    port: int,
    path: str,
    session: str,
    *,
    connections: int,
    seconds: float,
    until: threading.Event | None = None,
    log: list | None = None,
) -> dict:
    """Fallback client: ``connections`` threads, each with a keep-alive connection.

    ``until``, once set, ends the load before ``seconds``; ``log`` receives ``(start, seconds,
    status)`` of every request (``time.perf_counter`` clock; ``(start, None, 0)`` for a socket error).
    """
    import numpy as np

    latencies: list[float] = []
    errors = [0, 0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.perf_counter() < stop and not (until is not None and until.is_set()):
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
                resp = conn.getresponse()
                resp.read()
                mine.append(time.perf_counter() - t0)
                if log is not None:
                    log.append((t0, mine[-1], resp.status))
                if resp.status >= 300:
                    with lock:
                        errors[0] += 1
            except (OSError, http.client.HTTPException):
                if log is not None:
                    log.append((t0, None, 0))
                with lock:
                    errors[1] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    lat = np.array(latencies) * 1e3
    p50, p90, p95, p99 = np.percentile(lat, [50, 90, 95, 99]) if len(lat) else [float("nan")] * 4
    return {
        "requests": len(lat),
        "requests_per_s": len(lat) / (time.perf_counter() - start),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(lat.max()) if len(lat) else None,
        "mean_ms": float(statistics.fmean(lat)) if len(lat) else None,
        "non_2xx": errors[0],
        "socket_errors": errors[1],
    }


def pick_panel_id(data_dir: Path, url: str | None = None) -> int:
    """The area with the largest cached picture (else the lowest panel id)."""
    with BenchDB(data_dir, url) as db:
        # CAST: text in SQLite, jsonb (which has no length) in PostgreSQL.
        panel = db.scalar(
            "SELECT a.panel_id FROM picture_areapicture p JOIN areas_area a ON a.id = p.area_id "
            "ORDER BY length(CAST(p.data AS text)) DESC LIMIT 1"
        )
        if panel is None:
            panel = db.scalar("SELECT min(panel_id) FROM areas_area")
    return int(panel)


def start_gunicorn(
    data_dir: Path, url: str | None, workers: int, prefix: Sequence[str] = ()
) -> tuple[Any, int, str, dict[str, str]]:
    """The production server (gunicorn, production settings) on ``data_dir``; (process, port, command, env).

    ``prefix`` goes before the interpreter (e.g. ``nice -n 5``); the command returned omits it
    and the interpreter's path.
    """
    pb = problembild_cmd()
    prod = bench_env(
        data_dir,
        url,
        DJANGO_SETTINGS_MODULE="problembild.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PROBLEMBILD_SSL_REDIRECT="0",
    )
    static = run_measured([*pb, "manage", "collectstatic", "--noinput", "-v", "0"], env=prod)
    if not static.ok:
        raise RuntimeError(f"collectstatic failed: {tail(static.stderr)}")
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "problembild.wsgi:application"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    server = start_server([*prefix, *cmd], env=prod, log=data_dir / "gunicorn.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/login/", timeout=120, proc=server)
    except BaseException:
        stop_server(server)  # the caller gets no handle to stop it with
        raise
    return server, port, " ".join(cmd[1:]), prod


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--incidents", type=int, default=None, help="synthetic incidents (default 10,000,000; quick 200,000)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers (default: as `serve`, max(2, 2 × CPUs), at most 4)",
    )
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=None, help="per page (default 20; quick 5)")
    parser.add_argument("--user", default="noa.analytiker", help="demo user to log in as")
    parser.add_argument(
        "--panel-id", type=int, default=None, help="area page to load (default: the largest picture)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per setup step")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="use (and keep) this data directory; one prepared by bench_refresh.py --data-dir is reused",
    )
    engine_args(parser)
    args = parser.parse_args(argv)
    check_engine(parser, args)
    n = args.incidents or (200_000 if args.quick else 10_000_000)
    seconds = args.seconds or (5 if args.quick else 20)
    workers = args.workers or min(4, max(2, (os.cpu_count() or 1) * 2))
    wrk = shutil.which("wrk")

    data_dir = args.data_dir or make_data_dir("web")
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / PREPARED
    prepared = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None
    if prepared and prepared.get("engine", "sqlite") != args.engine:
        parser.error(f"{data_dir} was prepared on {prepared.get('engine', 'sqlite')}, not {args.engine}")
    if prepared and not args.incidents:
        n = prepared["incidents"]
    database_url = args.database_url or (prepared or {}).get("database_url")
    if args.engine == "postgresql" and prepared and not database_url:
        parser.error(f"{marker} names no PostgreSQL database")
    keep = bool(args.keep or args.data_dir)
    entry: dict = {
        "incidents": n,
        "workers": workers,
        "connections": args.connections,
        "duration_s": seconds,
        "user": args.user,
        "client": "wrk" if wrk else "Python thread pool (wrk not installed)",
        "pages": [],
    }
    try:
        with bench_database(args.engine, "web", url=database_url, keep=keep) as url:
            entry.update(engine_facts(args.engine, url))
            serve_and_load(entry, args, data_dir, url, prepared, n, workers, seconds, wrk)
    except Exception as exc:  # record, do not crash the whole run
        entry["error"] = f"{type(exc).__name__}: {exc}"
        print(entry["error"], flush=True)
    finally:
        if not (args.keep or args.data_dir):
            remove_data_dir(data_dir)
    good = entry["pages"] and all("p95_ms" in p and p["non_2xx"] == 0 for p in entry["pages"])
    entry["status"] = "ok" if good and len(entry["pages"]) == 2 else "failed"
    entry["notes"] = [
        "Client and server share the machine's CPUs, so the client's own load is in the figures.",
        "HTTP without TLS: production settings with PROBLEMBILD_SSL_REDIRECT=0; the session cookie is sent "
        "by hand (it is marked Secure).",
    ]
    if args.engine == "postgresql":
        entry["notes"].append(
            "The PostgreSQL server shares the machine's CPUs with gunicorn and the client as well."
        )
    finish("web", entry, quick=args.quick, output=args.output)
    return entry


def serve_and_load(
    entry: dict,
    args,
    data_dir: Path,
    url: str | None,
    prepared: dict | None,
    n: int,
    workers: int,
    seconds: int,
    wrk: str | None,
) -> None:
    """Setup (unless prepared), gunicorn, log in and load both pages into ``entry``; the server is
    stopped before returning."""
    pb = problembild_cmd()
    server = None
    try:
        env = bench_env(data_dir, url)
        if prepared and prepared["incidents"] == n:
            setup = []
            entry["reused_data_dir"] = "prepared by bench_refresh.py: init, demo-data, refresh --full"
            need_refresh = not prepared["refresh_ok"]
        else:
            if has_database(data_dir, url):
                raise RuntimeError(f"{data_dir} holds a database not prepared for {n:,} incidents")
            setup = prepare(data_dir, n, timeout=args.timeout, database_url=url)
            need_refresh = all(s["ok"] for s in setup)
        if need_refresh:
            m = run_measured([*pb, "refresh"], env=env, timeout=args.timeout)
            setup.append(m.summary("refresh"))
            print(f"refresh: {m.seconds:.1f} s {'ok' if m.ok else 'FAILED: ' + tail(m.stderr)}", flush=True)
        users = run_measured([*pb, "demo-users", "--reset"], env=env)  # --reset: prints a password again
        setup.append(users.summary("demo-users"))
        entry["setup"] = setup
        found = re.search(r"password (\S+)", users.stdout)
        if not users.ok or not found:
            raise RuntimeError(f"demo-users printed no password: {tail(users.stdout + users.stderr)}")
        password = found.group(1)

        server, port, entry["server"], _env = start_gunicorn(data_dir, url, workers)
        session = login(port, args.user, password)
        panel_id = args.panel_id or pick_panel_id(data_dir, url)
        for label, path in (("overview /", "/"), (f"area /areas/{panel_id}/", f"/areas/{panel_id}/")):
            page: dict = {"label": label, "path": path}
            status, size = get(port, path, session)
            page.update(status=status, bytes=size)
            if status != 200:
                page["error"] = f"HTTP {status} for one request before the load"
                entry["pages"].append(page)
                print(f"{path}: HTTP {status}", flush=True)
                continue
            for _ in range(2 * workers):  # warm up every worker a little
                get(port, path, session)
            alone = []
            for _ in range(10):  # one client at a time: the page's own cost
                t0 = time.perf_counter()
                get(port, path, session)
                alone.append((time.perf_counter() - t0) * 1e3)
            page["sequential_median_ms"] = statistics.median(alone)
            if wrk:
                page.update(
                    run_wrk(
                        wrk,
                        f"http://127.0.0.1:{port}{path}",
                        session,
                        connections=args.connections,
                        threads=2,
                        seconds=seconds,
                        workdir=data_dir,
                    )
                )
            else:
                page.update(run_threads(port, path, session, connections=args.connections, seconds=seconds))
            print(
                f"{path}: {page['requests_per_s']:.1f} req/s, p50 {page['p50_ms']:.0f} ms, "
                f"p95 {page['p95_ms']:.0f} ms, p99 {page['p99_ms']:.0f} ms, non-2xx {page['non_2xx']}",
                flush=True,
            )
            entry["pages"].append(page)
    finally:
        if server is not None:
            stop_server(server)


if __name__ == "__main__":
    main()
