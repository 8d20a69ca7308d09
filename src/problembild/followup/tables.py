"""The follow-up's tables, shared by page and export."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, Table

from .models import Method

EMMIE = ("effect", "mechanism", "moderators", "implementation", "economic")


class ActivityTable(Table):
    date = tables.Column(accessor="date", verbose_name=gettext_lazy("Datum"))
    area = tables.Column(accessor="area__name", verbose_name=gettext_lazy("Område"))
    method = tables.Column(accessor="method", verbose_name=gettext_lazy("Metod"))
    hours = NumberColumn(accessor="hours", verbose_name=gettext_lazy("Timmar"), digits=1)
    officers = NumberColumn(accessor="officers", verbose_name=gettext_lazy("Poliser"))
    partners = tables.Column(accessor="partners", verbose_name=gettext_lazy("Samverkansparter"))
    priority = tables.Column(accessor="priority__title", verbose_name=gettext_lazy("Prioritering"))
    promise = tables.Column(accessor="promise__commitment", verbose_name=gettext_lazy("Medborgarlöfte"))
    note = tables.Column(accessor="note", verbose_name=gettext_lazy("Anteckning"))
    example = tables.Column(accessor="example", verbose_name=gettext_lazy("Exempel"))

    class Meta(Table.Meta):
        row_header = "date"
        caption = gettext_lazy("Aktiviteter")
        attrs = {"class": "data sortable", "id": "activities"}

    def render_method(self, value: Method) -> str:
        return value.text("name")

    def value_method(self, value: Method) -> str:
        return value.code

    def render_example(self, value: bool) -> str:
        return str(gettext_lazy("exempel")) if value else ""

    def value_example(self, value: bool) -> str:
        return "example" if value else ""


class MethodTable(Table):
    name = tables.Column(accessor="name_sv", verbose_name=gettext_lazy("Metod"))
    problems = tables.Column(accessor="problems", verbose_name=gettext_lazy("Riktas mot"))
    effect = NumberColumn(accessor="emmie__effect", verbose_name=gettext_lazy("Effekt (0–3)"))
    mechanism = NumberColumn(accessor="emmie__mechanism", verbose_name=gettext_lazy("Mekanism"))
    moderators = NumberColumn(accessor="emmie__moderators", verbose_name=gettext_lazy("Moderatorer"))
    implementation = NumberColumn(accessor="emmie__implementation", verbose_name=gettext_lazy("Genomförande"))
    economic = NumberColumn(accessor="emmie__economic", verbose_name=gettext_lazy("Kostnad"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Metodstödet med evidens enligt EMMIE")
        attrs = {"class": "data sortable", "id": "methods"}

    def render_name(self, value: str, record: Method) -> SafeString:
        return format_html('<a href="#m-{}">{}</a>', record.code, record.text("name"))

    def value_name(self, value: str) -> str:
        return value

    def render_problems(self, value: list[str]) -> str:
        from problembild.incidents.choices import indicator_label

        return ", ".join(str(indicator_label(c)) for c in value)

    def value_problems(self, value: list[str]) -> str:
        return " ".join(value)


class EvaluationTable(Table):
    """An evaluation's effect per month after the start, with its interval."""

    month = tables.Column(accessor="month", verbose_name=gettext_lazy("Månad"))
    effect = NumberColumn(accessor="effect", verbose_name=gettext_lazy("Effekt (antal)"), digits=2)
    low = NumberColumn(accessor="low", verbose_name=gettext_lazy("Nedre gräns (95 %)"), digits=2)
    high = NumberColumn(accessor="high", verbose_name=gettext_lazy("Övre gräns (95 %)"), digits=2)

    class Meta(Table.Meta):
        row_header = "month"
        caption = gettext_lazy("Effekten per månad efter starten")
        attrs = {"class": "data", "id": "evaluation-periods"}
