"""Example audit for ``problembild demo-data``: the internal audit of the governance of the work
in vulnerable areas (``../shared/seed``), its nine recommendations and the measures decided.

Marked example everywhere it is shown. The seed (a press release of June 2018) names the
review, that nine recommendations were made, and the measures decided: a national strategy,
the local problem picture steering operations, routines for efficient use of the total
resources, a review of national training for area officers, follow-up of the method support,
a competence profile for intelligence coordinators, and collaboration with the rest of
society. The recommendations' wording, owners and dates are plausible, not the report's.

The measures' history is written with past dates, so the dashboard's "status on a past
date" has a past to show: the strategy was adopted in September 2018 and verified, the
competence profile is done and verified, some measures are ongoing and one is overdue, one
is due soon, and one is proposed as not pursued, awaiting the auditor's acceptance.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from problembild.core import roles
from problembild.core.models import OrgUnit
from problembild.followup.models import StrategyIndicator
from problembild.followup.seed import load_seed

from .models import AuditReport, Evidence, Measure, Recommendation

REFERENCE = "IR-2018-EX"
S = Measure.Status

#: (number, recommendation, indicator code or "", [measures]); a measure is
#: (title, owner unit, role, deadline, [(status, when, note)], evidence [(kind, text, link)]).
#: Dates are absolute for what happened in 2018–2020 and relative to today (``+N`` days) for what is open.
RECOMMENDATIONS = [
    (1, "Ta fram en nationell strategi för arbetet i utsatta områden.", "",
     [("Nationell strategi för utsatta områden", "SE", roles.NATIONAL_ANALYST, date(2018, 9, 30),
       [(S.ONGOING, date(2018, 6, 15), ""), (S.DONE, date(2018, 9, 20), ""), (S.VERIFIED, date(2018, 11, 5), "Strategin beslutad och publicerad.")],
       [("link", "Strategins mål och indikatorer", "/followup/strategy/")])]),
    (2, "Säkerställ att den lokala problembilden styr verksamheten i områdena.", "priorities_with_activity",
     [("Årlig lokal problembild med prioriteringar och aktiviteter per område", "5312", roles.POLICE_AREA_MANAGER, "+60",
       [(S.ONGOING, date(2019, 2, 1), "")],
       [("note", "Problembilderna för 2025 antagna för alla områden i Stockholm syd.", "")])]),
    (3, "Ta fram rutiner som säkerställer att de polisiära totalresurserna används effektivt.", "area_officer_rule_share",
     [("Rutin för fördelning av områdespoliser efter behov och golvet 1 per 5 000 invånare", "5300", roles.REGION_MANAGER, "-45",
       [(S.ONGOING, date(2019, 9, 1), "")], [])]),
    (4, "Se över behovet av en nationell utbildning för områdespoliser.", "",
     [("Översyn av nationell utbildning för områdespoliser", "SE", roles.NATIONAL_ANALYST, date(2019, 12, 31),
       [(S.ONGOING, date(2018, 10, 1), ""), (S.DONE, date(2019, 11, 15), "")],
       [("link", "Utbildningsbehov per region", "/competence/needs/")])]),
    (5, "Följ upp metodstödet för arbetet i utsatta områden.", "",
     [("Uppföljning av metodstödet med evidensgradering", "SE", roles.NATIONAL_ANALYST, "+20",
       [(S.ONGOING, date(2019, 3, 1), "")], [("link", "Metodstödet", "/followup/methods/")])]),
    (6, "Ta fram en kompetensprofil för underrättelsesamordnare.", "",
     [("Kompetensprofil för underrättelsesamordnare", "SE", roles.NATIONAL_ANALYST, date(2019, 6, 30),
       [(S.ONGOING, date(2018, 9, 1), ""), (S.DONE, date(2019, 6, 1), ""), (S.VERIFIED, date(2019, 9, 10), "Profilen finns och används.")],
       [("link", "Rollprofilerna", "/competence/profiles/")])]),
    (7, "Utveckla samverkan med kommunerna och övriga samhället i områdena.", "promises_feedback_share",
     [("Medborgarlöften med återkoppling i alla utsatta områden", "5312-botkyrka", roles.LOCAL_CHIEF, "-120",
       [(S.ONGOING, date(2020, 1, 15), "")], [])]),
    (8, "Följ upp hur resurstillskotten fördelas till de utsatta områdena.", "",
     [("Särskild uppföljning av resurstillskott per område", "5500", roles.REGION_MANAGER, "+90",
       [(S.NOT_PURSUED, date(2020, 5, 1), "Följs upp i den ordinarie resursuppföljningen (Resurser) i stället.")], [])]),
    (9, "Tydliggör styrningen och uppföljningen av regionernas handlingsplaner.", "",
     [("Kvartalsvis uppföljning av handlingsplanerna i regionledningen", "5600", roles.REGION_MANAGER, "+25",
       [], [])]),
]  # fmt: skip


def _when(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _deadline(value, today: date) -> date:
    return today + timedelta(days=int(value)) if isinstance(value, str) else value


@transaction.atomic
def generate_example_audit(*, today: date) -> dict[str, int]:
    """Replace the example audit; returns the counts made."""
    load_seed()
    AuditReport.objects.filter(example=True).delete()
    if AuditReport.objects.filter(reference=REFERENCE).exists():
        return {"reports": 0, "measures": 0}  # a real report with the reference is never replaced
    issued = date(2018, 6, 8)
    report = AuditReport(
        reference=REFERENCE,
        title="Intern styrning av arbetet i utsatta områden (exempel)",
        issuer="Internrevisionen",
        issued=issued,
        summary=(
            "Exempel byggt på pressmeddelandet i juni 2018: polisarbetet i de utsatta områdena bedrivs "
            "målmedvetet med engagemang, men det finns en generell resursbrist och myndigheten bör ta fram "
            "rutiner som försäkrar att de polisiära totalresurserna används effektivt. Nio rekommendationer."
        ),
        example=True,
    )
    report._history_date = _when(issued)
    report.save()
    indicators = {i.code: i for i in StrategyIndicator.objects.all()}
    units = {u.code: u for u in OrgUnit.objects.all()}
    made = 0
    for number, text, indicator, measures in RECOMMENDATIONS:
        rec = Recommendation(report=report, number=number, text=text, indicator=indicators.get(indicator))
        rec._history_date = _when(issued)
        rec.save()
        for title, owner, role, deadline, steps, evidence in measures:
            if owner not in units:
                continue
            measure = Measure(
                recommendation=rec,
                title=title,
                owner=units[owner],
                responsible_role=role,
                deadline=_deadline(deadline, today),
                example=True,
                changed=_when(issued + timedelta(days=14)),
            )
            measure._history_date = _when(issued + timedelta(days=14))
            measure.save()
            for kind, note, link in evidence:
                Evidence.objects.create(
                    measure=measure, kind=kind, text=note, link=link, added_by_name="exempel", example=True,
                    added=_when(steps[-1][1] if steps else issued),
                )  # fmt: skip
            for status, when, note in steps:
                measure.status = status
                if status == S.ONGOING and measure.started is None:
                    measure.started = when
                if status == S.NOT_PURSUED:
                    measure.justification = note
                elif note:
                    measure.reason = note
                measure.version += 1
                measure.changed = _when(when)
                measure._history_date = _when(when)
                measure.save()
            made += 1
    return {"reports": 1, "measures": made}
