"""Seeded synthetic incidents and population for the real vulnerable areas.

Demo and benchmark data must look like the real thing to an analyst, so the generator
plants the structure the analytics are meant to find:

* **space** — persistent Gaussian hot spots inside each area, diffuse background in the
  area, a ring just around it and a spread over the surrounding town;
* **volume** — särskilt utsatta areas weigh more than riskområden, which weigh more
  than utsatta områden, scaled by residents (or area size where unknown);
* **mix** — the indicator shares of the police's incident reports, with more shootings,
  explosions and threats in särskilt utsatta areas;
* **time** — an annual trend per area (some improve, some worsen), seasonality per
  indicator, and an hour-of-week profile per indicator (violence at night and weekend
  evenings, "other" reports in office hours);
* **near repeats** — a share of shootings, explosions, arson and violence followed by
  a repeat within 50–200 m and 1–14 days.

Everything is vectorised per chunk; chunk random generators come from
``numpy.random.SeedSequence(seed).spawn``, so output depends only on the arguments.
Every row carries ``synthetic=True``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ._validation import rng_from

__all__ = [
    "CATEGORY_WEIGHT",
    "INDICATOR_SHARES",
    "generate_incidents",
    "iter_incidents",
    "synthetic_population",
]

LOCAL_TZ = "Europe/Stockholm"

#: Relative volume of incidents per resident by category.
CATEGORY_WEIGHT: dict[str, float] = {"särskilt utsatt område": 3.0, "riskområde": 2.0, "utsatt område": 1.0}

#: Shares of incident reports by indicator (utsatt/riskområde; särskilt utsatt is shifted).
INDICATOR_SHARES: dict[str, float] = {
    "other": 0.28,
    "violence_public": 0.20,
    "drugs": 0.18,
    "vehicle_arson_vandalism": 0.13,
    "threats_intimidation": 0.09,
    "weapons": 0.07,
    "shootings": 0.03,
    "explosions": 0.02,
}
_SEVERE_BOOST = {"shootings": 1.8, "explosions": 1.8, "threats_intimidation": 1.4}

#: Raw (Swedish) types per indicator with relative weights; all are in the default taxonomy
#: except the "other" types, which the taxonomy maps to its default group.
TYPES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "shootings": (("Skottlossning", "Skottlossning, misstänkt"), (0.7, 0.3)),
    "explosions": (("Detonation", "Explosion"), (0.6, 0.4)),
    "violence_public": (
        ("Misshandel", "Misshandel, grov", "Rån", "Rån, försök", "Bråk", "Mord/dråp", "Mord/dråp, försök"),
        (0.45, 0.12, 0.15, 0.05, 0.18, 0.02, 0.03),
    ),
    "drugs": (("Narkotikabrott",), (1.0,)),
    "weapons": (("Vapenlagen", "Knivlagen"), (0.45, 0.55)),
    "vehicle_arson_vandalism": (("Brand", "Skadegörelse", "Mordbrand"), (0.35, 0.6, 0.05)),
    "threats_intimidation": (
        ("Olaga hot", "Våld/hot mot tjänsteman", "Övergrepp i rättssak"),
        (0.7, 0.2, 0.1),
    ),
    "other": (
        ("Trafikolycka", "Stöld", "Inbrott", "Ordningslagen", "Fylleri/LOB", "Övrigt"),
        (0.2, 0.25, 0.15, 0.1, 0.1, 0.2),
    ),
}
_CODES = tuple(INDICATOR_SHARES)
_REPEATING = {"shootings": 0.12, "explosions": 0.12, "vehicle_arson_vandalism": 0.10, "violence_public": 0.08}

# Hour-of-day profiles (24 weights) and weekend factors per indicator.
_NIGHT = np.array([6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1.5, 2, 2, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 7.5, 7], float)
_EVENING = np.array(
    [3, 2, 1.5, 1, 0.5, 0.5, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 7.5, 7.5, 7, 6, 5, 4.5, 4], float
)
_DAY = np.array(
    [1, 0.7, 0.5, 0.4, 0.4, 0.7, 2, 4, 6, 7, 7, 7, 6.5, 6.5, 6.5, 6.5, 6, 5, 4, 3, 2.5, 2, 1.5, 1.2], float
)
_HOURS = {
    "shootings": (_NIGHT, 1.4),
    "explosions": (_NIGHT, 1.2),
    "violence_public": (_NIGHT, 1.6),
    "drugs": (_EVENING, 1.1),
    "weapons": (_EVENING, 1.3),
    "vehicle_arson_vandalism": (_NIGHT, 1.3),
    "threats_intimidation": (_EVENING, 1.0),
    "other": (_DAY, 0.7),
}
# Month-of-year seasonality (12 factors) per indicator.
_SUMMER = np.array([0.8, 0.8, 0.9, 1.0, 1.1, 1.25, 1.3, 1.25, 1.05, 0.95, 0.85, 0.85])
_AUTUMN = np.array([1.3, 0.9, 0.85, 0.85, 0.9, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1, 1.35])
_FLAT = np.ones(12)
_SEASON = {
    "violence_public": _SUMMER,
    "drugs": _SUMMER * 0.5 + 0.5,
    "vehicle_arson_vandalism": _AUTUMN,
    "explosions": _AUTUMN,
    "shootings": _FLAT,
    "weapons": _FLAT,
    "threats_intimidation": _FLAT,
    "other": _SUMMER * 0.3 + 0.7,
}


@dataclass
class _Area:
    id: int
    geom: Any
    weight: float
    severe: bool
    trend: float  # annual rate ratio
    hotspots: NDArray[np.float64]  # (k, 3): x, y, sd
    hot_weights: NDArray[np.float64]
    bounds: tuple[float, float, float, float]


def _points_inside(
    geom: Any, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n`` uniform points inside ``geom`` by vectorised rejection sampling."""
    x0, y0, x1, y1 = geom.bounds
    fill = max(geom.area / max((x1 - x0) * (y1 - y0), 1e-9), 0.05)
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    got = 0
    while got < n:
        m = int((n - got) / fill * 1.3) + 16
        x = rng.uniform(x0, x1, m)
        y = rng.uniform(y0, y1, m)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _prepare(areas: Sequence[dict], seed: int) -> list[_Area]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
    out: list[_Area] = []
    for a in areas:
        geom = a.get("geometry")
        if geom is None or shapely.is_empty(geom):
            continue
        shapely.prepare(geom)
        category = a.get("category") or "utsatt område"
        size = a.get("population") or geom.area / 1e6 * 6000  # ~6,000 residents per km² when unknown
        k = int(rng.integers(2, 7))
        hx, hy = _points_inside(geom, k, rng)
        sd = rng.uniform(40, 150, k)
        # Trends: log-normal around 1 in [0.75, 1.3]; every third area clearly up or down.
        trend = float(np.clip(np.exp(rng.normal(0, 0.12)), 0.75, 1.3))
        if len(out) % 3 == 1:
            trend = 1.25
        elif len(out) % 3 == 2:
            trend = 0.8
        out.append(
            _Area(
                id=int(a["id"]),
                geom=geom,
                weight=float(size) * CATEGORY_WEIGHT.get(category, 1.0),
                severe=category == "särskilt utsatt område",
                trend=trend,
                hotspots=np.column_stack([hx, hy, sd]),
                hot_weights=rng.dirichlet(np.ones(k) * 2),
                bounds=geom.bounds,
            )
        )
    return out


def _check(n: int, years: int, end: date, chunk_size: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(years, bool) or not isinstance(years, int | np.integer) or years < 1:
        raise ValueError(f"years must be an integer >= 1, got {years!r}")
    if not isinstance(end, date):
        raise ValueError(f"end must be a datetime.date, got {end!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")


def _day_table(start: pd.Timestamp, n_days: int, prepared: list[_Area]) -> dict[str, Any]:
    """Cumulative day weights per (area, indicator): trend x season x weekday."""
    days = pd.date_range(start, periods=n_days, freq="D")
    months = days.month.to_numpy() - 1
    years_since = np.arange(n_days) / 365.25
    weekend = (days.dayofweek.to_numpy() >= 5).astype(float)
    season = {code: _SEASON[code][months] for code in _CODES}
    weekday = {code: 1.0 + (_HOURS[code][1] - 1.0) * weekend for code in _CODES}
    return {"days": days, "years": years_since, "season": season, "weekday": weekday}


def iter_incidents(
    areas: Sequence[dict],
    *,
    n: int,
    years: int,
    end: date,
    seed: int,
    chunk_size: int = 1_000_000,
) -> Iterator[pd.DataFrame]:
    """Yield frames of synthetic incidents (``n`` rows in all) for ``areas``.

    Parameters
    ----------
    areas : sequence of dict
        ``{"id", "geometry" (SWEREF99 TM polygon), "category", "population"}`` per area;
        areas without geometry are skipped.
    n : int
        Number of incidents.
    years : int
        History length: incidents fall in ``[end - years, end)`` (local midnight).
    end : datetime.date
        First day after the history.
    seed : int
        Seed; the same arguments give the same rows.
    chunk_size : int
        Rows per yielded frame (memory bound).

    Yields
    ------
    pandas.DataFrame
        Columns ``id`` (str), ``occurred_at`` (tz-aware, Europe/Stockholm), ``type``
        (raw Swedish type), ``indicator``, ``x``, ``y`` (SWEREF99 TM metres),
        ``synthetic`` (True).
    """
    _check(n, years, end, chunk_size)
    prepared = _prepare(areas, seed)
    if not prepared:
        raise ValueError("areas must contain at least one area with a geometry")
    if n == 0:
        return
    start = pd.Timestamp(end) - pd.DateOffset(years=int(years))
    n_days = int((pd.Timestamp(end) - start).days)
    table = _day_table(start, n_days, prepared)
    area_w = np.array([a.weight for a in prepared])
    area_p = area_w / area_w.sum()
    base_shares = np.array([INDICATOR_SHARES[c] for c in _CODES])
    severe_shares = base_shares * np.array([_SEVERE_BOOST.get(c, 1.0) for c in _CODES])
    severe_shares /= severe_shares.sum()
    base_shares = base_shares / base_shares.sum()
    # Per area and indicator: cumulative distribution over days (trend x season x weekday).
    cdf_cache: dict[tuple[int, int], NDArray[np.float64]] = {}

    def day_cdf(ai: int, ci: int) -> NDArray[np.float64]:
        key = (ai, ci)
        if key not in cdf_cache:
            code = _CODES[ci]
            w = prepared[ai].trend ** table["years"] * table["season"][code] * table["weekday"][code]
            c = np.cumsum(w)
            cdf_cache[key] = c / c[-1]
        return cdf_cache[key]

    hour_cdf = {}
    for code in _CODES:
        h = _HOURS[code][0]
        hour_cdf[code] = np.cumsum(h) / h.sum()
    type_tables = {
        code: (np.array(t, dtype=object), np.cumsum(w) / np.sum(w)) for code, (t, w) in TYPES.items()
    }
    children = np.random.SeedSequence(seed).spawn((n + chunk_size - 1) // chunk_size)
    done = 0
    for child in children:
        m = min(chunk_size, n - done)
        rng = np.random.default_rng(child)
        frame = _chunk(
            m, rng, prepared, area_p, base_shares, severe_shares, day_cdf, hour_cdf, type_tables, table, start
        )
        frame.insert(0, "id", [f"syn-{seed}-{done + i:09d}" for i in range(m)])
        done += m
        yield frame


def _chunk(
    m: int,
    rng: np.random.Generator,
    prepared: list[_Area],
    area_p: NDArray[np.float64],
    base_shares: NDArray[np.float64],
    severe_shares: NDArray[np.float64],
    day_cdf: Any,
    hour_cdf: dict[str, NDArray[np.float64]],
    type_tables: dict[str, tuple[NDArray[Any], NDArray[np.float64]]],
    table: dict[str, Any],
    start: pd.Timestamp,
) -> pd.DataFrame:
    n_days = len(table["days"])
    # Reserve a share of rows for near repeats of earlier rows in the chunk.
    repeat_share = 0.06
    n_repeat = int(m * repeat_share)
    m0 = m - n_repeat
    area_idx = rng.choice(len(prepared), size=m0, p=area_p)
    severe = np.array([a.severe for a in prepared])[area_idx]
    u = rng.random(m0)
    ind = np.where(
        severe,
        np.searchsorted(np.cumsum(severe_shares), u, side="right"),
        np.searchsorted(np.cumsum(base_shares), u, side="right"),
    ).clip(0, len(_CODES) - 1)
    day = np.empty(m0, dtype=np.int64)
    hour = np.empty(m0, dtype=np.int64)
    x = np.empty(m0)
    y = np.empty(m0)
    for ai in np.unique(area_idx):
        sel_a = area_idx == ai
        for ci in np.unique(ind[sel_a]):
            sel = np.flatnonzero(sel_a & (ind == ci))
            day[sel] = np.searchsorted(day_cdf(int(ai), int(ci)), rng.random(len(sel)), side="right")
        a = prepared[int(ai)]
        idx = np.flatnonzero(sel_a)
        x[idx], y[idx] = _place(a, len(idx), rng)
    for ci, code in enumerate(_CODES):
        sel = np.flatnonzero(ind == ci)
        hour[sel] = np.searchsorted(hour_cdf[code], rng.random(len(sel)), side="right")
    day = day.clip(0, n_days - 1)
    hour = hour.clip(0, 23)
    seconds = rng.integers(0, 3600, m0)
    # Near repeats: children of events with repeating indicators, same indicator, close by.
    rep_codes = np.array([_REPEATING.get(c, 0.0) for c in _CODES])
    parent_p = rep_codes[ind]
    if n_repeat and parent_p.sum() > 0:
        parents = rng.choice(m0, size=n_repeat, p=parent_p / parent_p.sum())
        dist = rng.uniform(50, 200, n_repeat)
        angle = rng.uniform(0, 2 * np.pi, n_repeat)
        lag = rng.integers(1, 15, n_repeat)
        r_day = np.minimum(day[parents] + lag, n_days - 1)
        r_hour = np.searchsorted(hour_cdf["shootings"], rng.random(n_repeat), side="right").clip(0, 23)
        ind = np.concatenate([ind, ind[parents]])
        x = np.concatenate([x, x[parents] + dist * np.cos(angle)])
        y = np.concatenate([y, y[parents] + dist * np.sin(angle)])
        day = np.concatenate([day, r_day])
        hour = np.concatenate([hour, r_hour])
        seconds = np.concatenate([seconds, rng.integers(0, 3600, n_repeat)])
    else:
        n_repeat = 0
    # Local wall-clock times -> aware timestamps (DST gaps shift forward, overlaps take summer time).
    local = (
        np.datetime64(start.date(), "s")
        + day.astype("timedelta64[D]").astype("timedelta64[s]")
        + (hour * 3600 + seconds).astype("timedelta64[s]")
    )
    times = pd.DatetimeIndex(local).tz_localize(LOCAL_TZ, ambiguous=True, nonexistent="shift_forward")
    codes = np.array(_CODES, dtype=object)[ind]
    types = np.empty(len(ind), dtype=object)
    for code, (names, cdf) in type_tables.items():
        sel = np.flatnonzero(codes == code)
        if len(sel):
            types[sel] = names[
                np.searchsorted(cdf, rng.random(len(sel)), side="right").clip(0, len(names) - 1)
            ]
    order = np.argsort(local, kind="stable")
    return pd.DataFrame(
        {
            "occurred_at": times[order],
            "type": types[order],
            "indicator": codes[order],
            "x": x[order],
            "y": y[order],
            "synthetic": np.ones(len(ind), dtype=bool),
        }
    )


def _place(a: _Area, k: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Positions for ``k`` events of area ``a``: hot spots, background, ring, town."""
    x = np.empty(k)
    y = np.empty(k)
    kind = rng.choice(4, size=k, p=[0.42, 0.23, 0.13, 0.22])
    # Hot spots.
    sel = np.flatnonzero(kind == 0)
    h = rng.choice(len(a.hotspots), size=len(sel), p=a.hot_weights)
    x[sel] = a.hotspots[h, 0] + rng.normal(0, 1, len(sel)) * a.hotspots[h, 2]
    y[sel] = a.hotspots[h, 1] + rng.normal(0, 1, len(sel)) * a.hotspots[h, 2]
    # Background inside the area.
    sel = np.flatnonzero(kind == 1)
    x[sel], y[sel] = _points_inside(a.geom, len(sel), rng)
    # Ring around the area (within 1.5 km of its bounding box).
    x0, y0, x1, y1 = a.bounds
    sel = np.flatnonzero(kind == 2)
    x[sel] = rng.uniform(x0 - 1500, x1 + 1500, len(sel))
    y[sel] = rng.uniform(y0 - 1500, y1 + 1500, len(sel))
    # The surrounding town: a broad Gaussian around the area (sd 2.5 km).
    sel = np.flatnonzero(kind == 3)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x[sel] = cx + rng.normal(0, 2500, len(sel))
    y[sel] = cy + rng.normal(0, 2500, len(sel))
    return x, y


def generate_incidents(areas: Sequence[dict], *, n: int, years: int, end: date, seed: int) -> pd.DataFrame:
    """All of :func:`iter_incidents` in one frame (for tests and small data sets)."""
    frames = list(iter_incidents(areas, n=n, years=years, end=end, seed=seed))
    if not frames:
        return pd.DataFrame(
            {
                "id": pd.Series(dtype=object),
                "occurred_at": pd.Series(dtype=f"datetime64[ns, {LOCAL_TZ}]"),
                "type": pd.Series(dtype=object),
                "indicator": pd.Series(dtype=object),
                "x": pd.Series(dtype=float),
                "y": pd.Series(dtype=float),
                "synthetic": pd.Series(dtype=bool),
            }
        )
    return pd.concat(frames, ignore_index=True)


def synthetic_population(
    areas: Sequence[dict], *, seed: int, year: int, total: float = 550_000
) -> pd.DataFrame:
    """Synthetic residents per area (about ``total`` in all), labelled ``synthetic``.

    Residents follow area size and category with log-normal noise, clamped to
    1,500–40,000 per area (the real range of single areas is about 4,000–35,000).
    """
    rng = rng_from(np.random.SeedSequence([seed, 104729]).generate_state(1)[0])
    rows = [a for a in areas if a.get("geometry") is not None and not shapely.is_empty(a["geometry"])]
    if not rows:
        return pd.DataFrame({"area_id": [], "year": [], "residents": [], "synthetic": []})
    size = np.array([a["geometry"].area / 1e6 for a in rows])
    cat = np.array([1.3 if a.get("category") == "särskilt utsatt område" else 1.0 for a in rows])
    raw = np.sqrt(np.maximum(size, 0.05)) * cat * np.exp(rng.normal(0, 0.25, len(rows)))
    residents = raw / raw.sum() * total
    for _ in range(20):  # rescale after clamping so the total stays close
        residents = np.clip(residents, 1500, 40000)
        residents *= total / residents.sum()
    residents = np.clip(np.round(residents), 1500, 40000).astype(np.int64)
    return pd.DataFrame(
        {
            "area_id": [int(a["id"]) for a in rows],
            "year": int(year),
            "residents": residents,
            "synthetic": True,
        }
    )
