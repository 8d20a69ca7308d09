"""Seeded synthetic incidents and population for the vulnerable areas (``problembild demo-data``).

The demo must look like real incident reports to a police analyst, so the generator
plants the structure the analytics are built to find. Every parameter is a named
table below, so a reviewer can read what was planted:

* **Volume.** An area's share of the incidents is its category weight
  (:data:`CATEGORY_WEIGHT`: särskilt utsatt 3, riskområde 2, utsatt 1, other or
  unknown 1) times its residents, or its size times 7,000 residents per km² where the
  residents are unknown.
* **Place.** Each area has 2–6 persistent Gaussian hot spots (sd 40–150 m) centred
  inside its boundary, a diffuse background inside the boundary, a ring up to 1.5 km
  outside it and the surrounding town up to 5 km away. Each indicator has its own mix
  of these four and its own weights on the area's hot spots (the drug scene is not the
  square where the fights are). About three quarters of all events fall inside or
  around the areas, half inside them.
* **Mix.** The national shares of :data:`INDICATOR_MIX`; särskilt utsatta areas have
  more shootings, explosions, threats and weapon offences, utsatta fewer, calibrated
  so that all areas together keep the national shares. Raw types are the police's
  Swedish incident types of the default taxonomy (:data:`RAW_TYPES`, weighted: many
  "Misshandel", few "Mord/dråp"); ``other`` uses types the taxonomy does not list, so
  they fall into its default group.
* **Time.** An annual rate ratio per area (log-normal around 1 within 0.75–1.3, the
  lowest at most 0.8 and the highest at least 1.22, so some areas clearly improve and
  some clearly worsen); seasonality per indicator (violence in summer, vehicle arson in
  autumn) with peaks on Valborg, midsummer eve and New Year's Eve; conflict episodes of
  6 weeks to 5 months with several times the shootings and explosions, most often in
  särskilt utsatta areas; day-to-day noise per area; and an hour-of-week profile per
  indicator (violence, shootings and arson at night and on weekend nights, drugs in the
  afternoon and evening, other reports in office hours on weekdays).
* **Near repeats.** 12 % of shootings and explosions and 10 % of vehicle arson and
  violence are repeats of another event of the same indicator in the same area (and
  chunk), 20–200 m away (median 110 m) and 1–13 days later (mostly within a week;
  earlier when that would pass ``end``), so the Knox test finds space–time interaction
  at short distances and times.

**Determinism.** An area's set-up (hot spots, trend, episodes, noise) comes from
``SeedSequence(seed, spawn_key=(0, area id))`` and chunk ``i`` from
``SeedSequence(seed, spawn_key=(1, i))`` (the ``i``-th child of
``SeedSequence(seed, spawn_key=(1,)).spawn``). The same arguments give the same rows with
the same NumPy version, and an area keeps its hot spots, episodes and (unless it is
the register's steepest) trend whatever the other areas, ``n`` or ``chunk_size``.
Chunks are independent samples of the whole period, so near repeats pair events of the
same chunk only.

**Local time.** Times are drawn as Swedish wall-clock times: one falling in the hour
skipped on the last Sunday of March moves an hour later, and the repeated hour of the
last Sunday of October is summer or winter time at random.

**Cost.** Every step is vectorised over a chunk: categorical draws are inverse-CDF
lookups, one ``numpy.searchsorted`` over the concatenated cumulative distributions of
all groups (e.g. area × indicator over days); Python loops run per area only. About
1.4 million rows per second on one core for the 59 areas of the register (10 million
rows in about 7 s); peak memory about 400 bytes per chunk row plus
``200 * n_areas * days`` bytes for the day distributions (20 MB for 59 areas and 5 years).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from problembild.analysis.spatial import SWEDEN_BOUNDS_SWEREF
from problembild.analysis.vocabulary import INDICATOR_CODES, LOCAL_TIMEZONE

__all__ = [
    "CATEGORY_WEIGHT",
    "INDICATOR_MIX",
    "RAW_TYPES",
    "generate_incidents",
    "iter_incidents",
    "synthetic_population",
]

COLUMNS: Final[tuple[str, ...]] = ("id", "occurred_at", "type", "indicator", "x", "y", "synthetic")

_SARSKILT: Final = "särskilt utsatt område"
_RISK: Final = "riskområde"
_UTSATT: Final = "utsatt område"

#: Relative number of incidents per resident by area category (others and None: 1).
CATEGORY_WEIGHT: Final[dict[str, float]] = {_SARSKILT: 3.0, _RISK: 2.0, _UTSATT: 1.0}

#: National shares of the indicator groups among all synthetic incident reports.
INDICATOR_MIX: Final[dict[str, float]] = {
    "other": 0.28,
    "violence_public": 0.20,
    "drugs": 0.18,
    "vehicle_arson_vandalism": 0.13,
    "threats_intimidation": 0.09,
    "weapons": 0.07,
    "shootings": 0.03,
    "explosions": 0.02,
}

#: Raw Swedish incident types per indicator with relative weights. All but the
#: ``other`` types are listed under that indicator in the default taxonomy; the
#: ``other`` types are listed nowhere, so the taxonomy's default group takes them.
RAW_TYPES: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "shootings": (("Skottlossning", 0.7), ("Skottlossning, misstänkt", 0.3)),
    "explosions": (("Detonation", 0.55), ("Explosion", 0.45)),
    "violence_public": (
        ("Misshandel", 0.44),
        ("Misshandel, grov", 0.12),
        ("Bråk", 0.15),
        ("Rån", 0.12),
        ("Rån, försök", 0.04),
        ("Rån väpnat", 0.04),
        ("Rån övrigt", 0.06),
        ("Mord/dråp, försök", 0.02),
        ("Mord/dråp", 0.01),
    ),
    "drugs": (("Narkotikabrott", 1.0),),
    "weapons": (("Knivlagen", 0.55), ("Vapenlagen", 0.45)),
    "vehicle_arson_vandalism": (("Skadegörelse", 0.5), ("Brand", 0.45), ("Mordbrand", 0.05)),
    "threats_intimidation": (
        ("Olaga hot", 0.7),
        ("Våld/hot mot tjänsteman", 0.22),
        ("Övergrepp i rättssak", 0.05),
        ("Bombhot", 0.03),
    ),
    "other": (
        ("Stöld", 0.18),
        ("Trafikolycka", 0.12),
        ("Inbrott", 0.10),
        ("Ordningslagen", 0.10),
        ("Fylleri/LOB", 0.10),
        ("Övrigt", 0.10),
        ("Bedrägeri", 0.06),
        ("Rattfylleri", 0.06),
        ("Trafikbrott", 0.06),
        ("Försvunnen person", 0.04),
        ("Stöld/inbrott", 0.04),
        ("Sjukdom/olycksfall", 0.04),
    ),
}

#: Multipliers of the national mix by category (before calibration to the national mix).
_CATEGORY_MIX: Final[dict[str, dict[str, float]]] = {
    _SARSKILT: {"shootings": 1.8, "explosions": 1.8, "threats_intimidation": 1.35, "weapons": 1.15},
    _RISK: {"shootings": 1.2, "explosions": 1.2, "threats_intimidation": 1.1},
    _UTSATT: {"shootings": 0.6, "explosions": 0.6, "threats_intimidation": 0.85, "weapons": 0.9},
}

# Where an indicator's events fall: shares of (hot spot, inside the area, ring around it, town).
_HOT, _INSIDE, _RING, _TOWN = range(4)
_PLACE: Final[dict[str, tuple[float, float, float, float]]] = {
    "shootings": (0.45, 0.25, 0.15, 0.15),
    "explosions": (0.35, 0.30, 0.15, 0.20),
    "violence_public": (0.40, 0.20, 0.20, 0.20),
    "drugs": (0.50, 0.15, 0.20, 0.15),
    "weapons": (0.40, 0.20, 0.20, 0.20),
    "vehicle_arson_vandalism": (0.20, 0.40, 0.20, 0.20),
    "threats_intimidation": (0.30, 0.30, 0.20, 0.20),
    "other": (0.15, 0.20, 0.25, 0.40),
}
_RING_WIDTH: Final = 1_500.0  # metres outside the boundary
_TOWN_RADIUS: Final = 5_000.0  # metres around a random point of the area
_HOT_SPOTS: Final = (2, 6)  # fewest and most hot spots per area
_HOT_SD: Final = (40.0, 150.0)  # metres
_RESIDENTS_PER_KM2: Final = 7_000.0  # for areas without residents: ~550,000 on ~80 km²

# Hour-of-day weights per indicator, hours 0..23 (relative within the indicator).
# fmt: off
_HOURS: Final[dict[str, tuple[float, ...]]] = {
    "shootings": (1.5, 1.3, 1.1, 0.9, 0.6, .35, .25, .25, 0.3, .35, 0.4, .45,
                  0.5, .55, .65, .75, 0.9, 1.0, 1.15, 1.3, 1.5, 1.6, 1.65, 1.6),
    "explosions": (1.5, 2.0, 2.3, 2.3, 1.8, 1.0, 0.4, .25, 0.2, 0.2, 0.2, 0.2,
                   0.2, .25, .25, 0.3, .35, 0.4, 0.5, 0.6, .75, 0.9, 1.1, 1.3),
    "violence_public": (1.6, 1.6, 1.4, 1.0, 0.6, .35, 0.3, .35, .45, 0.5, .55, 0.6,
                        .65, 0.7, .75, .85, .95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.45, 1.55),
    "drugs": (0.5, .35, .25, .15, 0.1, 0.1, .15, .25, 0.4, 0.6, 0.8, 0.9,
              1.0, 1.1, 1.3, 1.5, 1.6, 1.6, 1.55, 1.5, 1.4, 1.2, 1.0, .75),
    "weapons": (1.0, 0.9, 0.7, 0.5, .35, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                0.8, .85, .95, 1.05, 1.15, 1.25, 1.35, 1.45, 1.5, 1.5, 1.4, 1.2),
    "vehicle_arson_vandalism": (1.8, 2.0, 1.9, 1.5, 1.0, 0.5, 0.3, 0.3, .35, .35, .35, 0.4,
                                0.4, .45, 0.5, .55, 0.6, 0.7, 0.8, .95, 1.15, 1.35, 1.55, 1.7),
    "threats_intimidation": (0.4, 0.3, .25, 0.2, .15, 0.2, .35, 0.6, 0.9, 1.1, 1.2, 1.25,
                             1.25, 1.3, 1.35, 1.4, 1.4, 1.35, 1.25, 1.15, 1.0, .85, 0.7, .55),
    "other": (0.3, .22, .18, .15, .15, .25, .55, 1.0, 1.35, 1.45, 1.5, 1.5,
              1.45, 1.45, 1.5, 1.6, 1.65, 1.55, 1.3, 1.1, 0.9, .75, 0.6, .45),
}
# fmt: on
#: (weekend-night factor, weekend-day factor) per indicator. Weekend nights are
#: Friday 20:00 – Saturday 06:00 and Saturday 20:00 – Sunday 06:00; weekend days are
#: Saturday and Sunday 06:00–20:00.
_WEEKEND: Final[dict[str, tuple[float, float]]] = {
    "shootings": (1.5, 1.1),
    "explosions": (1.4, 1.0),
    "violence_public": (2.2, 1.15),
    "drugs": (1.2, 0.9),
    "weapons": (1.5, 1.0),
    "vehicle_arson_vandalism": (1.3, 1.0),
    "threats_intimidation": (1.0, 0.85),
    "other": (1.4, 0.7),
}
#: Seasonality ``1 + amplitude * cos(2 pi (day of year - peak) / 365.25)`` per indicator.
_SEASON: Final[dict[str, tuple[float, int]]] = {
    "shootings": (0.10, 280),  # peak early October
    "explosions": (0.20, 330),  # late November
    "violence_public": (0.25, 196),  # mid July
    "drugs": (-0.10, 196),  # fewer police-initiated drug reports in the July holidays
    "weapons": (0.10, 196),
    "vehicle_arson_vandalism": (0.25, 300),  # late October
    "threats_intimidation": (0.05, 60),
    "other": (0.12, 196),
}
#: Factors on Valborg (30 April), midsummer eve, New Year's Eve and New Year's Day.
_FEASTS: Final[dict[str, tuple[float, float, float, float]]] = {
    "shootings": (1.0, 1.0, 1.2, 1.2),
    "explosions": (1.0, 1.0, 3.0, 2.5),
    "violence_public": (1.8, 1.8, 1.6, 2.0),
    "drugs": (1.0, 1.0, 1.0, 1.0),
    "weapons": (1.2, 1.2, 1.2, 1.2),
    "vehicle_arson_vandalism": (1.3, 1.0, 4.0, 3.0),
    "threats_intimidation": (1.0, 1.0, 1.0, 1.0),
    "other": (1.5, 1.5, 1.5, 1.5),
}
#: Expected conflict episodes per area and year by category (others and None: 0.1).
_EPISODES_PER_YEAR: Final[dict[str, float]] = {_SARSKILT: 0.3, _RISK: 0.2, _UTSATT: 0.08}
_EPISODE_DAYS: Final = (42, 150)
#: Range of the rate factor during an episode per indicator.
_EPISODE_BOOST: Final[dict[str, tuple[float, float]]] = {
    "shootings": (3.0, 6.0),
    "explosions": (3.0, 6.0),
    "threats_intimidation": (1.5, 2.5),
    "weapons": (1.5, 2.5),
}
_TREND_SD: Final = 0.12  # sd of the log annual rate ratio
_TREND_RANGE: Final = (0.75, 1.3)
_TREND_EXTREMES: Final = (0.8, 1.22)  # the lowest area at most, the highest at least
_DAY_NOISE_SHAPE: Final = 25.0  # gamma day-to-day noise per area: sd 20 %

#: Share of each indicator's events that are near repeats of another event.
_REPEAT_SHARE: Final[dict[str, float]] = {
    "shootings": 0.12,
    "explosions": 0.12,
    "vehicle_arson_vandalism": 0.10,
    "violence_public": 0.10,
}
_REPEAT_DISTANCE: Final = (20.0, 200.0)  # metres: 20 + 180 u², median 110 m
_REPEAT_LAG_SCALE: Final = 5.0  # days: P(lag = k) ∝ exp(-k / 5), k = 1..13
_REPEAT_MAX_LAG: Final = 13

# synthetic_population: ~550,000 residents in the 59 areas of the 2023 register.
_POPULATION_TOTAL: Final = 550_000
_POPULATION_AREAS: Final = 59
_POPULATION_RANGE: Final = (1_500, 40_000)
_POPULATION_CATEGORY: Final[dict[str, float]] = {_SARSKILT: 1.6, _RISK: 1.25, _UTSATT: 1.0}
_POPULATION_NOISE_SD: Final = 0.3

_K: Final = len(INDICATOR_CODES)
_NS_PER_DAY: Final = 86_400 * 10**9
_NS_PER_HOUR: Final = 3_600 * 10**9
_NS_PER_SECOND: Final = 10**9


def iter_incidents(
    areas: Iterable[Mapping[str, Any]],
    *,
    n: int,
    years: int,
    end: dt.date,
    seed: int,
    chunk_size: int = 1_000_000,
) -> Iterator[pd.DataFrame]:
    """Synthetic incident reports for ``areas``, in chunks of at most ``chunk_size`` rows.

    Parameters
    ----------
    areas : iterable of mapping
        ``{"id": int, "geometry": Polygon | MultiPolygon | None, "category": str | None,
        "population": int | None}`` per area, geometry in SWEREF99 TM metres. Areas
        without a geometry are skipped.
    n : int
        Number of incidents in all (>= 0).
    years : int
        Length of the history in calendar years (>= 1).
    end : datetime.date
        First day after the history: incidents fall in ``[end - years, end)``, both at
        local midnight (29 February falls back to 28 February).
    seed : int
        Seed (>= 0); the same arguments give the same rows.
    chunk_size : int, default 1,000,000
        Rows per frame; memory is bounded by it (about 400 bytes per row at the peak).

    Returns
    -------
    iterator of pandas.DataFrame
        Frames with ``n`` rows in all (none when ``n == 0``) and columns ``id`` (str,
        ``"syn-{seed}-{i:08d}"``, unique over the run), ``occurred_at`` (datetime64,
        Europe/Stockholm), ``type`` (raw Swedish incident type), ``indicator``
        (indicator code of ``type`` in the default taxonomy), ``x``, ``y`` (float64,
        SWEREF99 TM metres, inside Sweden's box) and ``synthetic`` (True). Each frame is
        sorted by time; chunks are independent samples of the whole period.

    Raises
    ------
    ValueError
        Naming the argument, at the call (not at the first ``next``): ``n < 0``,
        ``years < 1``, ``end`` not a date, ``seed < 0``, ``chunk_size < 1``, no area
        with a geometry, a geometry that is not polygonal or lies outside Sweden in
        SWEREF99 TM, or duplicate area ids.
    """
    count = _integer(n, "n", minimum=0)
    n_years = _integer(years, "years", minimum=1)
    seed_int = _integer(seed, "seed", minimum=0)
    size = _integer(chunk_size, "chunk_size", minimum=1)
    start, stop = _period(end, n_years)
    usable = _usable_areas(areas)
    if count == 0:
        return iter(())
    model = _Model.build(usable, start=start, stop=stop, seed=seed_int)
    width = max(8, len(str(count - 1)))
    return _chunks(model, count, size, seed_int, width)


def generate_incidents(
    areas: Iterable[Mapping[str, Any]], *, n: int, years: int, end: dt.date, seed: int
) -> pd.DataFrame:
    """All rows of :func:`iter_incidents` (default ``chunk_size``) in one frame.

    With ``n == 0`` the frame is empty but has the columns and dtypes.
    """
    frames = list(iter_incidents(areas, n=n, years=years, end=end, seed=seed))
    if not frames:
        return _empty_frame()
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def synthetic_population(areas: Iterable[Mapping[str, Any]], *, seed: int, year: int) -> pd.DataFrame:
    """Synthetic residents per area, labelled ``synthetic``.

    Parameters
    ----------
    areas : iterable of mapping
        As for :func:`iter_incidents`; areas without a geometry are skipped and the
        ``population`` key is ignored.
    seed : int
        Seed (>= 0); each area's noise comes from ``SeedSequence(seed, spawn_key=(2, id))``.
    year : int
        Value of the ``year`` column.

    Returns
    -------
    pandas.DataFrame
        One row per area with a geometry: ``area_id`` (int64), ``year`` (int64),
        ``residents`` (int64) and ``synthetic`` (True). Residents follow
        ``area_km2 ** 0.7`` times a category factor (särskilt utsatt 1.6, riskområde
        1.25, utsatt 1) times log-normal noise (sd 0.3), scaled so that the total is
        550,000 × min(1, areas / 59) — about 550,000 for the 59 areas of the register, as
        in the police's figures — with every area clamped to 1,500–40,000 and the others
        rescaled to keep the total.

    Raises
    ------
    ValueError
        As for :func:`iter_incidents` for ``areas`` and ``seed``; ``year`` not an integer.
    """
    seed_int = _integer(seed, "seed", minimum=0)
    year_int = _integer(year, "year", minimum=1)
    usable = _usable_areas(areas)
    size = np.array([u.geometry.area / 1e6 for u in usable])
    factor = np.array([_POPULATION_CATEGORY.get(u.category or "", 1.0) for u in usable])
    noise = np.array(
        [
            _area_rng(seed_int, 2, u.id).lognormal(0.0, _POPULATION_NOISE_SD)  # one draw per area
            for u in usable
        ]
    )
    raw = np.maximum(size, 1e-3) ** 0.7 * factor * noise
    lo, hi = _POPULATION_RANGE
    k = len(usable)
    target = min(max(_POPULATION_TOTAL * min(1.0, k / _POPULATION_AREAS), k * lo), k * hi)
    # sum(clip(raw * s, lo, hi)) increases with s: bisect (in log space) for the target.
    s_lo, s_hi = lo / raw.max() / 2, hi / raw.min() * 2
    for _ in range(100):
        s = math.sqrt(s_lo * s_hi)
        if np.clip(raw * s, lo, hi).sum() < target:
            s_lo = s
        else:
            s_hi = s
    residents = np.rint(np.clip(raw * math.sqrt(s_lo * s_hi), lo, hi)).astype(np.int64)
    return pd.DataFrame(
        {
            "area_id": np.array([u.id for u in usable], dtype=np.int64),
            "year": np.full(k, year_int, dtype=np.int64),
            "residents": residents,
            "synthetic": np.ones(k, dtype=bool),
        }
    )


# --- validation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Usable:
    id: int
    geometry: Any
    category: str | None
    population: float | None


def _integer(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _period(end: Any, years: int) -> tuple[dt.date, dt.date]:
    if isinstance(end, dt.datetime) or not isinstance(end, dt.date):
        raise ValueError(f"end must be a datetime.date (the day after the history), got {end!r}")
    if end.year - years < 1:
        raise ValueError(f"years must leave a start year >= 1, got years={years} and end={end}")
    try:
        start = end.replace(year=end.year - years)
    except ValueError:  # 29 February in a common year
        start = dt.date(end.year - years, 2, 28)
    return start, end


def _usable_areas(areas: Any) -> list[_Usable]:
    """Areas with a polygonal geometry inside Sweden, checked; the others are skipped."""
    if isinstance(areas, Mapping | str | bytes) or not isinstance(areas, Iterable):
        raise ValueError(f"areas must be a list of dicts, got {type(areas).__name__}")
    xmin, ymin, xmax, ymax = SWEDEN_BOUNDS_SWEREF
    out: list[_Usable] = []
    seen: set[int] = set()
    for position, area in enumerate(areas):
        if not isinstance(area, Mapping) or "id" not in area:
            raise ValueError(f"areas[{position}] must be a dict with 'id' and 'geometry', got {area!r}")
        geom = area.get("geometry")
        if geom is None:
            continue
        if not isinstance(geom, shapely.Geometry):
            raise ValueError(
                f"areas[{position}]: geometry must be a shapely geometry, got {type(geom).__name__}"
            )
        if geom.is_empty:
            continue
        try:
            area_id = int(area["id"])
        except (TypeError, ValueError):
            raise ValueError(f"areas[{position}]: id must be an integer, got {area['id']!r}") from None
        if area_id in seen:
            raise ValueError(f"areas: duplicate id {area_id}")
        seen.add(area_id)
        if shapely.get_type_id(geom) not in (3, 6):  # Polygon, MultiPolygon
            raise ValueError(
                f"area {area_id}: geometry must be a Polygon or MultiPolygon, got {geom.geom_type}"
            )
        if not shapely.is_valid(geom):
            geom = shapely.unary_union([p for p in shapely.get_parts(shapely.make_valid(geom)) if p.area > 0])
        gx0, gy0, gx1, gy1 = geom.bounds
        if not (gx0 >= xmin and gx1 <= xmax and gy0 >= ymin and gy1 <= ymax):
            raise ValueError(
                f"area {area_id}: geometry bounds {geom.bounds} lie outside Sweden in SWEREF99 TM "
                "(EPSG:3006); are the coordinates in another reference system?"
            )
        if not geom.area > 0:
            raise ValueError(f"area {area_id}: geometry has no area")
        population = area.get("population")
        try:
            pop = float(population) if population is not None else math.nan
        except (TypeError, ValueError):
            raise ValueError(
                f"area {area_id}: population must be a number or None, got {population!r}"
            ) from None
        category = area.get("category")
        out.append(
            _Usable(
                id=area_id,
                geometry=geom,
                category=category.strip().lower() if isinstance(category, str) else None,
                population=pop if math.isfinite(pop) and pop > 0 else None,
            )
        )
    if not out:
        raise ValueError("areas must contain at least one area with a geometry")
    return out


def _area_rng(seed: int, stream: int, area_id: int) -> np.random.Generator:
    """The generator of one area in one stream (0: incidents set-up, 2: population)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, area_id % (1 << 64))))


# --- sampling helpers -------------------------------------------------------------------


class _Choice:
    """One categorical draw per row from its group's distribution (inverse CDF).

    ``weights[g]`` is group ``g``'s distribution over ``L`` categories. The cumulative
    distributions, group ``g`` shifted by ``g`` into ``(g, g + 1]``, are stored in one flat
    array, so a single ``searchsorted`` serves every group. Zero weights are never drawn.
    """

    def __init__(self, weights: NDArray[np.float64]) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or np.any(w < 0) or np.any(w.sum(axis=1) <= 0):
            raise AssertionError("internal: bad categorical weights")
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        self.n_categories = w.shape[1]
        self.flat = (cdf + np.arange(w.shape[0], dtype=np.float64)[:, None]).ravel()
        self.last = (w.shape[1] - 1 - np.argmax(w[:, ::-1] > 0, axis=1)).astype(np.int64)

    def draw(self, group: NDArray[np.int64], u: NDArray[np.float64]) -> NDArray[np.int64]:
        pos = np.searchsorted(self.flat, group + u, side="right").astype(np.int64)
        pos -= group * self.n_categories
        # g + u can round up to g + 1 for u within 1e-13 of 1: stay in the group.
        return np.minimum(pos, self.last[group])


@dataclass(frozen=True, slots=True, eq=False)
class _Region:
    """Uniform points in ``parts`` outside ``exclude``, by rejection on each part's box."""

    parts: tuple[Any, ...]
    boxes: NDArray[np.float64]  # (p, 4)
    accept: NDArray[np.float64]  # (p,) expected acceptance rate per box
    share: NDArray[np.float64]  # (p,) share of the region's area per part
    exclude: Any | None

    @classmethod
    def of(cls, geometry: Any, exclude: Any | None = None) -> _Region:
        parts = [p for p in shapely.get_parts(geometry) if p.area > 0]
        areas = np.array(
            [p.area - (p.intersection(exclude).area if exclude is not None else 0.0) for p in parts]
        )
        boxes = np.array([p.bounds for p in parts], dtype=np.float64)
        box_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        areas = np.maximum(areas, 0.0)
        for p in parts:
            shapely.prepare(p)
        if exclude is not None:
            shapely.prepare(exclude)
        return cls(
            parts=tuple(parts),
            boxes=boxes,
            accept=np.clip(areas / box_area, 1e-4, 1.0),
            share=areas / areas.sum(),
            exclude=exclude,
        )

    def sample(self, rng: np.random.Generator, m: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        counts = rng.multinomial(m, self.share) if len(self.parts) > 1 else np.array([m])
        xs: list[NDArray[np.float64]] = []
        ys: list[NDArray[np.float64]] = []
        for part, box, accept, k in zip(self.parts, self.boxes, self.accept, counts, strict=True):
            need = int(k)
            while need > 0:
                draws = min(int(need / accept * 1.1) + 64, 4_000_000)
                x = rng.uniform(box[0], box[2], draws)
                y = rng.uniform(box[1], box[3], draws)
                ok = shapely.contains_xy(part, x, y)
                if self.exclude is not None:
                    ok &= ~shapely.contains_xy(self.exclude, x, y)
                keep = np.flatnonzero(ok)[:need]
                xs.append(x[keep])
                ys.append(y[keep])
                need -= keep.size
        if not xs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(xs), np.concatenate(ys)


# --- the model --------------------------------------------------------------------------


@dataclass(eq=False)
class _AreaModel:
    id: int
    inside: _Region
    ring: _Region
    anchor: tuple[float, float]  # a point inside, for the rare point that leaves Sweden's box


@dataclass(eq=False)
class _Model:
    """Everything that does not change between chunks, built once per run."""

    areas: list[_AreaModel]
    area_p: NDArray[np.float64]  # (A,)
    mix_p: NDArray[np.float64]  # (A, K) indicator shares per area
    place: _Choice  # indicator -> place kind
    days: _Choice  # area * K + indicator -> day
    hot: _Choice  # area * K + indicator -> hot spot (padded)
    hot_x: NDArray[np.float64]  # (A, max hot spots)
    hot_y: NDArray[np.float64]
    hot_sd: NDArray[np.float64]
    hours: _Choice  # indicator * 7 + weekday -> hour
    types: _Choice  # indicator -> type (padded)
    type_names: tuple[str, ...]  # K * max types, padded with ""
    repeat_share: NDArray[np.float64]  # (K,)
    lag_p: NDArray[np.float64]  # (13,) P(lag = 1..13 days)
    start_ns: int  # local midnight of the first day, as naive nanoseconds
    n_days: int
    weekday0: int  # weekday of the first day, Monday = 0

    @classmethod
    def build(cls, usable: list[_Usable], *, start: dt.date, stop: dt.date, seed: int) -> _Model:
        n_days = (stop - start).days
        dates = np.datetime64(start, "D") + np.arange(n_days)
        weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        hour_table = _hour_of_week()  # (K, 7, 24)
        day_base = _day_of_indicator(dates, weekday, hour_table)  # (K, D)
        t_years = (np.arange(n_days) + 0.5 - n_days / 2) / 365.25

        n_areas = len(usable)
        max_hot = _HOT_SPOTS[1]
        hot_x = np.zeros((n_areas, max_hot))
        hot_y = np.zeros((n_areas, max_hot))
        hot_sd = np.ones((n_areas, max_hot))
        hot_w = np.zeros((n_areas, _K, max_hot))
        log_trend = np.zeros(n_areas)
        day_w = np.empty((n_areas, _K, n_days))
        weights = np.empty(n_areas)
        models: list[_AreaModel] = []
        boost_codes = [(INDICATOR_CODES.index(code), lo, hi) for code, (lo, hi) in _EPISODE_BOOST.items()]
        for a, u in enumerate(usable):
            rng = _area_rng(seed, 0, u.id)
            inside = _Region.of(u.geometry)
            ring = _Region.of(u.geometry.buffer(_RING_WIDTH, quad_segs=4), exclude=u.geometry)
            k = int(rng.integers(_HOT_SPOTS[0], _HOT_SPOTS[1] + 1))
            hot_x[a, :k], hot_y[a, :k] = inside.sample(rng, k)
            hot_sd[a, :k] = rng.uniform(*_HOT_SD, size=k)
            # Hot spots shared by all indicators plus each indicator's own favourites.
            common = rng.dirichlet(np.full(k, 1.5))
            hot_w[a, :, :k] = 0.5 * common + 0.5 * rng.dirichlet(np.full(k, 0.7), size=_K)
            log_trend[a] = np.clip(rng.normal(0.0, _TREND_SD), *np.log(_TREND_RANGE))
            # Day-to-day noise and conflict episodes, then the indicator's own pattern.
            noise = rng.gamma(_DAY_NOISE_SHAPE, 1.0 / _DAY_NOISE_SHAPE, size=n_days)
            day_w[a] = day_base * noise
            rate = _EPISODES_PER_YEAR.get(u.category or "", 0.1) * n_days / 365.25
            for _ in range(int(rng.poisson(rate))):
                first = int(rng.integers(0, n_days))
                length = int(rng.integers(_EPISODE_DAYS[0], _EPISODE_DAYS[1] + 1))
                for ind, lo, hi in boost_codes:
                    day_w[a, ind, first : first + length] *= rng.uniform(lo, hi)
            exposure = (
                u.population if u.population is not None else u.geometry.area / 1e6 * _RESIDENTS_PER_KM2
            )
            weights[a] = CATEGORY_WEIGHT.get(u.category or "", 1.0) * exposure
            point = u.geometry.representative_point()
            models.append(_AreaModel(id=u.id, inside=inside, ring=ring, anchor=(point.x, point.y)))
        if n_areas >= 2:  # some areas clearly improve, some clearly worsen
            low, high = np.log(_TREND_EXTREMES)
            order = np.argsort(log_trend, kind="stable")
            log_trend[order[0]] = min(log_trend[order[0]], low)
            log_trend[order[-1]] = max(log_trend[order[-1]], high)
        day_w *= np.exp(log_trend[:, None] * t_years[None, :])[:, None, :]
        area_p = weights / weights.sum()

        type_w, type_names = _type_table()
        return cls(
            areas=models,
            area_p=area_p,
            mix_p=_calibrated_mix([u.category for u in usable], area_p),
            place=_Choice(np.array([_PLACE[c] for c in INDICATOR_CODES])),
            days=_Choice(day_w.reshape(n_areas * _K, n_days)),
            hot=_Choice(hot_w.reshape(n_areas * _K, max_hot)),
            hot_x=hot_x,
            hot_y=hot_y,
            hot_sd=hot_sd,
            hours=_Choice(hour_table.reshape(_K * 7, 24)),
            types=_Choice(type_w),
            type_names=type_names,
            repeat_share=np.array([_REPEAT_SHARE.get(code, 0.0) for code in INDICATOR_CODES]),
            lag_p=_lag_distribution(),
            start_ns=int(np.datetime64(start, "ns").astype(np.int64)),
            n_days=n_days,
            weekday0=int(weekday[0]),
        )


def _hour_of_week() -> NDArray[np.float64]:
    """Weights (K, 7 weekdays, 24 hours): hour profile times weekend factors."""
    weekday = np.arange(7)[:, None]
    hour = np.arange(24)[None, :]
    night = ((weekday == 4) & (hour >= 20)) | ((weekday == 5) & ((hour < 6) | (hour >= 20)))
    night |= (weekday == 6) & (hour < 6)
    day = (weekday >= 5) & (hour >= 6) & (hour < 20)
    table = np.empty((_K, 7, 24))
    for k, code in enumerate(INDICATOR_CODES):
        night_f, day_f = _WEEKEND[code]
        table[k] = np.asarray(_HOURS[code])[None, :] * np.where(night, night_f, np.where(day, day_f, 1.0))
    return table


def _day_of_indicator(
    dates: NDArray[np.datetime64], weekday: NDArray[np.int64], hour_table: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Relative rate per indicator and day (K, D): season x feasts x weekday."""
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    feasts = (
        (month == 4) & (day_of_month == 30),  # Valborgsmässoafton
        (month == 6) & (day_of_month >= 19) & (day_of_month <= 25) & (weekday == 4),  # midsommarafton
        (month == 12) & (day_of_month == 31),  # nyårsafton
        (month == 1) & (day_of_month == 1),  # nyårsdagen
    )
    per_weekday = hour_table.sum(axis=2)  # (K, 7)
    out = np.empty((_K, dates.size))
    for k, code in enumerate(INDICATOR_CODES):
        amplitude, peak = _SEASON[code]
        w = 1.0 + amplitude * np.cos(2 * np.pi * (day_of_year - peak) / 365.25)
        for mask, factor in zip(feasts, _FEASTS[code], strict=True):
            w[mask] *= factor
        out[k] = w * per_weekday[k, weekday]
    return out


def _calibrated_mix(categories: list[str | None], area_p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Indicator shares per area (A, K): category contrasts, national mix kept overall.

    Iterative proportional fitting: rows sum to 1 and the area-weighted mean of each
    column converges to the national share.
    """
    base = np.array([INDICATOR_MIX[c] for c in INDICATOR_CODES])
    base /= base.sum()
    mult = np.array(
        [[_CATEGORY_MIX.get(c or "", {}).get(code, 1.0) for code in INDICATOR_CODES] for c in categories]
    )
    p = base[None, :] * mult
    p /= p.sum(axis=1, keepdims=True)
    for _ in range(100):
        p *= (base / (area_p @ p))[None, :]
        p /= p.sum(axis=1, keepdims=True)
    return p


def _type_table() -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Type weights per indicator (K, T) padded with zeros, and the flat names (K * T,)."""
    width = max(len(v) for v in RAW_TYPES.values())
    weights = np.zeros((_K, width))
    names = [""] * (_K * width)
    for k, code in enumerate(INDICATOR_CODES):
        for j, (name, w) in enumerate(RAW_TYPES[code]):
            weights[k, j] = w
            names[k * width + j] = name
    return weights, tuple(names)


def _lag_distribution() -> NDArray[np.float64]:
    lags = np.arange(1, _REPEAT_MAX_LAG + 1)
    p = np.exp(-lags / _REPEAT_LAG_SCALE)
    return p / p.sum()


# --- chunks -----------------------------------------------------------------------------


def _chunks(model: _Model, n: int, chunk_size: int, seed: int, width: int) -> Iterator[pd.DataFrame]:
    for i, first in enumerate(range(0, n, chunk_size)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, i)))
        yield _chunk(model, rng, m=min(chunk_size, n - first), first=first, seed=seed, width=width)


def _chunk(
    model: _Model, rng: np.random.Generator, *, m: int, first: int, seed: int, width: int
) -> pd.DataFrame:
    counts = rng.multinomial(m, model.area_p)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    # Rows sorted by group = area * K + indicator, so that each lookup below stays within
    # one group's small slice of the tables (cache-friendly).
    per_group = rng.multinomial(counts, model.mix_p)  # (A, K)
    group = np.repeat(np.arange(per_group.size, dtype=np.int64), per_group.ravel())
    area, ind = np.divmod(group, _K)
    place = model.place.draw(ind, rng.random(m))
    day = model.days.draw(group, rng.random(m))

    # Where: hot spots for all areas at once, the rest per area.
    x = np.empty(m)
    y = np.empty(m)
    hot = np.flatnonzero(place == _HOT)
    spot = model.hot.draw(group[hot], rng.random(hot.size))
    sd = model.hot_sd[area[hot], spot]
    x[hot] = model.hot_x[area[hot], spot] + sd * rng.standard_normal(hot.size)
    y[hot] = model.hot_y[area[hot], spot] + sd * rng.standard_normal(hot.size)
    for a, spec in enumerate(model.areas):
        lo, hi = int(bounds[a]), int(bounds[a + 1])
        if lo == hi:
            continue
        kinds = place[lo:hi]
        inside = lo + np.flatnonzero(kinds == _INSIDE)
        town = lo + np.flatnonzero(kinds == _TOWN)
        ring = lo + np.flatnonzero(kinds == _RING)
        px, py = spec.inside.sample(rng, inside.size + town.size)
        x[inside], y[inside] = px[: inside.size], py[: inside.size]
        radius = _TOWN_RADIUS * np.sqrt(rng.random(town.size))
        angle = rng.uniform(0.0, 2 * np.pi, town.size)
        x[town] = px[inside.size :] + radius * np.cos(angle)
        y[town] = py[inside.size :] + radius * np.sin(angle)
        x[ring], y[ring] = spec.ring.sample(rng, ring.size)

    _near_repeats(model, rng, group=group, ind=ind, day=day, x=x, y=y)

    # When: the hour from the indicator's profile for that weekday, then a uniform second.
    weekday = (model.weekday0 + day) % 7
    hour = model.hours.draw(ind * 7 + weekday, rng.random(m))
    second = rng.integers(0, 3600, m)
    local = model.start_ns + day * _NS_PER_DAY + hour * _NS_PER_HOUR + second * _NS_PER_SECOND
    summer_time = rng.random(m) < 0.5  # which of the two 02:xx on the last Sunday of October
    kind = model.types.draw(ind, rng.random(m))

    xmin, ymin, xmax, ymax = SWEDEN_BOUNDS_SWEREF
    outside = np.flatnonzero(~((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)))
    if outside.size:  # only for areas at the edge of the box: move to a point of the area
        anchors = np.array([spec.anchor for spec in model.areas])
        x[outside], y[outside] = anchors[area[outside], 0], anchors[area[outside], 1]

    occurred = pd.DatetimeIndex(local.view("datetime64[ns]")).tz_localize(
        LOCAL_TIMEZONE, ambiguous=summer_time, nonexistent=pd.Timedelta(hours=1)
    )
    order = np.argsort(occurred.asi8, kind="stable")  # by UTC: local times repeat in October
    occurred = occurred[order]
    types = _strings(model.type_names, ind[order] * model.types.n_categories + kind[order])
    codes = _strings(INDICATOR_CODES, ind[order])
    ids = _ids(seed, first, m, width)
    return _frame(ids, occurred, types=types, codes=codes, x=x[order], y=y[order])


def _near_repeats(
    model: _Model,
    rng: np.random.Generator,
    *,
    group: NDArray[np.int64],
    ind: NDArray[np.int64],
    day: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> None:
    """Turn a share of the repeating indicators' events into repeats of a parent (in place).

    Rows must be sorted by ``group`` (area * K + indicator), as :func:`_chunk` makes them.

    The parent is a random non-repeat event of the same area and indicator; the repeat
    moves 20–200 m from it (closer more often) and 1–13 days after it (before it if that
    would pass the end), at its own hour of the indicator's profile for that weekday.
    """
    share = model.repeat_share[ind]
    eligible = share > 0
    repeat = rng.random(group.size) < share
    pool = np.flatnonzero(eligible & ~repeat)  # sorted by group, as the rows are
    pool_group = group[pool]
    children = np.flatnonzero(repeat)
    lo = np.searchsorted(pool_group, group[children], side="left")
    hi = np.searchsorted(pool_group, group[children], side="right")
    has = hi > lo
    children, lo, hi = children[has], lo[has], hi[has]
    pick = lo + np.minimum((rng.random(children.size) * (hi - lo)).astype(np.int64), hi - lo - 1)
    parent = pool[pick]
    lag = rng.choice(np.arange(1, _REPEAT_MAX_LAG + 1), size=children.size, p=model.lag_p)
    when = day[parent] + lag
    late = when >= model.n_days
    when[late] = day[parent][late] - lag[late]
    day[children] = np.clip(when, 0, model.n_days - 1)
    near, far = _REPEAT_DISTANCE
    distance = near + (far - near) * rng.random(children.size) ** 2
    angle = rng.uniform(0.0, 2 * np.pi, children.size)
    x[children] = x[parent] + distance * np.cos(angle)
    y[children] = y[parent] + distance * np.sin(angle)


def _ids(seed: int, first: int, m: int, width: int) -> pd.Series:
    numbers = pd.Series(np.arange(first, first + m, dtype=np.int64)).astype("str").str.zfill(width)
    return (f"syn-{seed}-" + numbers).astype("str")


def _strings(values: Sequence[str], index: NDArray[np.int64]) -> pd.Series:
    """``values[index]`` as a pandas string column, gathered by Arrow without Python objects."""
    taken = pc.take(pa.array(list(values), type=pa.string()), pa.array(index, type=pa.int64()))
    return pd.Series(taken.to_pandas(), dtype="str")


def _frame(
    ids: pd.Series,
    occurred: pd.DatetimeIndex,
    *,
    types: pd.Series,
    codes: pd.Series,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ids,
            "occurred_at": occurred,
            "type": types,
            "indicator": codes,
            "x": np.asarray(x, dtype=np.float64),
            "y": np.asarray(y, dtype=np.float64),
            "synthetic": np.ones(len(x), dtype=bool),
        },
        columns=list(COLUMNS),
    )


def _empty_frame() -> pd.DataFrame:
    none = np.zeros(0, dtype=np.int64)
    return _frame(
        _ids(0, 0, 0, 8),
        pd.DatetimeIndex(none.view("datetime64[ns]")).tz_localize(LOCAL_TIMEZONE),
        types=_strings(("",), none),
        codes=_strings(INDICATOR_CODES, none),
        x=np.zeros(0),
        y=np.zeros(0),
    )
