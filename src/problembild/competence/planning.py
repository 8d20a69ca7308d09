"""The training plan: course places for a year that close the most weighted gaps.

:func:`build_problem` turns a unit's staff, the courses' rounds in the year and the plan's
limits into a :class:`~problembild.analysis.training.TrainingProblem`; :func:`run_plan`
solves it with HiGHS beside the two baselines (largest gap first, first come first served),
scores all three by the same weighted gap, and keeps the result as a :class:`TrainingPlan`.

Weights (one level of gap of person *s* in competence *k*):

``criticality(role) × need(area) × (expiry_weight if the level lapses with a certificate)``

* criticality: the role profile's weight (the intelligence coordinator's profile weighs
  most in the example profiles);
* need: the area's need index from its problem picture divided by the median over the
  areas with a picture, clipped to 0.25–4 (a person without an area, or an area without a
  picture, counts 1);
* expiry: a level that rests on a certificate expiring before the year ends is a gap the
  plan must renew; it weighs ``expiry_weight`` (default 1.5) times as much, since the
  person is in the role and loses the level.

Limits: seats (the course's seats × its rounds starting in the year), the budget (SEK),
days away per person, and days away per area (its staff's working days in the year ×
``away_share``; people without an area count against their local police area).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
from django.db import transaction
from django.utils import timezone

from problembild.analysis import training
from problembild.core.models import OrgUnit
from problembild.picture.models import AreaPicture

from .models import Course, CourseRound, Staff, StaffRole, TrainingPlan
from .standing import Standing, staff_in, standing

#: Working days a year of one person, for the days-away limit per area.
WORKING_DAYS = 210
NEED_CLIP = (0.25, 4.0)


@dataclass(frozen=True)
class PlanParameters:
    """The plan's limits and weights (SEK, days, shares)."""

    budget: float | None = None
    max_days_per_person: float = 10.0
    away_share: float = 0.05
    expiry_weight: float = 1.5
    role: str | None = None

    def __post_init__(self) -> None:
        if self.budget is not None and not (self.budget >= 0):
            raise ValueError("budget must be ≥ 0 SEK")
        if not self.max_days_per_person > 0:
            raise ValueError("max_days_per_person must be > 0")
        if not 0 < self.away_share <= 1:
            raise ValueError("away_share must be in (0, 1]")
        if not self.expiry_weight >= 1:
            raise ValueError("expiry_weight must be ≥ 1")
        if self.role is not None and self.role not in StaffRole.values:
            raise ValueError(f"unknown role {self.role!r}; known: {', '.join(StaffRole.values)}")


def plan_dates(year: int, today: date | None = None) -> tuple[date, date]:
    """The date levels are read on (1 January, or today within the year) and the year's end."""
    today = today or timezone.localdate()
    start = date(year, 1, 1)
    return (today if start < today <= date(year, 12, 31) else start), date(year, 12, 31)


def area_need(area_ids: set[int]) -> dict[int, float]:
    """Area id -> need relative to the median of all pictured areas, clipped (see the docstring)."""
    needs = dict(AreaPicture.objects.filter(need_index__isnull=False).values_list("area_id", "need_index"))
    positive = [v for v in needs.values() if v and v > 0]
    if not positive:
        return {}
    median = float(np.median(positive))
    return {a: float(np.clip(needs[a] / median, *NEED_CLIP)) for a in area_ids if a in needs}


@dataclass
class Built:
    """A problem with the rows it came from: people, courses and time-away groups."""

    problem: training.TrainingProblem
    standing: Standing
    courses: list[Course]
    groups: list[tuple[str, str]]
    need: dict[int, float]


def seats_in(year: int, courses: list[Course]) -> np.ndarray:
    """Places per course in ``year``: its seats × the rounds starting in the year."""
    rounds: dict[int, int] = {}
    for course_id in CourseRound.objects.filter(starts__year=year).values_list("course_id", flat=True):
        rounds[course_id] = rounds.get(course_id, 0) + 1
    return np.array([c.seats * rounds.get(c.pk, 0) for c in courses], dtype=float)


def _groups(people: list[Staff]) -> tuple[np.ndarray, list[tuple[str, str]], np.ndarray]:
    keys: dict[tuple[str, str], int] = {}
    group = np.empty(len(people), dtype=int)
    for i, s in enumerate(people):
        key = ("area", str(s.area.panel_id)) if s.area_id else ("unit", s.org_unit.code)
        group[i] = keys.setdefault(key, len(keys))
    names = list(keys)
    sizes = np.bincount(group, minlength=len(names)).astype(float)
    return group, names, sizes


def build_problem(unit: OrgUnit, year: int, params: PlanParameters, *, today: date | None = None) -> Built:
    """The unit's training problem for ``year`` (see the module docstring)."""
    on, horizon = plan_dates(year, today)
    st = standing(staff_in(unit, role=params.role), on, horizon=horizon)
    courses = list(Course.objects.prefetch_related("outcomes"))
    col = {c.pk: j for j, c in enumerate(st.competences)}
    gives = np.zeros((len(courses), len(st.competences)))
    for i, course in enumerate(courses):
        for outcome in course.outcomes.all():
            gives[i, col[outcome.competence_id]] = outcome.level
    need = area_need({s.area_id for s in st.staff if s.area_id})
    criticality = {role: p.criticality for role, p in st.profiles.items()}
    factor = np.array(
        [criticality.get(s.role, 1.0) * need.get(s.area_id or 0, 1.0) for s in st.staff], dtype=float
    )
    weights = factor[:, None] * np.where(st.expiring, params.expiry_weight, 1.0)
    # A level that lapses before the year ends is not kept: the plan starts from what lasts.
    current = np.maximum(st.assessed, st.certified)
    group, names, sizes = _groups(st.staff)
    problem = training.TrainingProblem(
        current=current,
        required=st.required,
        weights=weights.reshape(current.shape),
        gives=gives,
        seats=seats_in(year, courses),
        cost=np.array([c.cost for c in courses], dtype=float),
        days=np.array([c.days for c in courses], dtype=float),
        group=group,
        group_days=sizes * WORKING_DAYS * params.away_share,
        budget=np.inf if params.budget is None else float(params.budget),
        max_days_per_person=params.max_days_per_person,
        order=np.argsort([s.pk for s in st.staff], kind="stable"),
    )
    return Built(problem, st, courses, names, need)


def _levels(plan: training.TrainingPlan) -> int:
    return round(float(plan.closed.sum()))


def _summary(plan: training.TrainingPlan) -> dict:
    return {
        "gap_closed": round(plan.gap_closed, 3),
        "levels_closed": _levels(plan),
        "places": plan.places,
        "cost": round(plan.cost),
        "days": round(plan.days, 2),
        "seconds": round(plan.seconds, 3),
    }


def _assignments(built: Built, plan: training.TrainingPlan) -> list[dict]:
    st, pb = built.standing, built.problem
    out = []
    for s_idx, c_idx in plan.pairs:
        person, course = st.staff[int(s_idx)], built.courses[int(c_idx)]
        closure = np.clip(pb.gives[c_idx] - pb.current[s_idx], 0, pb.gaps[s_idx])
        closed = [st.competences[j].code for j in np.flatnonzero(closure > 0)]
        out.append(
            {
                "staff": person.pseudonym,
                "role": person.role,
                "unit": person.org_unit.code,
                "unit_name": person.org_unit.name,
                "area": person.area.name if person.area_id else "",
                "course": course.code,
                "course_name": course.name,
                "competences": closed,
                "levels": int(closure.sum()),
                "gap_closed": round(float((closure * pb.weights[s_idx]).sum()), 3),
                "renews": bool(st.expiring[s_idx][closure > 0].any()),
                "cost": round(course.cost),
                "days": course.days,
            }
        )
    return sorted(out, key=lambda a: (-a["gap_closed"], a["staff"], a["course"]))


def _per_course(built: Built, plans: dict[str, training.TrainingPlan]) -> list[dict]:
    counts = {name: np.bincount(p.pairs[:, 1], minlength=len(built.courses)) for name, p in plans.items()}
    return [
        {
            "code": c.code,
            "name": c.name,
            "seats": int(built.problem.seats[i]),
            "places": int(counts["plan"][i]),
            "largest_gap_first": int(counts["largest_gap_first"][i]),
            "first_come_first_served": int(counts["first_come_first_served"][i]),
            "cost": round(float(counts["plan"][i] * c.cost)),
        }
        for i, c in enumerate(built.courses)
        if built.problem.seats[i] > 0 or counts["plan"][i]
    ]


def _per_group(built: Built, plan: training.TrainingPlan) -> list[dict]:
    pb = built.problem
    days = np.zeros(len(built.groups))
    places = np.zeros(len(built.groups), dtype=int)
    for s_idx, c_idx in plan.pairs:
        g = pb.group[s_idx]
        days[g] += pb.days[c_idx]
        places[g] += 1
    names = {}
    for person in built.standing.staff:
        key = ("area", str(person.area.panel_id)) if person.area_id else ("unit", person.org_unit.code)
        names.setdefault(key, person.area.name if person.area_id else person.org_unit.name)
    gaps_w = (pb.gaps * pb.weights).sum(axis=1)
    gap = np.bincount(pb.group, weights=gaps_w, minlength=len(built.groups))
    closed = np.zeros(len(built.groups))
    np.add.at(closed, pb.group, (plan.closed * pb.weights).sum(axis=1))
    return [
        {
            "kind": kind,
            "key": key,
            "name": names.get((kind, key), key),
            "places": int(places[g]),
            "days": round(float(days[g]), 1),
            "days_cap": round(float(pb.group_days[g]), 1),
            "gap": round(float(gap[g]), 3),
            "gap_closed": round(float(closed[g]), 3),
        }
        for g, (kind, key) in enumerate(built.groups)
    ]


def solve(built: Built) -> dict:
    """Solve the plan and both baselines; the result as :class:`TrainingPlan` keeps it."""
    pb, st = built.problem, built.standing
    plan = training.plan_training(pb)
    lgf = training.largest_gap_first(pb)
    fcfs = training.first_come_first_served(pb)
    plans = {"plan": plan, "largest_gap_first": lgf, "first_come_first_served": fcfs}
    return {
        "as_of": st.on.isoformat(),
        "staff": len(st.staff),
        "with_gaps": int((pb.gaps.sum(axis=1) > 0).sum()),
        "expiring": int(st.expiring.sum()),
        "gap_total": round(plan.gap_total, 3),
        "levels_total": int(pb.gaps.sum()),
        **_summary(plan),
        "optimal": plan.optimal,
        # No finite gap (no bound proven, or a greedy plan) is reported as unknown.
        "gap": round(float(plan.mip_gap), 6) if np.isfinite(plan.mip_gap) else None,
        "status": plan.status,
        "baselines": {
            "largest_gap_first": round(lgf.gap_closed, 3),
            "first_come_first_served": round(fcfs.gap_closed, 3),
        },
        "baseline_plans": {"largest_gap_first": _summary(lgf), "first_come_first_served": _summary(fcfs)},
        "seats": int(pb.seats.sum()),
        "courses": _per_course(built, plans),
        "groups": _per_group(built, plan),
        "assignments": _assignments(built, plan),
        "synthetic": False,
    }


def run_plan(
    unit: OrgUnit,
    year: int,
    params: PlanParameters,
    *,
    name: str = "",
    user=None,
    save: bool = True,
    example: bool = False,
    today: date | None = None,
) -> TrainingPlan:
    """Compute the unit's plan for ``year``; saved (with who and when) unless ``save`` is False."""
    built = build_problem(unit, year, params, today=today)
    if not built.standing.staff:
        raise ValueError(f"no active staff in {unit.name}")
    if not built.problem.seats.sum():
        raise ValueError(f"no course rounds start in {year}: import courses with their dates first")
    result = solve(built)
    result.update(period=year, unit=unit.code, unit_name=unit.name)
    plan = TrainingPlan(
        org_unit=unit,
        name=name or f"{unit.name} {year}",
        period=year,
        parameters=asdict(params),
        result=result,
        author=user if getattr(user, "is_authenticated", False) else None,
        author_name=user.get_username() if getattr(user, "is_authenticated", False) else "",
        example=example,
    )
    if save:
        with transaction.atomic():
            plan.save()
    return plan


def cli_summary(plan: TrainingPlan) -> dict:
    """What ``problembild training-plan --json`` prints (the contract's keys first)."""
    r = plan.result
    return {
        "gap_closed": r["gap_closed"],
        "baselines": r["baselines"],
        "places": r["places"],
        "cost": r["cost"],
        "optimal": r["optimal"],
        "gap": r["gap"],
        "period": plan.period,
        "unit": plan.org_unit.code,
        "gap_total": r["gap_total"],
        "levels_closed": r["levels_closed"],
        "levels_total": r["levels_total"],
        "staff": r["staff"],
        "seats": r["seats"],
        "status": r["status"],
        "id": plan.pk,
        "example": plan.example,
    }
