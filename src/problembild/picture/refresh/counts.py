"""Stage *counts*: incidents per area and per municipality, indicator and complete period.

Only exact matches (incidents inside a boundary) count in an area; the municipality
totals, for the areas' shares and the "rest of the municipality", count every placed
incident around the areas. Local time is converted once for all periods.

Only **complete** periods are counted: a period ends at or before the end of the data
(``as_of``) and starts at or after the day the data begin. A half-month at either end
would otherwise be compared with whole months, and marked as a fall it is not. When
the data end inside a month, that month so far is counted apart (:class:`ToDate`) and
set only beside the same days of the month before and of the month a year before.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.analysis import indicators, periods
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES, LOCAL_TIMEZONE
from problembild.areas.models import Area
from problembild.areas.municipalities import MunicipalityIndex

from .load import ColumnSource, IncidentArrays, PartSource, incident_frame

#: Periods stored as indicator values (and counted per area).
PERIODS_STORED = ("week", "month", "quarter", "year")
#: Periods counted per municipality.
MUNICIPALITY_PERIODS = ("month", "quarter", "year")


@dataclass
class ToDate:
    """The current month so far, when the data end inside it, and the same days before.

    Times are naive local; every window is [start, end). A comparison window is None when
    the data do not cover it. ``table`` is indexed by (area_id, indicator, ``all``
    included) with the columns ``current``, ``previous`` and ``last_year`` (NA where the
    window is None).
    """

    current: tuple[pd.Timestamp, pd.Timestamp]
    previous: tuple[pd.Timestamp, pd.Timestamp] | None
    last_year: tuple[pd.Timestamp, pd.Timestamp] | None
    table: pd.DataFrame


@dataclass
class Counts:
    """Count tables (``count_table`` frames) keyed by period, and the hours of the week."""

    area: dict[str, pd.DataFrame]
    municipality: dict[str, pd.DataFrame]
    #: Area id -> incidents inside it per indicator and hour of the week, shape
    #: ``(len(INDICATOR_CODES), 168)`` (Monday 00 first); every area of the register.
    hours: dict[int, np.ndarray]
    to_date: ToDate | None = None

    @property
    def monthly(self) -> pd.DataFrame:
        return self.area["month"]


#: Bumped when :func:`segment_cubes` counts differently: kept cubes of another version are not read.
CUBES_VERSION = 1
_HOURS = 7 * 24


def count_incidents(
    data: IncidentArrays,
    areas: list[Area],
    as_of: pd.Timestamp,
    *,
    column: ColumnSource | None = None,
    parts: PartSource | None = None,
) -> Counts:
    """Counts of every area (all of ``areas``, zeros included) and of their municipalities.

    The incidents are counted once per key, indicator and local day, and per area,
    indicator and hour of the week (:func:`segment_cubes`); every period's table, the
    month so far and the hours of the week are read off those cubes. Cubes add, so
    ``parts`` keeps one per kept segment and a daily run counts its new rows only.
    ``column`` keeps the incidents' local times, which the month so far needs when the
    data end inside a day.
    """
    index = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id})

    def compute(rows: IncidentArrays) -> dict[str, np.ndarray]:
        return segment_cubes(rows, index)

    key = f"{CUBES_VERSION} {_zone_key()} {index.key} {list(INDICATOR_CODES)}"
    cubes = add_cubes(parts("cubes", key, compute) if parts else [compute(data)], n_muni=len(index))

    end = as_of.tz_localize(None)
    n_inside = int(cubes["inside"])
    if n_inside:
        start = pd.Timestamp(int(cubes["first_local"]), unit="s")
        # How late the first incident may come and the data still cover their first period.
        days = max((end - start) / pd.Timedelta(days=1), 1.0)
        slack = pd.Timedelta(days=3 * days / n_inside)
    else:
        start, slack = (as_of - pd.DateOffset(years=1)).tz_localize(None), pd.Timedelta(0)
    spans = {p: complete_span(start, as_of, p, slack=slack) for p in PERIODS_STORED}
    first_day = int(cubes["first_day"])

    # Areas: the register's and any other area an incident lies in, in id order.
    keys = np.array([a.pk for a in areas], dtype=np.int64)
    found = cubes["area_ids"]
    listed = np.union1d(keys, found)
    area_cube = np.zeros((len(listed), *cubes["area_days"].shape[1:]), dtype=np.int64)
    area_cube[np.searchsorted(listed, found)] = cubes["area_days"]
    area_keys = pd.DataFrame({"area_id": pd.array(listed, dtype="Int64")})
    always = np.isin(listed, keys)
    area_counts = {
        p: _table(area_cube, area_keys, p, spans[p], first_day, always=always) for p in PERIODS_STORED
    }
    to_date = _to_date(area_cube, listed, keys, first_day, start - slack, as_of, data, column)
    del area_cube

    # Categorical in the index's order (the register's name order), as the tables list them.
    muni_keys = pd.DataFrame(
        {"municipality": pd.Categorical.from_codes(np.arange(len(index)), categories=index.codes[:-1])}
    )
    muni_counts = {
        p: _table(cubes["muni_days"], muni_keys, p, spans[p], first_day) for p in MUNICIPALITY_PERIODS
    }
    at = {int(a): i for i, a in enumerate(found)}
    none = np.zeros((len(INDICATOR_CODES), _HOURS), dtype=np.int64)
    hours = {int(pk): cubes["hours"][at[pk]] if pk in at else none for pk in keys}
    return Counts(area=area_counts, municipality=muni_counts, hours=hours, to_date=to_date)


def segment_cubes(rows: IncidentArrays, index: MunicipalityIndex) -> dict[str, np.ndarray]:
    """What the counts need of ``rows``, as arrays that add up over sets of rows (:func:`add_cubes`).

    * ``area_ids``: the areas with an incident inside (sorted), the rows of the two area cubes;
    * ``area_days``: incidents inside per area, indicator and local day from ``first_day``
      (:func:`~problembild.analysis.indicators.day_cube`);
    * ``muni_days``: placed incidents per municipality (``index`` positions), indicator and day;
    * ``hours``: incidents inside per area, indicator and hour of the week (Monday 00 first);
    * ``inside`` and ``first_local``: how many incidents are inside an area, and the local
      time (seconds) of the earliest.
    """
    n_vocab = len(INDICATOR_CODES)
    local_s = periods.local_seconds(rows.t)
    day = local_s // 86_400
    first_day, n_days = (int(day.min()), int(day.max() - day.min()) + 1) if len(day) else (0, 0)
    inside = np.flatnonzero(rows.area >= 0)
    area_ids, key_index = np.unique(rows.area[inside], return_inverse=True)
    indicator = rows.indicator[inside].astype(np.int64)
    area_days = indicators.day_cube(
        key_index, indicator, day[inside], n_keys=len(area_ids), first_day=first_day, n_days=n_days
    )
    # 1970-01-01 was a Thursday: weekday (Monday 0) is (day + 3) % 7, in local wall-clock time.
    cell = ((day[inside] + 3) % 7) * 24 + (local_s[inside] % 86_400) // 3_600
    hours = np.bincount(
        (key_index * n_vocab + indicator) * _HOURS + cell, minlength=len(area_ids) * n_vocab * _HOURS
    ).reshape(len(area_ids), n_vocab, _HOURS)
    muni = index.positions_at(rows.x, rows.y)
    near = np.flatnonzero(muni < len(index))
    muni_days = indicators.day_cube(
        muni[near], rows.indicator[near], day[near], n_keys=len(index), first_day=first_day, n_days=n_days
    )
    return {
        "area_ids": area_ids.astype(np.int64),
        "first_day": np.array(first_day),
        "area_days": area_days,
        "muni_days": muni_days,
        "hours": hours,
        "inside": np.array(len(inside)),
        "first_local": np.array(int(local_s[inside].min()) if len(inside) else np.iinfo(np.int64).max),
    }


def add_cubes(parts: list[dict[str, np.ndarray]], *, n_muni: int) -> dict[str, np.ndarray]:
    """The :func:`segment_cubes` of the union of the parts' rows (at least one day wide)."""
    n_vocab = len(INDICATOR_CODES)
    spans = [(int(p["first_day"]), int(p["area_days"].shape[2])) for p in parts]
    spans = [(f, n) for f, n in spans if n] or [(0, 1)]
    first = min(f for f, _ in spans)
    n_days = max(f + n for f, n in spans) - first
    area_ids = np.unique(np.concatenate([np.asarray(p["area_ids"], dtype=np.int64) for p in parts]))
    area_days = np.zeros((len(area_ids), n_vocab, n_days), dtype=np.int64)
    muni_days = np.zeros((n_muni, n_vocab, n_days), dtype=np.int64)
    hours = np.zeros((len(area_ids), n_vocab, _HOURS), dtype=np.int64)
    for p in parts:
        n = int(p["area_days"].shape[2])
        if not n:
            continue
        rows = np.searchsorted(area_ids, p["area_ids"])
        at = int(p["first_day"]) - first
        area_days[rows, :, at : at + n] += p["area_days"]
        muni_days[:, :, at : at + n] += p["muni_days"]
        hours[rows] += p["hours"]
    return {
        "area_ids": area_ids,
        "first_day": np.array(first),
        "area_days": area_days,
        "muni_days": muni_days,
        "hours": hours,
        "inside": np.array(sum(int(p["inside"]) for p in parts)),
        "first_local": np.array(min(int(p["first_local"]) for p in parts)),
    }


def _zone_key() -> str:
    """The time zone and the version of its rules: kept local times are valid under the same."""
    version = ""
    try:
        import tzdata  # type: ignore[import-not-found]

        version = str(tzdata.IANA_VERSION)
    except ImportError:
        with contextlib.suppress(OSError):
            version = Path("/usr/share/zoneinfo/tzdata.zi").read_text(encoding="utf-8").split("\n", 1)[0]
    return f"{LOCAL_TIMEZONE} {version} {pd.__version__}"


def to_date_windows(
    covered_from: pd.Timestamp, as_of: pd.Timestamp
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp] | None] | None:
    """The windows of :class:`ToDate` (``current``, ``previous``, ``last_year``), or None
    when the data end on a month's first day. See :func:`month_to_date`."""
    end = as_of.tz_localize(None)
    start = periods.period_start(end, "month")
    if end == start:
        return None
    length = end - start
    before = start - pd.DateOffset(months=1)
    year_before = start - pd.DateOffset(years=1)
    return {
        "current": (start, end),
        "previous": (before, min(before + length, start)) if covered_from <= before else None,
        "last_year": (year_before, year_before + length) if covered_from <= year_before else None,
    }


def _to_date_index(keys: pd.Index) -> pd.MultiIndex:
    return pd.MultiIndex.from_product([keys, [*INDICATOR_CODES, ALL]], names=["area_id", "indicator"])


def month_to_date(
    frame: pd.DataFrame, covered_from: pd.Timestamp, as_of: pd.Timestamp, keys: pd.Index
) -> ToDate | None:
    """Counts of the month so far and of the same days a month and a year before.

    ``frame`` holds ``area_id``, ``indicator`` and ``occurred_at`` (naive local);
    ``covered_from`` is where the data begin (a window before it is not compared);
    ``as_of`` (aware) the end of the data. None when the data end on a month's first day.
    The window a month before is as many days long, cut at the month's end (15 days of
    March against 1–15 February; 30 days of March against the 28 of February).
    """
    windows = to_date_windows(covered_from, as_of)
    if windows is None:
        return None
    index = _to_date_index(keys)
    table = pd.DataFrame(index=index)
    for name, window in windows.items():
        if window is None:
            table[name] = pd.array([pd.NA] * len(index), dtype="Int64")
            continue
        inside = frame[(frame["occurred_at"] >= window[0]) & (frame["occurred_at"] < window[1])]
        codes = inside["indicator"].astype(str).rename("indicator")
        by_code = inside.groupby([inside["area_id"], codes]).size()
        total = inside.groupby("area_id").size()
        total.index = pd.MultiIndex.from_arrays([total.index, [ALL] * len(total)], names=index.names)
        counted = pd.concat([by_code, total])
        table[name] = counted.reindex(index, fill_value=0).astype("Int64").to_numpy()
    return ToDate(windows["current"], windows["previous"], windows["last_year"], table)  # type: ignore[arg-type]


def month_to_date_from_cube(
    cube: np.ndarray,
    listed: np.ndarray,
    first_day: int,
    covered_from: pd.Timestamp,
    as_of: pd.Timestamp,
    keys: pd.Index,
) -> ToDate | None:
    """:func:`month_to_date` read off an area day cube (rows ``listed``, days from ``first_day``).

    Only for windows of whole local days, that is, when ``as_of`` is a local midnight (the
    end of the data is the day after the last incident); equal to :func:`month_to_date` of
    the same incidents then (tested).
    """
    windows = to_date_windows(covered_from, as_of)
    if windows is None:
        return None
    index = _to_date_index(keys)
    wanted = keys.to_numpy()
    known = np.isin(wanted, listed)  # a key without a row in the cube counts nothing
    rows = np.searchsorted(listed, wanted[known])
    table = pd.DataFrame(index=index)
    epoch = pd.Timestamp(0)
    for name, window in windows.items():
        if window is None:
            table[name] = pd.array([pd.NA] * len(index), dtype="Int64")
            continue
        lo, hi = ((w - epoch) // pd.Timedelta(days=1) - first_day for w in window)
        lo, hi = min(max(lo, 0), cube.shape[2]), min(max(hi, 0), cube.shape[2])
        by_code = np.zeros((len(wanted), cube.shape[1]), dtype=np.int64)
        by_code[known] = cube[rows, :, lo:hi].sum(axis=2)
        counted = np.concatenate([by_code, by_code.sum(axis=1, keepdims=True)], axis=1)
        table[name] = counted.ravel()
    return ToDate(windows["current"], windows["previous"], windows["last_year"], table)  # type: ignore[arg-type]


def _to_date(
    cube: np.ndarray,
    listed: np.ndarray,
    keys: np.ndarray,
    first_day: int,
    covered_from: pd.Timestamp,
    as_of: pd.Timestamp,
    data: IncidentArrays,
    column: ColumnSource | None,
) -> ToDate | None:
    """The month so far: off the day cube, or from the incidents when the data end inside a day."""
    index = pd.Index(keys, name="area_id")
    end = as_of.tz_localize(None)
    if end == end.normalize():
        return month_to_date_from_cube(cube, listed, first_day, covered_from, as_of, index)
    key = _zone_key()
    local = (
        column("local", key, lambda rows: periods.local_seconds(rows.t))
        if column
        else periods.local_seconds(data.t)
    )
    inside = np.flatnonzero(data.area >= 0)
    times = pd.DatetimeIndex(local[inside].astype("datetime64[s]")).as_unit("us")
    frame = incident_frame(data.area[inside], data.indicator[inside], times)
    return month_to_date(frame, covered_from, as_of, index)


def complete_span(
    start: pd.Timestamp, as_of: pd.Timestamp, period: str, *, slack: pd.Timedelta | None = None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last instant (naive local time) of the complete periods of the data, or None.

    ``start`` is the first incident (local, naive). The period containing it counts when
    the incident comes within ``slack`` of the period's start: the refresh allows three
    mean gaps between incidents, so data that begin on the 1st with a quiet first day still
    have their first month, while a feed that begins on the 26th does not. ``as_of``
    (aware) is the end of the data, exclusive: the period containing it counts only if it
    ends there, that is, if ``as_of`` is a period start.
    """
    first = periods.period_start(pd.Timestamp(start), period)
    if pd.Timestamp(start) - first > (
        slack if slack is not None else pd.Timedelta(0)
    ):  # the data begin inside this period: begin with the next one
        first = first + pd.Timedelta(days=float(periods.period_days([first], period)[0]))
    end = periods.period_start(as_of.tz_localize(None), period)  # the end of the last complete period
    if end <= first:
        return None
    return first, end - pd.Timedelta(seconds=1)


def _table(
    cube: np.ndarray,
    keys: pd.DataFrame,
    period: str,
    span: tuple[pd.Timestamp, pd.Timestamp] | None,
    first_day: int,
    *,
    always: np.ndarray | None = None,
) -> pd.DataFrame:
    """``count_table`` over the complete periods (an empty table when there is none)."""
    (by,) = keys.columns
    if span is None:
        return _empty(by)
    first, last = span
    table = indicators.day_cube_table(
        cube, keys, first_day=first_day, period=period, first=first, last=last, always=always
    )
    if isinstance(table[by].dtype, pd.CategoricalDtype):  # the municipality codes, as stored
        table[by] = table[by].astype(str)
    return table


def _empty(by: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            by: pd.Series(dtype="int64" if by == "area_id" else object),
            "indicator": pd.Categorical([], categories=list(INDICATOR_CODES)),
            "period_start": pd.Series(dtype="datetime64[us]"),
            "count": pd.Series(dtype="int64"),
        }
    )
