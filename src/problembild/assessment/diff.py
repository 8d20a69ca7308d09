"""The list diff: what changed from one list of vulnerable areas to the next.

``added`` and ``removed`` are the areas on only one of the two lists, ``raised``,
``lowered`` and ``unchanged`` those on both (by the categories' severity, comparable across
list years whose category sets differ). ``split`` and ``merged`` are read from the
boundaries and the register's "split from" links:

* an area of the earlier list is **split** when areas added in the later list lie mostly
  inside it (at least :data:`INSIDE` of the new area's surface) or name it as the area they
  were split from: two or more successors when it left the list, one or more when it stayed;
* an added area is a **merger** when it covers at least :data:`COVERS` of the surface of two
  or more areas that left the list.

Splits and mergers are told in addition to the plain counts, so ``added`` and ``removed`` are
the police's own figures (2021 → 2023: 59 areas, 6 removed, 4 added).

Every list is ordered by severity (särskilt utsatt > riskområde > utsatt), then name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from problembild.areas.models import Area, AssessmentRound, Classification

#: Share of a new area's surface that must lie inside an earlier area for it to count as split from it.
INSIDE = 0.5
#: Share of an earlier area's surface a new area must cover for it to count as merged into it.
COVERS = 0.5
KINDS = ("added", "removed", "raised", "lowered", "unchanged", "split", "merged")


@dataclass
class ListDiff:
    """The changes between two lists; each kind a list of JSON-ready dicts."""

    from_year: int
    to_year: int
    from_categories: list[str]
    to_categories: list[str]
    changes: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in KINDS})
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"from_year": self.from_year, "to_year": self.to_year, **self.changes}

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.changes.items()}

    def by_region(self) -> list[dict]:
        """Per region: the number of areas of each kind of change."""
        regions: dict[str, dict] = {}
        for kind, items in self.changes.items():
            for item in items:
                row = regions.setdefault(item["region"], {"region": item["region"], **{k: 0 for k in KINDS}})
                row[kind] += 1
        return sorted(regions.values(), key=lambda r: r["region"])


def _region(area: Area) -> str:
    unit = area.org_unit
    while unit.parent is not None and unit.parent.parent is not None:
        unit = unit.parent
    return unit.name


def _entry(area: Area, **extra) -> dict:
    return {"panel_id": area.panel_id, "name": area.name, "region": _region(area), **extra}


def _overlap(a: Area, b: Area) -> float:
    """Surface of a ∩ b in m² (0 when either has no boundary)."""
    if a.shape is None or b.shape is None or not a.shape.intersects(b.shape):
        return 0.0
    return float(a.shape.intersection(b.shape).area)


def list_diff(from_year: int, to_year: int, *, areas=None) -> ListDiff:
    """The diff of the stored lists ``from_year`` → ``to_year`` (``areas``: limit to these, e.g. a user's scope).

    Raises ``LookupError`` when either list is not in the register.
    """
    rounds = {r.year: r for r in AssessmentRound.objects.filter(year__in=[from_year, to_year])}
    for year in (from_year, to_year):
        if year not in rounds:
            known = ", ".join(
                str(y) for y in AssessmentRound.objects.order_by("year").values_list("year", flat=True)
            )
            raise LookupError(f"no list for {year} in the register (lists: {known})")
    before_round, after_round = rounds[from_year], rounds[to_year]
    cats: dict[int, dict[int, str]] = defaultdict(dict)
    for area_id, year, category in Classification.objects.filter(
        round__year__in=[from_year, to_year]
    ).values_list("area_id", "round__year", "category"):
        cats[year][area_id] = category
    before, after = cats[from_year], cats[to_year]
    scope = set(areas.values_list("pk", flat=True)) if areas is not None else None
    wanted = (set(before) | set(after)) if scope is None else (set(before) | set(after)) & scope
    by_id = {
        a.pk: a
        for a in Area.objects.filter(pk__in=set(before) | set(after)).select_related(
            "org_unit__parent__parent"
        )
    }
    diff = ListDiff(from_year, to_year, list(before_round.categories), list(after_round.categories))
    diff.totals = {"from": len(before), "to": len(after)}
    sev_before, sev_after = before_round.severity, after_round.severity
    for pk in wanted:
        area = by_id[pk]
        old, new = before.get(pk), after.get(pk)
        if old is None:
            diff.changes["added"].append(_entry(area, to=new))
        elif new is None:
            diff.changes["removed"].append(_entry(area, **{"from": old}))
        else:
            step = sev_after(new) - sev_before(old)
            kind = "raised" if step > 0 else "lowered" if step < 0 else "unchanged"
            diff.changes[kind].append(_entry(area, **{"from": old, "to": new}))
    _splits_and_mergers(diff, by_id, before, after, wanted)
    _order(diff, sev_before, sev_after)
    return diff


def _splits_and_mergers(diff: ListDiff, by_id, before: dict, after: dict, wanted: set) -> None:
    added = [by_id[pk] for pk in after if pk not in before]
    removed = {pk for pk in before if pk not in after}
    successors: dict[int, list[Area]] = defaultdict(list)
    for new in added:
        for pk in before:
            old = by_id[pk]
            inside = (
                new.shape is not None and new.shape.area > 0 and _overlap(new, old) / new.shape.area >= INSIDE
            )
            if new.parent_id == pk or inside:
                successors[pk].append(new)
        covered = [
            by_id[pk]
            for pk in removed
            if by_id[pk].shape is not None and by_id[pk].shape.area > 0
            and _overlap(new, by_id[pk]) / by_id[pk].shape.area >= COVERS
        ]  # fmt: skip
        if len(covered) >= 2 and new.pk in wanted:
            diff.changes["merged"].append(
                _entry(
                    new,
                    to=after[new.pk],
                    of=[{"panel_id": a.panel_id, "name": a.name, "from": before[a.pk]} for a in covered],
                )
            )
    for pk, parts in successors.items():
        if pk not in wanted or len(parts) < (2 if pk in removed else 1):
            continue
        diff.changes["split"].append(
            _entry(
                by_id[pk],
                **{"from": before[pk], "to": after.get(pk)},
                into=[{"panel_id": a.panel_id, "name": a.name, "to": after[a.pk]} for a in parts],
            )
        )


def _order(diff: ListDiff, sev_before, sev_after) -> None:
    def key(item: dict) -> tuple:
        category = item.get("to") or item.get("from")
        severity = sev_after(category) if item.get("to") else sev_before(category)
        return (-severity, item["name"])

    for kind in KINDS:
        diff.changes[kind].sort(key=key)
