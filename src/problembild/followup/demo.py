"""Example follow-up for ``problembild demo-data``: problem picture documents, priorities,
promises, partners, meetings, activities and safety-survey results for the areas of one
police area (Stockholm syd), marked example wherever shown. No person is in it.

Deliberate gaps, so the follow-up has something to flag: in each area the last priority
gets no activity, and every other promise gets no feedback to residents.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from django.db import transaction

from problembild.areas.models import Area
from problembild.core.models import OrgUnit

from .models import (
    Activity,
    Assessment,
    Meeting,
    Method,
    Partner,
    PictureDocument,
    Priority,
    Promise,
    SurveyResult,
)
from .seed import load_seed

EXAMPLE_SOURCE = "Exempel (Problembild demo-data)"
DEMO_UNIT = "5312"

PRIORITIES = [
    ("Öppen narkotikaförsäljning vid centrum", ["drugs"], True),
    ("Skjutningar och sprängningar i konflikten mellan grupperingar", ["shootings", "explosions"], True),
    ("Bilbränder och skadegörelse på kvällstid", ["vehicle_arson_vandalism"], False),
]
PROMISES = [
    "Polisen och kommunen är synliga vid centrumtorget fredag och lördag kväll",
    "Trygghetsvandring med boende varje månad",
    "Bättre belysning och röjd vegetation längs gångvägen till skolan",
]
PARTNERS = [
    (Partner.Kind.MUNICIPALITY, "Kommunens trygghetssamordnare", "EST: gemensam lägesbild varje vecka"),
    (Partner.Kind.HOUSING, "Det kommunala bostadsbolaget", "Fastighetsnära åtgärder, belysning"),
    (Partner.Kind.SCHOOL, "Högstadieskolan", "SSPF"),
    (Partner.Kind.SOCIAL, "Socialtjänsten", "SSPF, avhopparverksamhet"),
]


@transaction.atomic
def generate_example_followup(*, seed: int, today: date) -> dict[str, int]:
    """Replace the example follow-up with a fresh seeded set for last year and this year."""
    load_seed()
    Activity.objects.filter(example=True).delete()
    PictureDocument.objects.filter(example=True).delete()
    SurveyResult.objects.filter(example=True).delete()
    unit = OrgUnit.objects.filter(code=DEMO_UNIT).first()
    if unit is None:
        return {"documents": 0, "activities": 0}
    rng = np.random.default_rng(seed)
    methods = {m.code: m for m in Method.objects.all()}
    areas = list(Area.objects.filter(org_unit__in=unit.descendants()).current().order_by("name"))
    documents = activities = 0
    for area in areas:
        previous = None
        for year in (today.year - 1, today.year):
            if PictureDocument.objects.filter(area=area, year=year).exists():
                continue  # a real document is never replaced by an example
            doc = PictureDocument.objects.create(
                area=area,
                year=year,
                previous=previous,
                status=PictureDocument.Status.ADOPTED if year < today.year else PictureDocument.Status.DRAFT,
                summary=(
                    f"Exempel: {area.name} har en öppen narkotikahandel och en konflikt mellan kriminella "
                    "grupperingar som skapar otrygghet. Boende uppger i trygghetsmätningen att de undviker "
                    "centrum på kvällen."
                ),
                dialogue="Exempel: medborgardialog i maj med 40 deltagare; trygghetsmätningens problemindex 2,9.",
                challenges="Exempel: minska den öppna narkotikahandeln; bryta konflikten; öka anmälningsbenägenheten.",
                measures="Exempel: hot spot-närvaro kvällstid, Sluta skjut-samtal, SSPF, fastighetsägarsamverkan.",
                resources_plan="Exempel: två områdespoliser till under året; skyddad tid för områdespoliserna.",
                example=True,
            )
            documents += 1
            Assessment.objects.create(
                document=doc,
                text="Exempel: bedömningen beskriver aktörer och konflikter på en nivå som demot inte visar.",
            )
            priorities = [
                Priority.objects.create(
                    document=doc, rank=i + 1, title=title, indicators=codes, hot_spots=hot, assessment=i == 1
                )
                for i, (title, codes, hot) in enumerate(PRIORITIES)
            ]
            promises = []
            for i, text in enumerate(PROMISES):
                feedback = (
                    "Exempel: återkopplat på boendemöte och i kommunens nyhetsbrev." if i % 2 == 0 else ""
                )
                promises.append(
                    Promise.objects.create(
                        document=doc,
                        commitment=text,
                        owners="Lokalpolisområdet och kommunen",
                        deadline=date(year, 12, 31),
                        status=Promise.Status.ONGOING,
                        feedback=feedback,
                        feedback_date=date(year, 6, 15) if feedback else None,
                    )
                )
            for kind, name, role in PARTNERS:
                Partner.objects.create(document=doc, kind=kind, name=name, role=role)
            for month in range(1, 13):
                if date(year, month, 1) > today:
                    break
                Meeting.objects.create(
                    document=doc,
                    date=date(year, month, 5),
                    kind=Meeting.Kind.WEEKLY,
                    note="Exempel: gemensam lägesbild",
                )
                if month % 3 == 0:
                    Meeting.objects.create(
                        document=doc, date=date(year, month, 20), kind=Meeting.Kind.QUARTERLY
                    )
            activities += _activities(rng, area, year, today, priorities, promises, methods)
            for measure, base in (("safety_index", 3.0),):
                SurveyResult.objects.update_or_create(
                    area=area,
                    year=year,
                    measure=measure,
                    defaults={
                        "value": round(base + float(rng.normal(0, 0.4)), 1),
                        "source": EXAMPLE_SOURCE,
                        "example": True,
                    },
                )
            previous = doc
    return {"documents": documents, "activities": activities}


def _activities(rng, area, year, today, priorities, promises, methods) -> int:
    """About weekly presence and hot-spot work on the first two priorities; nothing on the third;
    activity on every promise but the last."""
    plan = [
        ("area_officer_presence", priorities[0], promises[0], 6.0),
        ("hot_spot_policing", priorities[0], None, 3.0),
        ("group_violence_intervention", priorities[1], None, 4.0),
        ("safety_walks", None, promises[1], 2.0),
        ("est", priorities[1], None, 2.0),
    ]
    made = []
    day = date(year, 1, 3)
    end = min(date(year + 1, 1, 1), today)
    while day < end:
        for code, priority, promise, hours in plan:
            method = methods.get(code)
            if method is None or rng.random() < 0.4:
                continue
            made.append(
                Activity(
                    area=area,
                    method=method,
                    date=day + timedelta(days=int(rng.integers(0, 7))),
                    hours=round(hours * float(rng.uniform(0.5, 1.5)), 1),
                    officers=int(rng.integers(1, 4)),
                    partners="Kommunen" if code in ("est", "safety_walks") else "",
                    priority=priority,
                    promise=promise,
                    note="Exempel",
                    key=f"example-{area.pk}-{year}-{len(made)}-{day.isoformat()}-{code}",
                    source=EXAMPLE_SOURCE,
                    example=True,
                )
            )
        day += timedelta(days=7)
    Activity.objects.bulk_create([a for a in made if a.date < end])
    return sum(1 for a in made if a.date < end)
