"""Filters of the register's areas, shared by the overview, its export and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from problembild.core.filters import BooleanParameter, FilterSet
from problembild.core.models import OrgUnit
from problembild.core.scoping import visible_units

from .choices import category_label
from .models import AssessmentRound


class AreaFilterSet(FilterSet):
    """Where an area lies (region, police area) and its current category.

    A region or police area must be one the user may see; the category one that an
    assessment round uses (the latest round's first).
    """

    region = django_filters.ChoiceFilter(
        label=_("Region"),
        method="in_unit",
        empty_label=_("Alla"),
        help_text="Code of a police region in your scope, e.g. 5600 (Syd).",
    )
    police_area = django_filters.ChoiceFilter(
        label=_("Polisområde"),
        method="in_unit",
        empty_label=_("Alla"),
        help_text="Code of a police area (polisområde) in your scope, e.g. 5312.",
    )
    category = django_filters.ChoiceFilter(
        label=_("Kategori"),
        method="in_category",
        empty_label=_("Alla"),
        help_text="The area's category in its latest classification, e.g. `särskilt utsatt område`.",
    )

    def configure(self) -> None:
        units = (
            visible_units(getattr(self.request, "user", None))
            .filter(kind__in=[OrgUnit.Kind.REGION, OrgUnit.Kind.POLICE_AREA])
            .order_by("name")
        )
        self.units = {u.code: u for u in units}
        for name, kind in (("region", OrgUnit.Kind.REGION), ("police_area", OrgUnit.Kind.POLICE_AREA)):
            self.filters[name].extra["choices"] = [(u.code, u.name) for u in units if u.kind == kind]
        self.filters["category"].extra["choices"] = [(c, category_label(c)) for c in known_categories()]

    def in_unit(self, queryset, name, value):
        return queryset.filter(org_unit__path__startswith=self.units[value].path + "/")

    def in_category(self, queryset, name, value):
        return queryset.in_current_category(value)


class AreaListFilterSet(AreaFilterSet):
    """The API's list of areas: also the historical ones with ``current=false``."""

    current = BooleanParameter(
        label=_("Nuvarande"),
        method="only_current",
        help_text="Only the areas of the latest list (default true); false adds the historical ones.",
    )
    defaults = {"current": True}

    def only_current(self, queryset, name, value):
        return queryset.current() if value else queryset


class ClassificationFilterSet(FilterSet):
    """Classifications by list year and category."""

    year = django_filters.NumberFilter(
        field_name="round__year", label=_("År"), help_text="The list (assessment) year, e.g. 2023."
    )
    category = django_filters.ChoiceFilter(
        label=_("Kategori"), empty_label=_("Alla"), help_text="A category, e.g. `riskområde`."
    )

    def configure(self) -> None:
        self.filters["category"].extra["choices"] = [(c, category_label(c)) for c in known_categories()]


def known_categories() -> list[str]:
    """Categories of the assessment rounds: the latest round's in its order, then older ones."""
    out: list[str] = []
    for categories in AssessmentRound.objects.order_by("-year").values_list("categories", flat=True):
        out += [c for c in categories if c not in out]
    return out
