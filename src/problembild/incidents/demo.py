"""``problembild demo-data``: seeded synthetic incidents and population for the real areas.

Synthetic rows carry ``synthetic=True`` and the source ``synthetic``; every page and
export labels them. Running the command again replaces the earlier synthetic data, so
the result depends only on the arguments (same seed, same data).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from django.db import transaction

from problembild.areas.models import Area, Population
from problembild.core.cache import register_changes
from problembild.core.imports import ImportResult, ProgressCallback
from problembild.core.models import ImportRecord

from .models import SYNTHETIC_SOURCE, Incident
from .services import configured_taxonomy
from .store import area_index, content_hash, exact_match_labels, write_incidents
from .synthetic import iter_incidents, synthetic_population

SYNTHETIC_POPULATION_SOURCE = "Syntetisk (Problembild demo-data)"


def demo_areas() -> list[dict]:
    """The current register's areas with boundary and latest category, as the generator wants them."""
    out = []
    for area in Area.objects.current().with_current_category().exclude(geometry=None).order_by("pk"):
        pop = area.latest_population()
        out.append(
            {
                "id": area.pk,
                "geometry": area.shape,
                "category": area.current_category,
                "population": pop.residents if pop else None,
            }
        )
    return out


@register_changes()  # bulk_create sends no signals: bump the register version explicitly
@transaction.atomic
def generate_demo_data(
    *,
    incidents: int,
    years: int,
    seed: int,
    end: date | None = None,
    user=None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Replace synthetic incidents and population with a fresh seeded set."""
    if incidents < 0:
        raise ValueError("--incidents must be zero or more")
    if years < 1:
        raise ValueError("--years must be at least 1")
    end = end or date(date.today().year, 1, 1)
    # Earlier synthetic residents must not weigh the new areas: same seed, same data.
    Population.objects.filter(synthetic=True).delete()
    areas = demo_areas()
    if not areas:
        raise ValueError("the register is empty: run `problembild init` first")
    started = pd.Timestamp.now(tz="UTC")
    real = set(Population.objects.values_list("area_id", "year"))
    pops = synthetic_population(areas, seed=seed, year=end.year - 1)
    Population.objects.bulk_create(
        [
            Population(
                area_id=int(r.area_id),
                year=int(r.year),
                residents=int(r.residents),
                source=SYNTHETIC_POPULATION_SOURCE,
                synthetic=True,
            )
            for r in pops.itertuples()
            if (int(r.area_id), int(r.year)) not in real
        ]
    )
    Incident.objects.filter(source=SYNTHETIC_SOURCE).delete()
    taxonomy = configured_taxonomy()
    written = 0
    index = area_index()  # built once, not per chunk
    for chunk in iter_incidents(areas, n=incidents, years=years, end=end, seed=seed):
        x = chunk["x"].to_numpy(dtype=float)
        y = chunk["y"].to_numpy(dtype=float)
        area = index.assign(x, y) if index is not None else np.full(len(x), -1, dtype=np.int64)
        frame = pd.DataFrame(
            {
                "source": SYNTHETIC_SOURCE,
                "external_id": chunk["id"].astype(str).to_numpy(),
                "occurred_at": chunk["occurred_at"].to_numpy(),
                "raw_type": chunk["type"].astype(str).to_numpy(),
                "x": x,
                "y": y,
                "municipality_code": "",
                "synthetic": True,
            }
        )
        frame["occurred_at"] = pd.DatetimeIndex(chunk["occurred_at"]).tz_convert("UTC")
        frame["content_hash"] = content_hash(frame)
        frame["indicator"] = taxonomy.map_array(frame["raw_type"])
        frame["area_id"] = area
        frame["area_match"] = exact_match_labels(area)
        written += write_incidents(frame)
        if progress:
            progress(written, incidents)
    record = ImportRecord.objects.create(
        kind="demo-data",
        file_name=f"synthetic seed={seed} incidents={incidents} years={years}",
        sha256="",
        user=user if getattr(user, "is_authenticated", False) else None,
        username=getattr(user, "username", "") or "",
        started_at=started,
        finished_at=pd.Timestamp.now(tz="UTC"),
        accepted=written,
        added=written,
        status=ImportRecord.Status.COMMITTED,
        options={"incidents": incidents, "years": years, "seed": seed, "end": end.isoformat()},
    )
    return ImportResult(
        kind="demo-data",
        file="synthetic",
        accepted=written,
        added=written,
        record_id=record.pk,
        details={
            "population_rows": len(pops),
            "seed": seed,
            "end": end.isoformat(),
            "areas": len(areas),
        },
    )
