"""Example assessment data for ``problembild demo-data``: criteria sets, socioeconomic figures and an
open round for the next list.

* Two criteria sets, marked example: 2023 (utsatt, riskområde, särskilt utsatt) and 2025 (the
  2025 list publishes only utsatt and särskilt utsatt). Each has Noa's four matrix questions
  (living environment and safety, norms that favour problem behaviour, organised crime,
  effects), scales in our words, and objective indicators with thresholds in the manner of
  Denmark's list: an area is listed by the criteria alone when it meets two, and placed in the
  top category when it meets three.
* Socioeconomic figures per area (employment, low education, income), **synthetic**: drawn
  with a seed around national-looking levels, worse on average in the more severe categories.
* An open round for 2025 (marked example): Botkyrka's answers are filled in and submitted with
  evidence, the rest are drafts, so Noa has something to decide.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from django.db import transaction

from problembild.areas.models import AssessmentRound, Classification

from .models import AnswerEvidence, CriteriaSet, Criterion, Round, SocioValue
from .rounds import open_round, submit

MATRIX = [
    ("environment", "Boendemiljö och trygghet",
     ["Ingen påtaglig otrygghet", "Viss otrygghet i delar av området", "Utbredd otrygghet; boende undviker platser",
      "Allvarlig otrygghet; offentliga platser tas över av kriminella"]),
    ("norms", "Normer som gynnar problembeteenden",
     ["Inga tecken", "Enstaka uttryck", "Utbredd ovilja att anmäla och vittna",
      "Parallella samhällsstrukturer; självjustis och påverkan på vittnen"]),
    ("organised", "Organiserad brottslighet",
     ["Ingen känd", "Enstaka nätverk", "Etablerade kriminella nätverk med öppen narkotikahandel",
      "Konflikter mellan nätverk med skjutningar och sprängningar"]),
    ("effects", "Effekter för samhället",
     ["Inga påtagliga", "Svårigheter för myndigheter i enstaka fall",
      "Myndigheter och företag anpassar sin närvaro", "Myndigheter kan inte verka; extremism och hot mot tjänstemän"]),
]  # fmt: skip
OBJECTIVE = [
    ("violence-rate", "Våld i offentlig miljö per 1 000 invånare", Criterion.Source.PICTURE_RATE, "violence_public", 4.0, True),
    ("shootings-rate", "Skjutningar och sprängningar per 1 000 invånare", Criterion.Source.PICTURE_RATE, "shootings", 0.2, True),
    ("employment", "Förvärvsfrekvens, %", Criterion.Source.SOCIO, "employment_rate", 60.0, False),
    ("education", "Andel med högst förgymnasial utbildning, %", Criterion.Source.SOCIO, "low_education_share", 30.0, True),
]  # fmt: skip
CATEGORIES = {
    2023: ["utsatt område", "riskområde", "särskilt utsatt område"],
    2025: ["utsatt område", "särskilt utsatt område"],
}
MEANS = {"utsatt område": (62, 25), "riskområde": (57, 30), "särskilt utsatt område": (52, 35)}


def _criteria_set(year: int) -> CriteriaSet:
    cs = CriteriaSet.objects.create(
        year=year,
        version=1,
        categories=CATEGORIES[year],
        decided=date(year - 1, 6, 1),
        note="Exempel: kriterier skrivna för demonstrationen, inte Noas.",
        example=True,
    )
    for order, (code, title, scale) in enumerate(MATRIX):
        Criterion.objects.create(
            criteria_set=cs, code=code, kind="matrix", title=title, scale=scale, order=order
        )
    for order, (code, title, source, measure, threshold, above) in enumerate(OBJECTIVE):
        Criterion.objects.create(
            criteria_set=cs, code=code, kind="objective", title=title, source=source, measure=measure,
            threshold=threshold, above=above, order=order,
        )  # fmt: skip
    return cs


def _socio(rng: np.random.Generator, year: int) -> int:
    latest = AssessmentRound.latest()
    rows = []
    for c in Classification.objects.filter(round=latest).select_related("area"):
        employment, education = MEANS.get(c.category, (60, 25))
        for measure, value in (
            ("employment_rate", rng.normal(employment, 5)),
            ("low_education_share", rng.normal(education, 5)),
            ("income_index", rng.normal(100 - (70 - employment), 8)),
        ):
            rows.append(
                SocioValue(
                    area=c.area, year=year, measure=measure, value=round(float(value), 1),
                    source="synthetic (Problembild demo-data)", synthetic=True,
                )
            )  # fmt: skip
    SocioValue.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def generate_example_assessment(*, seed: int, today: date) -> dict[str, int]:
    """Replace the example criteria, synthetic socioeconomic figures and example round."""
    Round.objects.filter(example=True).delete()
    CriteriaSet.objects.filter(example=True, rounds__isnull=True).delete()
    SocioValue.objects.filter(synthetic=True).delete()
    rng = np.random.default_rng(seed)
    sets = {}
    for year in CATEGORIES:
        sets[year] = CriteriaSet.objects.filter(year=year).order_by("-version").first() or _criteria_set(year)
    values = _socio(rng, today.year - 1)
    if AssessmentRound.objects.filter(year=2025).exists() or Round.objects.filter(year=2025).exists():
        return {"criteria_sets": len(sets), "socio": values, "answers": 0}
    rnd = open_round(
        sets[2025], deadline=today + timedelta(days=60), cutoff=today, user=_ExampleUser(), example=True
    )
    submitted = 0
    botkyrka = list(
        rnd.answers.filter(org_unit__code="5312-botkyrka").select_related("area").order_by("area__name")
    )
    # The last of Botkyrka's areas is left as a draft for the local police area to finish.
    for answer in botkyrka[:-1]:
        latest = answer.area.classifications.order_by("-round__year").first()
        severe = latest is not None and latest.category == "särskilt utsatt område"
        answer.matrix = {
            code: int(rng.integers(2, 4) if severe else rng.integers(1, 3)) for code, *_ in MATRIX
        }
        answer.direction = "stable" if severe else "positive"
        answer.proposed_category = "särskilt utsatt område" if severe else "utsatt område"
        answer.municipality_participated = True
        answer.municipality_note = "Exempel: kommunens trygghetssamordnare deltog i bedömningen."
        answer.save()
        AnswerEvidence.objects.create(
            answer=answer, criterion=rnd.criteria_set.criteria.get(code="organised"),
            text="Exempel: öppen narkotikahandel vid centrum enligt underrättelser.",
            link=f"/areas/{answer.area.panel_id}/", added_by="exempel",
        )  # fmt: skip
        submit(answer, _ExampleUser())
        submitted += 1
    return {
        "criteria_sets": len(sets),
        "socio": values,
        "answers": rnd.answers.count(),
        "submitted": submitted,
    }


class _ExampleUser:
    """Who submits the example answers (no user account is needed)."""

    @staticmethod
    def get_username() -> str:
        return "exempel"
