"""The setup of ``make demo``: every step before the app serves, timed one by one.

Run from the repository root::

    .venv/bin/python benchmarks/bench_demo.py            # as `make demo` (200,000 demo incidents)
    .venv/bin/python benchmarks/bench_demo.py --quick    # 50,000 demo incidents

In an empty data directory it runs, each as a subprocess, what ``make data`` runs —
``problembild init``, ``import polisen-events`` (the shipped feed), ``demo-data --incidents
200000 --years 5 --seed 1``, ``refresh``, ``demo-users`` — then starts ``problembild serve``
on a free port and polls until the login page answers 200. A failing step is recorded and
the remaining steps still run. The ``pip install`` of ``make install`` is not measured
(warm pip cache assumed). Targets: the feed import ≤ 30 s, the whole setup ≤ 3 minutes.
"""

from __future__ import annotations

import time

from run import (
    bench_args,
    bench_env,
    finish,
    free_port,
    make_data_dir,
    problembild_cmd,
    remove_data_dir,
    run_measured,
    start_server,
    stop_server,
    tail,
    wait_http,
)


def main(argv: list[str] | None = None) -> dict:
    parser = bench_args(__doc__)
    parser.add_argument(
        "--incidents", type=int, default=None, help="demo incidents (default 200,000; quick 50,000)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per step")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args(argv)
    n = args.incidents or (50_000 if args.quick else 200_000)

    data_dir = make_data_dir("demo")
    env = bench_env(data_dir)
    pb = problembild_cmd()
    steps = [
        ("init", ["init"]),
        ("import polisen-events", ["import", "polisen-events"]),
        (
            f"demo-data --incidents {n} --years 5 --seed 1",
            ["demo-data", "--incidents", str(n), "--years", "5", "--seed", "1"],
        ),
        ("refresh", ["refresh"]),
        ("demo-users", ["demo-users"]),
    ]
    results = []
    try:
        for label, cmd in steps:
            m = run_measured([*pb, *cmd], env=env, timeout=args.timeout)
            results.append(m.summary(label))
            print(f"{label}: {m.seconds:.1f} s {'ok' if m.ok else 'FAILED'}", flush=True)
            if not m.ok:
                print(tail(m.stderr or m.stdout), flush=True)

        port = free_port()
        server = start_server([*pb, "serve", "--port", str(port)], env=env, log=data_dir / "serve.log")
        t0 = time.perf_counter()
        try:
            wait_http(f"http://127.0.0.1:{port}/login/", timeout=120, proc=server)
            results.append(
                {"step": "serve until /login/ answers 200", "seconds": time.perf_counter() - t0, "ok": True}
            )
        except (RuntimeError, TimeoutError) as exc:
            log = (data_dir / "serve.log").read_text(encoding="utf-8", errors="replace")
            results.append(
                {
                    "step": "serve until /login/ answers 200",
                    "seconds": time.perf_counter() - t0,
                    "ok": False,
                    "error": f"{exc}; {tail(log)}",
                }
            )
        finally:
            stop_server(server)
        print(f"serve: {results[-1]['seconds']:.1f} s {'ok' if results[-1]['ok'] else 'FAILED'}", flush=True)
    finally:
        if not args.keep:
            remove_data_dir(data_dir)

    ok = all(s["ok"] for s in results)
    entry = {
        "status": "ok" if ok else "failed",
        "incidents": n,
        "steps": results,
        "total_s": sum(s["seconds"] for s in results),
        "failed_steps": [s["step"] for s in results if not s["ok"]],
        "notes": [
            "`pip install` (make install) is not measured: a warm pip cache and an installed .venv are assumed.",
            "`serve` is the development server under dev settings, as `make demo` runs it.",
        ],
    }
    finish("demo", entry, quick=args.quick, output=args.output)
    return entry


if __name__ == "__main__":
    main()
