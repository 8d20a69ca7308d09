"""Benchmark results: machine facts, merging into ``results.json``, and ``docs/benchmarks.md``.

Every benchmark script stores one entry per benchmark name in ``benchmarks/results.json``
(full runs at the top level, ``--quick`` smoke runs under ``"quick"`` so they never replace
full figures). Each entry carries the ISO date and the machine it was measured on. The
benchmarks that also run on PostgreSQL (:data:`ENGINE_NAMES`) store those runs as
``<name>_pg`` (``import_pg``, …), stamped with ``"engine": "postgresql"`` and the server's
version, so they never replace the SQLite figures; the page shows both side by side.

    .venv/bin/python benchmarks/report.py     # regenerate docs/benchmarks.md from results.json

This is a script, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"

#: Order of the benchmarks in run.py and in the document.
NAMES = (
    "analysis",
    "statistics",
    "effects",
    "allocation",
    "training",
    "forecast",
    "assign",
    "import",
    "demo",
    "refresh",
    "daily",
    "web",
    "busy",
)

#: The benchmarks that run on SQLite and on PostgreSQL (``--engine postgresql``).
ENGINE_NAMES = ("import", "refresh", "daily", "web")
#: Suffix of a PostgreSQL entry's name in ``results.json``.
PG_SUFFIX = "_pg"

GIB = 1024**3

#: The targets of issue 18 (this machine, 2 cores), on both databases.
IMPORT_CSV = 250_000  # rows/s
IMPORT_PARQUET = 500_000  # rows/s
REFRESH_S = 25.0  # refresh --full over 10 M incidents
DEMO_S = 60.0  # make demo from a fresh clone to the first page (warm package cache)
PAGE_P95_MS = {"overview": 50.0, "area": 100.0}  # 20 clients


def result_name(name: str, engine: str | None) -> str:
    """The key of a benchmark's entry: ``import`` on SQLite, ``import_pg`` on PostgreSQL."""
    return name + PG_SUFFIX if engine == "postgresql" else name


def engine_of(e: dict[str, Any]) -> str:
    """The database an entry was measured on (entries from before the engine was recorded: SQLite)."""
    return e.get("engine") or "sqlite"


def engine_label(e: dict[str, Any], *, version: bool = True) -> str:
    if engine_of(e) == "postgresql":
        pg = e.get("postgresql", {})
        ver = str(pg.get("server_version", "")).split(" ")[0]
        return f"PostgreSQL {ver}".strip() if version else "PostgreSQL"
    return "SQLite"


# --------------------------------------------------------------------------- facts


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Facts about this machine and the library versions, stored with every figure."""
    ram = None
    try:
        import psutil

        ram = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover - psutil is a dependency of the benchmarks
        if hasattr(os, "sysconf"):
            ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_gib": round(ram / GIB, 1) if ram else None,
        "python": platform.python_version(),
        **{lib: _version(lib) for lib in ("numpy", "pandas", "shapely", "geopandas", "pyogrio", "django")},
        "load_avg_1_5_15m": load,
    }


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def reference_seconds(repeats: int = 3) -> float:
    """Median seconds of a fixed workload, recorded with every figure.

    Machines of one kind differ about 2.5x in speed (and one machine from hour to hour), so a
    figure is comparable across runs only beside this: sorting 16 M seeded floats, a 2048 x 2048
    FFT convolution and a pandas group-by of 8 M rows, the kinds of work the app does.
    """
    import time

    import numpy as np
    import pandas as pd
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(20261201)
    values = rng.random(16_000_000)
    image = rng.random((2048, 2048))
    kernel = rng.random((65, 65))
    frame = pd.DataFrame({"key": rng.integers(0, 5_000, 8_000_000), "value": rng.random(8_000_000)})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.sort(values)
        fftconvolve(image, kernel, mode="same")
        frame.groupby("key")["value"].agg(["sum", "mean", "max"])
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def stamp(entry: dict[str, Any], *, quick: bool) -> dict[str, Any]:
    """Add date, machine and the quick flag to a benchmark's entry (kept where present)."""
    entry.setdefault("date", now())
    facts = machine()
    # Facts a benchmark recorded itself win; the ones it lacks (e.g. the CPU model) are filled in.
    entry["machine"] = {**facts, **entry.get("machine", {})}
    entry["quick"] = quick
    return entry


def load(path: Path = RESULTS) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def merge(name: str, entry: dict[str, Any], *, quick: bool, path: Path = RESULTS) -> None:
    """Store ``entry`` under ``name`` (or ``quick.name``) in ``path``; other keys are kept."""
    data = load(path)
    if quick:
        data.setdefault("quick", {})[name] = entry
    else:
        data[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
    tmp.replace(path)


def entry_of(data: dict[str, Any], name: str, *, quick: bool) -> dict[str, Any] | None:
    """The entry of ``name`` in a results file, wherever the benchmark put it."""
    if quick:
        found = data.get("quick", {}).get(name)
        if found is None and data.get(name, {}).get("quick"):
            found = data[name]  # bench_analysis.py writes quick runs at the top level
        return found
    return data.get(name)


# --------------------------------------------------------------------------- formatting


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def fmt_bytes(n: float | None) -> str:
    """Decimal units: 1 GB = 10⁹ bytes (the memory targets are judged in the same unit)."""
    if n is None:
        return "–"
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.0f} MB"


def fmt_rate(per_s: float | None, unit: str) -> str:
    if per_s is None:
        return "–"
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M {unit}/s"
    return f"{per_s / 1e3:.0f} k {unit}/s"


def machine_line(entry: dict[str, Any]) -> str:
    m = entry.get("machine", {})
    libs = ", ".join(f"{k} {m[k]}" for k in ("numpy", "shapely", "geopandas", "pandas", "django") if m.get(k))
    ram = f", {m['ram_gib']} GiB RAM" if m.get("ram_gib") else ""
    cpu = m.get("cpu") or m.get("processor") or "?"
    load = entry.get("load_avg_at_start") or m.get("load_avg_1_5_15m")
    libs += f"; load average {load[0]:.1f} (1 min) at the start" if load else ""
    ref = entry.get("reference_s")
    libs += f"; reference workload {ref:.2f} s" if ref else ""
    if engine_of(entry) == "postgresql":
        pg = entry.get("postgresql", {})
        durability = ", ".join(
            f"{k}={pg[k]}" for k in ("fsync", "synchronous_commit", "full_page_writes") if k in pg
        )
        libs += f"; {engine_label(entry)}" + (f" ({durability})" if durability else "")
    return (
        f"*Measured {entry.get('date', '?')} on {cpu} × {m.get('cpu_count', '?')} CPUs{ram}, "
        f"{m.get('platform', '?')}, Python {m.get('python', '?')}"
        + (f"; {libs}" if libs else "")
        + (" — **quick (small sizes), a smoke run, not the target size**" if entry.get("quick") else "")
        + ".*"
    )


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**pass**" if ok else "**FAIL**")


# --------------------------------------------------------------------------- targets


def targets(name: str, e: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, pass) rows of one benchmark entry."""
    rows: list[tuple[str, str, bool | None]] = []
    if e.get("status") == "failed" and name not in ("demo", "refresh", "web", "busy"):
        return [("benchmark ran", e.get("error", "failed")[-200:].replace("\n", " "), False)]
    if name in DELEGATED:
        rows += _delegated(name, "targets", e)
    elif name == "assign":
        rate = e.get("points_per_s")
        rows.append(("AreaIndex ≥ 1 M points/s (build + assign)", fmt_rate(rate, "points"), _ge(rate, 1e6)))
        ratio = e.get("ratio_vs_sjoin")
        rows.append(
            (
                "AreaIndex at least as fast as geopandas.sjoin",
                _x(ratio),
                None if ratio is None else ratio >= 1,
            )
        )
        same = e.get("identical")
        rows.append(("identical assignments", f"{e.get('mismatches', '?')} mismatches", same))
    elif name == "import":
        rate = e.get("rows_per_s")
        rows.append(("CSV import ≥ 250,000 rows/s end to end", fmt_rate(rate, "rows"), _ge(rate, IMPORT_CSV)))
        parquet = (e.get("parquet") or {}).get("rows_per_s")
        if e.get("parquet"):
            rows.append(
                (
                    "Parquet import ≥ 500,000 rows/s end to end",
                    fmt_rate(parquet, "rows"),
                    _ge(parquet, IMPORT_PARQUET),
                )
            )
        peak = e.get("peak_rss_bytes")
        rows.append(("peak memory ≤ 4 GB", fmt_bytes(peak), None if peak is None else peak <= 4e9))
        re = e.get("reimport", {})
        if re:
            rows.append(
                (
                    "re-import adds nothing",
                    f"added {re.get('added', '?')} in {fmt_s(re.get('seconds'))}",
                    re.get("added") == 0 if re.get("ok") else False,
                )
            )
    elif name == "demo":
        steps = {s["step"]: s for s in e.get("steps", [])}
        pol = steps.get("import polisen-events")
        if pol:
            rows.append(
                (
                    "import polisen-events ≤ 30 s",
                    fmt_s(pol.get("seconds")) + ("" if pol.get("ok") else " (failed)"),
                    pol.get("ok") and pol["seconds"] <= 30,
                )
            )
        total = e.get("total_s")
        all_ok = e.get("status") == "ok"
        rows.append(
            (
                f"`make demo` setup ≤ {DEMO_S:g} s (pip install not included)",
                fmt_s(total) + ("" if all_ok else " (a step failed)"),
                all_ok and total is not None and total <= DEMO_S,
            )
        )
    elif name == "refresh":
        r = e.get("refresh", {})
        ok = r.get("ok")
        rows.append(
            (
                f"refresh --full over {e.get('incidents', 0):,} incidents ≤ {REFRESH_S:g} s",
                fmt_s(r.get("seconds")) + ("" if ok else " (failed)"),
                bool(ok) and r["seconds"] <= REFRESH_S,
            )
        )
        rows.append(
            (
                "refresh peak memory ≤ 4 GB",
                fmt_bytes(r.get("peak_rss_bytes")),
                bool(ok) and r.get("peak_rss_bytes", 0) <= 4e9,
            )
        )
        read = e.get("read", {})
        rows.append(
            (
                "read one area's cached picture ≤ 50 ms (median)",
                fmt_s(read.get("median_s")) if read.get("ok") else read.get("error", "not run")[:120],
                bool(read.get("ok")) and read["median_s"] <= 0.05,
            )
        )
    elif name == "web":
        for page in e.get("pages", []):
            p95 = page.get("p95_ms")
            limit = PAGE_P95_MS["overview" if page.get("path") == "/" else "area"]
            rows.append(
                (
                    f"`{page.get('label', page.get('path'))}` p95 ≤ {limit:g} ms ({e.get('connections', 20)} clients)",
                    f"{p95:.0f} ms" if p95 is not None else page.get("error", "not run")[:120],
                    p95 is not None and p95 <= limit and page.get("non_2xx", 0) == 0,
                )
            )
        if not e.get("pages"):
            rows.append(("page p95 (20 clients)", e.get("error", "not run")[:160], False))
    elif name == "busy":
        limit, p95_limit = e.get("target_ratio", 2.0), e.get("target_p95_ms", 300.0)
        for st in e.get("settings", []):
            label, ratio, during = _busy_label(e, st), st.get("ratio"), st.get("during", {})
            rows.append(
                (
                    f"refresh --full while {e.get('connections', 20)} clients load pages ≤ {limit:g}× alone "
                    f"({label})",
                    f"{ratio:.2f}× ({fmt_s(st['busy_s'])} vs {fmt_s(st['quiet_s'])})" if ratio else "failed",
                    ratio is not None and ratio <= limit,
                )
            )
            p95, errors = during.get("worst_page_p95_ms"), during.get("errors", 0)
            rows.append(
                (
                    f"page p95 during that refresh ≤ {p95_limit:g} ms ({label})",
                    f"{p95:.0f} ms" + (f", {errors} errors" if errors else "") if p95 is not None else "–",
                    p95 is not None and p95 <= p95_limit and errors == 0,
                )
            )
        if not e.get("settings"):
            rows.append(("refresh on a busy machine measured", e.get("error", "not run")[:160], False))
    return rows


def _ge(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _x(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


# --------------------------------------------------------------------------- sections


def section_analysis(e: dict[str, Any]) -> list[str]:
    out = ["Spatial analytics against their reference libraries (`benchmarks/bench_analysis.py`)."]
    try:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_analysis import markdown

        out += ["", markdown(e)]
    except Exception as exc:  # the colleague's renderer; never let it break the report
        out += ["", f"(cannot render: {exc})"]
    return out


#: Benchmarks whose script renders its own targets and section (``targets(e)``, ``markdown(e)``), with the
#: section's first sentence.
DELEGATED = {
    "statistics": "False-alarm rate and power of every mark the app shows, under simulation "
    "(`benchmarks/bench_statistics.py`).",
    "effects": "False positives, interval coverage and power of the effect estimators on simulated count panels "
    "(`benchmarks/bench_effects.py`).",
    "allocation": "Officers per area and each area's shifts over the week, on a national instance "
    "(`benchmarks/bench_allocation.py`).",
    "training": "A national training plan against two greedy rules, on a synthetic instance "
    "(`benchmarks/bench_training.py`).",
    "forecast": "Hot-spot forecasts on real public crime data, every method beside the all-history baseline "
    "(`benchmarks/bench_forecast.py`; data and licences in `benchmarks/data/README.md`).",
    "daily": "The daily update: a day's incidents imported into the history and the pictures refreshed "
    "(`benchmarks/bench_daily.py`).",
}


def _delegated(name: str, what: str, e: dict[str, Any]) -> Any:
    """Call ``bench_<name>.<what>(e)``; a failure becomes a failed row or a note, never a broken report."""
    try:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        module = __import__(f"bench_{name}")
        return getattr(module, what)(e)
    except Exception as exc:  # never let one renderer break the report
        if what == "targets":
            return [(f"{name} report rendered", str(exc)[:160], False)]
        return f"(cannot render: {exc})"


def _delegated_section(name: str):
    def section(e: dict[str, Any]) -> list[str]:
        return [DELEGATED[name], "", _delegated(name, "markdown", e)]

    return section


def section_assign(e: dict[str, Any]) -> list[str]:
    sj = e.get("sjoin", {})
    scale = sj.get("points", e.get("points", 0))
    extrap = sj.get("extrapolated")
    lines = [
        f"Area assignment of {e['points']:,} points against the real register ({e['areas']} areas, "
        "SWEREF99 TM): 60 % within about 1 km of an area's bounding box, 40 % anywhere in Sweden's "
        f"bounding box; {e['assigned']:,} points fall in an area. Medians over {e['repeats']} runs "
        f"(sjoin {sj.get('repeats', '?')} runs).",
        "",
        "| step | median | points/s | ratio (sjoin / AreaIndex) |",
        "|---|---|---|---|",
        f"| `AreaIndex(geoms, ids)` construction | {fmt_s(e['build_s'])} | – | – |",
        f"| `AreaIndex.assign(x, y)` | {fmt_s(e['assign_s'])} | {fmt_rate(e['points'] / e['assign_s'], 'points')} | – |",
        f"| **AreaIndex total** (construction + assign) | **{fmt_s(e['total_s'])}** | "
        f"**{fmt_rate(e['points_per_s'], 'points')}** | 1 |",
        f"| `geopandas.sjoin(predicate='intersects')` | {fmt_s(sj.get('sjoin_s'))} | "
        f"{fmt_rate(sj.get('sjoin_points_per_s'), 'points')} | {_x(e.get('ratio_vs_sjoin'))} |",
        f"| `points_from_xy` + GeoDataFrame | {fmt_s(sj.get('points_from_xy_s'))} | – | – |",
        f"| sjoin end to end (points_from_xy + sjoin) | {fmt_s(sj.get('end_to_end_s'))} | "
        f"{fmt_rate(sj.get('end_to_end_points_per_s'), 'points')} | {_x(e.get('ratio_vs_sjoin_end_to_end'))} |",
    ]
    if extrap:
        lines.append("")
        lines.append(
            f"sjoin was run on {scale:,} points and its times extrapolated linearly to {e['points']:,} "
            f"({sj.get('reason', '')})."
        )
    lines.append("")
    lines.append(
        f"Identity: AreaIndex and sjoin (lowest polygon index where several match) agree on "
        f"{e.get('compared', 0):,} of {e.get('compared', 0):,} points compared "
        f"({e.get('mismatches', '?')} mismatches; {e.get('multi_match_points', 0)} points matched two "
        f"polygons). The ratio compares sjoin's time per point with AreaIndex's, measured in the same run."
    )
    return lines


def section_import(e: dict[str, Any]) -> list[str]:
    re = e.get("reimport", {})
    lines = [
        f"`problembild import incidents FILE --source bench` of a {e['rows']:,}-row CSV "
        f"({fmt_bytes(e.get('file_bytes'))}; columns `id,occurred_at,type,x,y`) into a fresh "
        f"{engine_label(e, version=False)} database after `problembild init`, as a subprocess. Peak memory is the resident set of the "
        "command and its children (psutil sampling and `wait4` ru_maxrss, whichever is higher).",
        "",
        "| run | seconds | rows/s | added | peak memory |",
        "|---|---|---|---|---|",
        f"| first import | {fmt_s(e.get('seconds'))} | {fmt_rate(e.get('rows_per_s'), 'rows')} | "
        f"{e.get('added', '?'):,} | {fmt_bytes(e.get('peak_rss_bytes'))} |"
        if isinstance(e.get("added"), int)
        else f"| first import | {fmt_s(e.get('seconds'))} | – | failed | {fmt_bytes(e.get('peak_rss_bytes'))} |",
    ]
    if re:
        rate = e["rows"] / re["seconds"] if re.get("seconds") else None
        lines.append(
            f"| re-import of the same file | {fmt_s(re.get('seconds'))} | {fmt_rate(rate, 'rows')} | "
            f"{re.get('added', '?')} | {fmt_bytes(re.get('peak_rss_bytes'))} |"
        )
    lines += [
        "",
        f"CSV generation (not timed above): {fmt_s(e.get('generate_s'))}; `init`: {fmt_s(e.get('init_s'))}.",
    ]
    prof = e.get("profile")
    if prof and prof.get("ok"):
        lines += [
            "",
            f"Where the time goes: cProfile of an import of {prof.get('rows', 0):,} rows into a fresh database "
            f"({fmt_s(prof.get('profile_total_s'))} under the profiler, {fmt_s(prof.get('seconds'))} wall). "
            "Cumulative times; indented stages are part of the one above.",
            "",
            "| stage | seconds | share of the run |",
            "|---|---|---|",
            *[
                f"| {b['stage']} | {fmt_s(b['cumtime_s'])} | {b['share'] * 100:.0f} % |"
                for b in prof.get("breakdown", [])
            ],
        ]
    if e.get("error"):
        lines += ["", f"Error: `{e['error'][-300:]}`"]
    return lines


def _steps_table(steps: list[dict[str, Any]]) -> list[str]:
    lines = ["| step | seconds | peak memory | result |", "|---|---|---|---|"]
    for s in steps:
        result = (
            "ok"
            if s.get("ok")
            else f"**failed**: {s.get('error', '')[-160:]}".replace("\n", " ").replace("|", "/")
        )
        lines.append(
            f"| `{s['step']}` | {fmt_s(s.get('seconds'))} | {fmt_bytes(s.get('peak_rss_bytes'))} | {result} |"
        )
    return lines


def section_demo(e: dict[str, Any]) -> list[str]:
    return [
        "The setup of `make demo` (everything before serving) in an empty data directory, each step a "
        f"subprocess: demo data of {e.get('incidents', 0):,} incidents over 5 years. The `pip install` part of "
        "`make install` is **not** measured here (warm pip cache assumed).",
        "",
        *_steps_table(e.get("steps", [])),
        f"| **total** | **{fmt_s(e.get('total_s'))}** | | {e.get('status', '?')} |",
    ]


def section_refresh(e: dict[str, Any]) -> list[str]:
    r = e.get("refresh", {})
    read = e.get("read", {})
    lines = [
        f"`problembild refresh --full` over {e.get('incidents', 0):,} synthetic incidents (5 years) after "
        "`init` and `demo-data` (not timed), then reading one area's cached problem picture "
        "(`AreaPicture.objects.get(area__panel_id=…)` and its JSON) in a Django process.",
        "",
        *_steps_table(e.get("setup", []) + ([{"step": "refresh --full", **r}] if r else [])),
    ]
    if read.get("ok"):
        lines += [
            "",
            f"Reading area {read.get('panel_id')}'s picture ({fmt_bytes(read.get('json_bytes'))} of JSON): median "
            f"{fmt_s(read['median_s'])} over {read.get('repeats')} reads (min {fmt_s(read.get('min_s'))}, "
            f"max {fmt_s(read.get('max_s'))}).",
        ]
    elif read:
        lines += ["", f"Reading a picture failed: {read.get('error', '')[-200:]}"]
    lines += _refresh_stages(r)
    return lines


#: Stages that contain others or run beside them: listed, not added to the others.
_OVERLAPPING = ("space_and_forecast", "space_wait")


def _refresh_stages(r: dict[str, Any]) -> list[str]:
    """Where ``refresh --full``'s time goes: its own seconds and peak memory per stage (``--json``)."""
    timings = r.get("timings") or {}
    if not timings:
        return []
    memory = r.get("memory_mb") or {}
    own = sorted(((k, v) for k, v in timings.items() if k not in _OVERLAPPING), key=lambda kv: -kv[1])
    lines = [
        "",
        "Where the time goes (the refresh's `--json`: seconds per stage, largest first, and the "
        "process's peak memory when the stage ended; `space_and_forecast` is the hot spots and "
        "forecasts in the worker processes from their start to the last result, which the stages "
        "between `space_start` and `space_wait` overlap):",
        "",
        "| stage | seconds | peak memory so far |",
        "|---|---|---|",
    ]
    for k, v in [*own, *((k, timings[k]) for k in _OVERLAPPING if k in timings)]:
        mb = memory.get(k)
        lines.append(f"| {k} | {v:.2f} | {'–' if mb is None else f'{mb / 1000:.2f} GB'} |")
    if "workers" in memory:
        lines.append(f"| (largest worker process) | | {memory['workers'] / 1000:.2f} GB |")
    return lines


def section_web(e: dict[str, Any]) -> list[str]:
    lines = [
        f"`gunicorn problembild.wsgi` (production settings, {e.get('workers', '?')} workers, "
        f"{engine_label(e, version=False)}) over a "
        f"data directory with {e.get('incidents', 0):,} synthetic incidents, logged in as "
        f"`{e.get('user', '?')}`; {e.get('client', 'wrk')} with {e.get('connections', '?')} concurrent "
        f"connections for {e.get('duration_s', '?')} s per page.",
        "",
    ]
    if e.get("reused_data_dir"):
        lines += [f"Data directory reused from the refresh benchmark ({e['reused_data_dir']}).", ""]
    if e.get("setup"):
        lines += [*_steps_table(e["setup"]), ""]
    if e.get("pages"):
        lines += [
            "| page | one client alone (median of 10) | requests/s | p50 | p90 | p95 | p99 | non-2xx / errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for p in e["pages"]:
            if "p95_ms" not in p:
                lines.append(f"| `{p.get('path')}` | failed: {p.get('error', '')[-160:]} | | | | | | |")
                continue
            alone = p.get("sequential_median_ms")
            lines.append(
                f"| `{p['path']}` | {f'{alone:.0f} ms' if alone is not None else '–'} | {p['requests_per_s']:.1f} | {p['p50_ms']:.0f} ms | {p['p90_ms']:.0f} ms | "
                f"**{p['p95_ms']:.0f} ms** | {p['p99_ms']:.0f} ms | {p.get('non_2xx', 0)} / "
                f"{p.get('socket_errors', 0)} |"
            )
        lines += _web_why(e)
    if e.get("error"):
        lines += ["", f"Error: {e['error'][-300:]}"]
    return lines


def _web_why(e: dict[str, Any]) -> list[str]:
    """Where a page's time under load goes, from the measured figures (Little's law)."""
    clients = e.get("connections")
    out = []
    for p in e.get("pages", []):
        if "p95_ms" not in p or not clients or not p.get("requests_per_s"):
            continue
        waiting = 1000 * clients / p["requests_per_s"]
        alone = p.get("sequential_median_ms")
        out.append(
            f"`{p['path']}`: {clients} clients that always wait for an answer spend {waiting:.0f} ms on "
            f"each request on average ({clients} ÷ {p['requests_per_s']:.0f} requests/s)"
            + (f", of which {alone:.0f} ms is the page's own time alone" if alone is not None else "")
            + "; the rest is the queue for the cores"
        )
    if not out:
        return []
    return [
        "",
        "Where the time goes: the pages are bound by the machine's cores (shared by the workers, "
        "the database and the load generator), not by the pages' own work: "
        + "; ".join(out)
        + ". A lower p95 at these clients needs more requests per second from the same cores (less "
        "work per page) or more cores.",
    ]


def _busy_label(e: dict[str, Any], st: dict[str, Any]) -> str:
    """The niceness of one setting of the busy-machine benchmark."""
    workers = st.get("worker_nice")
    workers = f"default {e.get('worker_nice_default', '?')}" if workers is None else workers
    group = ", also their scheduling groups" if st.get("group_nice") else ""
    return (
        f"workers +{workers}, refresh {st.get('refresh_nice', 0)}, server {st.get('server_nice', 0)}{group}"
    )


def section_busy(e: dict[str, Any]) -> list[str]:
    sched = e.get("sched", {})
    lines = [
        f"`problembild refresh --full --json` over {e.get('incidents', 0):,} synthetic incidents alone (*quiet*: "
        f"the server idle) and while {e.get('connections', '?')} clients load `/` and an area page without "
        f"pause from gunicorn ({e.get('server_workers', '?')} workers, production settings) on the same machine "
        f"(*busy*); the pages' percentiles over the requests started during that refresh and in the "
        f"{e.get('baseline_s', '?')} s before it (`benchmarks/bench_busy.py`; medians over repeats: "
        f"{e.get('repeats', '?')}, page figures pooled over them). Niceness: the refresh runs under `nice -n` (refresh), its "
        "worker processes add their own increment (workers), gunicorn under `nice -n` (server).",
        "",
        "| setting | workers started (their nice) | quiet | busy | busy / quiet | page p95 before | "
        "page p95 during: `/` · area | errors during | refresh's cores quiet · busy | load 1 min (max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for st in e.get("settings", []):
        before, during = st.get("before", {}), st.get("during", {})
        pages = [p.get("p95_ms") for p in during.get("pages", {}).values()]
        started = st.get("workers_started", 0)
        nice = ",".join(str(v) for v in st.get("nice_workers", []))
        ratio = st.get("ratio")
        lines.append(
            f"| {_busy_label(e, st)} | {started}{f' ({nice})' if started else ''} | {fmt_s(st.get('quiet_s'))} | "
            f"{fmt_s(st.get('busy_s')) if st.get('busy_s') else 'failed'} | {f'**{ratio:.2f}×**' if ratio else '–'} | "
            f"{before.get('p95_ms', float('nan')):.0f} ms | "
            + " · ".join("–" if v is None else f"{v:.0f} ms" for v in pages)
            + f" | {during.get('errors', 0)} | {st.get('cores_used_by_refresh_quiet', float('nan')):.2f} · "
            f"{st.get('cores_used_by_refresh_busy', float('nan')):.2f} | {st.get('load_1m_max', float('nan')):.1f} |"
        )
    if sched.get("autogroup_enabled"):
        lines += [
            "",
            "Linux autogroup was on: the CPU is shared between sessions first and niceness weighs only within one. "
            "The refresh and gunicorn each run in a session of their own (as separate systemd services each "
            "run in a cgroup of their own), so their `nice -n` does not weigh against each other; the workers' "
            "increment weighs against the refresh's own main process. Settings marked *also their scheduling "
            "groups* gave the sessions (autogroups) the same niceness, as `CPUWeight=` would weigh services.",
        ]
    failed = [
        (st, r[kind])
        for st in e.get("settings", [])
        for r in st.get("runs", [])
        for kind in ("quiet", "busy")
        if not r[kind].get("ok")
    ]
    for st, run in failed[:3]:
        where = list(dict.fromkeys(run.get("app_frames", [])))[:5]  # the app's frames, outermost first
        lines += [
            "",
            f"A refresh failed ({_busy_label(e, st)}) after {fmt_s(run.get('seconds'))}: "
            f"`{(run.get('error') or '?').strip().splitlines()[-1][-200:]}`"
            + (f" (app frames: {' → '.join(f'`{w}`' for w in where)})" if where else ""),
        ]
    if e.get("quick_check") not in (None, "ok"):
        lines += ["", f"**`PRAGMA quick_check` of the database after the runs: {e['quick_check'][:300]}**"]
    if e.get("error"):
        lines += ["", f"Error: {e['error'][-300:]}"]
    return lines


SECTIONS = {
    "analysis": ("Spatial analytics", section_analysis),
    "statistics": ("Calibration of the marks (false alarms and power)", _delegated_section("statistics")),
    "effects": (
        "Effect of a measure (difference-in-differences, synthetic control)",
        _delegated_section("effects"),
    ),
    "allocation": (
        "Officer allocation (`allocate_officers`, `allocate_hours`)",
        _delegated_section("allocation"),
    ),
    "training": ("Training plan (`plan_training`)", _delegated_section("training")),
    "forecast": ("Hot-spot forecasts on real crime data", _delegated_section("forecast")),
    "assign": ("Area assignment (`AreaIndex` vs `geopandas.sjoin`)", section_assign),
    "import": ("Incident import", section_import),
    "demo": ("`make demo` setup", section_demo),
    "refresh": ("Problem-picture refresh and cached reads", section_refresh),
    "daily": ("The daily update (import a day, then refresh)", _delegated_section("daily")),
    "web": ("Web load test", section_web),
    "busy": ("Refresh on a busy machine (while the pages are loaded)", section_busy),
}

HOW_TO = """\
## How to run

```sh
make bench                                            # every benchmark at full size on SQLite, then import,
                                                      # refresh, daily and web on PostgreSQL (hours)
.venv/bin/python benchmarks/run.py --quick            # small sizes: a smoke check, under 2 minutes
.venv/bin/python benchmarks/run.py --only assign,import
.venv/bin/python benchmarks/run.py --quick --engine postgresql   # the four database benchmarks on PostgreSQL
.venv/bin/python benchmarks/bench_refresh.py --incidents 2000000   # one benchmark with its own options
.venv/bin/python benchmarks/bench_import.py --quick --postgres     # one of the four on PostgreSQL
.venv/bin/python benchmarks/report.py                 # regenerate this page from results.json
```

`run.py` runs each benchmark as its own subprocess (so memory is measured per benchmark), merges the figures
into `benchmarks/results.json` (full runs at the top level, `--quick` runs under `"quick"`, other keys kept)
and regenerates this page. Every entry carries its date and machine. Timings are medians over repeats
(`time.perf_counter`); the machine is shared and noisy, so comparisons are ratios measured in the same run.
Benchmarks are scripts, never tests: pytest does not collect them.

PostgreSQL runs (`--engine postgresql`) use a throw-away cluster started by `scripts/pg-test-cluster.sh`, as
`make test-postgres` does, but in `/tmp/problembild-bench-pg` on port 54330 (`PROBLEMBILD_BENCH_PG_DIR`,
`PROBLEMBILD_BENCH_PG_PORT`; or an existing server: `PROBLEMBILD_BENCH_PG_URL`), with a fresh database per
benchmark, dropped afterwards. Their entries are stored as `import_pg`, `refresh_pg`, `daily_pg` and `web_pg`
with the server's version and settings.
"""

#: Rows of the side-by-side table: (what, benchmark, value of an entry, target, whether it meets it).
SideBySideRow = tuple[str, str, Any, str, Any]


def _count(n: Any) -> str:
    if not isinstance(n, int | float):
        return "?"
    if n >= 1e6:
        return f"{n / 1e6:g} M"
    if n >= 1e3:
        return f"{n / 1e3:g} k"
    return f"{n:,}"


def _csv_import(e: dict[str, Any]) -> tuple[float, str] | None:
    rate = e.get("rows_per_s")
    if rate is None or not e.get("ok", True):
        return None
    return rate, f"{fmt_rate(rate, 'rows')} ({_count(e.get('rows'))} rows)"


def _parquet_import(e: dict[str, Any]) -> tuple[float, str] | None:
    parquet = e.get("parquet") or {}
    rate = parquet.get("rows_per_s")
    if rate is None:
        return None
    return rate, f"{fmt_rate(rate, 'rows')} ({_count(parquet.get('rows', e.get('rows')))} rows)"


def _refresh(key: str, fmt):
    def value(e: dict[str, Any]) -> tuple[float, str] | None:
        r = e.get("refresh") or {}
        v = r.get(key)
        if not r.get("ok") or v is None:
            return None
        return v, f"{fmt(v)} ({_count(e.get('incidents'))} incidents)"

    return value


def _daily(e: dict[str, Any]) -> tuple[float, str] | None:
    v = e.get("median_s")
    if v is None:
        return None
    closing = [d["seconds"] for d in e.get("closing_days", []) if "refresh" in d]
    kind = (
        f"; a typical morning, one command; a morning that closes a period: {fmt_s(closing[0])}"
        if closing
        else "; an older run: a closing day, two commands"
    )
    return v, (
        f"{fmt_s(v)} (import {fmt_s(e.get('median_import_s'))} + refresh {fmt_s(e.get('median_refresh_s'))}; "
        f"{e.get('day', 0):,} into {_count(e.get('incidents'))}{kind})"
    )


def _page(area: bool):
    def value(e: dict[str, Any]) -> tuple[float, str] | None:
        for page in e.get("pages", []):
            if page.get("path", "").startswith("/areas/") == area and page.get("p95_ms") is not None:
                p95 = page["p95_ms"]
                errors = page.get("non_2xx", 0) + page.get("socket_errors", 0)
                extra = f"; {errors} errors" if errors else ""
                return p95, f"{p95:.0f} ms ({_count(e.get('incidents'))} incidents{extra})"
        return None

    return value


SIDE_BY_SIDE: list[SideBySideRow] = [
    ("CSV import, rows/s", "import", _csv_import, "≥ 250 k rows/s", lambda v: v >= IMPORT_CSV),
    ("Parquet import, rows/s", "import", _parquet_import, "≥ 500 k rows/s", lambda v: v >= IMPORT_PARQUET),
    ("`refresh --full`, seconds", "refresh", _refresh("seconds", fmt_s), "≤ 25 s", lambda v: v <= REFRESH_S),
    (
        "`refresh --full`, peak memory",
        "refresh",
        _refresh("peak_rss_bytes", fmt_bytes),
        "≤ 4 GB",
        lambda v: v <= 4e9,
    ),
    ("daily update (import + refresh), seconds", "daily", _daily, "≤ 5 s", lambda v: v <= 5),
    (
        "page p95, overview `/`, 20 clients",
        "web",
        _page(area=False),
        "≤ 50 ms",
        lambda v: v <= PAGE_P95_MS["overview"],
    ),
    (
        "page p95, area `/areas/<id>/`, 20 clients",
        "web",
        _page(area=True),
        "≤ 100 ms",
        lambda v: v <= PAGE_P95_MS["area"],
    ),
]

NOT_MEASURED = "not measured yet"


def _side_cell(e: dict[str, Any] | None, value, check) -> str:
    if not e:
        return NOT_MEASURED
    try:
        found = value(e)
    except (KeyError, TypeError, ValueError):
        found = None
    if found is None:
        if e.get("status") == "failed":
            return "**failed**"
        return NOT_MEASURED
    v, text = found
    # Runs of one column may lie hours apart on a machine whose speed varies 3x: the cell
    # names its reference workload, so two cells compare only after scaling by it.
    ref = e.get("reference_s")
    where = f" · reference {ref:.2f} s" if isinstance(ref, (int, float)) else ""
    return f"{text} · {verdict(bool(check(v)))}{where}"


def side_by_side(data: dict[str, Any], *, quick: bool, level: str) -> list[str]:
    """The SQLite and PostgreSQL figures of the four database benchmarks in one table."""
    entries = {
        (name, engine): entry_of(data, result_name(name, engine), quick=quick)
        for name in ENGINE_NAMES
        for engine in ("sqlite", "postgresql")
    }
    lines = [
        f"{level} SQLite and PostgreSQL side by side" + (" (quick runs)" if quick else ""),
        "",
        "The same benchmark scripts on each database (`benchmarks/run.py --engine both`); each cell carries the "
        "size it was measured at, whether it meets the target of this comparison and the reference workload's "
        "time in that run (figures of runs whose reference differs compare only after dividing by it)"
        + (" (full-size targets applied to small sizes)" if quick else "")
        + ".",
        "",
        "| measure | SQLite | PostgreSQL | target |",
        "|---|---|---|---|",
    ]
    for label, name, value, target, check in SIDE_BY_SIDE:
        cells = [_side_cell(entries[name, engine], value, check) for engine in ("sqlite", "postgresql")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {target} |")
    lines += [
        "",
        "* PostgreSQL: a throw-away cluster started by `scripts/pg-test-cluster.sh` (as `make test-postgres` "
        "does) with **fsync=off, synchronous_commit=off, full_page_writes=off**: durability traded for speed, so "
        "writes (import, refresh) are faster than on a production server with fsync on. Client and server share "
        "the machine, and every benchmark starts with an empty database of its own.",
        "* Peak memory is that of the `problembild` process tree; the PostgreSQL server's own memory is not in it.",
        "* The targets are issue 18's raised targets (this machine, 2 cores), the same in the target tables.",
    ]
    if not any(_parquet_import(e) for (name, _), e in entries.items() if name == "import" and e):
        lines.append(
            "* Parquet import: not measured in these runs (`bench_import.py` measures it after the CSV import "
            "unless `--no-parquet`)."
        )
    measured = [(name, engine, e) for (name, engine), e in entries.items() if e]
    if measured:
        lines += [
            "",
            "Where and when each figure was measured (the reference workload makes runs comparable):",
            "",
        ]
        lines += [f"* {name}, {engine_label(e)}: {machine_line(e)}" for name, engine, e in measured]
    return lines


def all_names() -> list[tuple[str, str, str]]:
    """Every benchmark's (results key, benchmark, engine), each PostgreSQL run after its SQLite one."""
    out = []
    for name in NAMES:
        out.append((name, name, "sqlite"))
        if name in ENGINE_NAMES:
            out.append((result_name(name, "postgresql"), name, "postgresql"))
    return out


def display_name(name: str, engine: str) -> str:
    return f"{name} (PostgreSQL)" if engine == "postgresql" else name


def _target_rows(data: dict[str, Any], *, quick: bool) -> list[str]:
    rows = []
    for key, name, engine in all_names():
        e = entry_of(data, key, quick=quick)
        if not e:
            continue
        for target, measured, ok in targets(name, e):
            rows.append(
                f"| {display_name(name, engine)} | {target} | {measured} | {verdict(ok)} | "
                f"{e.get('date', '?')[:10]} |"
            )
    return rows


#: Said under the machine line of every PostgreSQL section.
PG_NOTE = (
    "On PostgreSQL (the benchmarks' throw-away cluster, fsync off; a fresh database for the run). Peak memory "
    "is that of the `problembild` processes, not of the database server."
)


def _sections(data: dict[str, Any], *, quick: bool, level: str) -> list[str]:
    body: list[str] = []
    for key, name, engine in all_names():
        e = entry_of(data, key, quick=quick)
        if not e:
            continue
        title, section = SECTIONS[name]
        if engine == "postgresql":
            title += " — PostgreSQL"
        body += ["", f"{level} {title}", "", machine_line(e), ""]
        if engine == "postgresql":
            body += [PG_NOTE, ""]
        try:
            body += section(e)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            body += [f"(incomplete entry: {exc!r}; status {e.get('status', '?')}: {e.get('error', '')})"]
        notes = e.get("notes")
        if notes:
            body += ["", *[f"* {n}" for n in notes]]
    return body


def render(data: dict[str, Any]) -> str:
    head = ["| benchmark | target | measured | result | measured on |", "|---|---|---|---|---|"]
    full_rows = _target_rows(data, quick=False)
    quick_rows = _target_rows(data, quick=True)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `benchmarks/report.py` from `benchmarks/results.json`; do not edit by hand.",
        "",
        HOW_TO,
        "## Targets (full-size runs)",
        "",
        *(head + full_rows if full_rows else ["No full-size run of a benchmark with targets recorded yet."]),
        "",
        *side_by_side(data, quick=False, level="##"),
        *_sections(data, quick=False, level="##"),
    ]
    if quick_rows:
        lines += [
            "",
            "## Quick runs (`--quick`)",
            "",
            "Smoke checks with small sizes: they show that each benchmark works, not whether a target is met "
            "(the verdicts below apply the full-size targets to small sizes).",
            "",
            *head,
            *quick_rows,
            "",
            *side_by_side(data, quick=True, level="###"),
            *_sections(data, quick=True, level="###"),
        ]
    return "\n".join(lines) + "\n"


def write_doc(results: Path = RESULTS, doc: Path = DOC) -> Path:
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(load(results)), encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)
    print(f"wrote {write_doc(args.results, args.doc)}")


if __name__ == "__main__":
    main()
