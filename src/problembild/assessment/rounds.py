"""The round's steps: open, fill in the objective indicators, submit, decide, publish; agreement.

Each step checks what it needs and raises :class:`RoundError` with a message for the page;
who may take it is the views' concern.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import shapely
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from problembild.analysis.agreement import agreement
from problembild.areas.geometry import sweref_to_geojson, wgs84_to_sweref
from problembild.areas.models import Area, AssessmentRound, Classification
from problembild.picture.models import IndicatorValue

from .models import NOT_LISTED, Answer, CriteriaSet, Criterion, Decision, Round, SocioValue


class RoundError(ValueError):
    """A step that cannot be taken now; the message says why."""


def _months_back(day: date, months: int) -> date:
    month = day.month - 1 - months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _count(area: Area, indicator: str, start: date, end: date) -> int | None:
    rows = IndicatorValue.objects.filter(
        area=area, indicator=indicator, period="month", period_start__gte=start, period_start__lt=end
    )
    found = rows.aggregate(n=Sum("count"), months=Count("pk"))
    return None if not found["months"] or found["months"] < 12 else int(found["n"] or 0)


def objective_value(criterion: Criterion, area: Area | None, cutoff: date) -> float | None:
    """The criterion's value for ``area`` on the cut-off date (None when the data do not cover it)."""
    if area is None or criterion.kind != Criterion.Kind.OBJECTIVE:
        return None
    end = date(cutoff.year, cutoff.month, 1)
    if criterion.source == Criterion.Source.SOCIO:
        row = (
            SocioValue.objects.filter(area=area, measure=criterion.measure, year__lte=cutoff.year)
            .order_by("-year")
            .first()
        )
        return row.value if row else None
    now = _count(area, criterion.measure, _months_back(end, 12), end)
    if now is None:
        return None
    if criterion.source == Criterion.Source.PICTURE_RATE:
        pop = area.latest_population()
        return now / pop.residents * 1000 if pop and pop.residents else None
    before = _count(area, criterion.measure, _months_back(end, 24), _months_back(end, 12))
    return (now - before) / before * 100 if before else None


def fill_objective(answer: Answer) -> None:
    """The answer's objective indicators at the round's cut-off: value and whether the threshold is met."""
    values = {}
    for criterion in answer.round.criteria_set.criteria.filter(kind=Criterion.Kind.OBJECTIVE):
        value = objective_value(criterion, answer.area, answer.round.cutoff)
        values[criterion.code] = {
            "value": None if value is None else round(value, 3),
            "met": criterion.met(value),
        }
    answer.objective = values


def objective_category(answer: Answer) -> str | None:
    """What the objective criteria alone give for the answer (None when none could be judged)."""
    judged = [v["met"] for v in answer.objective.values() if v.get("met") is not None]
    return answer.round.criteria_set.objective_category(sum(judged), len(judged))


@transaction.atomic
def open_round(
    criteria_set: CriteriaSet, *, deadline: date, cutoff: date, user=None, example: bool = False
) -> Round:
    """Open a round: one draft answer per area of the latest list, for its local police area."""
    if Round.objects.filter(year=criteria_set.year, status=Round.Status.OPEN).exists():
        raise RoundError(f"a round for {criteria_set.year} is already open")
    if deadline < timezone.localdate() and not example:
        raise RoundError("the deadline has passed")
    rnd = Round.objects.create(
        criteria_set=criteria_set,
        year=criteria_set.year,
        deadline=deadline,
        cutoff=cutoff,
        opened_by=user.get_username() if user is not None else "",
        example=example,
    )
    latest = AssessmentRound.latest()
    areas = Area.objects.filter(classifications__round=latest).select_related("org_unit") if latest else []
    for area in areas:
        answer = Answer(round=rnd, org_unit=area.org_unit, area=area)
        fill_objective(answer)
        answer.save()
    return rnd


def propose_area(rnd: Round, org_unit, *, name: str, boundary: str) -> Answer:
    """A proposed new area with its boundary (GeoJSON in WGS84: a Polygon or MultiPolygon, or a Feature)."""
    if rnd.read_only:
        raise RoundError("the round is closed")
    if not name.strip():
        raise RoundError("give the new area a name")
    shape = parse_boundary(boundary)
    answer = Answer(
        round=rnd,
        org_unit=org_unit,
        proposed_name=name.strip(),
        boundary=json.dumps(shapely.geometry.mapping(shape)),
    )
    fill_objective(answer)
    answer.save()
    return answer


def parse_boundary(text: str) -> shapely.Geometry:
    """A valid (multi)polygon in WGS84 from GeoJSON text; RoundError says what is wrong."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise RoundError(f"the boundary is not GeoJSON: {exc}") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise RoundError("the boundary must hold exactly one polygon")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    try:
        shape = shapely.geometry.shape(data)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise RoundError(f"the boundary is not a GeoJSON geometry: {exc}") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty:
        raise RoundError(f"the boundary must be a polygon, not {shape.geom_type}")
    minx, miny, maxx, maxy = shape.bounds
    if not (minx >= 10.0 and maxx <= 25.0 and miny >= 55.0 and maxy <= 69.5):
        raise RoundError("the boundary lies outside Sweden (give longitude and latitude, WGS84)")
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    return shape


def submit(answer: Answer, user) -> None:
    """Hand the answer in: every matrix question answered, a direction and a proposed category given."""
    rnd = answer.round
    if rnd.read_only:
        raise RoundError("the round is closed")
    missing = [
        c.title
        for c in rnd.criteria_set.criteria.filter(kind=Criterion.Kind.MATRIX)
        if c.code not in answer.matrix
    ]
    problems = []
    if missing:
        problems.append("answer " + ", ".join(missing))
    if not answer.direction:
        problems.append("state the direction of development")
    if answer.proposed_category not in [*rnd.criteria_set.categories, NOT_LISTED] or (
        not answer.proposed_category and answer.area_id is None
    ):
        problems.append("propose a category")
    if problems:
        raise RoundError("; ".join(problems))
    answer.status = Answer.Status.SUBMITTED
    answer.submitted = timezone.now()
    answer.submitted_by = user.get_username()
    answer.save()


def needs_reason(answer: Answer, category: str) -> list[str]:
    """Why a decision of ``category`` needs a written reason (empty: it does not)."""
    why = []
    if category != answer.proposed_category:
        why.append("differs from the local proposal")
    objective = objective_category(answer)
    if objective is not None and category != objective:
        why.append("differs from what the objective criteria alone give")
    return why


def decide(answer: Answer, category: str, reason: str, user) -> Decision:
    """Noa's category for a submitted answer (a reason where :func:`needs_reason` says so)."""
    rnd = answer.round
    if rnd.read_only:
        raise RoundError("the round is decided; it is read-only")
    if answer.status != Answer.Status.SUBMITTED and rnd.deadline >= timezone.localdate():
        # After the deadline Noa decides also where no answer came in.
        raise RoundError(f"{answer.name} has not been submitted (and the deadline has not passed)")
    if category not in [*rnd.criteria_set.categories, NOT_LISTED]:
        raise RoundError(f"unknown category {category!r} for {rnd.year}")
    why = needs_reason(answer, category)
    if why and not reason.strip():
        raise RoundError(f"write a reason: the decision {' and '.join(why)}")
    decision, _ = Decision.objects.update_or_create(
        answer=answer,
        defaults={
            "category": category,
            "reason": reason.strip(),
            "decided_by": user if getattr(user, "is_authenticated", False) else None,
            "decided_by_name": user.get_username(),
            "decided": timezone.now(),
        },
    )
    return decision


@transaction.atomic
def publish(rnd: Round, user) -> AssessmentRound:
    """Make the decided round the new list: a register round, new areas with their boundaries."""
    if rnd.status == Round.Status.PUBLISHED:
        raise RoundError("the round is already published")
    undecided = [a.name for a in rnd.answers.filter(decision__isnull=True)]
    if undecided:
        raise RoundError("decide every answer first: " + ", ".join(undecided[:10]))
    if AssessmentRound.objects.filter(year=rnd.year).exists():
        raise RoundError(f"the register already has a list for {rnd.year}")
    register = AssessmentRound.objects.create(
        year=rnd.year,
        categories=rnd.criteria_set.categories,
        source=f"Problembild, bedömningsomgång {rnd.pk}",
    )
    next_id = (Area.objects.aggregate(m=Max("panel_id"))["m"] or 0) + 1
    for answer in rnd.answers.select_related("decision", "area", "org_unit"):
        if not answer.decision.category:
            continue
        area = answer.area
        if area is None:
            shape = wgs84_to_sweref(shapely.geometry.shape(json.loads(answer.boundary)))
            area = Area.objects.create(
                panel_id=next_id,
                name=answer.proposed_name,
                org_unit=answer.org_unit,
                geometry=shapely.to_wkb(shape),
                geojson=sweref_to_geojson(shape),
                area_km2=round(shape.area / 1e6, 3),
                source=f"Problembild, bedömningsomgång {rnd.pk}",
            )
            next_id += 1
        Classification.objects.create(
            area=area, round=register, category=answer.decision.category, direction=answer.direction,
            assessed=answer.decision.decided.date(),
        )  # fmt: skip
    rnd.status, rnd.published = Round.Status.PUBLISHED, register
    rnd.save()
    return register


def agreement_by_region(rnd: Round) -> list[dict]:
    """Per region and nationally: how often the decision equals the local proposal (share and Cohen's κ)."""
    labels = [*rnd.criteria_set.categories, NOT_LISTED]
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for answer in rnd.answers.filter(decision__isnull=False).select_related(
        "decision", "org_unit__parent__parent"
    ):
        region = answer.org_unit
        while region.parent is not None and region.parent.parent is not None:
            region = region.parent
        pairs[region.name].append((answer.proposed_category, answer.decision.category))
    rows = []
    every: list[tuple[str, str]] = []
    for region, items in sorted(pairs.items()):
        every += items
        rows.append(
            {"region": region, **agreement([p for p, _ in items], [d for _, d in items], labels).as_dict()}
        )
    if every:
        rows.append(
            {"region": "", **agreement([p for p, _ in every], [d for _, d in every], labels).as_dict()}
        )
    return rows
