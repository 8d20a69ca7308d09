"""A small competence world with hand-computable gaps (see the docstring of ``world``)."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.areas.models import Area
from problembild.competence.catalogue import load_catalogue
from problembild.competence.models import (
    Assessment,
    Competence,
    Completion,
    Course,
    CourseOutcome,
    CourseRound,
    Requirement,
    RoleProfile,
    Staff,
)
from problembild.core import roles
from problembild.core.models import OrgUnit

TODAY = date(2026, 12, 1)


def profile(
    role: str, version: int, decided: date, criticality: float, levels: dict[str, int]
) -> RoleProfile:
    p = RoleProfile.objects.create(role=role, version=version, decided=decided, criticality=criticality)
    for code, level in levels.items():
        Requirement.objects.create(profile=p, competence=Competence.objects.get(code=code), level=level)
    return p


def course(
    code: str, gives: dict[str, int], *, days: float, seats: int, cost: float, rounds, valid=None
) -> Course:
    c = Course.objects.create(code=code, name_sv=code, days=days, seats=seats, cost=cost, valid_months=valid)
    for comp, level in gives.items():
        CourseOutcome.objects.create(course=c, competence=Competence.objects.get(code=comp), level=level)
    for start in rounds:
        CourseRound.objects.create(course=c, starts=start)
    return c


def assess(person: Staff, code: str, level: int, when: date) -> Assessment:
    return Assessment.objects.create(
        staff=person,
        competence=Competence.objects.get(code=code),
        level=level,
        assessed=when,
        assessor="test",
    )


@pytest.fixture
def world(db):
    """Botkyrka: area officers A1 (Alby) and A2 (Fittja) and coordinator IC1; Väst: area officer V1.

    Profiles: area officer v1 (2019: conflict 2, collaboration 2), v2 (2025: conflict 2,
    collaboration 3); coordinator v1 (2019: intel-process 3, analysis 3, weight 3).

    On 2026-12-01: A1 has conflict 3 from a certificate expiring 2027-01-10 and
    collaboration 2 (gap 1); A2 conflict 0, collaboration 1 (gaps 2 and 2); IC1 intel 3,
    analysis 1 (gap 2); V1 conflict 2, collaboration 3 (meets).
    """
    load_catalogue()
    profile("area_officer", 1, date(2019, 6, 1), 2.0, {"conflict": 2, "collaboration": 2})
    profile("area_officer", 2, date(2025, 1, 1), 2.0, {"conflict": 2, "collaboration": 3})
    profile("intelligence_coordinator", 1, date(2019, 6, 1), 3.0, {"intel-process": 3, "analysis": 3})
    konflikt = course(
        "konflikt", {"conflict": 3}, days=3, seats=2, cost=7000, rounds=[date(2027, 3, 1)], valid=24
    )
    course("samverkan", {"collaboration": 3}, days=2, seats=1, cost=5000, rounds=[date(2027, 4, 1)])
    course("analys", {"analysis": 3}, days=8, seats=1, cost=30000, rounds=[date(2027, 5, 1)])
    botkyrka = OrgUnit.objects.get(code="5312-botkyrka")
    areas = {a.name: a for a in Area.objects.filter(org_unit=botkyrka)}
    a1 = Staff.objects.create(pseudonym="A1", role="area_officer", org_unit=botkyrka, area=areas["Alby"])
    a2 = Staff.objects.create(pseudonym="A2", role="area_officer", org_unit=botkyrka, area=areas["Fittja"])
    ic1 = Staff.objects.create(
        pseudonym="IC1", role="intelligence_coordinator", org_unit=botkyrka, login="us.test"
    )
    vast_area = Area.objects.filter(org_unit__path__startswith="SE/5500/").select_related("org_unit").first()
    v1 = Staff.objects.create(
        pseudonym="V1", role="area_officer", org_unit=vast_area.org_unit, area=vast_area
    )
    Completion.objects.create(
        staff=a1, course=konflikt, completed=date(2025, 1, 10), expires=date(2027, 1, 10)
    )
    assess(a1, "collaboration", 2, date(2024, 5, 1))
    assess(a2, "collaboration", 1, date(2024, 5, 1))
    assess(a2, "conflict", 0, date(2024, 5, 1))
    assess(ic1, "intel-process", 3, date(2024, 5, 1))
    assess(ic1, "analysis", 1, date(2024, 5, 1))
    assess(v1, "conflict", 2, date(2024, 5, 1))
    assess(v1, "collaboration", 3, date(2024, 5, 1))
    return {"A1": a1, "A2": a2, "IC1": ic1, "V1": v1, "areas": areas, "vast_area": vast_area}


@pytest.fixture
def hr(make_user):
    return make_user("hr", roles.HR, "SE")


@pytest.fixture
def coordinator(make_user):
    """The user linked to IC1's record (login ``us.test``)."""
    return make_user("us.test", roles.INTELLIGENCE_COORDINATOR, "5312-botkyrka")
