"""Allocation scenarios: officers across a unit's areas, hours across the week, hot-spot visits.

:func:`run_scenario` feeds the unit's figures (:mod:`.follow`) to
:func:`problembild.analysis.allocation.allocate_officers` and keeps what a manager reads
later in a :class:`~.models.Scenario`: per area the current, proposed and proportional
officers, the floor and the reason in Swedish and English; the objectives of the proposal,
of proportional rounding and of the current allocation; the solver's status and gap; and
where each of the next officers would go. :func:`area_plan` turns one area's proposed
officers into weekly shifts (``allocate_hours``) and a hot-spot presence plan
(``presence.presence_plan``) from the area's forecast cells.

Need is the area's harm-weighted incidents in the picture's twelve months (the need
index's numerator). Without a picture an area's need is 0: it gets officers only for its
floor, and the scenario says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils import timezone

from problembild.analysis import allocation, presence
from problembild.core.models import OrgUnit
from problembild.picture.models import AreaPicture

from .follow import UnitResources, demand_of, unit_resources
from .models import BLOCKS, Scenario

ROBUST_CHOICES = ("none", "expected", "worst_decile")
#: Dispersion of the demand scenarios: the median overdispersion of monthly counts per
#: municipality and event type measured on the police's public events feed (phi = 2.2,
#: see docs/benchmarks.md), rounded down.
SCENARIO_DISPERSION = 2.0
SCENARIO_DRAWS = 200


@dataclass(frozen=True)
class Parameters:
    """What a scenario was run with (stored with it)."""

    available: int | None = None
    extra: int = 0
    cap: int | None = None
    max_change: int | None = None
    robust: str = "none"
    hours_per_officer: float | None = None
    scope: str = "settings"
    ratio: int | None = None
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def inputs(res: UnitResources) -> pd.DataFrame:
    """One row per area (index panel id): what the optimiser needs and the page shows."""
    rows = []
    for r in res.rows:
        rows.append(
            {
                "panel_id": r.area.panel_id,
                "name": r.area.name,
                "lpo": r.area.org_unit.name,
                "category": r.category or "",
                "residents": np.nan if r.residents is None else float(r.residents),
                "population_synthetic": r.population_synthetic,
                "need": float(r.need or 0.0),
                "has_picture": r.need is not None,
                "current": int(r.officers or 0),
                "reported": r.staffing is not None,
                "covered": r.covered,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.set_index("panel_id") if len(frame) else frame


def planning_capacity(res: UnitResources):
    """The capacity a plan is for: the coming month's (with its expected increase), else this month's."""
    return res.next_capacity or res.capacity


def default_available(res: UnitResources, current_total: int) -> int:
    """The coming month's capacity plus its expected increase; without capacity, today's officers."""
    capacity = planning_capacity(res)
    if capacity is not None:
        return max(0, int(capacity.officers + capacity.increase))
    return current_total


def demand_scenarios(need: np.ndarray, *, draws: int = SCENARIO_DRAWS, seed: int = 0) -> np.ndarray:
    """Need draws for the robust option: each area's harm-weighted count as a gamma variable.

    The shape is ``need / dispersion``, so each draw has the observed need as its mean and
    ``dispersion × need`` as its variance: the uncertainty of next year's count given this
    year's, with the overdispersion measured on the real feed.
    """
    rng = np.random.default_rng(seed)
    shape = np.maximum(need, 1e-9) / SCENARIO_DISPERSION
    out = rng.gamma(shape, SCENARIO_DISPERSION, size=(draws, len(need)))
    out[:, need <= 0] = 0.0
    return out


def run_scenario(
    unit: OrgUnit,
    params: Parameters,
    *,
    period: date | None = None,
    name: str = "",
    user=None,
    save: bool = True,
    example: bool = False,
) -> Scenario:
    """Run ``params`` for the areas under ``unit`` and return the scenario (saved unless ``save=False``)."""
    if params.robust not in ROBUST_CHOICES:
        raise ValueError(f"robust must be one of {', '.join(ROBUST_CHOICES)}, not {params.robust!r}")
    res = unit_resources(unit, period=period, scope=params.scope, ratio=params.ratio)
    frame = inputs(res)
    if frame.empty:
        raise ValueError(f"{unit.name} has no current areas to allocate officers to")
    current = frame["current"].astype(int)
    if params.extra:
        kind = Scenario.Kind.EXTRA
        available = int(current.sum()) + int(params.extra)
        max_change: int | None = 0  # nobody moves: only the new officers are placed
    else:
        kind = Scenario.Kind.PROPOSED
        available = (
            params.available if params.available is not None else default_available(res, int(current.sum()))
        )
        max_change = params.max_change
    if available < 0:
        raise ValueError("available officers must be zero or more")
    need = frame["need"]
    floor_applies = frame["covered"].to_numpy(bool)
    robust = {}
    if params.robust != "none":
        robust = {
            "scenarios": demand_scenarios(need.to_numpy(float), seed=params.seed),
            "robust": params.robust,
        }
    common = {
        "cap": params.cap,
        "residents_per_officer": res.ratio,
        "floor_applies": floor_applies,
        "seed": params.seed,
        **robust,
    }
    result = allocation.allocate_officers(
        need, frame["residents"], available, current=current, max_change=max_change, **common
    )
    proportional = allocation.proportional_allocation(need, available, cap=params.cap)
    proposed = result.officers.astype(int)
    total_need = float(need.sum())
    areas = []
    for panel_id, row in frame.iterrows():
        floor = result.floors.get(panel_id)
        expl = result.explanations.get(panel_id)
        areas.append(
            {
                "panel_id": int(panel_id),
                "name": row["name"],
                "lpo": row["lpo"],
                "category": row["category"],
                "residents": None if pd.isna(row["residents"]) else int(row["residents"]),
                "population_synthetic": bool(row["population_synthetic"]),
                "need": round(float(row["need"]), 2),
                "need_share": round(float(row["need"]) / total_need, 4) if total_need > 0 else None,
                "has_picture": bool(row["has_picture"]),
                "reported": bool(row["reported"]),
                "covered": bool(row["covered"]),
                "floor": None if floor is None or pd.isna(floor) else int(floor),
                "current": int(row["current"]),
                "proposed": int(proposed[panel_id]),
                "change": int(proposed[panel_id] - row["current"]),
                "proportional": int(proportional[panel_id]),
                "shortfall": int(result.shortfall.get(panel_id, 0)),
                "marginal": round(float(result.marginal[panel_id]), 4),
                "reasons": list(expl.reasons) if expl else [],
                "text_sv": expl.text("sv") if expl else "",
                "text_en": expl.text("en") if expl else "",
            }
        )
    messages = list(result.messages)
    missing = [a["name"] for a in areas if not a["has_picture"]]
    if missing:
        messages.append(f"no problem picture (need 0) for: {', '.join(missing)}")
    unreported = [a["name"] for a in areas if not a["reported"]]
    if unreported:
        messages.append(f"no staffing reported (current 0) for: {', '.join(unreported)}")
    extra_officers = []
    if params.extra:
        # Where each new officer goes, in turn: the greedy continuation from today's allocation
        # (floors first, then the highest added coverage), which the proposal above re-optimises.
        today = allocation.allocate_officers(
            need, frame["residents"], int(current.sum()), current=current, max_change=0, **common
        )
        for step in today.marginal_officers(int(params.extra)).itertuples():
            extra_officers.append(
                {
                    "n": int(step.officer),
                    "panel_id": int(step.area),
                    "name": str(frame.loc[step.area, "name"]),
                    "value": round(float(step.value), 4),
                    "officers": int(step.officers),
                    "reason": "floor" if step.floor else "need",
                }
            )
    data = {
        "areas": areas,
        "available": int(available),
        "current_total": int(current.sum()),
        "proposed_total": int(proposed.sum()),
        "objective": float(result.objective),
        "robust_objective": getattr(result, "robust_objective", None),
        "floors_met": bool(result.floors_met),
        "shortfall": int(result.shortfall_total),
        "optimal": bool(result.optimal),
        "gap": float(result.gap),
        "status": str(result.status),
        "seconds": round(float(result.solve_seconds), 3),
        "messages": messages,
        "baselines": {
            name: {k: _plain(v) for k, v in b.items() if k != "officers"}
            for name, b in result.baselines.items()
        },
        "unallocated": int(result.unallocated),
        "turnover": None if result.turnover is None else int(result.turnover),
        "feasible": bool(result.feasible),
        "extra_officers": extra_officers,
        "synthetic": bool(frame["population_synthetic"].any()),
        "period": res.period.isoformat() if res.period else None,
        "ratio": res.ratio,
    }
    scenario = Scenario(
        org_unit=unit,
        name=name or _default_name(kind, params),
        kind=kind,
        period=res.period or date.today().replace(day=1),
        author=user if getattr(user, "is_authenticated", False) else None,
        author_name=getattr(user, "username", "") or "",
        created=timezone.now(),
        parameters={**params.as_dict(), "available": int(available), "max_change": max_change},
        result=data,
        example=example,
    )
    if save:
        scenario.save()
    return scenario


def _plain(value):
    """A baseline's figures as JSON-able values (NaN as None)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def _default_name(kind: str, params: Parameters) -> str:
    if kind == Scenario.Kind.EXTRA:
        return f"Nuvarande + {params.extra}"
    return f"Förslag, {params.available if params.available is not None else 'kapacitet'} områdespoliser"


@dataclass
class AreaPlan:
    """One area's weekly plan under a scenario: shifts, hours per block and hot-spot visits."""

    panel_id: int
    officers: int
    weekly_hours: float
    demand: np.ndarray | None
    hours: allocation.HoursAllocation | None
    visits: presence.PresencePlan | None
    messages: list[str]


def area_plan(scenario: Scenario, panel_id: int) -> AreaPlan:
    """The weekly hours plan and the hot-spot presence plan of one area of ``scenario``."""
    row = next((a for a in scenario.result.get("areas", []) if a["panel_id"] == panel_id), None)
    if row is None:
        raise KeyError(panel_id)
    per_officer = float(scenario.parameters.get("hours_per_officer") or settings.PRESENCE_HOURS_PER_OFFICER)
    weekly = row["proposed"] * per_officer
    picture = (
        AreaPicture.objects.filter(area__panel_id=panel_id)
        .values("data__hour_of_week", "data__space__forecast__cells")
        .first()
        or {}
    )
    demand = demand_of(picture.get("data__hour_of_week"))
    messages: list[str] = []
    if demand is None:
        demand_used = np.full(BLOCKS, 1.0 / BLOCKS)
        messages.append("no hour-of-week pattern in the area's picture: demand taken as even")
    else:
        demand_used = demand
    hours = None
    if weekly > 0:
        hours = allocation.allocate_hours(demand_used, weekly, shift_lengths=(8, 10))
        messages.extend(hours.messages)
    else:
        messages.append("no officers in the proposal: no shifts")
    visits = None
    cells = picture.get("data__space__forecast__cells") or []
    if hours is not None:
        if cells:
            scores = np.asarray([c["score"] for c in cells], float)
            visits = presence.presence_plan(scores, demand_used, np.asarray(hours.hours, float))
            messages.extend(visits.messages)
        else:
            messages.append("no forecast cells in the area's picture: no hot-spot plan")
    return AreaPlan(panel_id, int(row["proposed"]), weekly, demand, hours, visits, messages)


def summary(scenario: Scenario) -> dict:
    """The scenario as the CLI's and the API's JSON: officers per panel id, floors, objective, baselines.

    ``baselines`` gives the objective of proportional rounding and of the current allocation,
    so the proposal's gain can be read off directly.
    """
    result = scenario.result
    baselines = {
        name: (value.get("coverage") if isinstance(value, dict) else value)
        for name, value in result.get("baselines", {}).items()
    }
    return {
        "scenario": scenario.pk,
        "unit": scenario.org_unit.code,
        "period": scenario.period.isoformat(),
        "officers": {str(a["panel_id"]): a["proposed"] for a in result.get("areas", [])},
        "floors_met": result.get("floors_met"),
        "shortfall": result.get("shortfall"),
        "objective": result.get("objective"),
        "optimal": result.get("optimal"),
        "gap": result.get("gap"),
        "baselines": baselines,
        "baseline_shortfall": {
            name: value.get("shortfall_total")
            for name, value in result.get("baselines", {}).items()
            if isinstance(value, dict)
        },
        "available": result.get("available"),
        "current": {str(a["panel_id"]): a["current"] for a in result.get("areas", [])},
        "messages": result.get("messages", []),
    }
