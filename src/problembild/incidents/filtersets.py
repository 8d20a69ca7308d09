"""Filters of the police events feed page and its exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from problembild.areas.counties import COUNTIES
from problembild.areas.models import Municipality
from problembild.core.filters import ChoiceParameter, DateParameter, FilterSet, rename_filters

from .choices import indicator_choices

FIRST_YEAR, LAST_YEAR = 1990, 2100


def local_midnight(day: date) -> datetime:
    """Midnight of ``day`` in local time, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


class FeedForm(forms.Form):
    """The period must run forwards; a municipality must lie in the chosen county."""

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            message = _("Från-datumet ligger efter till-datumet.")
            self.add_error("from", message)
            self.add_error("to", message)
        county, municipality = data.get("county"), data.get("municipality")
        if county and municipality and self.county_of.get(municipality) != county:
            self.add_error("municipality", _("Kommunen ligger inte i det valda länet."))
        return data


class FeedFilterSet(FilterSet):
    """The feed's events by year, dates, type, indicator and county; ``municipality`` picks the chart."""

    year = django_filters.NumberFilter(label=_("År"), method="in_year")
    start = DateParameter(
        field_name="occurred_at",
        label=_("Från datum"),
        method="on_or_after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = DateParameter(
        field_name="occurred_at",
        label=_("Till datum"),
        method="on_or_before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    type = django_filters.ChoiceFilter(label=_("Typ"), field_name="raw_type", empty_label=_("Alla typer"))
    indicator = django_filters.ChoiceFilter(
        label=_("Indikator"), field_name="indicator", empty_label=_("Alla")
    )
    county = django_filters.ChoiceFilter(label=_("Län"), method="in_county", empty_label=_("Hela landet"))
    municipality = ChoiceParameter(label=_("Diagram för kommun"), empty_label=_("Ingen (hela urvalet)"))

    class Meta:
        form = FeedForm

    def __init__(self, data=None, queryset=None, *, request=None, years: list[int] | None = None, types=()):
        self.years = years or []
        self.types = list(types)
        super().__init__(data, queryset, request=request)

    def configure(self) -> None:
        self.municipalities = {
            m["code"]: m
            for m in Municipality.objects.order_by("name").values(
                "code", "name", "county_code", "population", "population_year"
            )
        }
        year = self.filters["year"]
        year.field_class = forms.IntegerField
        year.extra.update(
            min_value=FIRST_YEAR,
            max_value=LAST_YEAR,
            widget=forms.Select(choices=[("", _("Alla"))] + [(y, str(y)) for y in self.years]),
        )
        self.filters["type"].extra["choices"] = [(t, t) for t in self.types]
        self.filters["indicator"].extra["choices"] = indicator_choices(with_all=False)
        self.filters["county"].extra["choices"] = sorted(COUNTIES.items(), key=lambda kv: kv[1])
        # The chart's municipality is one of the chosen county's (any when no county is chosen).
        county = (self.data or {}).get("county")
        county = county if county in COUNTIES else None
        self.filters["municipality"].extra["choices"] = [
            (m["code"], m["name"])
            for m in self.municipalities.values()
            if county is None or m["county_code"] == county
        ]

    @property
    def form(self):
        form = super().form
        form.county_of = {code: m["county_code"] for code, m in self.municipalities.items()}
        return form

    def county_codes(self) -> list[str]:
        """The municipalities of the chosen county (none when no county is chosen)."""
        county = self.value("county")
        return [c for c, m in self.municipalities.items() if m["county_code"] == county] if county else []

    def in_year(self, queryset, name, value):
        year = int(value)
        return queryset.filter(
            occurred_at__gte=local_midnight(date(year, 1, 1)),
            occurred_at__lt=local_midnight(date(year + 1, 1, 1)),
        )

    def on_or_after(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=local_midnight(value))

    def on_or_before(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=local_midnight(value + timedelta(days=1)))

    def in_county(self, queryset, name, value):
        return queryset.filter(Q(county_code=value) | Q(municipality_code__in=self.county_codes()))


# The page's parameters are "from" and "to", Python keywords: declared as start and end.
rename_filters(FeedFilterSet, {"start": "from", "end": "to"})
