"""Maintenance of the incident store."""

from __future__ import annotations

from django.db import transaction

from .models import Incident
from .taxonomy import load_taxonomy


@transaction.atomic
def reapply_taxonomy(path=None) -> int:
    """Re-map every stored incident's indicator with the taxonomy; return rows changed."""
    taxonomy = load_taxonomy(path)
    changed = 0
    for raw_type in Incident.objects.values_list("raw_type", flat=True).distinct():
        indicator = taxonomy.indicator_of(raw_type)
        changed += (
            Incident.objects.filter(raw_type=raw_type)
            .exclude(indicator=indicator)
            .update(indicator=indicator)
        )
    return changed
