"""What each area's picture is computed from, as a hash: an unchanged area keeps its expensive parts."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
from django.db.models import Count, Max

from problembild.areas.models import Area
from problembild.incidents.models import AreaMatch, Incident

from .load import IncidentArrays


def fingerprints(settings_key: dict, data: IncidentArrays) -> dict[int, str]:
    """A hash per area of its incidents, population, classifications and the refresh settings.

    The incident part comes from the loaded arrays (count and highest id per area, of
    all placed incidents, of the approximate matches): aggregate queries over ten
    million rows took seconds.
    """
    inside = data.area >= 0
    per_area = pd.Series(data.id[inside]).groupby(data.area[inside]).agg(["size", "max"])
    stats = {int(a): (int(r["size"]), int(r["max"])) for a, r in per_area.iterrows()}
    placed = ~np.isnan(data.x)
    around = {"n": int(placed.sum()), "last": int(data.id[placed].max()) if placed.any() else None}
    approx = Incident.objects.filter(area_match=AreaMatch.APPROXIMATE).aggregate(
        n=Count("id"), last=Max("id")
    )
    out = {}
    key = json.dumps(settings_key, sort_keys=True)
    for area in Area.objects.all().prefetch_related("population", "classifications"):
        pops = sorted((p.year, p.residents, p.synthetic) for p in area.population.all())
        cats = sorted((c.round_id, c.category) for c in area.classifications.all())
        payload = json.dumps(
            [key, stats.get(area.pk), around, approx, pops, cats, area.geojson[:64]], default=str
        )
        out[area.pk] = hashlib.sha256(payload.encode()).hexdigest()
    return out
