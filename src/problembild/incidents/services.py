"""Maintenance of the incident store."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from .models import Incident
from .taxonomy import Taxonomy, load_taxonomy


def configured_taxonomy(path=None) -> Taxonomy:
    """The taxonomy in ``path``, by default the configured one (``settings.TAXONOMY_FILE``)."""
    return load_taxonomy(path if path is not None else settings.TAXONOMY_FILE)


@transaction.atomic
def reapply_taxonomy(path=None) -> int:
    """Re-map every stored incident's indicator with the taxonomy; return rows changed."""
    taxonomy = configured_taxonomy(path)
    changed = 0
    for raw_type in Incident.objects.values_list("raw_type", flat=True).distinct():
        indicator = taxonomy.indicator_of(raw_type)
        changed += (
            Incident.objects.filter(raw_type=raw_type)
            .exclude(indicator=indicator)
            .update(indicator=indicator)
        )
    return changed
