"""The measures' status now or on any past date, and the figures the dashboard and reminders show.

The past is read back from the history of edits (django-simple-history): for each measure,
its latest version saved on or before the date. A measure created later did not exist then.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from problembild.core.models import OrgUnit

from .models import Measure

S = Measure.Status
#: Days before the deadline from which an open measure is "due soon".
DUE_SOON_DAYS = 30
OPEN = (S.PLANNED, S.ONGOING)
#: What a state keeps of a measure (besides its id), read from the rows or from their history.
FIELDS = ("title", "recommendation_id", "owner_id", "responsible_role", "deadline", "status", "accepted")


@dataclass(frozen=True)
class MeasureState:
    """One measure as it stood on ``on``."""

    pk: int
    title: str
    recommendation_id: int
    owner_id: int
    responsible_role: str
    deadline: date
    status: str
    accepted: bool
    on: date

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @property
    def days_overdue(self) -> int | None:
        """Days past the deadline of an open measure (None when not overdue)."""
        days = (self.on - self.deadline).days
        return days if self.open and days > 0 else None

    @property
    def due_soon(self) -> bool:
        return self.open and 0 <= (self.deadline - self.on).days <= DUE_SOON_DAYS

    @property
    def closed(self) -> bool:
        return self.status == S.VERIFIED or (self.status == S.NOT_PURSUED and self.accepted)


def end_of(day: date) -> datetime:
    """The first moment after ``day`` (history saved before it counts for ``day``)."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def states(measures, on: date | None = None) -> list[MeasureState]:
    """``measures`` (a queryset) as they stood at the end of ``on`` (default: now)."""
    today = timezone.localdate()
    on = on or today
    ids = list(measures.values_list("pk", flat=True))
    if on >= today:
        return [MeasureState(on=on, **r) for r in measures.values("pk", *FIELDS)]
    seen: set[int] = set()
    out = []
    history = (
        Measure.history.filter(id__in=ids, history_date__lt=end_of(on))
        .order_by("id", "-history_date", "-history_id")
        .values("id", "history_type", *FIELDS)
    )
    for row in history:
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        if row.pop("history_type") == "-":
            continue
        out.append(MeasureState(pk=row.pop("id"), on=on, **row))
    return sorted(out, key=lambda s: (s.deadline, s.pk))


@dataclass(frozen=True)
class Summary:
    on: date
    counts: dict[str, int]
    total: int
    overdue: int
    due_soon: int
    median_days_overdue: float | None
    closed: int

    @property
    def share_closed(self) -> float | None:
        return self.closed / self.total if self.total else None

    def as_dict(self) -> dict:
        """The figures as the API and ``problembild audit status --json`` give them."""
        return {
            "as_of": self.on,
            "counts": self.counts,
            "total": self.total,
            "closed": self.closed,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "median_days_overdue": self.median_days_overdue,
        }


def summarise(rows: list[MeasureState], on: date) -> Summary:
    """Counts per status (every status named, 0 when none), overdue and due soon, median days overdue."""
    counts = Counter(r.status for r in rows)
    late = [r.days_overdue for r in rows if r.days_overdue is not None]
    return Summary(
        on=on,
        counts={code: counts.get(code, 0) for code in S.values},
        total=len(rows),
        overdue=len(late),
        due_soon=sum(r.due_soon for r in rows),
        median_days_overdue=float(statistics.median(late)) if late else None,
        closed=sum(r.closed for r in rows),
    )


def group(rows: list[MeasureState], key) -> dict:
    """``rows`` grouped by ``key(row)``."""
    out: dict = defaultdict(list)
    for r in rows:
        out[key(r)].append(r)
    return out


def reminders(rows: list[MeasureState]) -> dict[int, list[MeasureState]]:
    """Owner unit id -> its overdue and due-soon measures, most overdue first."""
    due = [r for r in rows if r.days_overdue is not None or r.due_soon]
    by_owner = group(due, lambda r: r.owner_id)
    return {
        owner: sorted(items, key=lambda r: (-(r.days_overdue or 0), r.deadline))
        for owner, items in by_owner.items()
    }


def owner_names(ids) -> dict[int, OrgUnit]:
    return {u.pk: u for u in OrgUnit.objects.filter(pk__in=set(ids))}
