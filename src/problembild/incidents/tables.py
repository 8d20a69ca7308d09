"""The events feed's tables: declared once, shown on the feed page and written by its exports."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, Table, num


def _types(pairs: list[tuple[str, int]]) -> SafeString:
    return format_html_join(", ", "{} ({})", pairs) if pairs else format_html("{}", "–")


def _types_value(pairs: list[tuple[str, int]]) -> str:
    return "; ".join(f"{t} {n}" for t, n in pairs)


def _sort(key: str):
    return lambda record: "" if record[key] is None else str(record[key])


class MunicipalityTable(Table):
    """Events per municipality and per 10,000 residents, with the most common types."""

    code = tables.Column(verbose_name=gettext_lazy("Kommunkod"))
    name = tables.Column(verbose_name=gettext_lazy("Kommun"))
    county = tables.Column(verbose_name=gettext_lazy("Län"))
    count = NumberColumn(
        verbose_name=gettext_lazy("Händelser"), grouped=True, attrs=num(**{"data-sort": _sort("count")})
    )
    population = NumberColumn(
        verbose_name=gettext_lazy("Folkmängd"),
        grouped=True,
        missing=gettext_lazy("saknas"),
        attrs=num(**{"data-sort": _sort("population")}),
    )
    population_year = NumberColumn(verbose_name=gettext_lazy("Folkmängd år"))
    rate = NumberColumn(
        verbose_name=gettext_lazy("Per 10 000 inv."),
        digits=2,
        attrs=num(**{"data-sort": _sort("rate"), "data-col": "rate"}),
    )
    top = tables.Column(verbose_name=gettext_lazy("Vanligaste typer"), empty_values=())

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Händelser per kommun och per 10 000 invånare")
        attrs = {"class": "data sortable", "id": "feed-table"}

    def __init__(self, rows: list[dict], *, link: str = "", selected: str = "", **kwargs: Any) -> None:
        self.link = link
        super().__init__(
            rows,
            row_attrs={
                "data-code": lambda record: record["code"],
                "class": lambda record: "selected" if selected and record["code"] == selected else "",
            },
            **kwargs,
        )

    def render_name(self, record: dict) -> SafeString:
        return format_html('<a href="{}{}">{}</a>', self.link, record["code"], record["name"])

    def value_name(self, value: str) -> str:
        return value

    def render_top(self, value: list[tuple[str, int]]) -> SafeString:
        return _types(value)

    def value_top(self, value: list[tuple[str, int]]) -> str:
        return _types_value(value)


class CountyTable(Table):
    """Events the feed places only in a county (no municipality), by type."""

    code = tables.Column(verbose_name=gettext_lazy("Länskod"))
    county = tables.Column(verbose_name=gettext_lazy("Län"))
    count = NumberColumn(
        verbose_name=gettext_lazy("Händelser utan kommun"),
        grouped=True,
        attrs=num(**{"data-sort": _sort("count")}),
    )
    types = tables.Column(verbose_name=gettext_lazy("Typer"), empty_values=())

    class Meta(Table.Meta):
        row_header = "county"
        caption = gettext_lazy("Händelser per län och typ utan kommun")
        attrs = {"class": "data sortable", "id": "feed-county-table"}
        row_attrs = {"data-code": lambda record: record["code"]}

    def render_types(self, value: list[tuple[str, int]]) -> SafeString:
        return _types(value)

    def value_types(self, value: list[tuple[str, int]]) -> str:
        return _types_value(value)
