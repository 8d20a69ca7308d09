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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.analysis import indicators, periods
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES, LOCAL_TIMEZONE
from problembild.areas.models import Area
from problembild.areas.municipalities import MunicipalityIndex

from .load import IncidentArrays, incident_frame

#: Periods stored as indicator values (and counted per area).
PERIODS_STORED = ("week", "month", "quarter", "year")
#: Periods counted per municipality.
MUNICIPALITY_PERIODS = ("month", "quarter", "year")


@dataclass
class InArea:
    """The incidents inside an area: area id, indicator code and local time of each."""

    area: np.ndarray
    indicator: np.ndarray
    local: pd.DatetimeIndex


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
    """Count tables (``count_table`` frames) keyed by period."""

    area: dict[str, pd.DataFrame]
    municipality: dict[str, pd.DataFrame]
    inside: InArea | None  # dropped once the hours of the week are counted
    to_date: ToDate | None = None

    @property
    def monthly(self) -> pd.DataFrame:
        return self.area["month"]


#: How a derived per-incident column is had: ``column(name, key, compute)`` (see
#: :func:`~.snapshot.column`, which keeps it between runs), or computed on the spot.
ColumnSource = Callable[[str, str, Callable[[IncidentArrays], np.ndarray]], np.ndarray]


def count_incidents(
    data: IncidentArrays, areas: list[Area], as_of: pd.Timestamp, *, column: ColumnSource | None = None
) -> Counts:
    """Counts of every area (all of ``areas``, zeros included) and of their municipalities.

    Each incident's local time and municipality are derived columns: ``column`` keeps them
    between runs (a daily run converts and places only the new rows). The incidents are
    counted per key, indicator and local day once (:func:`~problembild.analysis.indicators.day_cube`),
    and every period's table is read off that cube.
    """

    def computed(name: str, key: str, compute: Callable[[IncidentArrays], np.ndarray]) -> np.ndarray:
        return compute(data)

    column = column or computed
    local_s = column("local", _zone_key(), lambda rows: periods.local_seconds(rows.t))
    day = local_s // 86_400
    inside = np.flatnonzero(data.area >= 0)
    # Only the columns the counts need, not a copy of every array.
    in_area = InArea(
        data.area[inside],
        data.indicator[inside],
        pd.DatetimeIndex(local_s[inside].astype("datetime64[s]")).as_unit("us"),
    )
    end = as_of.tz_localize(None)
    if len(in_area.local):
        start = in_area.local.min()
        # How late the first incident may come and the data still cover their first period.
        days = max((end - start) / pd.Timedelta(days=1), 1.0)
        slack = pd.Timedelta(days=3 * days / len(in_area.local))
    else:
        start, slack = (as_of - pd.DateOffset(years=1)).tz_localize(None), pd.Timedelta(0)
    spans = {p: complete_span(start, as_of, p, slack=slack) for p in PERIODS_STORED}
    first_day, n_days = (int(day.min()), int(day.max() - day.min()) + 1) if len(day) else (0, 1)

    # Areas: the register's and any other area an incident lies in, in id order.
    keys = np.array([a.pk for a in areas], dtype=np.int64)
    listed = np.union1d(keys, np.unique(in_area.area))
    area_cube = indicators.day_cube(
        np.searchsorted(listed, in_area.area),
        in_area.indicator,
        day[inside],
        n_keys=len(listed),
        first_day=first_day,
        n_days=n_days,
    )
    area_keys = pd.DataFrame({"area_id": pd.array(listed, dtype="Int64")})
    always = np.isin(listed, keys)
    area_counts = {
        p: _table(area_cube, area_keys, p, spans[p], first_day, always=always) for p in PERIODS_STORED
    }
    frame = incident_frame(in_area.area, in_area.indicator, in_area.local)
    to_date = month_to_date(frame, start - slack, as_of, pd.Index(keys, name="area_id"))
    del frame, area_cube

    index = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id})
    muni = column("municipality", index.key, lambda rows: index.positions_at(rows.x, rows.y).astype(np.int16))
    near = np.flatnonzero(muni < len(index))
    muni_cube = indicators.day_cube(
        muni[near], data.indicator[near], day[near], n_keys=len(index), first_day=first_day, n_days=n_days
    )
    del near, day
    # Categorical in the index's order (the register's name order), as the tables list them.
    muni_keys = pd.DataFrame(
        {"municipality": pd.Categorical.from_codes(np.arange(len(index)), categories=index.codes[:-1])}
    )
    muni_counts = {p: _table(muni_cube, muni_keys, p, spans[p], first_day) for p in MUNICIPALITY_PERIODS}
    return Counts(area=area_counts, municipality=muni_counts, inside=in_area, to_date=to_date)


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
    end = as_of.tz_localize(None)
    start = periods.period_start(end, "month")
    if end == start:
        return None
    length = end - start
    before = start - pd.DateOffset(months=1)
    year_before = start - pd.DateOffset(years=1)
    windows: dict[str, tuple[pd.Timestamp, pd.Timestamp] | None] = {
        "current": (start, end),
        "previous": (before, min(before + length, start)) if covered_from <= before else None,
        "last_year": (year_before, year_before + length) if covered_from <= year_before else None,
    }
    index = pd.MultiIndex.from_product([keys, [*INDICATOR_CODES, ALL]], names=["area_id", "indicator"])
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
