"""The follow-up of a unit: what is done against which priority and promise, what has gone
quiet, and the quarterly report.

Brå's review of the work in vulnerable areas (2018) found two recurring failures: less time
spent than planned, and residents not told what came of their concerns. The follow-up flags
exactly those: a priority with no activity in the period, and a promise with no activity or
no feedback to residents in the last :data:`~.measures.QUIET_DAYS` days.

A quarterly report states what was known when it was made: the documents, priorities and
promises as their history stood at that moment (django-simple-history ``as_of``), the
activities dated in the quarter and recorded by then, and the unit's figures for the complete
months up to the quarter's end. The first report made after its quarter has ended is kept
(:class:`~.models.QuarterlyReport`), so every later reading of that quarter shows the same
report; a scheduled run (``problembild report quarterly``) at the quarter's end makes it then.
Late entries for the quarter show in the registers, not in the kept report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from problembild.analysis.ratetest import estimate_dispersion, rate_test
from problembild.analysis.targets import parse_quarter, quarter_bounds
from problembild.core.models import OrgUnit
from problembild.incidents.choices import indicator_label

from .measures import QUIET_DAYS, strategy_status, unit_areas, unit_document
from .models import Activity, Evaluation, PictureDocument, Priority, Promise, QuarterlyReport


@dataclass
class Flag:
    """Something that has gone quiet: a priority without activity, a promise without activity or feedback."""

    kind: str  # "priority" or "promise"
    area: str
    panel_id: int
    title: str
    reason: str  # "no_activity", "no_feedback"
    last_activity: date | None
    document_year: int


def quiet(unit: OrgUnit, today: date, *, days: int = QUIET_DAYS) -> list[Flag]:
    """Priorities and open promises of each area's current document (this year's, else its latest)
    with no activity (or, for promises, no feedback) in the last ``days`` days."""
    since = today - timedelta(days=days)
    areas = unit_areas(unit)
    flags: list[Flag] = []
    last_by_priority = _last_dates(
        Activity.objects.filter(area__in=areas, priority__isnull=False), "priority_id"
    )
    last_by_promise = _last_dates(
        Activity.objects.filter(area__in=areas, promise__isnull=False), "promise_id"
    )
    # Each area's current document: this year's, or its latest before.
    latest: dict[int, int] = {}
    for pk, area_id in (
        PictureDocument.objects.filter(area__in=areas, year__lte=today.year)
        .order_by("year")
        .values_list("pk", "area_id")
    ):
        latest[area_id] = pk
    current = list(latest.values())
    for p in Priority.objects.filter(document__in=current).select_related("document__area"):
        last = last_by_priority.get(p.pk)
        if last is None or last < since:
            flags.append(
                Flag(
                    "priority",
                    p.document.area.name,
                    p.document.area.panel_id,
                    p.title,
                    "no_activity",
                    last,
                    p.document.year,
                )
            )
    open_promises = Promise.objects.filter(document__in=current).exclude(
        status__in=[Promise.Status.DONE, Promise.Status.DROPPED]
    )
    for p in open_promises.select_related("document__area"):
        last = last_by_promise.get(p.pk)
        area = p.document.area
        if last is None or last < since:
            flags.append(
                Flag("promise", area.name, area.panel_id, p.commitment, "no_activity", last, p.document.year)
            )
        if not p.feedback or (p.feedback_date is not None and p.feedback_date < since):
            flags.append(
                Flag("promise", area.name, area.panel_id, p.commitment, "no_feedback", last, p.document.year)
            )
    return flags


def _last_dates(activities, field: str) -> dict[int, date]:
    out: dict[int, date] = {}
    for key, day in activities.values_list(field, "date"):
        if key not in out or day > out[key]:
            out[key] = day
    return out


def method_use(activities) -> list[dict]:
    """Activities, hours and areas per method (most hours first)."""
    rows = (
        activities.values("method__code", "method__name_sv", "method__name_en")
        .annotate(n=Count("pk"), hours=Sum("hours"), areas=Count("area", distinct=True))
        .order_by("-hours")
    )
    return [
        {
            "method": r["method__code"],
            "name_sv": r["method__name_sv"],
            "name_en": r["method__name_en"] or r["method__name_sv"],
            "activities": r["n"],
            "hours": round(float(r["hours"] or 0), 1),
            "areas": r["areas"],
        }
        for r in rows
    ]


def hours_against_need(unit: OrgUnit, start: date, end: date) -> list[dict]:
    """Activity hours per area in [start, end) beside the area's need (harm-weighted incidents a year)."""
    from problembild.picture.models import AreaPicture

    areas = list(unit_areas(unit).current().order_by("name"))
    hours = dict(
        Activity.objects.filter(area__in=areas, date__gte=start, date__lt=end)
        .values_list("area_id")
        .annotate(h=Sum("hours"))
        .values_list("area_id", "h")
    )
    need = {
        row["area_id"]: (row["data__need"] or {}).get("weighted_total")
        for row in AreaPicture.objects.filter(area__in=areas).values("area_id", "data__need")
    }
    out = []
    for area in areas:
        h = float(hours.get(area.pk) or 0.0)
        n = need.get(area.pk)
        out.append(
            {
                "panel_id": area.panel_id,
                "area": area.name,
                "hours": round(h, 1),
                "need": None if n is None else round(float(n), 1),
                "hours_per_need": round(h / n, 3) if n else None,
            }
        )
    return out


def _quarter_counts(doc, indicator: str, start: date) -> tuple[int | None, int | None, int | None, float]:
    """Counts of the quarter from ``start``, the quarter before and the same quarter a year earlier."""
    series = doc.series.get(indicator) if doc else None
    if series is None:
        return None, None, None, 1.0
    by_month = dict(zip(series.months, series.counts, strict=False))

    def quarter(first: date) -> int | None:
        months = [
            date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(3)
        ]
        return sum(by_month[m] for m in months) if all(m in by_month for m in months) else None

    before = (
        date(start.year - 1, start.month + 9, 1) if start.month == 1 else date(start.year, start.month - 3, 1)
    )
    last_year = date(start.year - 1, start.month, 1)
    upto = [c for m, c in zip(series.months, series.counts, strict=False) if m < start + timedelta(days=92)]
    phi = estimate_dispersion(upto) if len(upto) >= 12 else 1.0
    return quarter(start), quarter(before), quarter(last_year), phi


def indicator_changes(unit: OrgUnit, start: date, doc=None) -> list[dict]:
    """The quarter's count per indicator against the quarter before and the same quarter last year,
    with p-values that allow for the series' overdispersion."""
    doc = doc if doc is not None else unit_document(unit)
    out = []
    for code in doc.series if doc else {}:
        now, before, last_year, phi = _quarter_counts(doc, code, start)
        if now is None:
            continue
        row = {
            "indicator": code,
            "label": str(indicator_label(code)),
            "count": now,
            "dispersion": round(phi, 2),
        }
        for name, other in (("previous", before), ("last_year", last_year)):
            row[name] = other
            if other is None:
                row[f"{name}_p"] = None
                row[f"{name}_mark"] = ""
                continue
            test = rate_test(now, 1.0, other, 1.0, dispersion=phi)
            row[f"{name}_p"] = float(test.p_value)
            row[f"{name}_mark"] = ("↑" if now > other else "↓") if test.p_value < 0.05 else ""
        out.append(row)
    return out


def _as_of(model, when: dt.datetime, **filters):
    """``model``'s rows as their history stood at ``when`` (rows created later are left out)."""
    return model.history.as_of(when).filter(**filters)


def build_report(unit: OrgUnit, quarter: str, *, known: dt.datetime | None = None) -> dict:
    """The quarterly follow-up of ``unit`` as known at ``known`` (default now), a JSON-able dict."""
    year, q = parse_quarter(quarter)
    start, end = quarter_bounds(year, q)
    known = known or timezone.now()
    areas = list(unit_areas(unit).values_list("pk", flat=True))
    documents = {d.pk: d for d in _as_of(PictureDocument, known, area_id__in=areas, year=year)}
    area_names = dict(unit_areas(unit).values_list("pk", "name"))
    activities = Activity.objects.filter(area_id__in=areas, date__gte=start, date__lt=end, created__lt=known)
    per_priority = dict(
        activities.filter(priority__isnull=False)
        .values_list("priority_id")
        .annotate(n=Count("pk"))
        .values_list("priority_id", "n")
    )
    hours_priority = dict(
        activities.filter(priority__isnull=False)
        .values_list("priority_id")
        .annotate(h=Sum("hours"))
        .values_list("priority_id", "h")
    )
    per_promise = dict(
        activities.filter(promise__isnull=False)
        .values_list("promise_id")
        .annotate(n=Count("pk"))
        .values_list("promise_id", "n")
    )
    priorities = [
        {
            "area": area_names.get(documents[p.document_id].area_id, ""),
            "rank": p.rank,
            "title": p.title,
            "activities": per_priority.get(p.id, 0),
            "hours": round(float(hours_priority.get(p.id) or 0), 1),
            "flag": per_priority.get(p.id, 0) == 0,
        }
        for p in _as_of(Priority, known, document_id__in=list(documents)).order_by("document_id", "rank")
    ]
    promises = [
        {
            "area": area_names.get(documents[p.document_id].area_id, ""),
            "commitment": p.commitment,
            "status": p.status,
            "deadline": p.deadline.isoformat() if p.deadline else None,
            "activities": per_promise.get(p.id, 0),
            "feedback": bool(p.feedback),
            "flag": p.status not in ("done", "dropped") and (per_promise.get(p.id, 0) == 0 or not p.feedback),
        }
        for p in _as_of(Promise, known, document_id__in=list(documents)).order_by("document_id", "deadline")
    ]
    doc = unit_document(unit)
    strategy = []
    for goal in strategy_status(unit, end):
        for sub in goal.subgoals or [goal]:
            for m in sub.measures:
                s = m.status
                strategy.append(
                    {
                        "goal": goal.goal.title_sv,
                        "goal_en": goal.goal.title_en or goal.goal.title_sv,
                        "subgoal": sub.goal.title_sv,
                        "measure": m.measure.title_sv,
                        "measure_en": m.measure.title_en or m.measure.title_sv,
                        "status": s.status if s else "no_target",
                        "actual": m.actual,
                        "baseline": m.baseline,
                        "expected": s.expected if s else None,
                        "target": s.target if s else None,
                        "target_year": m.target.target_year if m.target else None,
                        "target_unit": m.target.org_unit.name if m.target else None,
                        "inherited": m.inherited,
                    }
                )
    rule = rule_status(unit, (end - timedelta(days=1)).replace(day=1))
    return {
        "unit": {"code": unit.code, "name": unit.name, "kind": unit.kind},
        "quarter": f"{year}Q{q}",
        "start": start.isoformat(),
        "end": (end - timedelta(days=1)).isoformat(),
        "generated_at": known.isoformat(timespec="seconds"),
        "final": end <= timezone.localdate(),
        "documents": len(documents),
        "strategy": strategy,
        "priorities": priorities,
        "promises": promises,
        "methods": method_use(activities),
        "hours": hours_against_need(unit, start, end),
        "activities": activities.count(),
        "activity_hours": round(float(activities.aggregate(h=Sum("hours"))["h"] or 0), 1),
        "changes": indicator_changes(unit, start, doc),
        "rule": rule,
        "evaluations": [
            {
                "title": e.title,
                "area": area_names.get(e.area_id, ""),
                "indicator": e.result.get("indicator_label", e.indicator),
                "start": e.start.isoformat(),
                "method": e.method,
                "status": e.result.get("status", ""),
                "relative_effect": e.result.get("relative_effect"),
                "relative_interval": e.result.get("relative_interval") or [None, None],
                "p_value": e.result.get("p_value"),
                "warnings": len(e.result.get("warnings") or []),
            }
            for e in Evaluation.objects.filter(area_id__in=areas, created__lt=known, start__lt=end).order_by(
                "start"
            )
        ],
        "data_as_of": doc.as_of.isoformat() if doc and doc.as_of else None,
    }


def rule_status(unit: OrgUnit, month: date) -> dict | None:
    """The 1-per-5,000 rule in ``month`` where the resources app has staffing for it."""
    from problembild.resources.follow import unit_resources

    res = unit_resources(unit, period=month)
    if month not in res.periods or res.totals is None:
        return None
    met, judged = res.lpo_share_met
    t = res.totals
    return {
        "month": month.isoformat(),
        "areas": t.areas,
        "met": t.met,
        "not_met": t.not_met,
        "unknown": t.unknown,
        "shortfall": t.shortfall,
        "lpo_met": met,
        "lpo_judged": judged,
    }


def quarterly_report(unit: OrgUnit, quarter: str) -> dict:
    """The report of ``quarter``: the kept one if it exists, else built (and kept once the quarter has ended)."""
    year, q = parse_quarter(quarter)
    label = f"{year}Q{q}"
    kept = QuarterlyReport.objects.filter(org_unit=unit, quarter=label).first()
    if kept is not None:
        return kept.data
    now = timezone.now()
    data = build_report(unit, label, known=now)
    if data["final"]:
        QuarterlyReport.objects.get_or_create(
            org_unit=unit, quarter=label, defaults={"data": data, "generated_at": now}
        )
    return data
