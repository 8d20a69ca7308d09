"""``problembild refresh``: compute every area's and unit's problem picture into the cache.

The analytics live in :mod:`problembild.analysis`; this module only feeds them from the
store and writes their results where pages and the API read them:

* :class:`~problembild.picture.models.IndicatorValue` — one row per area, indicator and
  period (week, month, quarter, year) with rate, changes and exact test p-values;
* :class:`~problembild.picture.models.AreaPicture` — the area page's document: key
  figures, trend per indicator, unusual weeks, hour-of-week, hot-spot grid, forecast
  with its backtest, need index, ranks and comparisons, sources and freshness;
* :class:`~problembild.picture.models.UnitPicture` — the same summed over the areas of
  each region, polisområde, lokalpolisområde and the nation.

Incremental: an area whose incidents, population and settings are unchanged since the
last run keeps its expensive parts (trends, hot spots, forecast); the cheap tables are
recomputed for all, because ranks and comparisons depend on every area.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from problembild.analysis import change, indicators, need, periods, timepattern
from problembild.analysis.spatial import AreaIndex
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES, INDICATORS
from problembild.areas.models import Area, Municipality
from problembild.core.models import OrgUnit
from problembild.incidents.models import AreaMatch, Incident

from .loading import IncidentArrays, incident_frame, load_incidents, source_names
from .models import AreaPicture, IndicatorValue, RefreshRun, UnitPicture
from .space import Points, SpaceJobs, SpaceSettings

#: Bumped when the content of the cached documents changes, so a refresh recomputes all.
PICTURE_VERSION = 1
LOCAL_TZ = "Europe/Stockholm"
PERIODS_STORED = ("week", "month", "quarter", "year")
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class RefreshOptions:
    """Settings of one refresh; part of every area's fingerprint."""

    cell_size: float = 100.0
    buffer: float = 500.0
    bandwidth: float = 150.0
    gi_radius: float = 2.0
    alpha: float = 0.05
    hotspot_months: int = 12
    forecast_origins: int = 4
    forecast_years: int = 3
    as_of: date | None = None

    def space_settings(self) -> SpaceSettings:
        return SpaceSettings(**{k: getattr(self, k) for k in SpaceSettings.__dataclass_fields__})

    def key(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "as_of"}
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        d["version"] = PICTURE_VERSION
        d["harm_weights"] = str(settings.HARM_WEIGHTS_FILE)
        return d


@dataclass
class RefreshSummary:
    incidents: int = 0
    areas_recomputed: int = 0
    areas_unchanged: int = 0
    units: int = 0
    indicator_values: int = 0
    seconds: float = 0.0
    as_of: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _harm_weights() -> need.HarmWeights:
    return need.load_weights(settings.HARM_WEIGHTS_FILE)


def _fingerprints(options: RefreshOptions, data: IncidentArrays) -> dict[int, str]:
    """A hash per area of what its picture is computed from.

    The incident part comes from the loaded arrays (count and highest id per area, of
    all placed incidents, of the approximate matches): aggregate queries over ten
    million rows took seconds.
    """
    inside = data.area >= 0
    per_area = pd.Series(data.id[inside]).groupby(data.area[inside]).agg(["size", "max"])
    stats = {int(a): (int(r["size"]), int(r["max"])) for a, r in per_area.iterrows()}
    placed = ~np.isnan(data.x)
    around = {"n": int(placed.sum()), "last": int(data.id[placed].max()) if placed.any() else None}
    approx = Incident.objects.filter(area_match=AreaMatch.APPROXIMATE).aggregate(
        n=Count("id"), last=Max("id")
    )
    out = {}
    key = json.dumps(options.key(), sort_keys=True)
    for area in Area.objects.all().prefetch_related("population", "classifications"):
        pops = sorted((p.year, p.residents, p.synthetic) for p in area.population.all())
        cats = sorted((c.round_id, c.category) for c in area.classifications.all())
        payload = json.dumps(
            [key, stats.get(area.pk), around, approx, pops, cats, area.geojson[:64]], default=str
        )
        out[area.pk] = hashlib.sha256(payload.encode()).hexdigest()
    return out


def _as_of(data: IncidentArrays, options: RefreshOptions) -> pd.Timestamp:
    """The end of the data: the picture covers complete periods up to this instant."""
    if options.as_of:
        return pd.Timestamp(options.as_of, tz=LOCAL_TZ)
    now = pd.Timestamp.now(tz=LOCAL_TZ)
    if len(data) == 0:
        return now.normalize()
    last = pd.Timestamp(int(data.t.max()), unit="s", tz="UTC").tz_convert(LOCAL_TZ)
    # A data set that stops on a period's last day covers that period completely.
    return min(now, last.normalize() + pd.Timedelta(days=1))


def _population() -> pd.Series:
    """Latest residents per area (synthetic figures included, flagged elsewhere)."""
    rows = {}
    for area_id, _year, residents in (
        Area.objects.filter(population__isnull=False)
        .values_list("pk", "population__year", "population__residents")
        .order_by("pk", "population__year")
    ):
        rows[area_id] = residents
    return pd.Series(rows, dtype=float, name="residents")


def _area_municipality(areas: list[Area], data: IncidentArrays) -> np.ndarray:
    """Municipality code per incident near the areas, from the municipality polygons."""
    codes = sorted({a.municipality_id for a in areas if a.municipality_id})
    munis = list(Municipality.objects.filter(code__in=codes).exclude(geometry=None))
    out = np.full(len(data), "", dtype=object)
    if not munis:
        return out
    index = AreaIndex([m_shape(m) for m in munis], np.arange(len(munis)), cell_size=500.0)
    hit = index.assign(data.x, data.y)
    names = np.array([m.code for m in munis] + [""], dtype=object)
    return names[np.where(hit >= 0, hit, len(munis))]


def m_shape(m: Municipality):
    import shapely

    return shapely.from_wkb(bytes(m.geometry))


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.floating):
        return _jsonable(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    return value


# --- per-area expensive parts ---------------------------------------------------------


def _trends(monthly: pd.DataFrame) -> dict:
    """Monthly series with fitted trend per indicator (``monthly`` is one area's rows)."""
    out = {}
    for code, rows in monthly.groupby("indicator", sort=False, observed=True):
        rows = rows.sort_values("period_start")
        starts = pd.DatetimeIndex(rows["period_start"])
        counts = rows["count"].to_numpy(dtype=float)
        fit = change.fit_trend(counts, starts, period="month")
        out[str(code)] = {
            "status": fit.status,
            "message": fit.message,
            "family": fit.family,
            "rate_ratio": fit.rate_ratio,
            "ci_low": fit.ci_low,
            "ci_high": fit.ci_high,
            "p_value": fit.p_value,
            "mark": fit.mark(),
            "fitted": fit.trend if fit.ok else [],
            "seasonal": fit.fitted if fit.ok else [],
        }
    return out


def _unusual_weeks(weekly: pd.DataFrame) -> list[dict]:
    """Weeks beyond the Poisson control limit from the area's own history (all indicators)."""
    rows = weekly[weekly["indicator"] == ALL].sort_values("period_start")
    if rows.empty:
        return []
    series = pd.Series(rows["count"].to_numpy(), index=pd.DatetimeIndex(rows["period_start"]))
    flags = change.control_flags(series, baseline_weeks=52, alpha=0.01)
    flagged = flags[flags["flag"]]
    return [
        {
            "week": periods.period_label(pd.Timestamp(r.period_start), "week"),
            "start": pd.Timestamp(r.period_start).date().isoformat(),
            "count": int(r.count),
            "expected": float(r.expected),
            "upper_limit": float(r.upper_limit),
        }
        for r in flagged.reset_index().itertuples()
    ][-20:]


# --- the refresh ----------------------------------------------------------------------


def _value_rows(
    area_counts: dict[str, pd.DataFrame],
    pop: pd.Series,
    muni_counts: dict[str, pd.DataFrame],
    area_muni: dict[int, str],
) -> pd.DataFrame:
    """The IndicatorValue table (one row per area, indicator, period) as a frame."""
    frames = []
    for period, table in area_counts.items():
        ch = change.change_table(table, period, keys=("area_id", "indicator"))
        ch["area_id"] = ch["area_id"].astype("int64")
        rated = indicators.rates(ch, pop)
        rated["municipality"] = rated["area_id"].map(area_muni).fillna("")
        rated["indicator"] = rated["indicator"].astype(str)
        mc = muni_counts.get(period)
        if mc is not None and len(mc):
            m = mc[["municipality", "indicator", "period_start", "count"]].rename(
                columns={"count": "muni_count"}
            )
            m = m.assign(indicator=m["indicator"].astype(str))
            rated = rated.merge(m, on=["municipality", "indicator", "period_start"], how="left")
        else:
            rated["muni_count"] = np.nan
        muni_n = rated["muni_count"].astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "area_id": rated["area_id"],
                    "indicator": rated["indicator"],
                    "period": period,
                    "period_start": pd.DatetimeIndex(rated["period_start"]).date,
                    "count": rated["count"].astype("int64"),
                    "rate": rated["rate"].where(rated["rate_available"]),
                    "previous": rated["previous_count"],
                    "last_year": rated["last_year_count"],
                    "p_previous": rated["previous_p_value"],
                    "p_last_year": rated["last_year_p_value"],
                    "mark": rated["last_year_mark"].fillna(""),
                    "share_of_municipality": (rated["count"] / muni_n).where(muni_n > 0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _write_values(values: pd.DataFrame) -> int:
    """Replace the IndicatorValue table (fast path: COPY / executemany)."""
    from problembild.core.db import bulk_insert

    IndicatorValue.objects.all().delete()
    if values.empty:
        return 0
    cols = list(values.columns)

    def as_int(column: str) -> list:
        return [None if pd.isna(v) else int(v) for v in values[column].tolist()]

    def as_float(column: str) -> list:
        return [None if pd.isna(v) else float(v) for v in values[column].tolist()]

    converted = {
        c: as_int(c)
        if c in ("area_id", "count", "previous", "last_year")
        else as_float(c)
        if c in ("rate", "p_previous", "p_last_year", "share_of_municipality")
        else values[c].tolist()
        for c in cols
    }
    rows = zip(*(converted[c] for c in cols), strict=True)
    return bulk_insert(IndicatorValue._meta.db_table, cols, rows)


def refresh(
    *, options: RefreshOptions | None = None, full: bool = False, progress: ProgressCallback | None = None
) -> RefreshSummary:
    """Recompute the cache; return what was done. See the module docstring."""
    options = options or RefreshOptions()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    run = RefreshRun.objects.create(settings=_jsonable(options.key()))

    def tick(step: str, done: int, total: int) -> None:
        if progress:
            progress(step, done, total)

    t0 = time.perf_counter()
    names = source_names()
    data = load_incidents(names)
    timings["load"] = time.perf_counter() - t0
    as_of = _as_of(data, options)
    areas = list(Area.objects.select_related("org_unit", "municipality").order_by("pk"))
    current = {a.pk: a for a in Area.objects.current().with_current_category()}
    pop = _population()
    fingerprints = _fingerprints(options, data)
    previous = {p.area_id: p for p in AreaPicture.objects.all()}
    reused = {
        pk: old
        for pk, old in previous.items()
        if not full and old.fingerprint == fingerprints.get(pk, "") and "trends" in old.data
    }

    # The hot spots and forecasts of the areas to recompute are the expensive part: they
    # start first, in worker processes, and are collected when everything else is done.
    t_space = time.perf_counter()
    tasks = _space_tasks([a for a in areas if a.pk not in reused], data, options)
    with SpaceJobs(tasks, as_of, options.space_settings()) as space_jobs:
        del tasks
        timings["space_start"] = time.perf_counter() - t_space

        # Counts per area and period (exact matches only), in local time converted once.
        t0 = time.perf_counter()
        local = periods.to_local(data.times())
        inside = np.flatnonzero(data.area >= 0)
        # Only the columns the counts need, not a copy of every array.
        in_area, in_indicator, in_local = data.area[inside], data.indicator[inside], local[inside]
        frame = incident_frame(in_area, in_indicator, in_local)
        first = in_local.min() if len(in_local) else (as_of - pd.DateOffset(years=1)).tz_localize(None)
        last = (as_of - pd.Timedelta(seconds=1)).tz_localize(None)
        keys = pd.Index([a.pk for a in areas], name="area_id")
        area_counts: dict[str, pd.DataFrame] = {}
        for period in PERIODS_STORED:
            area_counts[period] = indicators.count_table(
                frame, period=period, by=("area_id",), first=first, last=last, keys=keys
            )
        # Municipality totals for shares and the "rest of the municipality" comparison.
        muni = _area_municipality(areas, data)
        near = muni != ""
        mframe = pd.DataFrame(
            {
                "municipality": muni[near],
                "indicator": pd.Categorical.from_codes(
                    data.indicator[near], categories=list(INDICATOR_CODES)
                ),
                "occurred_at": local[near],
            }
        )
        muni_counts = {
            p: indicators.count_table(mframe, period=p, by=("municipality",), first=first, last=last)
            for p in ("month", "quarter", "year")
        }
        del frame, mframe, muni
        timings["counts"] = time.perf_counter() - t0
        area_muni = {a.pk: a.municipality_id or "" for a in areas}

        t0 = time.perf_counter()
        values = _value_rows(area_counts, pop, muni_counts, area_muni)
        with transaction.atomic():
            _write_values(values)
        timings["indicator_values"] = time.perf_counter() - t0

        # Last 12 complete months: the window for key comparisons, need and ranks.
        t0 = time.perf_counter()
        monthly = area_counts["month"]
        month_starts = sorted(monthly["period_start"].unique())
        window = month_starts[-12:]
        win = monthly[monthly["period_start"].isin(window)]
        win_sum = win.groupby(["area_id", "indicator"], observed=True)["count"].sum().reset_index()
        weights = _harm_weights()
        need_table = need.need_index(win_sum[win_sum["indicator"] != ALL], pop, weights)
        need_table = need_table.set_index("area_id") if "area_id" in need_table.columns else need_table
        rates_win = indicators.rates(win_sum, pop)
        cat_of = {pk: getattr(a, "current_category", None) for pk, a in current.items()}
        ranks = {}
        for code, rows in rates_win.groupby("indicator", observed=True):
            s = rows.set_index("area_id")["rate"].where(rows.set_index("area_id")["rate_available"])
            ranked = indicators.rank(s, groups=pd.Series({k: cat_of.get(k) or "" for k in s.index}))
            ranks[str(code)] = ranked
        cat_mean = (
            rates_win.assign(category=rates_win["area_id"].map(cat_of))
            .groupby(["category", "indicator"], observed=True)["rate"]
            .mean()
        )
        sources = _sources(data, names)
        how = _hour_of_week(in_area, in_indicator, in_local, areas)
        loaded = len(data)
        del data, local, in_area, in_indicator, in_local
        timings["comparisons"] = time.perf_counter() - t0

        # Every area's document but its space part, which the workers are still computing.
        summary = RefreshSummary(incidents=loaded, as_of=as_of.date().isoformat())
        docs: dict[int, dict] = {}
        t_trend = 0.0
        week = area_counts["week"]
        for area in areas:
            old = reused.get(area.pk)
            doc: dict = {"version": PICTURE_VERSION, "as_of": as_of.date().isoformat()}
            a_month = monthly[monthly["area_id"] == area.pk]
            if old is not None:
                for k in ("trends", "unusual_weeks", "hour_of_week", "space"):
                    doc[k] = old.data.get(k)
                summary.areas_unchanged += 1
            else:
                t1 = time.perf_counter()
                doc["trends"] = _trends(a_month)
                doc["unusual_weeks"] = _unusual_weeks(week[week["area_id"] == area.pk])
                doc["hour_of_week"] = how[area.pk]
                t_trend += time.perf_counter() - t1
                summary.areas_recomputed += 1
            doc.update(
                _cheap_parts(
                    area, a_month, window, pop, need_table, ranks, cat_of, cat_mean, muni_counts, rates_win
                )
            )
            doc["sources"] = sources.get(area.pk, {"by_source": []})
            docs[area.pk] = doc
        timings["trends_and_time"] = t_trend

        t0 = time.perf_counter()
        summary.units = _refresh_units(areas, monthly, pop, as_of, need_table)
        timings["units"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        spaces = space_jobs.result(progress=lambda n, k: tick("hot spots", n, k))
        timings["space_wait"] = time.perf_counter() - t0
    timings["space_and_forecast"] = time.perf_counter() - t_space

    t0 = time.perf_counter()
    total = len(areas)
    for n, area in enumerate(areas, 1):
        doc = docs[area.pk]
        if area.pk not in reused:
            doc["space"] = spaces.get(
                area.pk, {"status": "no_boundary", "message": "Området saknar gräns.", "cells": []}
            )
        AreaPicture.objects.update_or_create(
            area=area,
            defaults={
                "fingerprint": fingerprints.get(area.pk, ""),
                "data": _jsonable(doc),
                "computed_at": timezone.now(),
                "need_index": doc["need"].get("need_index"),
            },
        )
        tick("areas", n, total)
    timings["write_pictures"] = time.perf_counter() - t0

    summary.indicator_values = len(values)
    summary.seconds = time.perf_counter() - started
    summary.timings = {k: round(v, 3) for k, v in timings.items()}
    run.finished_at = timezone.now()
    run.incidents = summary.incidents
    run.areas_recomputed = summary.areas_recomputed
    run.areas_unchanged = summary.areas_unchanged
    run.seconds = summary.seconds
    run.settings = _jsonable({**options.key(), "timings": summary.timings, "as_of_used": summary.as_of})
    run.save()
    return summary


def _space_tasks(areas: list[Area], data: IncidentArrays, options: RefreshOptions) -> list[tuple]:
    """(area id, boundary, incidents near it) for each area with a boundary."""
    order = np.argsort(data.x, kind="stable")
    xs = data.x[order]
    margin = options.buffer + 6 * options.bandwidth
    tasks = []
    for area in areas:
        shape = area.shape
        if shape is None:
            continue
        bx0, by0, bx1, by1 = shape.bounds
        cand = order[np.searchsorted(xs, bx0 - margin) : np.searchsorted(xs, bx1 + margin, side="right")]
        yy = data.y[cand]
        cand = np.sort(cand[(yy >= by0 - margin) & (yy <= by1 + margin)])
        tasks.append((area.pk, shape, Points(x=data.x[cand], y=data.y[cand], t=data.t[cand])))
    return tasks


def _hour_of_week(
    area_of: np.ndarray, indicator: np.ndarray, local: pd.DatetimeIndex, areas: list[Area]
) -> dict[int, dict]:
    """Per area: the 7 x 24 weekday-hour counts of all incidents and of each indicator.

    One bincount over (area, indicator, weekday-hour) for every area at once.
    """
    cells = timepattern.hour_of_week_cells(local)
    position = {a.pk: i for i, a in enumerate(areas)}
    pos = pd.Series(area_of).map(position).to_numpy()
    known = ~pd.isna(pos)
    n_ind, n_cells = len(INDICATOR_CODES), 7 * 24
    flat = (pos[known].astype(np.int64) * n_ind + indicator[known]) * n_cells + cells[known]
    cube = np.bincount(flat, minlength=len(areas) * n_ind * n_cells).reshape(len(areas), n_ind, 7, 24)
    out = {}
    for area, counts in zip(areas, cube, strict=True):
        hw = {ALL: counts.sum(axis=0).tolist()}
        hw.update({code: counts[i].tolist() for i, code in enumerate(INDICATOR_CODES)})
        out[area.pk] = hw
    return out


def _cheap_parts(
    area, a_month, window, pop, need_table, ranks, cat_of, cat_mean, muni_counts, rates_win
) -> dict:
    residents = pop.get(area.pk)
    residents = None if residents is None or pd.isna(residents) else int(residents)
    ch = change.change_table(a_month, "month", keys=("area_id", "indicator")) if len(a_month) else a_month
    key: dict = {}
    series: dict = {}
    if len(ch):
        last_start = ch["period_start"].max()
        for r in ch[ch["period_start"] == last_start].itertuples(index=False):
            key[str(r.indicator)] = {
                "period": r.period_label,
                "count": int(r.count),
                "rate": (int(r.count) / residents * 1000) if residents else None,
                "previous": None if pd.isna(r.previous_count) else int(r.previous_count),
                "previous_p": None if pd.isna(r.previous_p_value) else float(r.previous_p_value),
                "previous_mark": r.previous_mark,
                "last_year": None if pd.isna(r.last_year_count) else int(r.last_year_count),
                "last_year_p": None if pd.isna(r.last_year_p_value) else float(r.last_year_p_value),
                "last_year_mark": r.last_year_mark,
            }
        for code, rows in ch.groupby("indicator", sort=False, observed=True):
            rows = rows.sort_values("period_start")
            series[str(code)] = {
                "months": [pd.Timestamp(s).date().isoformat() for s in rows["period_start"]],
                "counts": [int(c) for c in rows["count"]],
            }
    # The last twelve months against the same twelve months a year before.
    year = {}
    if len(a_month):
        wset = set(window)
        prev_window = {pd.Timestamp(s) - pd.DateOffset(years=1) for s in window}
        for code, rows in a_month.groupby("indicator", observed=True):
            now_n = int(rows[rows["period_start"].isin(wset)]["count"].sum())
            prev_rows = rows[rows["period_start"].isin(prev_window)]
            prev_n = int(prev_rows["count"].sum()) if len(prev_rows) == len(window) else None
            test = change.poisson_rate_test(now_n, 1.0, prev_n, 1.0) if prev_n is not None else None
            year[str(code)] = {
                "count": now_n,
                "rate": (now_n / residents * 1000) if residents else None,
                "previous": prev_n,
                "p_value": test.p_value if test else None,
                "mark": ("↑" if now_n > prev_n else "↓") if test and test.p_value < 0.05 else "",
            }
    category = cat_of.get(area.pk)
    comparisons = {}
    for code in (*INDICATOR_CODES, ALL):
        rank_row = {}
        rk = ranks.get(code)
        if rk is not None and area.pk in rk.index:
            rr = rk.loc[area.pk]
            rank_row = {k: _jsonable(rr[k]) for k in rk.columns}
        same = cat_mean.get((category, code)) if category else None
        comparisons[code] = {"rank": rank_row, "category_mean_rate": _jsonable(same)}
    # The rest of the municipality: its incidents outside the area per 1,000 residents.
    rest = {}
    mc = muni_counts.get("month")
    muni = area.municipality
    if mc is not None and muni is not None and muni.population and len(window):
        rows = mc[(mc["municipality"] == muni.code) & (mc["period_start"].isin(set(window)))]
        for code, g in rows.groupby("indicator", observed=True):
            total = int(g["count"].sum())
            own = year.get(str(code), {}).get("count", 0) or 0
            rest_pop = muni.population - (residents or 0)
            rest[str(code)] = {
                "count": total - own,
                "rate": ((total - own) / rest_pop * 1000) if rest_pop > 0 else None,
            }
    need_row = {}
    if area.pk in getattr(need_table, "index", []):
        nr = need_table.loc[area.pk]
        need_row = {k: _jsonable(nr[k]) for k in need_table.columns}
    from problembild.analysis.officers import officer_requirement

    officers = None
    if residents and category in settings.OFFICER_RULE_CATEGORIES:
        req = officer_requirement(
            pd.Series({area.pk: residents}),
            pd.Series({area.pk: np.nan}),
            residents_per_officer=settings.RESIDENTS_PER_OFFICER,
        )
        officers = {k: _jsonable(req.iloc[0][k]) for k in req.columns}
    return {
        "residents": residents,
        "population_synthetic": bool(
            area.population.filter(synthetic=True).order_by("-year").exists()
            and not area.population.filter(synthetic=False).exists()
        ),
        "category": category,
        "key_figures": key,
        "year_figures": year,
        "window": {
            "start": pd.Timestamp(window[0]).date().isoformat() if len(window) else None,
            "end": pd.Timestamp(window[-1]).date().isoformat() if len(window) else None,
        },
        "series": series,
        "comparisons": comparisons,
        "municipality_rest": {"municipality": muni.name if muni else None, "indicators": rest},
        "need": need_row,
        "officer_rule": officers,
    }


def _sources(data: IncidentArrays, names: list[str]) -> dict[int, dict]:
    """Per area: what its picture is built on, how fresh it is, what is synthetic or approximate.

    Counted incidents inside the boundary come from the loaded arrays (one pass, not a
    query per area: ten million rows make per-area queries slow); the few approximate
    matches of the police feed come from one query.
    """
    out: dict[int, list[dict]] = {}
    inside = np.flatnonzero(data.area >= 0)
    if len(inside):
        frame = pd.DataFrame(
            {
                "area": data.area[inside],
                "source": data.source[inside],
                "synthetic": data.synthetic[inside],
                "t": data.t[inside],
            }
        )
        grouped = frame.groupby(["area", "source", "synthetic"], sort=True)["t"].agg(["size", "max"])
        for (area, source, synthetic), row in grouped.iterrows():
            out.setdefault(int(area), []).append(
                {
                    "source": names[source] if 0 <= source < len(names) else "",
                    "match": AreaMatch.EXACT.value,
                    "synthetic": bool(synthetic),
                    "count": int(row["size"]),
                    "last": pd.Timestamp(int(row["max"]), unit="s", tz="UTC").isoformat(),
                }
            )
    approximate = (
        Incident.objects.filter(area_match=AreaMatch.APPROXIMATE)
        .values("area_id", "source", "synthetic")
        .annotate(n=Count("id"), last=Max("occurred_at"))
        .order_by("area_id", "source")
    )
    for r in approximate:
        out.setdefault(r["area_id"], []).append(
            {
                "source": r["source"],
                "match": AreaMatch.APPROXIMATE.value,
                "synthetic": r["synthetic"],
                "count": r["n"],
                "last": r["last"].isoformat() if r["last"] else None,
            }
        )
    return {
        area: {"by_source": sorted(rows, key=lambda r: (r["source"], r["match"]))}
        for area, rows in out.items()
    }


def _refresh_units(areas: list[Area], monthly: pd.DataFrame, pop: pd.Series, as_of, need_table) -> int:
    """Sum the areas' monthly counts for every unit above them."""
    units = {u.pk: u for u in OrgUnit.objects.all()}
    members: dict[int, list[int]] = {}
    for area in areas:
        unit = units.get(area.org_unit_id)
        while unit is not None:
            members.setdefault(unit.pk, []).append(area.pk)
            unit = units.get(unit.parent_id)
    UnitPicture.objects.exclude(unit_id__in=list(members)).delete()
    for unit_id, area_ids in members.items():
        rows = monthly[monthly["area_id"].isin(area_ids)]
        summed = rows.groupby(["indicator", "period_start"], observed=True)["count"].sum().reset_index()
        series = {}
        trends = {}
        for code, g in summed.groupby("indicator", observed=True):
            g = g.sort_values("period_start")
            series[str(code)] = {
                "months": [pd.Timestamp(s).date().isoformat() for s in g["period_start"]],
                "counts": [int(c) for c in g["count"]],
            }
            if str(code) == ALL or len(area_ids) > 1:
                fit = change.fit_trend(g["count"].to_numpy(float), pd.DatetimeIndex(g["period_start"]))
                trends[str(code)] = {
                    "status": fit.status,
                    "rate_ratio": fit.rate_ratio,
                    "ci_low": fit.ci_low,
                    "ci_high": fit.ci_high,
                    "p_value": fit.p_value,
                    "mark": fit.mark(),
                    "fitted": fit.trend if fit.ok else [],
                }
        residents = pop.reindex(area_ids)
        UnitPicture.objects.update_or_create(
            unit_id=unit_id,
            defaults={
                "computed_at": timezone.now(),
                "data": _jsonable(
                    {
                        "as_of": as_of.date().isoformat(),
                        "areas": area_ids,
                        "residents": float(residents.sum()) if residents.notna().any() else None,
                        "residents_known": int(residents.notna().sum()),
                        "series": series,
                        "trends": trends,
                    }
                ),
            },
        )
    return len(members)


def indicator_label(code: str, language: str = "sv") -> str:
    """Swedish (or English) label of an indicator code, ``all`` included."""
    if code == ALL:
        return "Alla händelser" if language == "sv" else "All incident reports"
    sv, en = INDICATORS.get(code, (code, code))
    return sv if language == "sv" else en


__all__ = ["RefreshOptions", "RefreshSummary", "indicator_label", "refresh"]
