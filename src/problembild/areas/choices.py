"""Enumerations of the area register."""

from __future__ import annotations

from typing import Final

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

UTSATT: Final = "utsatt område"
RISK: Final = "riskområde"
SARSKILT: Final = "särskilt utsatt område"

#: The police's three categories in rising severity. A list year may use fewer or others:
#: the categories of each assessment round are data (``AssessmentRound.categories``).
STANDARD_CATEGORIES: Final = (UTSATT, RISK, SARSKILT)

#: Severity used to compare categories across rounds (raised / lowered). A category that
#: is not listed here is ranked by its position in its round's list.
CATEGORY_SEVERITY: Final = {UTSATT: 1, RISK: 2, SARSKILT: 3}

CATEGORY_COLOURS: Final = {UTSATT: "#e9b949", RISK: "#e07b24", SARSKILT: "#b3261e"}

#: English display names of the police's categories. Only for showing: the stored values,
#: ``data-category`` attributes, exports and the API keep the Swedish names.
CATEGORY_LABELS_EN: Final = {
    UTSATT: "vulnerable area",
    RISK: "risk area",
    SARSKILT: "particularly vulnerable area",
}


def category_label(category: str | None, language: str | None = None) -> str:
    """How ``category`` is shown in ``language`` (default: the active language).

    English gets the English names; Swedish, and any category not in the mapping (a
    round may use its own), are shown as stored.
    """
    if not category:
        return category or ""
    if (language or get_language() or "sv").startswith("en"):
        return CATEGORY_LABELS_EN.get(category, category)
    return category


class Direction(models.TextChoices):
    """The police's mark of an area's direction of development at an assessment."""

    POSITIVE = "positive", _("Positiv")
    STABLE = "stable", _("Stabil")
    NEGATIVE = "negative", _("Negativ")
