"""Filters of core's pages: the access log search."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .filters import DateParameter, FilterSet, rename_filters
from .models import AccessLogEntry


class AccessLogFilterSet(FilterSet):
    """Search the access log by text (user, object, reason, recipient, path), action and day."""

    q = django_filters.CharFilter(label=_("Sök (användare, objekt, skäl, mottagare)"), method="search")
    action = django_filters.ChoiceFilter(
        label=_("Åtgärd"), choices=AccessLogEntry.Action.choices, empty_label=_("Alla")
    )
    start = DateParameter(field_name="time", lookup_expr="date__gte", label=_("Från (ÅÅÅÅ-MM-DD)"))
    end = DateParameter(field_name="time", lookup_expr="date__lte", label=_("Till (ÅÅÅÅ-MM-DD)"))

    class Meta:
        model = AccessLogEntry
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(username__icontains=value)
            | Q(object_repr__icontains=value)
            | Q(object_id=value)
            | Q(reason__icontains=value)
            | Q(recipient__icontains=value)
            | Q(path__icontains=value)
        )


rename_filters(AccessLogFilterSet, {"start": "from", "end": "to"})
