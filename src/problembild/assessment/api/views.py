"""Read-only API of the assessment: the list diff (as the CLI prints it) and a round.

The diff's area lists are limited to the user's scope; a round shows the answers the user
may see (Noa: all). Every answer writes a VIEW entry to the access log.
"""

from django.http import Http404
from ninja import Router
from ninja.errors import HttpError

from problembild.areas.models import Area, AssessmentRound
from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.models import AccessLogEntry

from ..diff import list_diff
from ..rounds import agreement_by_region, objective_category
from ..views import get_round, is_noa, visible_answers
from .schemas import DiffOut, RoundOut

router = Router(tags=["assessment"])


@router.get(
    "/assessment/diff",
    response={200: DiffOut, 404: Message, 422: Message},
    summary="What changed from one list to the next (areas within your scope), ordered by severity",
)
def diff(request, from_year: int | None = None, to_year: int | None = None):
    """`added`, `removed`, `raised`, `lowered`, `unchanged`, `split`, `merged`: lists of areas
    (default: the two latest lists)."""
    years = list(AssessmentRound.objects.order_by("-year").values_list("year", flat=True)[:2])
    if from_year is None or to_year is None:
        if len(years) < 2:
            raise Http404("The register has fewer than two lists.")
        from_year, to_year = from_year or years[1], to_year or years[0]
    if not (1990 <= from_year <= 2100 and 1990 <= to_year <= 2100):
        raise HttpError(422, "from_year and to_year are list years between 1990 and 2100")
    try:
        result = list_diff(from_year, to_year, areas=Area.objects.for_user(request.user))
    except LookupError as exc:
        raise Http404(str(exc)) from None
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="areas.assessmentround",
        object_repr=f"list diff {from_year}-{to_year}",
    )  # fmt: skip
    return result.as_dict()


@router.get(
    "/assessment/rounds/{round_id}",
    response={200: RoundOut, 404: Message},
    summary="A round with the answers you may see, and (for Noa) the agreement per region",
)
def round_detail(request, round_id: int):
    rnd = get_round(round_id)
    log_request(request, AccessLogEntry.Action.VIEW, obj=rnd, object_repr=f"round {rnd}")
    answers = []
    for a in visible_answers(request, rnd):
        decision = getattr(a, "decision", None)
        answers.append(
            {
                "id": a.pk,
                "name": a.name,
                "panel_id": a.area.panel_id if a.area_id else None,
                "unit": a.org_unit.code,
                "status": a.status,
                "proposed_category": a.proposed_category,
                "direction": a.direction,
                "objective_category": objective_category(a),
                "decision": decision.category if decision else None,
                "reason": decision.reason if decision else "",
            }
        )
    return {
        "id": rnd.pk,
        "year": rnd.year,
        "status": rnd.status,
        "deadline": rnd.deadline,
        "cutoff": rnd.cutoff,
        "categories": rnd.criteria_set.categories,
        "answers": answers,
        "agreement": agreement_by_region(rnd) if is_noa(request.user) else None,
    }
