"""The follow-up rules of a unit's resources: 1 per 5,000, protected time, presence vs demand.

:func:`unit_resources` gathers, for the areas under an org unit and one month, what the
rules need (population, category, staffing, the problem picture's need and hour-of-week
pattern) and evaluates them with :mod:`problembild.analysis` (``officers``, ``presence``).
Pages, exports, the API and the allocation CLI all read this one result.

The rule of one area officer per 5,000 residents is checked per area and summed per unit.
A local police area meets it when its area officers together are at least the officers its
vulnerable areas' residents require together: Riksrevisionen (RiR 2020:20) counted it that
way when it found the decision unmet in about a third of the local police areas with such
areas. Which categories the rule covers and the ratio are settings
(``OFFICER_RULE_CATEGORIES``, ``RESIDENTS_PER_OFFICER``); a page may narrow the scope to
särskilt utsatta områden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Prefetch

from problembild.analysis import presence
from problembild.analysis.need import load_weights
from problembild.analysis.officers import officer_requirement
from problembild.areas.models import PREFERRED_POPULATION_ORDER, Area, Population
from problembild.core.models import OrgUnit
from problembild.picture.models import AreaPicture

from .models import Capacity, Staffing

#: The category the narrow scope keeps.
SPECIAL = "särskilt utsatt område"
#: Scopes of the rule a page may choose: the settings' categories, or särskilt utsatta only.
SCOPES = ("settings", "special")
#: Riksrevisionen's finding (RiR 2020:20): about a third of the local police areas with
#: vulnerable areas did not reach one area officer per 5,000 residents.
RIKSREVISIONEN_SHARE_MET = 2 / 3

MET, NOT_MET, UNKNOWN, NOT_COVERED = "met", "not_met", "unknown", "not_covered"


def rule_categories(scope: str = "settings") -> tuple[str, ...]:
    """The categories the 1-per-5,000 rule covers in ``scope``."""
    if scope == "special":
        return (SPECIAL,)
    return tuple(settings.OFFICER_RULE_CATEGORIES)


@dataclass
class AreaResources:
    """One area's figures for the month: staffing, the rule, protected time, presence vs demand."""

    area: Area
    category: str | None
    residents: int | None
    population_synthetic: bool
    staffing: Staffing | None
    need: float | None  # harm-weighted incidents in the picture's twelve months
    need_index: float | None  # the same per 1,000 residents
    demand: np.ndarray | None  # 168 shares, None without a picture
    covered: bool  # the rule applies to the area's category
    required: int | None = None
    shortfall: float | None = None
    status: str = UNKNOWN
    protected_share: float | None = None
    protected_flag: bool = False
    presence_demand: presence.PresenceDemand | None = None

    @property
    def officers(self) -> int | None:
        return self.staffing.officers if self.staffing else None

    @property
    def lpo(self) -> OrgUnit:
        return self.area.org_unit


@dataclass
class Rollup:
    """The rule summed over one org unit's covered areas."""

    unit: OrgUnit
    areas: int = 0  # covered areas
    met: int = 0
    not_met: int = 0
    unknown: int = 0
    residents: int = 0
    officers: int = 0
    required: int = 0
    shortfall: int = 0  # officers short, area by area
    aggregate_met: bool | None = None  # the unit's officers >= what its residents require together

    @property
    def share_met(self) -> float | None:
        known = self.met + self.not_met
        return self.met / known if known else None


@dataclass
class UnitResources:
    unit: OrgUnit
    period: date | None
    periods: list[date]
    scope: str
    ratio: int
    rows: list[AreaResources]
    rollups: list[Rollup] = field(default_factory=list)
    capacity: Capacity | None = None
    next_capacity: Capacity | None = (
        None  # the first month after ``period`` with capacity: what a plan is for
    )
    threshold: float = 0.8

    @property
    def covered(self) -> list[AreaResources]:
        return [r for r in self.rows if r.covered]

    @property
    def lpo_rollups(self) -> list[Rollup]:
        return [r for r in self.rollups if r.unit.kind == OrgUnit.Kind.LOCAL_POLICE_AREA and r.areas]

    @property
    def lpo_share_met(self) -> tuple[int, int]:
        """Local police areas meeting the rule (counted as Riksrevisionen did) and those judged."""
        judged = [r for r in self.lpo_rollups if r.aggregate_met is not None]
        return sum(1 for r in judged if r.aggregate_met), len(judged)

    @property
    def totals(self) -> Rollup | None:
        return next((r for r in self.rollups if r.unit.pk == self.unit.pk), None)

    def presence_total(self) -> np.ndarray | None:
        """Actual presence summed over the areas (168 hours), None when none reported."""
        profiles = [r.staffing.actual for r in self.rows if r.staffing and r.staffing.actual]
        return np.sum(np.asarray(profiles, dtype=float), axis=0) if profiles else None

    def demand_total(self) -> np.ndarray | None:
        """Demand shares weighted by each area's need (168, summing to 1), None without pictures."""
        parts = [r.demand * (r.need or 0.0) for r in self.rows if r.demand is not None and r.need]
        if not parts:
            return None
        total = np.sum(parts, axis=0)
        return total / total.sum() if total.sum() > 0 else None


def periods_for(areas) -> list[date]:
    """Months with staffing for any of ``areas``, newest first."""
    return sorted(
        set(Staffing.objects.filter(area__in=areas).values_list("period", flat=True).distinct()), reverse=True
    )


def area_queryset(unit: OrgUnit):
    """The unit's current areas, with their category, unit chain and populations."""
    return (
        Area.objects.filter(org_unit__in=unit.descendants())
        .current()
        .with_current_category()
        .select_related("org_unit__parent__parent__parent")
        .prefetch_related(
            Prefetch("population", queryset=Population.objects.order_by(*PREFERRED_POPULATION_ORDER))
        )
        .order_by("name")
    )


def picture_inputs(area_ids: list[int]) -> dict[int, dict]:
    """Need and hour-of-week counts from the cached pictures (without the heavy map cells)."""
    return {
        row["area_id"]: row
        for row in AreaPicture.objects.filter(area_id__in=area_ids).values(
            "area_id", "need_index", "data__need", "data__hour_of_week"
        )
    }


_WEIGHTS: dict[str, object] = {}


def harm_weights():
    """The harm weights of the need index (the settings' file, read once per process)."""
    path = str(settings.HARM_WEIGHTS_FILE)
    if path not in _WEIGHTS:
        _WEIGHTS[path] = load_weights(path)
    return _WEIGHTS[path]


def demand_of(hour_of_week: dict | None) -> np.ndarray | None:
    """An area's demand by hour of week (168 shares) from its picture's counts; None if empty."""
    if not hour_of_week:
        return None
    counts = {code: grid for code, grid in hour_of_week.items() if code != "all"}
    if not counts:
        return None
    weights = harm_weights().weights
    if presence.demand_is_empty(counts, weights):
        return None
    # One area's year of counts is sparse by the hour: a three-hour window steadies it.
    return presence.demand_profile(counts, weights, smooth=1)


def unit_resources(
    unit: OrgUnit,
    *,
    period: date | None = None,
    scope: str = "settings",
    ratio: int | None = None,
    threshold: float | None = None,
    areas: list[Area] | None = None,
    periods: list[date] | None = None,
) -> UnitResources:
    """Everything the resources page shows for ``unit`` in ``period`` (default: the latest month).

    ``areas`` and ``periods`` (:func:`area_queryset`, :func:`periods_for`) may be passed when the
    caller has read them already, e.g. to build the page's filters.
    """
    ratio = int(ratio or settings.RESIDENTS_PER_OFFICER)
    threshold = float(settings.PROTECTED_TIME_THRESHOLD if threshold is None else threshold)
    areas = list(area_queryset(unit)) if areas is None else areas
    periods = periods_for(areas) if periods is None else periods
    if period is None and periods:
        period = periods[0]
    staffing = (
        {s.area_id: s for s in Staffing.objects.filter(area__in=areas, period=period)} if period else {}
    )
    pictures = picture_inputs([a.pk for a in areas])
    categories = set(rule_categories(scope))
    rows: list[AreaResources] = []
    for area in areas:
        pops = list(area.population.all())
        pic = pictures.get(area.pk, {})
        need_doc = pic.get("data__need") or {}
        rows.append(
            AreaResources(
                area=area,
                category=area.current_category,
                residents=pops[0].residents if pops else None,
                population_synthetic=bool(pops and pops[0].synthetic),
                staffing=staffing.get(area.pk),
                need=need_doc.get("weighted_total"),
                need_index=pic.get("need_index"),
                demand=demand_of(pic.get("data__hour_of_week")),
                covered=area.current_category in categories,
            )
        )
    _apply_rule(rows, ratio)
    _apply_protected_time(rows, threshold)
    _apply_presence(rows)
    capacity = Capacity.objects.filter(org_unit=unit, period=period).first() if period else None
    coming = Capacity.objects.filter(org_unit=unit).order_by("period")
    next_capacity = (coming.filter(period__gt=period) if period else coming).first()
    result = UnitResources(
        unit=unit,
        period=period,
        periods=periods,
        scope=scope,
        ratio=ratio,
        rows=rows,
        capacity=capacity,
        next_capacity=next_capacity,
        threshold=threshold,
    )
    result.rollups = rollups(unit, rows, ratio)
    return result


def _apply_rule(rows: list[AreaResources], ratio: int) -> None:
    if not rows:
        return
    index = pd.RangeIndex(len(rows))
    residents = pd.Series([np.nan if r.residents is None else r.residents for r in rows], index=index)
    officers = pd.Series([np.nan if r.officers is None else r.officers for r in rows], index=index)
    table = officer_requirement(residents, officers, residents_per_officer=ratio)
    for i, row in enumerate(rows):
        if not row.covered:
            row.status = NOT_COVERED
            continue
        required = table["required"].iloc[i]
        row.required = None if pd.isna(required) else int(required)
        if not bool(table["available"].iloc[i]):
            row.status = UNKNOWN
            continue
        gap = float(table["gap"].iloc[i])
        row.shortfall = max(gap, 0.0)
        row.status = MET if bool(table["meets_rule"].iloc[i]) else NOT_MET


def _apply_protected_time(rows: list[AreaResources], threshold: float) -> None:
    reported = [r for r in rows if r.staffing and r.staffing.actual and r.staffing.hours_outside is not None]
    if not reported:
        return
    inside = [r.staffing.hours_in_area for r in reported]
    total = [r.staffing.hours_in_area + r.staffing.hours_outside for r in reported]
    table = presence.protected_time(inside, total, threshold=threshold)
    for row, share, flag in zip(reported, table["share"], table["flag"], strict=True):
        row.protected_share = None if pd.isna(share) else float(share)
        row.protected_flag = bool(flag)


def _apply_presence(rows: list[AreaResources]) -> None:
    for row in rows:
        if row.demand is not None and row.staffing and row.staffing.actual and sum(row.staffing.actual) > 0:
            row.presence_demand = presence.presence_vs_demand(
                np.asarray(row.staffing.actual, float), row.demand
            )


def rollups(unit: OrgUnit, rows: list[AreaResources], ratio: int) -> list[Rollup]:
    """The rule summed over ``unit`` and every unit below it that has covered areas (path order)."""
    by_unit: dict[int, Rollup] = {}
    units: dict[int, OrgUnit] = {}
    for row in rows:
        if not row.covered:
            continue
        chain = [row.lpo]
        node = row.lpo.parent
        while node is not None and unit.contains(node):
            chain.append(node)
            node = node.parent
        for u in chain:
            units[u.pk] = u
            roll = by_unit.setdefault(u.pk, Rollup(unit=u))
            roll.areas += 1
            if row.status == MET:
                roll.met += 1
            elif row.status == NOT_MET:
                roll.not_met += 1
            else:
                roll.unknown += 1
            roll.residents += row.residents or 0
            roll.officers += row.officers or 0
            roll.required += row.required or 0
            roll.shortfall += math.ceil(row.shortfall or 0)
    for roll in by_unit.values():
        # Judged only when every covered area has both figures: a missing count is not a zero.
        if roll.unknown == 0 and roll.areas:
            roll.aggregate_met = roll.officers >= math.ceil(roll.residents / ratio)
    return sorted(by_unit.values(), key=lambda r: r.unit.path)
