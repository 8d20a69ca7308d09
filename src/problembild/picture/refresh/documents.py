"""Stage *documents*: each area's :class:`~problembild.picture.document.AreaDocument`.

The expensive parts of an area (trends, unusual weeks, hour of week, hot spots and
forecast) are computed only when its fingerprint changed; the parts that compare it
with the other areas (key and year figures, ranks, category means, the rest of the
municipality, need and the officer rule) are rebuilt for every area on every run, for all
areas at once (:func:`compared_parts_all`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Count, Max

from problembild.analysis import periods
from problembild.analysis.change import change_table
from problembild.analysis.control import control_flags
from problembild.analysis.officers import officer_requirement
from problembild.analysis.ratetest import rate_test_many
from problembild.analysis.trend import TrendResult, fit_trend
from problembild.analysis.vocabulary import ALL, INDICATOR_CODES
from problembild.areas.models import Area
from problembild.incidents.models import AreaMatch, Incident

from ..document import (
    CODES,
    PICTURE_VERSION,
    AreaDocument,
    Comparison,
    MonthFigures,
    MonthlySeries,
    MonthToDate,
    Need,
    OfficerRule,
    Rank,
    RestFigures,
    RestOfMunicipality,
    Source,
    Sources,
    ToDateFigures,
    Trend,
    UnusualWeek,
    Window,
    YearFigures,
    plain,
)
from .counts import Counts, ToDate
from .load import IncidentArrays, PartSource
from .tables import KEYS, WindowStats

# --- the expensive parts ------------------------------------------------------------------


def trend_members(result: TrendResult) -> dict:
    """What an area's :class:`Trend` and a unit's ``UnitTrend`` show of a fitted trend."""
    return {
        "status": result.status,
        "rate_ratio": result.rate_ratio,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "mark": result.mark(),
        "fitted": plain(list(result.trend)) if result.ok else [],
    }


def trends(monthly: pd.DataFrame, fit: Callable[..., TrendResult] = fit_trend) -> dict[str, Trend]:
    """Fitted trend per indicator of one area's monthly counts (``fit``: ``fit_trend`` or a memo of it)."""
    out = {}
    for code, rows in monthly.groupby("indicator", sort=False, observed=True):
        rows = rows.sort_values("period_start")
        result = fit(
            rows["count"].to_numpy(dtype=float), pd.DatetimeIndex(rows["period_start"]), period="month"
        )
        out[str(code)] = Trend(
            **trend_members(result),
            message=result.message,
            family=result.family,
            seasonal=plain(list(result.fitted)) if result.ok else [],
        )
    return out


def unusual_weeks(weekly: pd.DataFrame) -> list[UnusualWeek]:
    """Weeks beyond the Poisson control limit from one area's own history (all indicators)."""
    rows = weekly[weekly["indicator"] == ALL].sort_values("period_start")
    if rows.empty:
        return []
    series = pd.Series(rows["count"].to_numpy(), index=pd.DatetimeIndex(rows["period_start"]))
    flags = control_flags(series, baseline_weeks=52, alpha=0.01)
    flagged = flags[flags["flag"]]
    return [
        UnusualWeek(
            week=periods.period_label(pd.Timestamp(r.period_start), "week"),
            start=pd.Timestamp(r.period_start).date(),
            count=int(r.count),
            expected=float(r.expected),
            upper_limit=float(r.upper_limit),
        )
        for r in flagged.reset_index().itertuples()
    ][-20:]


def hours_of_week(hours: dict[int, np.ndarray], areas: list[Area]) -> dict[int, dict[str, list[list[int]]]]:
    """Per area: the 7 x 24 weekday-hour counts of all incidents and of each indicator.

    ``hours``: area id -> counts per indicator and hour of the week (:attr:`Counts.hours`).
    """
    out = {}
    for area in areas:
        counts = hours[area.pk].reshape(len(INDICATOR_CODES), 7, 24)
        hw = {ALL: counts.sum(axis=0).tolist()}
        hw.update({code: counts[i].tolist() for i, code in enumerate(INDICATOR_CODES)})
        out[area.pk] = hw
    return out


# --- the parts rebuilt on every run ---------------------------------------------------------


def sources(data: IncidentArrays, names: list[str], parts: PartSource | None = None) -> dict[int, Sources]:
    """Per area: what its picture is built on, how fresh it is, what is synthetic or approximate.

    Counted incidents inside the boundary come from the loaded arrays (one pass, not a
    query per area: ten million rows make per-area queries slow), summed over the parts
    ``parts`` keeps per snapshot segment (:func:`.snapshot.per_segment`), so a daily run
    reads its new rows only; the few approximate matches of the police feed come from one
    query.
    """
    out: dict[int, list[Source]] = {}
    # The source codes index ``names``: another list of names is another key.
    key = json.dumps(names)
    pieces = parts("sources", key, source_counts) if parts else [source_counts(data)]
    frame = pd.concat(
        [pd.DataFrame({k: v for k, v in piece.items() if k != "rows"}) for piece in pieces],
        ignore_index=True,
    )
    grouped = frame.groupby(["area", "source", "synthetic"], sort=True).agg(
        size=("size", "sum"), last=("last", "max")
    )
    for (area, source, synthetic), row in grouped.iterrows():
        out.setdefault(int(area), []).append(
            Source(
                source=names[source] if 0 <= source < len(names) else "",
                match=AreaMatch.EXACT.value,
                synthetic=bool(synthetic),
                count=int(row["size"]),
                last=pd.Timestamp(int(row["last"]), unit="s", tz="UTC").isoformat(),
            )
        )
    approximate = (
        Incident.objects.filter(area_match=AreaMatch.APPROXIMATE)
        .values("area_id", "source", "synthetic")
        .annotate(n=Count("id"), last=Max("occurred_at"))
        .order_by("area_id", "source")
    )
    for r in approximate:
        out.setdefault(r["area_id"], []).append(
            Source(
                source=r["source"],
                match=AreaMatch.APPROXIMATE.value,
                synthetic=r["synthetic"],
                count=r["n"],
                last=r["last"].isoformat() if r["last"] else None,
            )
        )
    return {
        area: Sources(by_source=sorted(rows, key=lambda s: (s.source, s.match))) for area, rows in out.items()
    }


def source_counts(data: IncidentArrays) -> dict[str, np.ndarray]:
    """The counted incidents inside a boundary, per area, source code and synthetic flag:
    how many (``size``) and the latest (``last``, Unix seconds). Parts of disjoint rows add
    (sizes sum, the latest is the largest)."""
    inside = np.flatnonzero(data.area >= 0)
    frame = pd.DataFrame(
        {
            "area": data.area[inside].astype(np.int64),
            "source": data.source[inside].astype(np.int64),
            "synthetic": data.synthetic[inside].astype(np.int8),
            "t": data.t[inside].astype(np.int64),
        }
    )
    grouped = (
        frame.groupby(["area", "source", "synthetic"], sort=True)["t"].agg(["size", "max"]).reset_index()
    )
    return {
        "area": grouped["area"].to_numpy(np.int64),
        "source": grouped["source"].to_numpy(np.int64),
        "synthetic": grouped["synthetic"].to_numpy(np.int8),
        "size": grouped["size"].to_numpy(np.int64),
        "last": grouped["max"].to_numpy(np.int64),
    }


@dataclass
class AreaInputs:
    """What one area's compared parts are built from besides the tables of every area."""

    area: Area
    residents: int | None
    category: str | None


def compared_parts_all(
    inputs: list[AreaInputs], counts: Counts, stats: WindowStats, synthetic_population: Collection[int]
) -> dict[int, dict]:
    """The members of each area's document that depend on every area (keyword arguments), by area id.

    Built for all of ``inputs`` at once: one change table and one rate test of the twelve
    months over every area's rows, and one split of each table, instead of masking the
    whole monthly table and testing a few rows per area (seconds at ten million incidents).
    An area's parts do not depend on which other areas are in ``inputs``.
    """
    ids = [i.area.pk for i in inputs]
    residents = {i.area.pk: i.residents for i in inputs}
    monthly = counts.monthly[counts.monthly["area_id"].isin(ids)]
    changes = (
        change_table(monthly, "month", keys=KEYS, dispersion=stats.dispersion) if len(monthly) else monthly
    )
    key_figures = _month_figures(changes, residents)
    series = _monthly_series(changes)
    years = _year_figures(monthly, stats.window, residents, stats.dispersion)
    to_date = _months_to_date(counts.to_date, ids)
    ranked = _comparisons(inputs, stats)
    rest = _rest_of_municipality(inputs, counts, stats.window, years)
    officers = _officer_rules(inputs)
    # One row dict per area, not a .loc lookup per area.
    need_rows = stats.need.to_dict("index") if isinstance(stats.need, pd.DataFrame) else {}
    window = stats.window
    out = {}
    for i in inputs:
        pk = i.area.pk
        need = need_rows.get(pk)
        out[pk] = {
            "residents": i.residents,
            "population_synthetic": pk in synthetic_population,
            "category": i.category,
            "key_figures": key_figures.get(pk, {}),
            "year_figures": years.get(pk, {}),
            "month_to_date": to_date[pk],
            "window": Window(
                start=pd.Timestamp(window[0]).date() if len(window) else None,
                end=pd.Timestamp(window[-1]).date() if len(window) else None,
            ),
            "series": series.get(pk, {}),
            "comparisons": ranked[pk],
            "municipality_rest": rest[pk],
            "need": Need.model_validate(plain(need)) if need is not None else Need(),
            "officer_rule": officers.get(pk),
        }
    return out


def compared_parts(
    inputs: AreaInputs, counts: Counts, stats: WindowStats, synthetic_population: bool
) -> dict:
    """One area's compared parts (:func:`compared_parts_all` of that area alone)."""
    pk = inputs.area.pk
    return compared_parts_all([inputs], counts, stats, {pk} if synthetic_population else set())[pk]


def _month_figures(
    changes: pd.DataFrame, residents: dict[int, int | None]
) -> dict[int, dict[str, MonthFigures]]:
    """Per area: the latest month of each indicator against the month before and a year before."""
    out: dict[int, dict[str, MonthFigures]] = {}
    if not len(changes):
        return out
    # Each area's own latest month (in a count table the areas share their months, but need not).
    latest = changes[changes["period_start"] == changes.groupby("area_id")["period_start"].transform("max")]
    for r in latest.itertuples(index=False):
        n = residents[int(r.area_id)]
        out.setdefault(int(r.area_id), {})[str(r.indicator)] = MonthFigures(
            period=r.period_label,
            count=int(r.count),
            rate=(int(r.count) / n * 1000) if n else None,
            previous=r.previous_count,
            previous_p=r.previous_p_value,
            previous_mark=r.previous_mark,
            last_year=r.last_year_count,
            last_year_p=r.last_year_p_value,
            last_year_mark=r.last_year_mark,
        )
    return out


def _monthly_series(changes: pd.DataFrame) -> dict[int, dict[str, MonthlySeries]]:
    """Per area: every indicator's monthly counts, oldest first (indicators in order of appearance)."""
    out: dict[int, dict[str, MonthlySeries]] = {}
    if not len(changes):
        return out
    # One sort by (area and indicator in order of first appearance, month) and one cut per series.
    group = changes.groupby(list(KEYS), sort=False, observed=True).ngroup().to_numpy()
    starts = changes["period_start"].to_numpy()
    order = np.lexsort((starts.view(np.int64), group))
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    months = pd.DatetimeIndex(starts[order]).date
    values = changes["count"].to_numpy(dtype=np.int64)[order]
    area = changes["area_id"].to_numpy(dtype=np.int64)[order]
    indicator = changes["indicator"].to_numpy()[order]
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(order)], strict=True):
        out.setdefault(int(area[lo]), {})[str(indicator[lo])] = MonthlySeries(
            months=months[lo:hi].tolist(), counts=values[lo:hi].tolist()
        )
    return out


def _year_figures(
    monthly: pd.DataFrame, window: list, residents: dict[int, int | None], dispersion: pd.DataFrame
) -> dict[int, dict[str, YearFigures]]:
    """Per area: the last twelve months against the same twelve months a year before.

    The test carries each area and indicator's dispersion from ``dispersion`` (rows of
    ``monthly_dispersion``; exact Poisson where there is none): one vectorised test for
    every area and indicator. The previous twelve months count only when all are in the data.
    """
    out: dict[int, dict[str, YearFigures]] = {}
    if not len(monthly):
        return out
    now = monthly["period_start"].isin(set(window)).to_numpy()
    before = (
        monthly["period_start"].isin({pd.Timestamp(s) - pd.DateOffset(years=1) for s in window}).to_numpy()
    )
    n = monthly["count"].to_numpy(dtype=np.int64)
    # The key columns as they are (their dtypes set the order of the indicators, as per area).
    frame = monthly[list(KEYS)].reset_index(drop=True)
    frame["now"] = np.where(now, n, 0)
    frame["previous"] = np.where(before, n, 0)
    frame["n_previous"] = before.astype(np.int64)
    sums = frame.groupby(list(KEYS), observed=True)[["now", "previous", "n_previous"]].sum().reset_index()
    phis = dispersion[[*KEYS, "dispersion", "dispersion_df"]]
    sums = sums.merge(phis, on=list(KEYS), how="left", indicator="_phi")
    known = (sums["_phi"] == "both").to_numpy()
    phi = np.where(known, sums["dispersion"].to_numpy(dtype=np.float64), 1.0)
    phi_df = np.where(known, sums["dispersion_df"].to_numpy(dtype=np.float64), np.inf)
    tested = (sums["n_previous"] == len(window)).to_numpy()
    p_values = np.full(len(sums), np.nan)
    if tested.any():
        table = rate_test_many(
            sums["now"].to_numpy()[tested],
            1.0,
            sums["previous"].to_numpy()[tested],
            1.0,
            dispersion=phi[tested],
            dispersion_df=phi_df[tested],
        )
        p_values[tested] = table["p_value"].to_numpy(dtype=np.float64)
    rows = zip(
        sums["area_id"].tolist(),
        sums["indicator"].tolist(),
        sums["now"].tolist(),
        sums["previous"].tolist(),
        tested.tolist(),
        p_values.tolist(),
        strict=True,
    )
    for area, code, now_n, prev_n, has_previous, p in rows:
        previous = prev_n if has_previous else None
        p_value = p if has_previous else None
        r = residents[area]
        out.setdefault(area, {})[str(code)] = YearFigures(
            count=now_n,
            rate=(now_n / r * 1000) if r else None,
            previous=previous,
            p_value=p_value,
            mark=("↑" if now_n > previous else "↓")
            if p_value is not None and previous is not None and p_value < 0.05
            else "",
        )
    return out


def _comparisons(inputs: list[AreaInputs], stats: WindowStats) -> dict[int, dict[str, Comparison]]:
    """Per area: rank among all areas and within the category, and the category's mean rate."""
    # One row dict per ranked area and indicator, not a .loc lookup per area and indicator.
    ranks = {code: table.to_dict("index") for code, table in stats.ranks.items()}
    means = stats.category_mean.to_dict()
    out = {}
    for i in inputs:
        parts = {}
        for code in (*INDICATOR_CODES, ALL):
            row = ranks.get(code, {}).get(i.area.pk)
            rank = Rank() if row is None else Rank.model_validate(plain(row))
            same = means.get((i.category, code)) if i.category else None
            parts[code] = Comparison(rank=rank, category_mean_rate=same)
        out[i.area.pk] = parts
    return out


def _rest_of_municipality(
    inputs: list[AreaInputs], counts: Counts, window: list, years: dict[int, dict[str, YearFigures]]
) -> dict[int, RestOfMunicipality]:
    """Per area: the municipality's incidents outside it per 1,000 residents of the rest of it."""
    mc = counts.municipality.get("month")
    totals: dict[str, list[tuple[str, int]]] = {}  # municipality -> (indicator, twelve-month count)
    if mc is not None and len(window):
        rows = mc[mc["period_start"].isin(set(window))]
        for (muni, code), total in (
            rows.groupby(["municipality", "indicator"], observed=True)["count"].sum().items()
        ):
            totals.setdefault(muni, []).append((str(code), int(total)))
    out = {}
    for i in inputs:
        muni = i.area.municipality
        rest = {}
        if mc is not None and muni is not None and muni.population and len(window):
            year = years.get(i.area.pk, {})
            rest_pop = muni.population - (i.residents or 0)
            for code, total in totals.get(muni.code, []):
                own = year[code].count if code in year else 0
                rest[code] = RestFigures(
                    count=total - own, rate=((total - own) / rest_pop * 1000) if rest_pop > 0 else None
                )
        out[i.area.pk] = RestOfMunicipality(municipality=muni.name if muni else None, indicators=rest)
    return out


def _officer_rules(inputs: list[AreaInputs]) -> dict[int, OfficerRule]:
    """The 1-per-5,000 rule of each area of a category it applies to (the others have none)."""
    ruled = [i for i in inputs if i.residents and i.category in settings.OFFICER_RULE_CATEGORIES]
    if not ruled:
        return {}
    ids = [i.area.pk for i in ruled]
    req = officer_requirement(
        pd.Series([i.residents for i in ruled], index=ids),
        pd.Series(np.nan, index=ids),
        residents_per_officer=settings.RESIDENTS_PER_OFFICER,
    )
    rows = req.to_dict("index")
    return {pk: OfficerRule.model_validate(plain(rows[pk])) for pk in ids}


def _months_to_date(to_date: ToDate | None, ids: list[int]) -> dict[int, MonthToDate | None]:
    """Per area: its month so far (None when the data end on a month's first day)."""
    if to_date is None:
        return dict.fromkeys(ids)
    start, end = to_date.current
    last_day = (end - pd.Timedelta(seconds=1)).date()

    def window(w):
        return (None, None) if w is None else (w[0].date(), (w[1] - pd.Timedelta(seconds=1)).date())

    previous, last_year = window(to_date.previous), window(to_date.last_year)
    wanted = set(ids)
    figures: dict[int, dict[str, ToDateFigures]] = {}
    table = to_date.table
    rows = zip(
        table.index.tolist(),
        table["current"].tolist(),
        table["previous"].tolist(),
        table["last_year"].tolist(),
        strict=True,
    )
    for (area, code), current, before, year_before in rows:
        if area in wanted:
            figures.setdefault(area, {})[code] = ToDateFigures(
                count=int(current),
                previous=None if pd.isna(before) else int(before),
                last_year=None if pd.isna(year_before) else int(year_before),
            )
    return {
        pk: MonthToDate(
            month=start.strftime("%Y-%m"),
            start=start.date(),
            end=last_day,
            days=(last_day - start.date()).days + 1,
            days_in_month=int(periods.period_days([start], "month")[0]),
            previous_start=previous[0],
            previous_end=previous[1],
            last_year_start=last_year[0],
            last_year_end=last_year[1],
            indicators=figures[pk],
        )
        for pk in ids
    }


def area_document(
    expensive: dict, compared: dict, area_sources: Sources | None, as_of: pd.Timestamp
) -> AreaDocument:
    """An area's document from its expensive parts (new or reused) and its compared parts."""
    return AreaDocument(
        version=PICTURE_VERSION,
        as_of=as_of.date(),
        **expensive,
        **compared,
        sources=area_sources or Sources(by_source=[]),
    )


__all__ = [
    "CODES",
    "AreaInputs",
    "area_document",
    "compared_parts",
    "compared_parts_all",
    "hours_of_week",
    "sources",
    "trends",
    "unusual_weeks",
]
