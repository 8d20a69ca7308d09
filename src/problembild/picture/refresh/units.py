"""Stage *units*: every org unit's figures summed over the areas below it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils import timezone

from problembild.analysis.trend import TrendResult, fit_trend
from problembild.analysis.vocabulary import ALL
from problembild.areas.models import Area
from problembild.core.models import OrgUnit

from ..document import MonthlySeries, UnitDocument, UnitTrend
from ..models import UnitPicture
from .documents import trend_members


def unit_members(areas: list[Area]) -> dict[int, list[int]]:
    """Org unit id -> ids of the areas at or below it (units without areas are left out)."""
    units = {u.pk: u for u in OrgUnit.objects.all()}
    members: dict[int, list[int]] = {}
    for area in areas:
        unit = units.get(area.org_unit_id)
        while unit is not None:
            members.setdefault(unit.pk, []).append(area.pk)
            unit = units.get(unit.parent_id)
    return members


def unit_document(
    area_ids: list[int],
    monthly: pd.DataFrame,
    population: pd.Series,
    as_of,
    fit: Callable[..., TrendResult] = fit_trend,
) -> UnitDocument:
    """Monthly counts summed over ``area_ids`` with a fitted trend per indicator.

    A unit of one area gets only the trend of all incidents: the area's page has the rest.
    ``fit``: ``fit_trend`` or a memo of it (``fits.FitMemo``).
    """
    rows = monthly[monthly["area_id"].isin(area_ids)]
    summed = rows.groupby(["indicator", "period_start"], observed=True)["count"].sum().reset_index()
    series = {}
    trends = {}
    for code, g in summed.groupby("indicator", observed=True):
        g = g.sort_values("period_start")
        series[str(code)] = MonthlySeries(
            months=[pd.Timestamp(s).date() for s in g["period_start"]], counts=[int(c) for c in g["count"]]
        )
        if str(code) == ALL or len(area_ids) > 1:
            result = fit(g["count"].to_numpy(float), pd.DatetimeIndex(g["period_start"]))
            trends[str(code)] = UnitTrend(**trend_members(result))
    residents = population.reindex(area_ids)
    return UnitDocument(
        as_of=as_of.date(),
        areas=area_ids,
        residents=float(residents.sum()) if residents.notna().any() else None,
        residents_known=int(residents.notna().sum()),
        series=series,
        trends=trends,
    )


def refresh_units(
    areas: list[Area],
    monthly: pd.DataFrame,
    population: pd.Series,
    as_of,
    fit: Callable[..., TrendResult] = fit_trend,
) -> int:
    """Write every unit's document (and drop those of units left without areas)."""
    members = unit_members(areas)
    UnitPicture.objects.exclude(unit_id__in=list(members)).delete()
    for unit_id, area_ids in members.items():
        document = unit_document(area_ids, monthly, population, as_of, fit)
        UnitPicture.objects.update_or_create(
            unit_id=unit_id, defaults={"computed_at": timezone.now(), "data": document.stored()}
        )
    return len(members)
