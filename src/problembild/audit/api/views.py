"""Read-only API of the audit follow-up: the measures in your scope and their status on a date.

Scoped like every route (a measure outside the user's org unit is 403, logged as denied);
every answer writes a VIEW entry to the access log.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router
from ninja.errors import HttpError

from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import query_schema
from problembild.core.models import AccessLogEntry

from ..filtersets import AuditFilterSet
from ..models import Measure
from ..status import states, summarise
from ..views import measure_rows, measure_states
from .schemas import AuditStatusOut, MeasureOut

router = Router(tags=["audit"])

AuditQuery = query_schema(AuditFilterSet, "AuditQuery")


def measure_out(row: dict) -> dict:
    return {
        "id": row["pk"],
        "title": row["title"],
        "report": row["report"],
        "recommendation": row["recommendation_number"],
        "owner": row["owner_code"],
        "responsible_role": row["role_code"],
        "deadline": row["deadline"],
        "status": row["status"],
        "accepted": row["accepted"],
        "days_overdue": row["days_overdue"],
        "evidence": row["evidence"],
    }


@router.get(
    "/audit/status",
    response={200: AuditStatusOut, 422: Message},
    summary="The measures in your scope per status on a date (`on`, default today), with each measure",
)
def audit_status(request, q: Query[AuditQuery]):  # type: ignore[valid-type]
    filters = AuditFilterSet(q.dict(exclude_none=True), Measure.objects.none(), request=request)
    if not filters.is_valid():
        raise HttpError(422, filters.error_detail())
    rows, on = measure_states(request, filters)
    summary = summarise(rows, on)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="audit.measure", object_repr=f"audit status {on}"
    )
    return {**summary.as_dict(), "measures": [measure_out(r) for r in measure_rows(rows)]}


@router.get(
    "/audit/measures/{measure_id}",
    response={200: MeasureOut, 403: Message, 404: Message},
    summary="One measure as it stands now",
)
def audit_measure(request, measure_id: int):
    if not Measure.objects.filter(pk=measure_id).exists():
        raise Http404("No such measure.")
    scoped = Measure.objects.for_user(request.user).filter(pk=measure_id)
    if not scoped.exists():
        raise PermissionDenied("This measure is outside your organisational scope.")
    rows = states(scoped)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="audit.measure", object_repr=f"measure {measure_id}"
    )
    return measure_out(measure_rows(rows)[0])
