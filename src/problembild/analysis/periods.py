"""Calendar periods (ISO week, month, quarter, year) in Swedish local time.

Incident times arrive tz-aware (Europe/Stockholm or UTC) from the database; a
period is a *local* calendar notion (a shooting at 23:30 UTC on 31 December is a
New Year's Day event in Stockholm), so every function here first converts to
wall-clock time in :data:`~problembild.analysis.vocabulary.LOCAL_TIMEZONE`
(Europe/Stockholm) and drops the zone. Naive input is taken to be local time already.

A period is identified by its start: a naive local midnight, ``datetime64[us]``
(Monday for ISO weeks, the 1st for months, 1 January/April/July/October for
quarters, 1 January for years). Labels are ``"2024-W03"``, ``"2024-01"``,
``"2024-Q1"`` and ``"2024"``; ISO weeks carry the ISO *week-numbering* year, so
Monday 2024-12-30 is ``"2025-W01"``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .vocabulary import LOCAL_TIMEZONE

__all__ = [
    "PERIODS",
    "complete_periods",
    "local_seconds",
    "parse_period",
    "period_days",
    "period_label",
    "period_start",
    "previous",
    "same_last_year",
    "to_local",
]

#: Supported period lengths, shortest first.
PERIODS: Final[tuple[str, ...]] = ("week", "month", "quarter", "year")

_UNIT: Final = "us"
_NAT_INT: Final = np.iinfo(np.int64).min
_MONTHS_PER: Final[dict[str, int]] = {"month": 1, "quarter": 3, "year": 12}
_LABEL_RE: Final = re.compile(r"^(\d{4})(?:-(?:W(\d{2})|Q(\d)|(\d{2})))?$", re.IGNORECASE | re.ASCII)
_LABEL_HELP: Final = (
    "expected 'YYYY', 'YYYY-Qn', 'YYYY-MM' or 'YYYY-Www' (e.g. '2024', '2024-Q1', '2024-01', '2024-W03')"
)
_DATETIME_KINDS: Final = frozenset({"datetime64", "datetime", "date", "string", "empty"})

Scalar = pd.Timestamp | dt.datetime | dt.date | np.datetime64 | str


def check_period(period: Any, name: str = "period") -> str:
    """Return ``period`` if it is one of :data:`PERIODS`, else raise ``ValueError`` naming ``name``."""
    if not isinstance(period, str) or period not in PERIODS:
        raise ValueError(f"{name} must be one of {PERIODS}, got {period!r}")
    return period


def _is_scalar(values: Any) -> bool:
    return isinstance(values, str | dt.date | np.datetime64) or values is None or values is pd.NaT


def to_local(values: Any, name: str = "timestamps") -> pd.DatetimeIndex:
    """Convert timestamps to naive Europe/Stockholm wall-clock time.

    Parameters
    ----------
    values : datetime-like scalar or array-like
        tz-aware values (any zone, e.g. UTC) are converted to Europe/Stockholm and
        the zone dropped; naive values are taken as local time unchanged. Datetime
        objects may carry different UTC offsets (winter and summer time). Missing
        values stay ``NaT``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    pandas.DatetimeIndex
        Naive local times, ``datetime64[us]``.

    Raises
    ------
    ValueError
        If ``values`` is numeric, unparsable, or mixes naive and tz-aware values.
    """
    if _is_scalar(values):
        values = [values]
    if isinstance(values, pd.DatetimeIndex):
        idx = values
    elif isinstance(values, pd.Series) and pd.api.types.is_datetime64_any_dtype(values.dtype):
        idx = pd.DatetimeIndex(values)
    else:
        arr = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.dtype.kind == "M" or arr.size == 0:
            idx = pd.DatetimeIndex(arr.astype(f"datetime64[{_UNIT}]") if arr.size == 0 else arr)
        else:
            kind = pd.api.types.infer_dtype(arr, skipna=True)
            if kind not in _DATETIME_KINDS:
                raise ValueError(f"{name} must be datetimes, got values of kind {kind!r}")
            idx = _parse_objects(arr, name)
    if idx.tz is not None:
        idx = idx.tz_convert(LOCAL_TIMEZONE).tz_localize(None)
    return idx.as_unit(_UNIT)


def local_seconds(utc_seconds: ArrayLike) -> NDArray[np.int64]:
    """Europe/Stockholm wall-clock time of UTC epoch seconds, as seconds since local 1970-01-01.

    ``local_seconds(t) // 86400`` is each time's local day and ``% 86400`` its second of
    that day; ``.astype("datetime64[s]")`` gives the naive local times :func:`to_local`
    gives. Integers are cheap to keep and to extend: the refresh keeps them beside the
    incident columns, so that ten million times are converted once, not on every run.
    """
    t = np.asarray(utc_seconds, dtype=np.int64)
    local = pd.DatetimeIndex(t.astype("datetime64[s]")).tz_localize("UTC").tz_convert(LOCAL_TIMEZONE)
    return np.asarray(local.tz_localize(None).as_unit("s").asi8, dtype=np.int64)


def _parse_objects(arr: NDArray[Any], name: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(pd.to_datetime(arr))
    except (TypeError, ValueError) as exc:
        first_error = exc
    # Mixed UTC offsets (winter and summer time, or several zones) need an explicit
    # per-value conversion; pandas would otherwise read naive values as UTC.
    stamps = []
    for value in arr:
        try:
            stamps.append(pd.Timestamp(value))
        except (TypeError, ValueError):
            raise ValueError(f"{name} contains an unparsable value {value!r}: {first_error}") from None
    aware = {ts.tz is not None for ts in stamps if ts is not pd.NaT}
    if aware == {True, False}:
        raise ValueError(f"{name} mixes naive and tz-aware values; localise them first")
    return pd.DatetimeIndex(
        [pd.NaT if ts is pd.NaT else ts.tz_convert(LOCAL_TIMEZONE).tz_localize(None) for ts in stamps]
    )


def _wrap(values: NDArray[np.datetime64], original: Any) -> Any:
    idx = pd.DatetimeIndex(values).as_unit(_UNIT)
    if _is_scalar(original):
        return idx[0]
    if isinstance(original, pd.Series):
        return pd.Series(idx, index=original.index, name=original.name)
    return idx


def _start_values(local: pd.DatetimeIndex, period: str) -> NDArray[np.datetime64]:
    values = local.to_numpy()
    unit, count = np.datetime_data(values.dtype)
    per_day = _PER_DAY.get(unit, 0) * count
    if per_day == 0 or values.size < _TABLE_FROM:
        return _day_starts(values.astype("datetime64[D]"), period)
    # Millions of times span a few thousand days: each day's period start is computed
    # once, and the times look theirs up (numpy's calendar conversions cost ~0.1 µs
    # per value, the lookup a tenth of that).
    ints = values.view(np.int64)
    nat = ints == _NAT_INT
    days = ints // per_day  # floor: times before 1970 fall on their own day
    if nat.any():
        days[nat] = 0 if nat.all() else days[~nat].min()
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > values.size:  # sparse over a long span: the table would be the bigger job
        return _day_starts(values.astype("datetime64[D]"), period)
    table = _day_starts(np.arange(lo, hi + 1).astype("datetime64[D]"), period)
    out = table[days - lo]
    out[nat] = np.datetime64("NaT", _UNIT)
    return out


def _day_starts(days: NDArray[np.datetime64], period: str) -> NDArray[np.datetime64]:
    """The start of the period of each day (``datetime64[D]``, NaT allowed), in :data:`_UNIT`."""
    if period == "week":
        dint = days.astype(np.int64)
        nat = dint == _NAT_INT
        # Day 0 (1970-01-01) was a Thursday, so (d + 3) % 7 is 0 on Mondays.
        monday = np.where(nat, _NAT_INT, dint - (dint + 3) % 7)
        return monday.astype("datetime64[D]").astype(f"datetime64[{_UNIT}]")
    months = days.astype("datetime64[M]").astype(np.int64)
    nat = months == _NAT_INT
    # Month 0 is January 1970, so month % step is the offset into the quarter/year.
    step = _MONTHS_PER[period]
    start = np.where(nat, _NAT_INT, months - months % step)
    return start.astype("datetime64[M]").astype(f"datetime64[{_UNIT}]")


#: Ticks per day of the datetime64 units a time may come in; others are converted directly.
_PER_DAY: Final[dict[str, int]] = {
    "D": 1,
    "h": 24,
    "m": 1440,
    "s": 86_400,
    "ms": 86_400_000,
    "us": 86_400_000_000,
    "ns": 86_400_000_000_000,
}
#: Times from which the per-day table pays.
_TABLE_FROM: Final = 10_000


@overload
def period_start(ts: Scalar, period: str) -> pd.Timestamp: ...
@overload
def period_start(ts: pd.Series, period: str) -> pd.Series: ...
@overload
def period_start(ts: Any, period: str) -> pd.DatetimeIndex: ...
def period_start(ts: Any, period: str) -> Any:
    """Start of the period containing each timestamp.

    Parameters
    ----------
    ts : datetime-like scalar, Series or array-like
        Timestamps; tz-aware values are converted to Europe/Stockholm first,
        naive ones are taken as local time (see :func:`to_local`).
    period : {"week", "month", "quarter", "year"}
        ISO weeks start on Monday; months, quarters and years are calendar ones.

    Returns
    -------
    pandas.Timestamp, pandas.Series or pandas.DatetimeIndex
        Naive local midnight(s), ``datetime64[us]``: a Timestamp for scalar input,
        a Series with the same index for a Series, else a DatetimeIndex.
        ``NaT`` stays ``NaT``.
    """
    check_period(period)
    return _wrap(_start_values(to_local(ts, "ts"), period), ts)


def _iso_week_one(years: NDArray[np.int64]) -> NDArray[np.int64]:
    """Day number (days since 1970-01-01) of the Monday of ISO week 1 of each year."""
    jan4 = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + 3
    return jan4 - (jan4 + 3) % 7


def _iso_weeks_in(years: NDArray[np.int64]) -> NDArray[np.int64]:
    """Number of ISO weeks (52 or 53) in each ISO year; 28 December is always in the last."""
    dec28 = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 4
    return (dec28 - _iso_week_one(years)) // 7 + 1


def _iso_year_week(starts: NDArray[np.datetime64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """ISO (year, week) of valid (non-NaT) Mondays given as datetime64."""
    days = starts.astype("datetime64[D]").astype(np.int64)
    # The Thursday of an ISO week lies in its ISO year.
    thursday = days + 3
    years = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    weeks = (days - _iso_week_one(years)) // 7 + 1
    return years, weeks


@overload
def period_label(start: Scalar, period: str) -> str: ...
@overload
def period_label(start: pd.Series, period: str) -> pd.Series: ...
@overload
def period_label(start: Any, period: str) -> pd.Index: ...
def period_label(start: Any, period: str) -> Any:
    """Human- and URL-friendly label of the period containing ``start``.

    Parameters
    ----------
    start : datetime-like scalar, Series or array-like
        Any time inside the period (usually its start); converted as in :func:`to_local`.
    period : {"week", "month", "quarter", "year"}

    Returns
    -------
    str, pandas.Series or pandas.Index
        ``"2024-W03"`` (ISO year and week), ``"2024-01"``, ``"2024-Q1"`` or ``"2024"``;
        a str for scalar input (``""`` for NaT), a Series of str for a Series, else an
        Index of str. Missing times give missing labels.
    """
    check_period(period)
    starts = _start_values(to_local(start, "start"), period)
    valid = ~np.isnat(starts)
    # Tables repeat a few hundred periods over many keys: format each period once.
    good, inverse = np.unique(starts[valid], return_inverse=True)
    if period == "week":
        years, weeks = _iso_year_week(good)
        texts = [f"{y:04d}-W{w:02d}" for y, w in zip(years, weeks, strict=True)]
    else:
        months = good.astype("datetime64[M]").astype(np.int64)
        years = months // 12 + 1970
        month = months % 12 + 1
        if period == "month":
            texts = [f"{y:04d}-{m:02d}" for y, m in zip(years, month, strict=True)]
        elif period == "quarter":
            texts = [f"{y:04d}-Q{(m - 1) // 3 + 1}" for y, m in zip(years, month, strict=True)]
        else:
            texts = [f"{y:04d}" for y in years]
    labels = np.full(starts.shape, None, dtype=object)
    labels[valid] = np.array(texts, dtype=object)[inverse] if len(texts) else []
    if _is_scalar(start):
        return "" if labels[0] is None else str(labels[0])
    if isinstance(start, pd.Series):
        return pd.Series(labels, index=start.index, name=start.name, dtype="str")
    return pd.Index(labels, dtype="str")


def _shift(starts: NDArray[np.datetime64], period: str, count: int) -> NDArray[np.datetime64]:
    if period == "week":
        return starts + np.timedelta64(7 * count, "D")
    months = starts.astype("datetime64[M]") + np.timedelta64(count * _MONTHS_PER[period], "M")
    return months.astype(f"datetime64[{_UNIT}]")


@overload
def previous(start: Scalar, period: str) -> pd.Timestamp: ...
@overload
def previous(start: pd.Series, period: str) -> pd.Series: ...
@overload
def previous(start: Any, period: str) -> pd.DatetimeIndex: ...
def previous(start: Any, period: str) -> Any:
    """Start of the period before the one containing ``start``.

    Parameters
    ----------
    start : datetime-like scalar, Series or array-like
        Any time inside the period; converted as in :func:`to_local`.
    period : {"week", "month", "quarter", "year"}

    Returns
    -------
    pandas.Timestamp, pandas.Series or pandas.DatetimeIndex
        Shaped like :func:`period_start`'s result.
    """
    check_period(period)
    starts = _start_values(to_local(start, "start"), period)
    return _wrap(_shift(starts, period, -1), start)


@overload
def same_last_year(start: Scalar, period: str) -> pd.Timestamp: ...
@overload
def same_last_year(start: pd.Series, period: str) -> pd.Series: ...
@overload
def same_last_year(start: Any, period: str) -> pd.DatetimeIndex: ...
def same_last_year(start: Any, period: str) -> Any:
    """Start of the same period one year earlier.

    Months, quarters and years move back 12 months. An ISO week moves to the week
    with the same number in the previous ISO year (``2021-W05`` -> ``2020-W05``), so
    the comparison lines up by label and weekday. Week 53 has no counterpart in a
    52-week year and is compared with that year's week 52 (which is then also the
    counterpart of week 52).

    Parameters
    ----------
    start : datetime-like scalar, Series or array-like
        Any time inside the period; converted as in :func:`to_local`.
    period : {"week", "month", "quarter", "year"}

    Returns
    -------
    pandas.Timestamp, pandas.Series or pandas.DatetimeIndex
        Shaped like :func:`period_start`'s result.
    """
    check_period(period)
    starts = _start_values(to_local(start, "start"), period)
    if period != "week":
        return _wrap(_shift(starts, period, -12 // _MONTHS_PER[period]), start)
    out = np.full(starts.shape, np.datetime64("NaT", _UNIT))
    valid = ~np.isnat(starts)
    years, weeks = _iso_year_week(starts[valid])
    weeks = np.minimum(weeks, _iso_weeks_in(years - 1))
    days = _iso_week_one(years - 1) + 7 * (weeks - 1)
    out[valid] = days.astype("datetime64[D]").astype(f"datetime64[{_UNIT}]")
    return _wrap(out, start)


def period_days(start: Any, period: str) -> NDArray[np.float64]:
    """Length in days of the period containing each ``start`` (NaN for NaT).

    Used as the exposure when comparing counts of periods of unequal length
    (28-31-day months, 365/366-day years).
    """
    check_period(period)
    starts = _start_values(to_local(start, "start"), period)
    ends = _shift(starts, period, 1)
    days = (ends - starts) / np.timedelta64(1, "D")
    return np.asarray(days, dtype=np.float64)


def parse_period(label: Any) -> tuple[str, pd.Timestamp]:
    """Parse a period label (as in URLs) into ``(period, start)``.

    Parameters
    ----------
    label : str
        ``"YYYY"``, ``"YYYY-Qn"``, ``"YYYY-MM"`` or ``"YYYY-Www"`` (ISO week; ``W``
        and ``Q`` are case-insensitive). Surrounding whitespace is ignored.

    Returns
    -------
    period : str
        One of :data:`PERIODS`.
    start : pandas.Timestamp
        The period's start, naive local midnight.

    Raises
    ------
    ValueError
        If ``label`` is not a string, does not match a format, or names a month,
        quarter or ISO week that does not exist (e.g. ``"2021-W53"``); the message
        quotes the label and the accepted formats.
    """
    if not isinstance(label, str):
        raise ValueError(f"period label must be a string, got {type(label).__name__}: {label!r}")
    match = _LABEL_RE.match(label.strip())
    if match is None:
        raise ValueError(f"invalid period label {label!r}: {_LABEL_HELP}")
    year = int(match.group(1))
    week, quarter, month = match.group(2), match.group(3), match.group(4)
    if year < 1000:
        raise ValueError(f"invalid period label {label!r}: year must be 1000 or later")
    if week is not None:
        w = int(week)
        n_weeks = int(_iso_weeks_in(np.array([year], dtype=np.int64))[0])
        if not 1 <= w <= n_weeks:
            raise ValueError(f"invalid period label {label!r}: ISO year {year} has weeks 01-{n_weeks}")
        day = int(_iso_week_one(np.array([year], dtype=np.int64))[0]) + 7 * (w - 1)
        start = np.datetime64(day, "D")
        return "week", pd.Timestamp(start).as_unit(_UNIT)
    if quarter is not None:
        q = int(quarter)
        if not 1 <= q <= 4:
            raise ValueError(f"invalid period label {label!r}: quarter must be 1-4")
        return "quarter", pd.Timestamp(year, 3 * (q - 1) + 1, 1).as_unit(_UNIT)
    if month is not None:
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"invalid period label {label!r}: month must be 01-12")
        return "month", pd.Timestamp(year, m, 1).as_unit(_UNIT)
    return "year", pd.Timestamp(year, 1, 1).as_unit(_UNIT)


def complete_periods(first: Any, last: Any, period: str) -> pd.DatetimeIndex:
    """Every period start from the period containing ``first`` to the one containing ``last``.

    Use it to lay counts on a full grid so that a period without events is a zero,
    not a missing row.

    Parameters
    ----------
    first, last : datetime-like scalar
        Inclusive range; converted as in :func:`to_local`.
    period : {"week", "month", "quarter", "year"}

    Returns
    -------
    pandas.DatetimeIndex
        Period starts in order, ``datetime64[us]``, named ``"period_start"``.

    Raises
    ------
    ValueError
        If ``first`` or ``last`` is missing or not a single time, or ``first`` is
        after ``last``.
    """
    check_period(period)
    bounds = []
    for value, name in ((first, "first"), (last, "last")):
        local = to_local(value, name)
        if len(local) != 1 or pd.isna(local[0]):
            raise ValueError(f"{name} must be a single, non-missing time, got {value!r}")
        bounds.append(_start_values(local, period)[0])
    lo, hi = bounds
    if lo > hi:
        raise ValueError(f"first ({first!r}) is after last ({last!r})")
    if period == "week":
        values = np.arange(lo, hi + np.timedelta64(1, "D"), np.timedelta64(7, "D"))
    else:
        step = _MONTHS_PER[period]
        months = np.arange(
            lo.astype("datetime64[M]"),
            hi.astype("datetime64[M]") + np.timedelta64(1, "M"),
            np.timedelta64(step, "M"),
        )
        values = months.astype(f"datetime64[{_UNIT}]")
    return pd.DatetimeIndex(values.astype(f"datetime64[{_UNIT}]"), name="period_start")
