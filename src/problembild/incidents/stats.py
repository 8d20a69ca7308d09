"""Counts for ``problembild stats``: the register's classifications and the incident store."""

from __future__ import annotations

from django.db.models import Count

from problembild.areas.models import Classification

from .models import AreaMatch, Incident


def register_stats() -> dict:
    """``{"<year>": {"<category>": n}}`` for every assessment round."""
    out: dict[str, dict[str, int]] = {}
    rows = (
        Classification.objects.values("round__year", "category")
        .annotate(n=Count("id"))
        .order_by("round__year")
    )
    for row in rows:
        out.setdefault(str(row["round__year"]), {})[row["category"]] = row["n"]
    return out


def incident_stats() -> dict:
    """Incident counts by source and indicator, and how many are assigned to areas."""
    by_source = dict(Incident.objects.values_list("source").annotate(n=Count("id")).order_by("source"))
    by_indicator = dict(
        Incident.objects.counted().values_list("indicator").annotate(n=Count("id")).order_by("indicator")
    )
    matches = dict(Incident.objects.values_list("area_match").annotate(n=Count("id")).order_by("area_match"))
    return {
        "total": sum(by_source.values()),
        "by_source": by_source,
        "by_indicator": by_indicator,
        "assigned": matches.get(AreaMatch.EXACT.value, 0),
        "unassigned": matches.get(AreaMatch.NONE.value, 0),
        "approximate": matches.get(AreaMatch.APPROXIMATE.value, 0),
        "synthetic": Incident.objects.filter(synthetic=True).count(),
    }


def stats() -> dict:
    """Everything ``problembild stats --json`` prints."""
    return {"classifications": register_stats(), "incidents": incident_stats()}
