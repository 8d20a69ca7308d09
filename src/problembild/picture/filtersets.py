"""Filters of the problem-picture pages, their exports and the indicator API."""

from __future__ import annotations

from typing import Final

import django_filters
from django import forms
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from problembild.analysis.vocabulary import ALL
from problembild.areas.filtersets import AreaFilterSet
from problembild.areas.models import AssessmentRound
from problembild.core.filters import ChoiceParameter, DateParameter, FilterSet
from problembild.incidents.choices import INDICATOR_CHOICES, indicator_choices

from .models import IndicatorValue

#: Periods the overview can show: the last 12 complete months, or the last complete
#: month, quarter or year from the stored indicator values.
PERIOD_CHOICES: Final = ("12m", "month", "quarter", "year")
#: Period lengths of the stored indicator values.
STORED_PERIODS: Final = ("week", "month", "quarter", "year")

_PERIOD_LABELS = {
    "12m": ("Senaste 12 månaderna", "Last 12 months"),
    "month": ("Senaste hela månaden", "Last complete month"),
    "quarter": ("Senaste hela kvartalet", "Last complete quarter"),
    "year": ("Senaste hela året", "Last complete year"),
}


def period_label(period: str) -> str:
    """The overview period's label in the active language."""
    sv, en = _PERIOD_LABELS[period]
    return en if (get_language() or "sv").startswith("en") else sv


def _indicator_filter(**kwargs) -> ChoiceParameter:
    return ChoiceParameter(
        label=_("Indikator"),
        choices=[(code, code) for code in INDICATOR_CHOICES],
        empty_label=None,
        help_text="An indicator code, or `all` (default) for the sum of every incident report.",
        **kwargs,
    )


class IndicatorFilterSet(FilterSet):
    """Which indicator a page shows (its labels follow the language)."""

    indicator = _indicator_filter()
    defaults = {"indicator": ALL}

    def configure(self) -> None:
        self.filters["indicator"].extra["choices"] = indicator_choices()


class OverviewFilterSet(AreaFilterSet):
    """The overview's areas (region, police area, category) and what it shows of them."""

    indicator = _indicator_filter()
    period = ChoiceParameter(
        label=_("Period"),
        choices=[(p, p) for p in PERIOD_CHOICES],
        empty_label=None,
        help_text="`12m` (default), or the latest complete `month`, `quarter` or `year`.",
    )
    defaults = {"indicator": ALL, "period": "12m"}

    def configure(self) -> None:
        super().configure()
        latest = AssessmentRound.latest()
        if latest is not None:  # the categories of the latest list
            self.filters["category"].label = format_lazy("{} {}", _("Kategori"), latest.year)
        self.filters["indicator"].extra["choices"] = indicator_choices()
        self.filters["period"].extra["choices"] = [(p, period_label(p)) for p in PERIOD_CHOICES]


class IndicatorValueForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("start", "must not be after end")
        return data


class IndicatorValueFilterSet(FilterSet):
    """The stored indicator values: by area, indicator, period length and period start."""

    area = django_filters.NumberFilter(
        field_name="area__panel_id", help_text="Only this area (its panel_id)."
    )
    indicator = django_filters.ChoiceFilter(
        choices=[(code, code) for code in INDICATOR_CHOICES],
        help_text="An indicator code, or `all` for the sum of every incident report.",
    )
    period = django_filters.ChoiceFilter(
        choices=[(p, p) for p in STORED_PERIODS], help_text="Period length; all lengths when omitted."
    )
    start = DateParameter(
        field_name="period_start", lookup_expr="gte", help_text="Earliest period start (inclusive)."
    )
    end = DateParameter(
        field_name="period_start", lookup_expr="lte", help_text="Latest period start (inclusive)."
    )

    class Meta:
        model = IndicatorValue
        fields: list[str] = []
        form = IndicatorValueForm
