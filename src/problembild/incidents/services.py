"""Maintenance of the incident store."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count

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


def unnamed_types(taxonomy: Taxonomy) -> list[tuple[str, int]]:
    """Stored raw types that ``taxonomy`` does not name (neither maps nor excludes), with
    their counts, most frequent first: they fall into the default group, and a new type of
    the feed (a new summary, a renamed offence) shows up here."""
    counts = Incident.objects.values("raw_type").annotate(n=Count("id")).order_by("-n", "raw_type")
    return [(row["raw_type"], row["n"]) for row in counts if not taxonomy.names(row["raw_type"])]
