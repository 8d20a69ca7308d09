"""Stage *documents*: each area's :class:`~problembild.picture.document.AreaDocument`.

The expensive parts of an area (trends, unusual weeks, hour of week, hot spots and
forecast) are computed only when its fingerprint changed; the parts that compare it
with the other areas (key and year figures, ranks, category means, the rest of the
municipality, need and the officer rule) are rebuilt for every area on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Count, Max

from problembild.analysis import periods, timepattern
from problembild.analysis.change import change_table
from problembild.analysis.control import control_flags
from problembild.analysis.officers import officer_requirement
from problembild.analysis.ratetest import rate_test_many
from problembild.analysis.trend import fit_trend
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
from .counts import Counts, InArea, ToDate
from .load import IncidentArrays
from .tables import WindowStats

# --- the expensive parts ------------------------------------------------------------------


def trends(monthly: pd.DataFrame) -> dict[str, Trend]:
    """Fitted trend per indicator of one area's monthly counts."""
    out = {}
    for code, rows in monthly.groupby("indicator", sort=False, observed=True):
        rows = rows.sort_values("period_start")
        fit = fit_trend(
            rows["count"].to_numpy(dtype=float), pd.DatetimeIndex(rows["period_start"]), period="month"
        )
        out[str(code)] = Trend(
            status=fit.status,
            message=fit.message,
            family=fit.family,
            rate_ratio=fit.rate_ratio,
            ci_low=fit.ci_low,
            ci_high=fit.ci_high,
            p_value=fit.p_value,
            mark=fit.mark(),
            fitted=plain(list(fit.trend)) if fit.ok else [],
            seasonal=plain(list(fit.fitted)) if fit.ok else [],
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


def hours_of_week(inside: InArea, areas: list[Area]) -> dict[int, dict[str, list[list[int]]]]:
    """Per area: the 7 x 24 weekday-hour counts of all incidents and of each indicator.

    One bincount over (area, indicator, weekday-hour) for every area at once.
    """
    cells = timepattern.hour_of_week_cells(inside.local)
    position = {a.pk: i for i, a in enumerate(areas)}
    pos = pd.Series(inside.area).map(position).to_numpy()
    known = ~pd.isna(pos)
    n_ind, n_cells = len(INDICATOR_CODES), 7 * 24
    flat = (pos[known].astype(np.int64) * n_ind + inside.indicator[known]) * n_cells + cells[known]
    cube = np.bincount(flat, minlength=len(areas) * n_ind * n_cells).reshape(len(areas), n_ind, 7, 24)
    out = {}
    for area, counts in zip(areas, cube, strict=True):
        hw = {ALL: counts.sum(axis=0).tolist()}
        hw.update({code: counts[i].tolist() for i, code in enumerate(INDICATOR_CODES)})
        out[area.pk] = hw
    return out


# --- the parts rebuilt on every run ---------------------------------------------------------


def sources(data: IncidentArrays, names: list[str]) -> dict[int, Sources]:
    """Per area: what its picture is built on, how fresh it is, what is synthetic or approximate.

    Counted incidents inside the boundary come from the loaded arrays (one pass, not a
    query per area: ten million rows make per-area queries slow); the few approximate
    matches of the police feed come from one query.
    """
    out: dict[int, list[Source]] = {}
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
                Source(
                    source=names[source] if 0 <= source < len(names) else "",
                    match=AreaMatch.EXACT.value,
                    synthetic=bool(synthetic),
                    count=int(row["size"]),
                    last=pd.Timestamp(int(row["max"]), unit="s", tz="UTC").isoformat(),
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


def month_figures(changes: pd.DataFrame, residents: int | None) -> dict[str, MonthFigures]:
    """The latest month of each indicator against the month before and a year before."""
    if not len(changes):
        return {}
    latest = changes[changes["period_start"] == changes["period_start"].max()]
    return {
        str(r.indicator): MonthFigures(
            period=r.period_label,
            count=int(r.count),
            rate=(int(r.count) / residents * 1000) if residents else None,
            previous=r.previous_count,
            previous_p=r.previous_p_value,
            previous_mark=r.previous_mark,
            last_year=r.last_year_count,
            last_year_p=r.last_year_p_value,
            last_year_mark=r.last_year_mark,
        )
        for r in latest.itertuples(index=False)
    }


def monthly_series(changes: pd.DataFrame) -> dict[str, MonthlySeries]:
    """Every indicator's monthly counts, oldest first."""
    out = {}
    for code, rows in changes.groupby("indicator", sort=False, observed=True):
        rows = rows.sort_values("period_start")
        out[str(code)] = MonthlySeries(
            months=[pd.Timestamp(s).date() for s in rows["period_start"]],
            counts=[int(c) for c in rows["count"]],
        )
    return out


def year_figures(
    monthly: pd.DataFrame, window: list, residents: int | None, dispersion: pd.DataFrame | None = None
) -> dict[str, YearFigures]:
    """The last twelve months against the same twelve months a year before.

    The test carries the indicator's dispersion from ``dispersion`` (rows of
    ``monthly_dispersion`` for this area; exact Poisson where there is none).
    """
    out: dict[str, YearFigures] = {}
    if not len(monthly):
        return out
    wset = set(window)
    prev_window = {pd.Timestamp(s) - pd.DateOffset(years=1) for s in window}
    phis = {} if dispersion is None else dispersion.set_index("indicator")[["dispersion", "dispersion_df"]]
    rows = []  # (code, now, previous or None, phi, phi df)
    for code, group in monthly.groupby("indicator", observed=True):
        now_n = int(group[group["period_start"].isin(wset)]["count"].sum())
        prev_rows = group[group["period_start"].isin(prev_window)]
        prev_n = int(prev_rows["count"].sum()) if len(prev_rows) == len(window) else None
        phi, phi_df = phis.loc[code] if code in getattr(phis, "index", ()) else (1.0, np.inf)
        rows.append((str(code), now_n, prev_n, float(phi), float(phi_df)))
    tested = [r for r in rows if r[2] is not None]
    p_values = {}
    if tested:  # one vectorised test for the area's indicators (as rate_test each)
        _, now, prev, phi, phi_df = (list(c) for c in zip(*tested, strict=True))
        table = rate_test_many(now, 1.0, prev, 1.0, dispersion=phi, dispersion_df=phi_df)
        p_values = dict(zip((r[0] for r in tested), table["p_value"].astype(float), strict=True))
    for code, now_n, prev_n, _, _ in rows:
        p = p_values.get(code)
        out[code] = YearFigures(
            count=now_n,
            rate=(now_n / residents * 1000) if residents else None,
            previous=prev_n,
            p_value=p,
            mark=("↑" if now_n > prev_n else "↓")
            if p is not None and prev_n is not None and p < 0.05
            else "",
        )
    return out


def comparisons(area_id: int, category: str | None, stats: WindowStats) -> dict[str, Comparison]:
    """Rank among all areas and within the category, and the category's mean rate."""
    out = {}
    for code in (*INDICATOR_CODES, ALL):
        rank = Rank()
        table = stats.ranks.get(code)
        if table is not None and area_id in table.index:
            rank = Rank.model_validate(plain(table.loc[area_id].to_dict()))
        same = stats.category_mean.get((category, code)) if category else None
        out[code] = Comparison(rank=rank, category_mean_rate=same)
    return out


@dataclass
class AreaInputs:
    """What one area's cheap parts are built from."""

    area: Area
    monthly: pd.DataFrame
    residents: int | None
    category: str | None


def rest_of_municipality(
    inputs: AreaInputs, counts: Counts, window: list, year: dict[str, YearFigures]
) -> RestOfMunicipality:
    """The municipality's incidents outside the area per 1,000 residents of the rest of it."""
    rest = {}
    mc = counts.municipality.get("month")
    muni = inputs.area.municipality
    if mc is not None and muni is not None and muni.population and len(window):
        rows = mc[(mc["municipality"] == muni.code) & (mc["period_start"].isin(set(window)))]
        for code, g in rows.groupby("indicator", observed=True):
            total = int(g["count"].sum())
            own = year[str(code)].count if str(code) in year else 0
            rest_pop = muni.population - (inputs.residents or 0)
            rest[str(code)] = RestFigures(
                count=total - own, rate=((total - own) / rest_pop * 1000) if rest_pop > 0 else None
            )
    return RestOfMunicipality(municipality=muni.name if muni else None, indicators=rest)


def officer_rule(inputs: AreaInputs) -> OfficerRule | None:
    """The 1-per-5,000 rule for an area of a category it applies to (None otherwise)."""
    if not inputs.residents or inputs.category not in settings.OFFICER_RULE_CATEGORIES:
        return None
    pk = inputs.area.pk
    req = officer_requirement(
        pd.Series({pk: inputs.residents}),
        pd.Series({pk: np.nan}),
        residents_per_officer=settings.RESIDENTS_PER_OFFICER,
    )
    return OfficerRule.model_validate(plain(req.iloc[0].to_dict()))


def month_to_date(to_date: ToDate | None, area_id: int) -> MonthToDate | None:
    """The area's month so far (None when the data end on a month's first day)."""
    if to_date is None:
        return None
    start, end = to_date.current
    last_day = (end - pd.Timedelta(seconds=1)).date()

    def window(w):
        return (None, None) if w is None else (w[0].date(), (w[1] - pd.Timedelta(seconds=1)).date())

    rows = to_date.table.loc[area_id]
    previous, last_year = window(to_date.previous), window(to_date.last_year)
    return MonthToDate(
        month=start.strftime("%Y-%m"),
        start=start.date(),
        end=last_day,
        days=(last_day - start.date()).days + 1,
        days_in_month=int(periods.period_days([start], "month")[0]),
        previous_start=previous[0],
        previous_end=previous[1],
        last_year_start=last_year[0],
        last_year_end=last_year[1],
        indicators={
            code: ToDateFigures(
                count=int(r.current),
                previous=None if pd.isna(r.previous) else int(r.previous),
                last_year=None if pd.isna(r.last_year) else int(r.last_year),
            )
            for code, r in rows.iterrows()
        },
    )


def compared_parts(
    inputs: AreaInputs, counts: Counts, stats: WindowStats, synthetic_population: bool
) -> dict:
    """The members of an area's document that depend on every area (keyword arguments)."""
    own = stats.dispersion[stats.dispersion["area_id"] == inputs.area.pk]
    changes = (
        change_table(inputs.monthly, "month", keys=("area_id", "indicator"), dispersion=own)
        if len(inputs.monthly)
        else inputs.monthly
    )
    year = year_figures(inputs.monthly, stats.window, inputs.residents, own)
    need = stats.need.loc[inputs.area.pk] if inputs.area.pk in getattr(stats.need, "index", []) else None
    return {
        "residents": inputs.residents,
        "population_synthetic": synthetic_population,
        "category": inputs.category,
        "key_figures": month_figures(changes, inputs.residents),
        "year_figures": year,
        "month_to_date": month_to_date(counts.to_date, inputs.area.pk),
        "window": Window(
            start=pd.Timestamp(stats.window[0]).date() if len(stats.window) else None,
            end=pd.Timestamp(stats.window[-1]).date() if len(stats.window) else None,
        ),
        "series": monthly_series(changes),
        "comparisons": comparisons(inputs.area.pk, inputs.category, stats),
        "municipality_rest": rest_of_municipality(inputs, counts, stats.window, year),
        "need": Need.model_validate(plain(need.to_dict())) if need is not None else Need(),
        "officer_rule": officer_rule(inputs),
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
    "hours_of_week",
    "sources",
    "trends",
    "unusual_weeks",
]
