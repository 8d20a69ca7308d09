"""The strategy's measures read from the data, and each target's status.

A measure's value for an org unit at a moment ``end`` (exclusive) is read from where the
data live: the unit's summed problem picture (twelve complete months before ``end``), the
resources app (the 1-per-5,000 rule, protected time), the follow-up itself (promises,
priorities, activity hours) or the safety surveys. A unit without its own target follows
its nearest parent's. The status rule (:func:`problembild.analysis.targets.target_status`)
is shown beside every verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Avg, Sum
from pydantic import ValidationError

from problembild.analysis.targets import TargetStatus, decimal_year, target_status
from problembild.areas.models import Area
from problembild.core.models import OrgUnit
from problembild.picture.document import UnitDocument
from problembild.picture.models import UnitPicture

from .models import Activity, Goal, Priority, Promise, StrategyIndicator, SurveyResult, Target

#: How long a promise or priority may go without activity or feedback before it is flagged.
QUIET_DAYS = 90


def unit_document(unit: OrgUnit) -> UnitDocument | None:
    picture = UnitPicture.objects.filter(unit=unit).first()
    if picture is None:
        return None
    try:
        return UnitDocument.model_validate(picture.data)
    except ValidationError:
        return None


def twelve_months(doc: UnitDocument | None, indicator: str, end: date) -> int | None:
    """Events of ``indicator`` in the twelve complete months before ``end`` (None if not all present)."""
    if doc is None or indicator not in doc.series:
        return None
    series = doc.series[indicator]
    first = date(end.year - 1, end.month, 1)
    counts = [c for m, c in zip(series.months, series.counts, strict=False) if first <= m < end]
    # Only complete months are in the series; a window the data do not cover is no figure.
    return sum(counts) if len(counts) == 12 else None


def unit_areas(unit: OrgUnit):
    return Area.objects.filter(org_unit__in=unit.descendants())


def measure_value(measure: StrategyIndicator, unit: OrgUnit, end: date, *, doc=None) -> float | None:
    """The value of ``measure`` for ``unit`` over the twelve months (or the year) before ``end``."""
    if measure.kind == StrategyIndicator.Kind.PICTURE:
        doc = doc if doc is not None else unit_document(unit)
        count = twelve_months(doc, measure.indicator, date(end.year, end.month, 1))
        if count is None:
            return None
        if measure.statistic == "count_12m":
            return float(count)
        return count / doc.residents * 1000 if doc and doc.residents else None
    if measure.kind == StrategyIndicator.Kind.RESOURCES:
        from problembild.resources.follow import unit_resources

        month = (end - timedelta(days=1)).replace(day=1)
        res = unit_resources(unit, period=month)
        if month not in res.periods:
            return None
        if measure.measure == "rule_share":
            return res.totals.share_met if res.totals else None
        shares = [r.protected_share for r in res.rows if r.protected_share is not None]
        return sum(shares) / len(shares) if shares else None
    if measure.kind == StrategyIndicator.Kind.FOLLOWUP:
        return followup_value(measure.measure, unit, end)
    if measure.kind == StrategyIndicator.Kind.MANUAL:
        year = (end - timedelta(days=1)).year
        rows = SurveyResult.objects.filter(area__in=unit_areas(unit), measure=measure.measure, year=year)
        return rows.aggregate(v=Avg("value"))["v"]
    return None


def followup_value(name: str, unit: OrgUnit, end: date) -> float | None:
    """The follow-up's own measures over the twelve months before ``end``."""
    start = end - timedelta(days=365)
    areas = unit_areas(unit)
    if name == "activity_hours":
        total = Activity.objects.filter(area__in=areas, date__gte=start, date__lt=end).aggregate(
            h=Sum("hours")
        )["h"]
        return float(total or 0.0)
    if name == "promises_with_feedback_share":
        promises = Promise.objects.filter(document__area__in=areas, deadline__lt=end, deadline__gte=start)
        n = promises.count()
        return promises.exclude(feedback="").count() / n if n else None
    if name == "priorities_with_activity_share":
        priorities = Priority.objects.filter(
            document__area__in=areas, document__year=(end - timedelta(days=1)).year
        )
        n = priorities.count()
        if not n:
            return None
        active = priorities.filter(activities__date__gte=start, activities__date__lt=end).distinct().count()
        return active / n
    return None


def target_for(measure: StrategyIndicator, unit: OrgUnit) -> Target | None:
    """The unit's own target for ``measure``, else its nearest parent's."""
    targets = {t.org_unit_id: t for t in Target.objects.filter(measure=measure).select_related("org_unit")}
    node: OrgUnit | None = unit
    while node is not None:
        if node.pk in targets:
            return targets[node.pk]
        node = node.parent
    return None


@dataclass
class MeasureStatus:
    """One strategy indicator at one unit: its target (own or inherited), value and status."""

    measure: StrategyIndicator
    target: Target | None
    inherited: bool
    status: TargetStatus | None
    actual: float | None
    baseline: float | None


@dataclass
class GoalStatus:
    goal: Goal
    subgoals: list[GoalStatus]
    measures: list[MeasureStatus]

    def counts(self) -> dict[str, int]:
        """How many measures below this goal are on track, at risk, off track or unknown."""
        out = {"on_track": 0, "at_risk": 0, "off_track": 0, "unknown": 0}
        for m in self.measures:
            out[m.status.status if m.status else "unknown"] += 1
        for sub in self.subgoals:
            for key, n in sub.counts().items():
                out[key] += n
        return out


def measure_status(measure: StrategyIndicator, unit: OrgUnit, end: date, *, doc=None) -> MeasureStatus:
    target = target_for(measure, unit)
    actual = measure_value(measure, unit, end, doc=doc)
    if target is None:
        return MeasureStatus(measure, None, False, None, actual, None)
    baseline = target.baseline_value
    if baseline is None:
        baseline = measure_value(measure, unit, date(target.baseline_year + 1, 1, 1), doc=doc)
    goal = target.target_value
    if goal is None and target.target_change_pct is not None and baseline is not None:
        goal = baseline * (1 + target.target_change_pct / 100)
    if goal is None:
        return MeasureStatus(measure, target, target.org_unit_id != unit.pk, None, actual, baseline)
    status = target_status(
        baseline,
        goal,
        actual,
        start=target.baseline_year + 1.0,
        end=target.target_year + 1.0,
        at=decimal_year(end),
        direction=measure.direction,  # type: ignore[arg-type]
        tolerance=target.tolerance,
    )
    return MeasureStatus(measure, target, target.org_unit_id != unit.pk, status, actual, baseline)


def strategy_status(unit: OrgUnit, end: date) -> list[GoalStatus]:
    """The strategy's goals with every measure's status for ``unit`` as of ``end``."""
    doc = unit_document(unit)
    measures: dict[int, list[StrategyIndicator]] = {}
    for m in StrategyIndicator.objects.all():
        measures.setdefault(m.goal_id, []).append(m)
    goals = list(Goal.objects.all())
    children: dict[int | None, list[Goal]] = {}
    for g in goals:
        children.setdefault(g.parent_id, []).append(g)

    def build(goal: Goal) -> GoalStatus:
        return GoalStatus(
            goal,
            [build(sub) for sub in children.get(goal.pk, [])],
            [measure_status(m, unit, end, doc=doc) for m in measures.get(goal.pk, [])],
        )

    return [build(g) for g in children.get(None, [])]
