"""Where people stand against their role profiles on a date: levels, requirements, gaps.

:func:`standing` reads a set of staff once (assessments, certificates and the profiles in
force) into arrays, people × competences; every report (a person, a unit, the regions, the
areas' coverage) and the training plan read those arrays.

Rules (see the models' docstring):

* level = max(latest assessment on or before the date, the highest level a certificate
  valid on the date gives);
* requirement = the level in the role's profile in force on the date (0: not required);
* gap = max(requirement − level, 0); a person *meets* the profile when every gap is 0 and
  a profile is in force for the role.

With ``horizon`` (the training period's end), levels that rest on a certificate expiring
before the horizon are counted as lost: the plan must renew them. Those cells are marked
in ``expiring``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.db.models import QuerySet

from problembild.areas.models import Area
from problembild.core.models import OrgUnit

from .models import (
    EXPIRY_WARNING_DAYS,
    Assessment,
    Competence,
    Completion,
    CourseOutcome,
    RoleProfile,
    Staff,
    StaffRole,
)

#: Roles that serve a whole local police area: an area's coverage counts those of its
#: local police area. Area officers count only where they serve the area itself.
LPO_ROLES = (StaffRole.INTELLIGENCE_COORDINATOR, StaffRole.MUNICIPAL_LIAISON)
#: The roles every vulnerable area needs (the coverage report's columns).
AREA_ROLES = (StaffRole.AREA_OFFICER, StaffRole.INTELLIGENCE_COORDINATOR, StaffRole.MUNICIPAL_LIAISON)


@dataclass
class Standing:
    """People × competences on ``on``: levels, requirements and gaps (arrays in ``staff`` order)."""

    on: date
    staff: list[Staff]
    competences: list[Competence]
    profiles: dict[str, RoleProfile]
    assessed: np.ndarray
    certified: np.ndarray
    required: np.ndarray
    expiring: np.ndarray
    assessed_on: dict[tuple[int, int], tuple[date, str]] = field(default_factory=dict)

    @property
    def current(self) -> np.ndarray:
        return np.maximum(self.assessed, self.certified)

    @property
    def gaps(self) -> np.ndarray:
        return np.clip(self.required - self.current, 0, None)

    @property
    def has_profile(self) -> np.ndarray:
        return np.array([s.role in self.profiles for s in self.staff], dtype=bool)

    @property
    def meets(self) -> np.ndarray:
        """Per person: a profile is in force and no gap is left."""
        return self.has_profile & (self.gaps.sum(axis=1) == 0) if self.staff else np.zeros(0, bool)


def staff_in(unit: OrgUnit, *, role: str | None = None) -> QuerySet[Staff]:
    """Active staff of ``unit`` and the units below it (optionally of one role)."""
    qs = Staff.objects.filter(active=True, org_unit__in=unit.descendants()).select_related(
        "org_unit__parent__parent", "area"
    )
    return qs.filter(role=role) if role else qs


def standing(staff: QuerySet[Staff] | list[Staff], on: date, *, horizon: date | None = None) -> Standing:
    """Read ``staff``'s levels and requirements on ``on`` (see the module docstring)."""
    people = list(staff)
    competences = list(Competence.objects.all())
    col = {c.pk: j for j, c in enumerate(competences)}
    row = {s.pk: i for i, s in enumerate(people)}
    shape = (len(people), len(competences))
    assessed, certified = np.zeros(shape), np.zeros(shape)
    required = np.zeros(shape)
    assessed_on: dict[tuple[int, int], tuple[date, str]] = {}
    ids = list(row)
    # Latest assessment on or before ``on`` per person and competence: newest first, first kept.
    for staff_id, comp_id, level, when, assessor in (
        Assessment.objects.filter(staff_id__in=ids, assessed__lte=on)
        .order_by("staff_id", "competence_id", "-assessed")
        .values_list("staff_id", "competence_id", "level", "assessed", "assessor")
        .iterator(chunk_size=5000)
    ):
        if (staff_id, comp_id) not in assessed_on:
            assessed_on[staff_id, comp_id] = (when, assessor)
            assessed[row[staff_id], col[comp_id]] = level
    outcomes: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for course_id, comp_id, level in CourseOutcome.objects.values_list("course_id", "competence_id", "level"):
        outcomes[course_id].append((col[comp_id], level))
    lapsing = np.zeros(shape)
    cutoff = horizon or on
    for staff_id, course_id, expires in (
        Completion.objects.filter(staff_id__in=ids, completed__lte=on)
        .exclude(expires__lte=on)
        .values_list("staff_id", "course_id", "expires")
        .iterator(chunk_size=5000)
    ):
        target = lapsing if expires is not None and expires <= cutoff else certified
        i = row[staff_id]
        for j, level in outcomes[course_id]:
            target[i, j] = max(target[i, j], level)
    profiles = RoleProfile.objects.prefetch_related("requirements").in_force(on)
    levels = {role: p.levels() for role, p in profiles.items()}
    for i, person in enumerate(people):
        for comp_id, level in levels.get(person.role, {}).items():
            required[i, col[comp_id]] = level
    # Lost by the horizon: the lapsing certificate gave more than what lasts, and it was needed.
    lasting = np.maximum(assessed, certified)
    expiring = (lapsing > lasting) & (required > lasting)
    return Standing(on, people, competences, profiles, assessed, certified, required, expiring, assessed_on)


@dataclass(frozen=True)
class CompetenceRow:
    """One competence over a group of people: who lacks it and by how much."""

    competence: Competence
    required: int
    lacking: int
    gap_levels: int
    mean_gap: float | None
    share_lacking: float | None


def by_competence(st: Standing) -> list[CompetenceRow]:
    """Per competence: people it is required of, how many lack it and the levels they lack."""
    rows = []
    gaps = st.gaps
    for j, comp in enumerate(st.competences):
        needed = st.required[:, j] > 0
        lacking = gaps[:, j] > 0
        n_req, n_lack = int(needed.sum()), int(lacking.sum())
        rows.append(
            CompetenceRow(
                competence=comp,
                required=n_req,
                lacking=n_lack,
                gap_levels=int(gaps[:, j].sum()),
                mean_gap=float(gaps[lacking, j].mean()) if n_lack else None,
                share_lacking=n_lack / n_req if n_req else None,
            )
        )
    return rows


@dataclass(frozen=True)
class PersonRow:
    """One person's summary: what they lack in total."""

    staff: Staff
    meets: bool
    has_profile: bool
    gap_levels: int
    lacking: list[str]
    expiring: int


def by_person(st: Standing) -> list[PersonRow]:
    """Per person: total levels lacking and the competences lacking, largest gap first."""
    gaps, meets, has = st.gaps, st.meets, st.has_profile
    rows = [
        PersonRow(
            staff=s,
            meets=bool(meets[i]),
            has_profile=bool(has[i]),
            gap_levels=int(gaps[i].sum()),
            lacking=[st.competences[j].name for j in np.flatnonzero(gaps[i] > 0)],
            expiring=int(st.expiring[i].sum()),
        )
        for i, s in enumerate(st.staff)
    ]
    return sorted(rows, key=lambda r: (-r.gap_levels, r.staff.pseudonym))


@dataclass(frozen=True)
class UnitRow:
    """One unit below the unit shown: its staff, who meets the profile, who lacks each competence."""

    unit: OrgUnit
    staff: int
    meets: int
    lacking: list[int]
    gap_levels: int

    @property
    def share_meets(self) -> float | None:
        return self.meets / self.staff if self.staff else None


def child_code(unit: OrgUnit, person: Staff) -> str | None:
    """The code of the child of ``unit`` that ``person``'s unit lies in (None: ``unit`` itself)."""
    parts = person.org_unit.path.split("/")
    depth = len(unit.path.split("/"))
    return parts[depth] if len(parts) > depth else None


def by_unit(unit: OrgUnit, st: Standing) -> list[UnitRow]:
    """Per child unit of ``unit`` (regions of the nation, police areas of a region, …)."""
    children = {c.code: c for c in unit.children.all()}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, person in enumerate(st.staff):
        code = child_code(unit, person)
        if code in children:
            groups[code].append(i)
    gaps, meets = st.gaps, st.meets
    rows = []
    for code, child in sorted(children.items(), key=lambda kv: kv[1].name):
        idx = groups.get(code, [])
        rows.append(
            UnitRow(
                unit=child,
                staff=len(idx),
                meets=int(meets[idx].sum()) if idx else 0,
                lacking=[int((gaps[idx, j] > 0).sum()) if idx else 0 for j in range(len(st.competences))],
                gap_levels=int(gaps[idx].sum()) if idx else 0,
            )
        )
    return rows


@dataclass(frozen=True)
class RoleCover:
    """Who serves an area in one role, and whether at least one of them meets the profile."""

    serving: int
    meeting: int
    smallest_gap: int | None

    @property
    def covered(self) -> bool:
        return self.meeting > 0


@dataclass(frozen=True)
class AreaCoverage:
    area: Area
    category: str
    roles: dict[str, RoleCover]

    @property
    def covered(self) -> bool:
        return all(c.covered for c in self.roles.values())


def coverage(areas: list[Area], st: Standing) -> list[AreaCoverage]:
    """Per area, per role it needs (:data:`AREA_ROLES`): people serving it and how many meet the profile.

    Area officers serve the area named on their record; coordinators and municipal
    liaison officers serve every area of their local police area.
    """
    gaps, meets = st.gaps.sum(axis=1), st.meets
    by_area: dict[tuple[int, str], list[int]] = defaultdict(list)
    by_lpo: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, person in enumerate(st.staff):
        if person.role in LPO_ROLES:
            by_lpo[person.org_unit_id, person.role].append(i)
        elif person.area_id:
            by_area[person.area_id, person.role].append(i)
    out = []
    for area in areas:
        roles = {}
        for role in AREA_ROLES:
            idx = by_lpo[area.org_unit_id, role] if role in LPO_ROLES else by_area[area.pk, role]
            roles[role] = RoleCover(
                serving=len(idx),
                meeting=int(meets[idx].sum()) if idx else 0,
                smallest_gap=int(gaps[idx].min()) if idx else None,
            )
        out.append(AreaCoverage(area=area, category=getattr(area, "current_category", "") or "", roles=roles))
    return out


def _gap_rows(st: Standing, i: int) -> list[dict]:
    person = st.staff[i]
    rows = []
    for j, comp in enumerate(st.competences):
        required = int(st.required[i, j])
        current = int(max(st.assessed[i, j], st.certified[i, j]))
        if not required and not current:
            continue
        when, who = st.assessed_on.get((person.pk, comp.pk), (None, ""))
        rows.append(
            {
                "competence": comp.name,
                "code": comp.code,
                "required": required,
                "assessed": int(st.assessed[i, j]) if when else None,
                "assessed_on": when,
                "assessor": who,
                "certified": int(st.certified[i, j]) or None,
                "current": current,
                "gap": max(required - current, 0),
                "expiring": False,
                "meaning": comp.level_text(required) if required else "",
            }
        )
    return sorted(rows, key=lambda r: (-r["gap"], -r["required"], r["competence"]))


def person_gaps(person: Staff, on: date) -> tuple[Standing, list[dict]]:
    """``person``'s standing on ``on`` and their rows per competence (required or held), largest gap first."""
    st = standing([person], on)
    horizon = standing([person], on, horizon=on + timedelta(days=EXPIRY_WARNING_DAYS))
    rows = _gap_rows(st, 0)
    lapsing = {st.competences[j].code for j in np.flatnonzero(horizon.expiring[0])}
    for row in rows:
        row["expiring"] = row["code"] in lapsing
    return st, rows
