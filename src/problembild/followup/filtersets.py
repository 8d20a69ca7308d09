"""Which activities a list, its export and the API show."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from problembild.areas.models import Area
from problembild.core.filters import DateParameter, FilterSet, rename_filters
from problembild.core.scoping import visible_units

from .models import Activity, Method


class ActivityFilterSet(FilterSet):
    """Activities by unit (and everything below it), area, method and dates."""

    unit = django_filters.ChoiceFilter(label=_("Enhet"), method="in_unit", empty_label=_("Alla mina"))
    area = django_filters.ChoiceFilter(label=_("Område"), field_name="area__panel_id", empty_label=_("Alla"))
    method = django_filters.ChoiceFilter(label=_("Metod"), field_name="method__code", empty_label=_("Alla"))
    start = DateParameter(field_name="date", lookup_expr="gte", label=_("Från (ÅÅÅÅ-MM-DD)"))
    end = DateParameter(field_name="date", lookup_expr="lte", label=_("Till (ÅÅÅÅ-MM-DD)"))

    class Meta:
        model = Activity
        fields: list[str] = []

    def configure(self) -> None:
        user = getattr(self.request, "user", None)
        units = visible_units(user).order_by("path") if user is not None else []
        self.filters["unit"].extra["choices"] = [(u.code, u.name) for u in units]
        areas = Area.objects.for_user(user).current().order_by("name") if user is not None else []
        self.filters["area"].extra["choices"] = [(str(a.panel_id), a.name) for a in areas]
        self.filters["method"].extra["choices"] = [(m.code, m.name_sv) for m in Method.objects.all()]

    def in_unit(self, queryset, name, value):
        unit = visible_units(self.request.user).filter(code=value).first()
        return queryset.filter(area__org_unit__in=unit.descendants()) if unit else queryset.none()


rename_filters(ActivityFilterSet, {"start": "from", "end": "to"})
