"""Example competence data for ``problembild demo-data``: profiles, courses, staff, levels.

Everything is marked ``example``; the staff are pseudonyms (``EX-0001``…), never people.
Assumptions, stated so the reports have something to find:

* every local police area with a vulnerable area has one intelligence coordinator, one
  municipal liaison officer and one chief, and each area 1–5 area officers (more in the
  larger areas);
* assessed levels scatter around the required level (a little below it on average),
  so about half the staff lack something, and newer staff lack more;
* the Criminal Data Act and conflict management levels come from certificates that
  expire (36 and 24 months); some expire within 90 days or during next year;
* the intelligence coordinator's profile has two versions: the 2019 profile and a
  2024 revision that raises analysis and source handling, so gaps depend on the date.

The demo users ``us.botkyrka`` and ``lpo.botkyrka`` are linked to the coordinator and the
chief of Botkyrka, so they can read their own records. Running it again replaces the
example rows (same seed, same data); imported rows are never touched.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from django.db import transaction

from problembild.areas.models import Area

from .catalogue import load_catalogue
from .models import (
    Assessment,
    Competence,
    Completion,
    Course,
    CourseOutcome,
    CourseRound,
    Requirement,
    RoleProfile,
    Staff,
    StaffRole,
    TrainingPlan,
    add_months,
)

EXAMPLE_SOURCE = "Exempel (Problembild demo-data)"
R = StaffRole

#: (role, version, decided, criticality, {competence: level}).
PROFILES = [
    (
        R.INTELLIGENCE_COORDINATOR,
        1,
        date(2019, 6, 1),
        3.0,
        {"intel-process": 3, "analysis": 2, "sources": 2, "criminal-data-act": 3, "collaboration": 2},
    ),
    (
        R.INTELLIGENCE_COORDINATOR,
        2,
        date(2024, 3, 1),
        3.0,
        {
            "intel-process": 3,
            "analysis": 3,
            "sources": 3,
            "criminal-data-act": 3,
            "collaboration": 2,
            "problem-oriented": 2,
        },
    ),
    (
        R.AREA_OFFICER,
        1,
        date(2019, 6, 1),
        2.0,
        {
            "problem-oriented": 2,
            "collaboration": 2,
            "conflict": 2,
            "diversity": 2,
            "intel-process": 1,
            "criminal-data-act": 1,
            "honour-violence": 1,
            "child-rights": 1,
        },
    ),
    (
        R.MUNICIPAL_LIAISON,
        1,
        date(2019, 6, 1),
        1.5,
        {"collaboration": 3, "problem-oriented": 3, "analysis": 2, "criminal-data-act": 1, "child-rights": 2},
    ),
    (
        R.LOCAL_CHIEF,
        1,
        date(2019, 6, 1),
        1.0,
        {
            "leadership": 3,
            "problem-oriented": 2,
            "intel-process": 2,
            "collaboration": 2,
            "criminal-data-act": 2,
        },
    ),
]

#: (code, name_sv, name_en, days, seats per round, cost SEK, valid months, {competence: level}, rounds a year).
COURSES = [
    (
        "pum-grund",
        "Underrättelsemodellen grund",
        "Intelligence model, basic",
        2,
        20,
        6000,
        None,
        {"intel-process": 2},
        4,
    ),
    (
        "pum-fordj",
        "Underrättelsesamordnare fördjupning",
        "Intelligence coordinator, advanced",
        10,
        12,
        45000,
        None,
        {"intel-process": 3, "sources": 3},
        1,
    ),
    (
        "analys",
        "Kriminalunderrättelseanalys",
        "Criminal intelligence analysis",
        8,
        12,
        38000,
        None,
        {"analysis": 3},
        1,
    ),
    (
        "analys-grund",
        "Lägesbild och kartor",
        "Situation pictures and maps",
        3,
        20,
        9000,
        None,
        {"analysis": 2},
        2,
    ),
    (
        "bdl",
        "Brottsdatalagen i praktiken",
        "The Criminal Data Act in practice",
        1,
        40,
        2500,
        36,
        {"criminal-data-act": 3},
        4,
    ),
    ("konflikt", "Konflikthantering", "Conflict management", 3, 16, 7000, 24, {"conflict": 3}, 4),
    (
        "pop",
        "Problemorienterat polisarbete (SARA)",
        "Problem-oriented policing (SARA)",
        5,
        24,
        15000,
        None,
        {"problem-oriented": 3, "analysis": 2},
        2,
    ),
    (
        "samverkan",
        "Samverkan och medborgarlöften",
        "Collaboration and citizen promises",
        3,
        24,
        8000,
        None,
        {"collaboration": 3},
        2,
    ),
    (
        "dialog",
        "Dialog och förtroende i utsatta områden",
        "Dialogue and trust in vulnerable areas",
        2,
        20,
        5000,
        None,
        {"diversity": 3, "child-rights": 2},
        3,
    ),
    (
        "heder",
        "Hedersrelaterat våld och förtryck",
        "Honour-related violence and oppression",
        2,
        30,
        4000,
        None,
        {"honour-violence": 2, "child-rights": 2},
        2,
    ),
    (
        "ledarskap",
        "Ledarskap i lokalpolisområdet",
        "Leading a local police area",
        6,
        15,
        30000,
        None,
        {"leadership": 3},
        1,
    ),
]

#: Certificates that carry a level (these courses' levels are not also assessed).
CERTIFIED = {"criminal-data-act": "bdl", "conflict": "konflikt"}
LINKED = {
    "us.botkyrka": (R.INTELLIGENCE_COORDINATOR, "5312-botkyrka"),
    "lpo.botkyrka": (R.LOCAL_CHIEF, "5312-botkyrka"),
}


def _profiles(competences: dict[str, Competence]) -> None:
    for role, version, decided, weight, levels in PROFILES:
        if RoleProfile.objects.filter(role=role, version=version).exists():
            continue  # a decided profile is never replaced by an example
        profile = RoleProfile.objects.create(
            role=role,
            version=version,
            decided=decided,
            decided_by="Exempel: Noa",
            criticality=weight,
            note="Exempelprofil för demonstrationen; ersätt med Noas beslutade profil.",
            example=True,
        )
        Requirement.objects.bulk_create(
            Requirement(profile=profile, competence=competences[code], level=level)
            for code, level in levels.items()
        )


def _courses(competences: dict[str, Competence], today: date) -> dict[str, Course]:
    out = {}
    for code, sv, en, days, seats, cost, valid, gives, per_year in COURSES:
        course = Course.objects.filter(code=code).first()
        if course is not None and not course.example:
            out[code] = course
            continue
        course, _ = Course.objects.update_or_create(
            code=code,
            defaults={
                "name_sv": sv,
                "name_en": en,
                "days": days,
                "seats": seats,
                "cost": cost,
                "valid_months": valid,
                "example": True,
                "source": EXAMPLE_SOURCE,
            },
        )
        course.outcomes.all().delete()
        CourseOutcome.objects.bulk_create(
            CourseOutcome(course=course, competence=competences[c], level=level) for c, level in gives.items()
        )
        course.rounds.all().delete()
        for year in (today.year, today.year + 1):
            for k in range(per_year):
                start = date(year, 1 + (12 * k) // per_year, 10)
                CourseRound.objects.create(
                    course=course, starts=start, ends=start + timedelta(days=int(days) + 2)
                )
        out[code] = course
    return out


def _staff_plan(rng: np.random.Generator) -> list[tuple[str, object, Area | None]]:
    """(role, local police area, area) for every example member of staff."""
    areas = list(Area.objects.current().select_related("org_unit").order_by("org_unit__path", "name"))
    plan: list[tuple[str, object, Area | None]] = []
    seen = set()
    for area in areas:
        lpo = area.org_unit
        if lpo.pk not in seen:
            seen.add(lpo.pk)
            plan += [
                (R.INTELLIGENCE_COORDINATOR, lpo, None),
                (R.MUNICIPAL_LIAISON, lpo, None),
                (R.LOCAL_CHIEF, lpo, None),
            ]
        pop = area.latest_population()
        officers = int(np.clip(round((pop.residents if pop else 8000) / 5000 * rng.uniform(0.5, 1.2)), 1, 5))
        plan += [(R.AREA_OFFICER, lpo, area)] * officers
    return plan


@transaction.atomic
def generate_example_competence(*, seed: int, today: date) -> dict[str, int]:
    """Replace the example competence data; returns the counts made."""
    load_catalogue()
    TrainingPlan.objects.filter(example=True).delete()
    Staff.objects.filter(example=True).delete()
    competences = {c.code: c for c in Competence.objects.all()}
    _profiles(competences)
    courses = _courses(competences, today)
    rng = np.random.default_rng(seed)
    taken_logins = set(Staff.objects.exclude(login="").values_list("login", flat=True))
    profiles = {
        p.role: {r.competence.code: r.level for r in p.requirements.select_related("competence")}
        for p in RoleProfile.objects.in_force(today).values()
    }
    staff, assessments, completions = [], [], []
    for n, (role, lpo, area) in enumerate(_staff_plan(rng), start=1):
        login = next(
            (
                u
                for u, (r, code) in LINKED.items()
                if r == role and code == lpo.code and u not in taken_logins
            ),
            "",
        )
        taken_logins.add(login)
        person = Staff(
            pseudonym=f"EX-{n:04d}",
            role=role,
            org_unit=lpo,
            area=area,
            login=login,
            example=True,
            source=EXAMPLE_SOURCE,
        )
        staff.append(person)
    Staff.objects.bulk_create(staff)
    for person in staff:
        # Newer staff lack more: a seniority draw shifts every level.
        seniority = float(rng.uniform(-1.2, 0.6))
        for code, need in profiles.get(person.role, {}).items():
            level = int(np.clip(round(need + seniority + rng.normal(0, 0.7)), 0, 4))
            if code in CERTIFIED:
                if level >= 1:
                    course = courses[CERTIFIED[code]]
                    # Certificates taken 0–4 years ago: some expired, some expiring soon.
                    done = today - timedelta(days=int(rng.integers(20, 4 * 365)))
                    completions.append(
                        Completion(
                            staff=person,
                            course=course,
                            completed=done,
                            expires=add_months(done, course.valid_months or 0)
                            if course.valid_months
                            else None,
                            example=True,
                        )
                    )
                continue
            assessed = today - timedelta(days=int(rng.integers(30, 700)))
            assessments.append(
                Assessment(
                    staff=person,
                    competence=competences[code],
                    level=level,
                    assessed=assessed,
                    assessor=f"Exempel: chef {person.org_unit.code}",
                    example=True,
                )
            )
    Assessment.objects.bulk_create(assessments)
    Completion.objects.bulk_create(completions)
    return {
        "staff": len(staff),
        "assessments": len(assessments),
        "completions": len(completions),
        "courses": len(courses),
    }
