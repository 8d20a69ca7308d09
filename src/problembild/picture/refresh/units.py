"""Stage *units*: every org unit's figures summed over the areas below it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
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


def unit_documents(
    members: dict[int, list[int]],
    monthly: pd.DataFrame,
    population: pd.Series,
    as_of,
    fit: Callable[..., TrendResult] = fit_trend,
) -> dict[int, UnitDocument]:
    """Every unit's document (unit id -> its areas): monthly counts summed over its areas,
    with a fitted trend per indicator.

    A unit of one area gets only the trend of all incidents: the area's page has the rest.
    ``fit``: ``fit_trend`` or a memo of it (``fits.FitMemo``). The monthly table is laid
    out once as an (area, indicator, month) cube and each unit's series is a sum over its
    areas' rows of it (a mask and group-by of the table per unit cost most of the stage;
    ``tests/picture/refresh/test_units.py`` checks the sums against such a group-by).
    """
    area_of = monthly["area_id"].to_numpy(dtype=np.int64)
    code_of = monthly["indicator"].astype(str).to_numpy()
    start_of = monthly["period_start"].to_numpy()
    listed = np.unique(area_of)
    codes = np.unique(code_of)  # the order a group-by of the text codes gives
    months = np.unique(start_of)
    cube = np.zeros((len(listed), len(codes), len(months)), dtype=np.int64)
    cube[
        np.searchsorted(listed, area_of), np.searchsorted(codes, code_of), np.searchsorted(months, start_of)
    ] = monthly["count"].to_numpy(dtype=np.int64)
    month_dates = [pd.Timestamp(m).date() for m in months]
    starts = pd.DatetimeIndex(months)
    out = {}
    for unit_id, area_ids in members.items():
        ids = np.asarray(area_ids, dtype=np.int64)
        present = ids[np.isin(ids, listed)]
        series = {}
        trends = {}
        if len(present):
            summed = cube[np.searchsorted(listed, present)].sum(axis=0)
            for code, counts in zip(codes.tolist(), summed, strict=True):
                series[code] = MonthlySeries(months=month_dates, counts=counts.tolist())
                if code == ALL or len(area_ids) > 1:
                    trends[code] = UnitTrend(**trend_members(fit(counts.astype(np.float64), starts)))
        residents = population.reindex(area_ids)
        out[unit_id] = UnitDocument(
            as_of=as_of.date(),
            areas=area_ids,
            residents=float(residents.sum()) if residents.notna().any() else None,
            residents_known=int(residents.notna().sum()),
            series=series,
            trends=trends,
        )
    return out


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
    documents = unit_documents(members, monthly, population, as_of, fit)
    now = timezone.now()
    stored = {
        p.unit_id: p for p in UnitPicture.objects.filter(unit_id__in=list(members)).only("pk", "unit_id")
    }
    changed, new = [], []
    for unit_id, document in documents.items():
        picture = stored.get(unit_id) or UnitPicture(unit_id=unit_id)
        picture.computed_at, picture.data = now, document.stored()
        (changed if picture.pk else new).append(picture)
    UnitPicture.objects.bulk_update(changed, ["computed_at", "data"], batch_size=200)
    UnitPicture.objects.bulk_create(new, batch_size=200)
    return len(members)
