"""Read-only API of the follow-up: strategy status, documents, activities and quarterly reports.

Scoped like every route (a foreign unit or area is 403 and logged as denied); every answer
writes a VIEW entry. The intelligence assessment is never in the API.
"""

from datetime import date

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.pagination import paginate

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import filter_or_422, query_schema
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible
from problembild.picture.api.views import Pages

from ..filtersets import ActivityFilterSet
from ..measures import GoalStatus, strategy_status
from ..models import Activity, PictureDocument
from ..report import quarterly_report
from .schemas import ActivityOut, DocumentOut, ReportOut, StrategyOut

router = Router(tags=["follow-up"])

ActivityQuery = query_schema(ActivityFilterSet, "ActivityQuery")


def _unit(request, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first() if "\x00" not in code else None
    if unit is None:
        raise Http404("No such org unit.")
    require_unit_visible(request.user, unit)
    return unit


def _goal(g: GoalStatus) -> dict:
    return {
        "code": g.goal.code,
        "title": g.goal.title,
        "measures": [
            {
                "code": m.measure.code,
                "title": m.measure.title,
                "kind": m.measure.kind,
                "direction": m.measure.direction,
                "status": m.status.status if m.status else "no_target",
                "actual": m.actual,
                "expected": m.status.expected if m.status else None,
                "baseline": m.baseline,
                "target": m.status.target if m.status else None,
                "target_year": m.target.target_year if m.target else None,
                "target_unit": m.target.org_unit.code if m.target else None,
                "tolerance": m.target.tolerance if m.target else None,
            }
            for m in g.measures
        ],
        "subgoals": [_goal(s) for s in g.subgoals],
    }


@router.get(
    "/followup/strategy/{code}",
    response={200: StrategyOut, 403: Message, 404: Message},
    summary="The strategy's goals with each measure's status for a unit",
)
def strategy(request, code: str):
    unit = _unit(request, code)
    today = timezone.localdate()
    as_of = date(today.year, today.month, 1)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (strategy status)")
    return {"unit": unit.code, "as_of": as_of, "goals": [_goal(g) for g in strategy_status(unit, as_of)]}


@router.get(
    "/followup/areas/{panel_id}/documents/{year}",
    response={200: DocumentOut, 403: Message, 404: Message},
    summary="An area's problem picture document for a year (without the intelligence assessment)",
)
def document(request, panel_id: int, year: int):
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    doc = PictureDocument.objects.filter(area=area, year=year).first()
    if doc is None:
        raise Http404("No problem picture document for this area and year.")
    log_request(request, AccessLogEntry.Action.VIEW, obj=doc)
    return {
        "panel_id": area.panel_id,
        "area": area.name,
        **{
            f: getattr(doc, f)
            for f in (
                "year",
                "version",
                "status",
                "example",
                "updated_at",
                "summary",
                "dialogue",
                "challenges",
                "measures",
                "resources_plan",
            )
        },
        "priorities": list(
            doc.priorities.values("rank", "title", "description", "indicators", "hot_spots", "assessment")
        ),
        "promises": list(
            doc.promises.values("commitment", "owners", "deadline", "status", "feedback", "feedback_date")
        ),
    }


@router.get(
    "/followup/activities",
    response={200: list[ActivityOut], 403: Message, 422: Message},
    summary="Activities in your areas",
)
@paginate(Pages)
def activities(request, filters: Query[ActivityQuery]):  # type: ignore[valid-type]
    base = Activity.objects.for_user(request.user).select_related("area", "method", "priority", "promise")
    qs = filter_or_422(ActivityFilterSet(filters.dict(exclude_none=True), base, request=request))
    log_request(request, AccessLogEntry.Action.VIEW, object_type="followup.activity", object_repr="api list")
    # A queryset, so that the paginator slices in the database.
    return qs.order_by("-date", "area__name", "pk")


@router.get(
    "/followup/units/{code}/reports/{quarter}",
    response={200: ReportOut, 403: Message, 404: Message, 422: Message},
    summary="A unit's quarterly follow-up (as known at the quarter's end)",
)
def report(request, code: str, quarter: str):
    unit = _unit(request, code)
    try:
        data = quarterly_report(unit, quarter)
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    log_request(
        request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (quarterly report {quarter})"
    )
    return data
