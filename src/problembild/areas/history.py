"""What changed between assessment rounds: added, removed, raised and lowered areas."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import AssessmentRound, Classification


@dataclass
class RoundChange:
    year: int
    previous: int | None
    counts: dict[str, int]
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    raised: list[tuple[str, str, str]] = field(default_factory=list)
    lowered: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def classification_matrix(area_ids) -> dict[int, dict[int, str]]:
    """``{area_id: {year: category}}`` for the given areas."""
    out: dict[int, dict[int, str]] = {}
    for area_id, year, category in Classification.objects.filter(area_id__in=area_ids).values_list(
        "area_id", "round__year", "category"
    ):
        out.setdefault(area_id, {})[year] = category
    return out


def round_changes(area_qs) -> list[RoundChange]:
    """One :class:`RoundChange` per round for the areas in ``area_qs`` (newest first)."""
    rounds = list(AssessmentRound.objects.order_by("year"))
    names = dict(area_qs.values_list("pk", "name"))
    matrix = classification_matrix(list(names))
    changes = []
    prev_round = None
    for rnd in rounds:
        change = RoundChange(year=rnd.year, previous=prev_round.year if prev_round else None, counts={})
        for cat in rnd.categories:
            change.counts[cat] = 0
        for area_id, by_year in matrix.items():
            now = by_year.get(rnd.year)
            if now:
                change.counts[now] = change.counts.get(now, 0) + 1
            if prev_round is None:
                continue
            before = by_year.get(prev_round.year)
            name = names[area_id]
            if now and not before:
                change.added.append((name, now))
            elif before and not now:
                change.removed.append((name, before))
            elif now and before and now != before:
                up = rnd.severity(now) > prev_round.severity(before)
                (change.raised if up else change.lowered).append((name, before, now))
        for lst in (change.added, change.removed, change.raised, change.lowered):
            lst.sort()
        changes.append(change)
        prev_round = rnd
    return list(reversed(changes))
