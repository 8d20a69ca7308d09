"""Example staffing, presence and capacity for the real areas (``problembild demo-data``).

Every row is marked ``example`` and carries the source :data:`EXAMPLE_SOURCE`; pages and
exports label it. There are no people in it: only counts of officers and hours. The
generator's assumptions are deliberate and stated, so the follow-up has something to find:

* officers per area scatter around the 1-per-5,000 floor (a factor drawn between 0.5 and
  1.4 per local police area and area), so some local police areas meet the rule and some
  do not, as Riksrevisionen found;
* presence leans to weekday daytime (office hours), while the incidents lean to evenings
  and weekends: the presence-versus-demand view shows the gap;
* 10–35 % of the officers' hours are spent outside their area;
* each police area gets an expected increase of a few officers from the coming year.

Running it again replaces the earlier example rows (same seed, same data).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from django.conf import settings
from django.db import transaction

from problembild.areas.models import Area
from problembild.core.models import OrgUnit

from .models import BLOCKS, Capacity, Scenario, Staffing

EXAMPLE_SOURCE = "Exempel (Problembild demo-data)"

#: Relative presence by hour of day on weekdays and weekends: mostly day shifts.
_WEEKDAY = np.array([0.05] * 7 + [0.6, 1, 1, 1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05])
_WEEKEND = np.array([0.05] * 9 + [0.3] * 8 + [0.4, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05])


def _presence_shape() -> np.ndarray:
    shape = np.concatenate([_WEEKDAY] * 5 + [_WEEKEND] * 2)
    return shape / shape.sum()


def _months(end: date, count: int) -> list[date]:
    out, year, month = [], end.year, end.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, 1))
    return sorted(out)


@transaction.atomic
def generate_example_resources(*, seed: int, end: date, months: int = 12) -> dict[str, int]:
    """Replace the example staffing and capacity: ``months`` months before ``end``'s month.

    Capacity is also written for the six months from ``end`` on, with the expected increase,
    so the optimiser's form has next period's figures.
    """
    Staffing.objects.filter(example=True).delete()
    Capacity.objects.filter(example=True).delete()
    Scenario.objects.filter(example=True).delete()
    rng = np.random.default_rng(seed)
    periods = _months(date(end.year, end.month, 1), months)
    shape = _presence_shape()
    areas = list(Area.objects.current().with_current_category().select_related("org_unit").order_by("pk"))
    lpo_factor: dict[int, float] = {}
    rows: list[Staffing] = []
    per_lpo: dict[int, int] = {}
    taken_staffing = set(Staffing.objects.values_list("area_id", "period"))
    for area in areas:
        pop = area.latest_population()
        residents = pop.residents if pop else 0
        floor = max(1, math.ceil(residents / settings.RESIDENTS_PER_OFFICER))
        factor = lpo_factor.setdefault(area.org_unit_id, float(rng.uniform(0.5, 1.4)))
        base = max(0, round(floor * factor * rng.uniform(0.8, 1.2)))
        per_lpo[area.org_unit_id] = per_lpo.get(area.org_unit_id, 0) + base
        outside_share = float(rng.uniform(0.10, 0.35))
        for period in periods:
            if (area.pk, period) in taken_staffing:
                continue
            officers = max(0, base + int(rng.integers(-1, 2)) * (rng.random() < 0.15))
            fte = round(officers * float(rng.uniform(0.85, 1.0)), 1)
            # About 24 presence hours a week per officer, over the month's 4.35 weeks.
            in_area = officers * settings.PRESENCE_HOURS_PER_OFFICER * 4.35
            noise = rng.gamma(20.0, 1 / 20.0, size=BLOCKS)
            actual = np.round(in_area * shape * noise, 1)
            planned = np.round(in_area * 1.1 * shape, 1)
            outside = round(float(actual.sum()) * outside_share / (1 - outside_share), 1)
            rows.append(
                Staffing(
                    area=area,
                    period=period,
                    officers=officers,
                    fte=fte,
                    planned=[float(v) for v in planned],
                    actual=[float(v) for v in actual],
                    hours_outside=outside,
                    example=True,
                    source=EXAMPLE_SOURCE,
                )
            )
    Staffing.objects.bulk_create(rows)
    capacity: list[Capacity] = []
    future = [date(end.year + (end.month - 1 + i) // 12, (end.month - 1 + i) % 12 + 1, 1) for i in range(6)]
    lpos = {u.pk: u for u in OrgUnit.objects.filter(pk__in=per_lpo).select_related("parent")}
    # Each local police area and each police area gets its own capacity: what it has now.
    nodes = {u.pk: u for u in lpos.values()} | {u.parent.pk: u.parent for u in lpos.values() if u.parent}
    taken = set(Capacity.objects.values_list("org_unit_id", "period"))
    for node in sorted(nodes.values(), key=lambda u: u.path):
        total = sum(n for pk, n in per_lpo.items() if node.contains(lpos[pk]))
        for period in periods + future:
            if (node.pk, period) in taken:
                continue  # imported figures are never replaced by examples
            increase = 0 if period < future[0] else max(1, round(total * 0.1))
            capacity.append(
                Capacity(
                    org_unit=node,
                    period=period,
                    officers=total,
                    hours=round(total * settings.PRESENCE_HOURS_PER_OFFICER * 4.35, 1),
                    increase=increase,
                    example=True,
                    source=EXAMPLE_SOURCE,
                )
            )
    Capacity.objects.bulk_create(capacity)
    return {"staffing": len(rows), "capacity": len(capacity)}
