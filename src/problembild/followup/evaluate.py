"""Effect evaluation of a measure in an area, from the computed pictures' monthly series.

The panel is every current area's monthly count of one indicator (complete months only, as
the refresh stores them). The treated area is compared with the other areas: by synthetic
control (weights fitted on the months before the start, placebo inference) or by
difference-in-differences on counts (Poisson with area and month effects). Areas within
:data:`NEIGHBOUR_METRES` of the treated area are left out of the comparison, and their own
change is reported as a displacement check. Before a measure starts, the minimum detectable
effect says whether an effect could be seen at all.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import shapely

from problembild.analysis import effects
from problembild.analysis.displacement import neighbour_change
from problembild.areas.models import Area
from problembild.incidents.choices import indicator_label
from problembild.picture.models import AreaPicture

from .models import Evaluation

#: Areas closer than this to the treated area are its neighbours (SWEREF99 TM metres).
NEIGHBOUR_METRES = 1000.0
#: Months after the start over which a planned measure's detectable effect is judged.
MDE_HORIZON = 12


def panel(indicator: str) -> tuple[pd.DataFrame, dict[int, Area]]:
    """Monthly counts of ``indicator``: one row per current area with a picture (index: area pk)."""
    areas = {a.pk: a for a in Area.objects.current().select_related("org_unit")}
    rows: dict[int, pd.Series] = {}
    for pk, series in AreaPicture.objects.filter(area_id__in=list(areas)).values_list(
        "area_id", f"data__series__{indicator}"
    ):
        if series and series.get("months"):
            rows[pk] = pd.Series(series["counts"], index=pd.to_datetime(series["months"]), dtype=float)
    if not rows:
        return pd.DataFrame(), areas
    frame = pd.DataFrame(rows).T.sort_index(axis=1)
    # Months some areas lack (none, normally) are months the panel cannot use.
    frame = frame.loc[:, frame.notna().all(axis=0)]
    return frame, areas


def neighbours_of(area: Area, candidates: dict[int, Area], metres: float = NEIGHBOUR_METRES) -> set[int]:
    """Areas whose boundary lies within ``metres`` of ``area``'s."""
    shape = area.shape
    if shape is None:
        return set()
    zone = shapely.buffer(shape, metres)
    return {
        pk
        for pk, other in candidates.items()
        if pk != area.pk and other.shape is not None and zone.intersects(other.shape)
    }


def _month_index(columns: pd.Index, start: date) -> int:
    return int(np.searchsorted(columns.to_numpy(), np.datetime64(start.replace(day=1))))


def evaluate(
    area: Area, indicator: str, start: date, method: str, *, title: str, user=None, priority=None
) -> Evaluation:
    """Evaluate a measure that began in ``start``'s month and save the result (see the module docstring)."""
    frame, areas = panel(indicator)
    if frame.empty or area.pk not in frame.index:
        raise ValueError(f"no monthly series of {indicator} for {area.name}: run the refresh first")
    start_col = _month_index(frame.columns, start)
    months = [m.strftime("%Y-%m") for m in frame.columns]
    order = list(frame.index)
    treated = order.index(area.pk)
    near = neighbours_of(area, {pk: areas[pk] for pk in order})
    exclude = [order.index(pk) for pk in near]
    data = frame.to_numpy()
    result: dict = {
        "indicator": indicator,
        "indicator_label": str(indicator_label(indicator)),
        "months": months,
        "start_month": start.strftime("%Y-%m"),
        "neighbours": sorted(areas[pk].name for pk in near),
        "n_areas": len(order),
    }
    pre = data[:, : min(start_col, data.shape[1])]
    if start_col >= 3:
        mde = effects.minimum_detectable_effect(pre, treated, pre.shape[1], MDE_HORIZON)
        result["mde"] = {
            "relative": mde.relative,
            "absolute": mde.absolute,
            "baseline_rate": mde.baseline_rate,
            "message": mde.message,
        }
    if start_col < 3 or start_col >= data.shape[1]:
        result["status"] = "planned" if start_col >= data.shape[1] else "too_early"
        result["message"] = (
            "The measure starts after the last complete month of data: only the minimum detectable effect can be given."
            if start_col >= data.shape[1]
            else "Too few months before the start to fit a comparison."
        )
    else:
        if method == Evaluation.Method.DID:
            fit = effects.difference_in_differences(data, treated, start_col, exclude=exclude)
        else:
            fit = effects.synthetic_control(data, treated, start_col, exclude=exclude)
        names = {i: areas[order[i]].name for i in range(len(order))}
        weights = getattr(fit, "weights", None)
        placebo = getattr(fit, "placebo", None)
        comparison = [i for i in range(len(order)) if i != treated and i not in exclude]
        change = neighbour_change(data, exclude, comparison, start_col)
        result.update(
            status="ok",
            effect=float(fit.effect),
            interval=[_num(v) for v in fit.interval],
            relative_effect=_num(fit.relative_effect),
            relative_interval=[_num(v) for v in fit.relative_interval],
            p_value=_num(fit.p_value),
            pre_fit=_num(fit.pre_fit),
            warnings=list(fit.warnings),
            treated=[float(v) for v in fit.treated_path],
            counterfactual=[float(v) for v in fit.counterfactual],
            per_period=_records(getattr(fit, "per_period", None), months),
            weights=[
                {"area": names[int(i)], "weight": float(w)}
                for i, w in (weights.sort_values(ascending=False).items() if weights is not None else [])
                if w > 1e-4
            ][:15],
            placebo=(
                [
                    {"area": names.get(int(r.unit), str(r.unit)), "ratio": _num(r.ratio)}
                    for r in placebo.itertuples()
                ]
                if placebo is not None
                else []
            ),
            displacement={
                "neighbours": change.neighbours,
                "comparison": change.comparison,
                "difference": change.difference,
                "n_neighbours": change.n_neighbours,
            },
        )
        if change.difference is not None and abs(change.difference) >= 0.2:
            result["warnings"].append(
                f"The neighbouring areas changed too ({change.neighbours * 100:+.0f} % against "
                f"{change.comparison * 100:+.0f} % in the comparison areas): the measure may have moved crime "
                "or helped next door."
            )
    return Evaluation.objects.create(
        result=_finite(result),
        area=area,
        indicator=indicator,
        start=start.replace(day=1),
        method=method,
        title=title,
        priority=priority,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _finite(value):
    """``value`` with every NaN or infinite number as None: JSON has no such numbers (an unbounded
    interval is stored as a missing bound, and the page says the interval is unbounded)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if value != value else value


def _records(frame: pd.DataFrame | None, months: list[str]) -> list[dict]:
    if frame is None:
        return []
    out = []
    for row in frame.itertuples():
        period = int(row.period)
        out.append(
            {
                "month": months[period] if 0 <= period < len(months) else str(period),
                "effect": _num(row.effect),
                "low": _num(row.low),
                "high": _num(row.high),
            }
        )
    return out
