"""Texts kept in Swedish and English (``<field>_sv`` / ``<field>_en``), read in the active language."""

from __future__ import annotations

from django.utils.translation import get_language


def english() -> bool:
    """True when the active language is English."""
    return (get_language() or "sv").startswith("en")


class Bilingual:
    """A model mixin: :meth:`text` reads ``<field>_en`` in English (falling back to Swedish)."""

    def text(self, field: str) -> str:
        return (getattr(self, f"{field}_en") if english() else "") or getattr(self, f"{field}_sv")
