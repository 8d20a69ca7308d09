"""Read-only API of competence: a person's gaps, a unit's gaps and coverage, training plans.

Scoped like every route: a foreign unit, person or plan is 403 (and logged as denied);
every answer writes a VIEW entry to the access log. Per-person figures go to HR and the
managers of the unit (and to the person themself); Noa reads the counts.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router
from ninja.errors import HttpError

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import query_schema
from problembild.core.models import AccessLogEntry, OrgUnit

from .. import access
from ..filtersets import CompetenceFilterSet, DateFilterSet
from ..models import Staff, TrainingPlan
from ..standing import by_competence, by_person, by_unit, coverage, person_gaps, staff_in, standing
from .schemas import PersonOut, PlanOut, UnitCompetenceOut

router = Router(tags=["competence"])

CompetenceQuery = query_schema(CompetenceFilterSet, "CompetenceQuery")
DateQuery = query_schema(DateFilterSet, "CompetenceDateQuery")


def _filters(request, q, filterset=CompetenceFilterSet):
    filters = filterset(q.dict(exclude_none=True), Staff.objects.none(), request=request)
    if not filters.is_valid():
        raise HttpError(422, filters.error_detail())
    return filters


@router.get(
    "/competence/staff/{pseudonym}",
    response={200: PersonOut, 403: Message, 404: Message, 422: Message},
    summary="One person's levels and gaps against the role profile in force",
)
def person(request, pseudonym: str, q: Query[DateQuery]):  # type: ignore[valid-type]
    """The gap list of `pseudonym` on `on` (default today): yours, or in your unit for HR and managers."""
    found = Staff.objects.select_related("org_unit", "area").filter(pseudonym=pseudonym).first()
    if found is None:
        raise Http404("No such person.")
    if not access.may_read_person(request.user, found):
        raise PermissionDenied("Your role does not read this person's competence.")
    on = _filters(request, q, DateFilterSet).date()
    st, rows = person_gaps(found, on)
    profile = st.profiles.get(found.role)
    log_request(request, AccessLogEntry.Action.VIEW, obj=found, object_repr=f"competence {found.pseudonym}")
    return {
        "id": found.pseudonym,
        "role": found.role,
        "unit": found.org_unit.code,
        "area": found.area.panel_id if found.area_id else None,
        "on": on,
        "profile_version": profile.version if profile else None,
        "meets": bool(st.meets[0]),
        "gap_levels": int(st.gaps.sum()),
        "gaps": [
            {
                "competence": r["code"],
                "name": r["competence"],
                "required": r["required"],
                "level": r["current"],
                "assessed": r["assessed"],
                "assessed_on": r["assessed_on"],
                "certified": r["certified"],
                "gap": r["gap"],
                "expiring": r["expiring"],
            }
            for r in rows
        ],
        "certificates": [
            {
                "course": c.course.code,
                "completed": c.completed,
                "expires": c.expires,
                "state": c.expiry_state(on),
            }
            for c in found.completions.select_related("course")
        ],
        "example": found.example,
    }


@router.get(
    "/competence/units/{code}",
    response={200: UnitCompetenceOut, 403: Message, 404: Message, 422: Message},
    summary="A unit's competence gaps per competence and unit below, and coverage per vulnerable area",
)
def unit(request, code: str, q: Query[CompetenceQuery]):  # type: ignore[valid-type]
    """Counts for every report role; the per-person list for HR and the unit's managers only."""
    found = OrgUnit.objects.filter(code=code).first() if "\x00" not in code else None
    if found is None:
        raise Http404("No such org unit.")
    access.require_reports(request.user, found)
    filters = _filters(request, q)
    on, role = filters.date(), filters.value("role") or None
    st = standing(staff_in(found, role=role), on)
    areas = list(Area.objects.filter(org_unit__in=found.descendants()).current().with_current_category())
    cov = coverage(areas, st if role is None else standing(staff_in(found), on))
    people = by_person(st) if access.in_scope(request.user, access.PEOPLE_ROLES, found) else None
    codes = [c.code for c in st.competences]
    log_request(request, AccessLogEntry.Action.VIEW, obj=found, object_repr=f"{found} (competence)")
    return {
        "code": found.code,
        "name": found.name,
        "on": on,
        "role": role,
        "staff": len(st.staff),
        "meets": int(st.meets.sum()),
        "competences": [
            {
                "competence": r.competence.code,
                "name": r.competence.name,
                "required": r.required,
                "lacking": r.lacking,
                "gap_levels": r.gap_levels,
            }
            for r in by_competence(st)
        ],
        "units": [
            {
                "code": u.unit.code,
                "name": u.unit.name,
                "staff": u.staff,
                "meets": u.meets,
                "gap_levels": u.gap_levels,
                "lacking": dict(zip(codes, u.lacking, strict=True)),
            }
            for u in by_unit(found, st)
        ],
        "coverage": [
            {
                "panel_id": c.area.panel_id,
                "name": c.area.name,
                "category": c.category,
                "covered": c.covered,
                "roles": {r: {"serving": v.serving, "meeting": v.meeting} for r, v in c.roles.items()},
            }
            for c in cov
        ],
        "people": None
        if people is None
        else [
            {
                "id": p.staff.pseudonym,
                "role": p.staff.role,
                "unit": p.staff.org_unit.code,
                "area": p.staff.area.panel_id if p.staff.area_id else None,
                "meets": p.meets,
                "gap_levels": p.gap_levels,
                "lacking": p.lacking,
            }
            for p in people
        ],
        "example": any(s.example for s in st.staff),
    }


def plan_out(request, plan: TrainingPlan) -> dict:
    r = plan.result
    people = access.in_scope(request.user, access.PEOPLE_ROLES, plan.org_unit)
    return {
        "id": plan.pk,
        "name": plan.name,
        "unit": plan.org_unit.code,
        "period": plan.period,
        "author": plan.author_name,
        "created": plan.created,
        "example": plan.example,
        "gap_closed": r["gap_closed"],
        "gap_total": r["gap_total"],
        "baselines": r["baselines"],
        "places": r["places"],
        "cost": r["cost"],
        "optimal": r["optimal"],
        "gap": r["gap"],
        "courses": r["courses"],
        "assignments": r["assignments"] if people else None,
    }


@router.get(
    "/competence/units/{code}/plans",
    response={200: list[PlanOut], 403: Message, 404: Message},
    summary="The unit's saved training plans, newest first",
)
def unit_plans(request, code: str):
    found = OrgUnit.objects.filter(code=code).first() if "\x00" not in code else None
    if found is None:
        raise Http404("No such org unit.")
    access.require_reports(request.user, found)
    log_request(request, AccessLogEntry.Action.VIEW, obj=found, object_repr=f"{found} (training plans)")
    return [
        plan_out(request, p)
        for p in TrainingPlan.objects.filter(org_unit=found).select_related("org_unit")[:50]
    ]


@router.get(
    "/competence/plans/{plan_id}",
    response={200: PlanOut, 403: Message, 404: Message},
    summary="One training plan with the baselines it is compared with",
)
def plan_detail(request, plan_id: int):
    plan = TrainingPlan.objects.select_related("org_unit").filter(pk=plan_id).first()
    if plan is None:
        raise Http404("No such training plan.")
    access.require_reports(request.user, plan.org_unit)
    log_request(request, AccessLogEntry.Action.VIEW, obj=plan)
    return plan_out(request, plan)
