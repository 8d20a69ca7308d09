"""Read-only API of the resources: a unit's rule table and follow-up, and saved scenarios.

Scoped like every route: a foreign unit or scenario is 403 (and logged as denied); every
answer writes a VIEW entry to the access log.
"""

from __future__ import annotations

from django.http import Http404
from ninja import Query, Router
from ninja.errors import HttpError

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import query_schema
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible

from .. import follow
from ..filtersets import ResourcesFilterSet
from ..models import Scenario
from ..scenarios import summary
from .schemas import ScenarioOut, UnitResourcesOut

router = Router(tags=["resources"])

ResourcesQuery = query_schema(ResourcesFilterSet, "ResourcesQuery", exclude=("area",))


def _unit(request, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first() if "\x00" not in code else None
    if unit is None:
        raise Http404("No such org unit.")
    require_unit_visible(request.user, unit)
    return unit


@router.get(
    "/resources/units/{code}",
    response={200: UnitResourcesOut, 403: Message, 404: Message, 422: Message},
    summary="A unit's area officers against the 1-per-5,000 rule, protected time and presence vs demand",
)
def unit_resources(request, code: str, q: Query[ResourcesQuery]):  # type: ignore[valid-type]
    """Per area and per unit below `code`, for one month (`period=YYYY-MM`, default the latest with staffing)."""
    unit = _unit(request, code)
    areas = list(follow.area_queryset(unit))
    filters = ResourcesFilterSet(
        q.dict(exclude_none=True),
        Area.objects.none(),
        request=request,
        periods=follow.periods_for(areas),
        areas=areas,
    )
    if not filters.is_valid():
        raise HttpError(422, filters.error_detail())
    res = follow.unit_resources(
        unit, period=filters.month(), scope=filters.value("scope"), areas=areas, periods=filters.periods
    )
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (resources)")
    met, judged = res.lpo_share_met
    return {
        "code": unit.code,
        "name": unit.name,
        "period": res.period,
        "scope": res.scope,
        "residents_per_officer": res.ratio,
        "protected_time_threshold": res.threshold,
        "local_police_areas_met": met,
        "local_police_areas_judged": judged,
        "areas": [
            {
                "panel_id": r.area.panel_id,
                "name": r.area.name,
                "local_police_area": r.area.org_unit.name,
                "category": r.category,
                "residents": r.residents,
                "population_synthetic": r.population_synthetic,
                "officers": r.officers,
                "fte": r.staffing.fte if r.staffing else None,
                "required": r.required,
                "shortfall": r.shortfall,
                "status": r.status,
                "protected_share": r.protected_share,
                "protected_flag": r.protected_flag,
                "presence_in_top": r.presence_demand.presence_in_top if r.presence_demand else None,
                "demand_in_top": r.presence_demand.demand_in_top if r.presence_demand else None,
                "alignment": r.presence_demand.alignment if r.presence_demand else None,
                "example": bool(r.staffing and r.staffing.example),
            }
            for r in res.rows
        ],
        "units": [
            {
                "code": u.unit.code,
                "name": u.unit.name,
                "kind": u.unit.kind,
                "areas": u.areas,
                "met": u.met,
                "not_met": u.not_met,
                "unknown": u.unknown,
                "residents": u.residents,
                "officers": u.officers,
                "required": u.required,
                "shortfall": u.shortfall,
                "aggregate_met": u.aggregate_met,
            }
            for u in res.rollups
        ],
    }


def scenario_out(scenario: Scenario) -> dict:
    data = summary(scenario)
    return {
        **data,
        "id": scenario.pk,
        "name": scenario.name,
        "kind": scenario.kind,
        "author": scenario.author_name,
        "created": scenario.created,
        "example": scenario.example,
        "parameters": scenario.parameters,
        "areas": scenario.result.get("areas", []),
    }


@router.get(
    "/resources/units/{code}/scenarios",
    response={200: list[ScenarioOut], 403: Message, 404: Message},
    summary="The unit's saved allocation scenarios, newest first",
)
def unit_scenarios(request, code: str):
    unit = _unit(request, code)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (scenarios)")
    return [scenario_out(s) for s in Scenario.objects.filter(org_unit=unit).select_related("org_unit")[:50]]


@router.get(
    "/resources/scenarios/{scenario_id}",
    response={200: ScenarioOut, 403: Message, 404: Message},
    summary="One saved allocation scenario with its reasons per area",
)
def scenario_detail(request, scenario_id: int):
    scenario = Scenario.objects.select_related("org_unit").filter(pk=scenario_id).first()
    if scenario is None:
        raise Http404("No such scenario.")
    require_unit_visible(request.user, scenario.org_unit)
    log_request(request, AccessLogEntry.Action.VIEW, obj=scenario)
    return scenario_out(scenario)
