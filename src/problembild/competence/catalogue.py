"""The shipped competence catalogue (``data/catalogue.toml``), loaded by ``problembild init``."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.db import transaction

from .models import Competence

CATALOGUE = Path(__file__).with_name("data") / "catalogue.toml"
FIELDS = ("name_sv", "name_en", "description_sv", "description_en", "levels_sv", "levels_en")


@transaction.atomic
def load_catalogue(path: Path = CATALOGUE) -> int:
    """Add the catalogue's competences that are missing; never overwrite edited ones.

    Returns the number added. Running it again adds nothing.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    added = 0
    for order, item in enumerate(data["competence"], start=1):
        defaults = {f: item.get(f, "" if not f.startswith("levels") else []) for f in FIELDS}
        _, created = Competence.objects.get_or_create(
            code=item["code"], defaults={**defaults, "order": order}
        )
        added += created
    return added
