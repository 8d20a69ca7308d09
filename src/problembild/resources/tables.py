"""The resources pages' tables, shared by each page and its export."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from problembild.core.tables import NumberColumn, PercentColumn, Table, muted, num
from problembild.picture.tables import AreaColumn, CategoryColumn

from .follow import MET, NOT_COVERED, NOT_MET, UNKNOWN, AreaResources, Rollup

DAYS = (
    gettext_lazy("måndag"),
    gettext_lazy("tisdag"),
    gettext_lazy("onsdag"),
    gettext_lazy("torsdag"),
    gettext_lazy("fredag"),
    gettext_lazy("lördag"),
    gettext_lazy("söndag"),
)

STATUS_LABELS = {
    MET: gettext_lazy("uppfyllt"),
    NOT_MET: gettext_lazy("ej uppfyllt"),
    UNKNOWN: gettext_lazy("okänt"),
    NOT_COVERED: gettext_lazy("omfattas ej"),
}
STATUS_TITLES = {
    UNKNOWN: gettext_lazy("Folkmängd eller antal områdespoliser saknas för månaden."),
    NOT_COVERED: gettext_lazy("Regeln gäller inte områdets kategori med nuvarande inställning."),
}


def _sort(value: Any) -> str:
    return "" if value is None else str(value)


def block_label(block: int) -> str:
    """``måndag 18–19`` for hour-of-week block 146 (in the active language)."""
    day, hour = divmod(int(block), 24)
    return f"{DAYS[day]} {hour:02d}–{(hour + 1) % 24:02d}"


class StatusColumn(tables.Column):
    """Met / not met / unknown: a badge on the page, the code in exports."""

    empty_values = ()

    def render(self, value: str) -> SafeString:
        title = STATUS_TITLES.get(value, "")
        return format_html(
            '<span class="status status-{}"{}>{}</span>',
            value,
            format_html(' title="{}"', title) if title else "",
            STATUS_LABELS.get(value, value),
        )

    def value(self, value: str) -> str:
        return value


class RuleTable(Table):
    """The 1-per-5,000 rule per area for the month."""

    name = AreaColumn(accessor="area__name", verbose_name=gettext_lazy("Område"))
    category = CategoryColumn(accessor="category", verbose_name=gettext_lazy("Kategori"))
    lpo = tables.Column(accessor="area__org_unit__name", verbose_name=gettext_lazy("Lokalpolisområde"))
    residents = NumberColumn(
        accessor="residents",
        verbose_name=gettext_lazy("Invånare"),
        grouped=True,
        missing=gettext_lazy("saknas"),
        missing_title=gettext_lazy("Ingen folkmängd: regeln kan inte prövas."),
    )
    synthetic = tables.Column(accessor="population_synthetic", verbose_name=gettext_lazy("Folkmängd"))
    officers = NumberColumn(
        accessor="officers",
        verbose_name=gettext_lazy("Områdespoliser"),
        missing=gettext_lazy("ej rapporterat"),
        missing_title=gettext_lazy("Ingen bemanning rapporterad för månaden."),
    )
    fte = NumberColumn(accessor="staffing__fte", verbose_name=gettext_lazy("Årsarbetskrafter"), digits=1)
    required = NumberColumn(accessor="required", verbose_name=gettext_lazy("Krävs"))
    shortfall = NumberColumn(
        accessor="shortfall",
        verbose_name=gettext_lazy("Saknas"),
        digits=0,
        attrs=num(**{"data-sort": lambda record: _sort(record.shortfall)}),
    )
    status = StatusColumn(accessor="status", verbose_name=gettext_lazy("1 per 5 000"))
    need_index = NumberColumn(accessor="need_index", verbose_name=gettext_lazy("Behovsindex"), digits=1)

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Regeln om en områdespolis per 5 000 invånare, per område")
        attrs = {"class": "data sortable", "id": "rule-areas"}

    def render_synthetic(self, value: bool) -> SafeString:
        return (
            muted(gettext_lazy("syntetisk"), gettext_lazy("Demo: folkmängden är syntetisk."))
            if value
            else mark_safe("")
        )

    def value_synthetic(self, value: bool) -> str:
        return "synthetic" if value else ""

    def render_shortfall(self, value: float | None, record: AreaResources) -> Any:
        if record.status != NOT_MET:
            return mark_safe("")
        return format_html("<strong>{}</strong>", f"{value:.0f}")

    def value_shortfall(self, value: float | None) -> float | None:
        return value


class RollupTable(Table):
    """The rule summed per unit (the page's unit and each unit below it)."""

    unit = tables.Column(accessor="unit__name", verbose_name=gettext_lazy("Enhet"))
    kind = tables.Column(accessor="unit", verbose_name=gettext_lazy("Nivå"))
    areas = NumberColumn(accessor="areas", verbose_name=gettext_lazy("Områden"))
    met = NumberColumn(accessor="met", verbose_name=gettext_lazy("Uppfyller"))
    not_met = NumberColumn(accessor="not_met", verbose_name=gettext_lazy("Uppfyller ej"))
    unknown = NumberColumn(accessor="unknown", verbose_name=gettext_lazy("Okänt"))
    residents = NumberColumn(accessor="residents", verbose_name=gettext_lazy("Invånare"), grouped=True)
    officers = NumberColumn(accessor="officers", verbose_name=gettext_lazy("Områdespoliser"))
    required = NumberColumn(accessor="required", verbose_name=gettext_lazy("Krävs (per område)"))
    shortfall = NumberColumn(accessor="shortfall", verbose_name=gettext_lazy("Saknas (per område)"))
    aggregate = tables.Column(
        accessor="aggregate_met",
        verbose_name=gettext_lazy("Enheten som helhet"),
        empty_values=(),
        attrs={
            "th": {
                "title": gettext_lazy(
                    "Enhetens områdespoliser mot vad alla dess invånare kräver tillsammans."
                )
            }
        },
    )

    class Meta(Table.Meta):
        row_header = "unit"
        caption = gettext_lazy("Regeln summerad per enhet")
        attrs = {"class": "data", "id": "rule-units"}

    def render_unit(self, value: str, record: Rollup) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("resources:unit", args=[record.unit.code]), value)

    def value_unit(self, value: str) -> str:
        return value

    def render_kind(self, value) -> str:
        return value.get_kind_display()

    def value_kind(self, value) -> str:
        return value.kind

    def render_aggregate(self, value: bool | None) -> SafeString:
        if value is None:
            return StatusColumn().render(UNKNOWN)
        return StatusColumn().render(MET if value else NOT_MET)

    def value_aggregate(self, value: bool | None) -> str:
        return UNKNOWN if value is None else (MET if value else NOT_MET)


class PresenceTable(Table):
    """Protected time and presence versus demand per area for the month."""

    name = AreaColumn(accessor="area__name", verbose_name=gettext_lazy("Område"))
    in_area = NumberColumn(
        accessor="staffing__hours_in_area", verbose_name=gettext_lazy("Timmar i området"), digits=0
    )
    outside = NumberColumn(
        accessor="staffing__hours_outside", verbose_name=gettext_lazy("Timmar utanför"), digits=0
    )
    protected = PercentColumn(
        accessor="protected_share",
        verbose_name=gettext_lazy("Andel i området"),
        missing=gettext_lazy("ej rapporterat"),
        attrs=num(**{"data-sort": lambda record: _sort(record.protected_share)}),
    )
    flag = tables.Column(accessor="protected_flag", verbose_name=gettext_lazy("Skyddad tid"), empty_values=())
    in_top = PercentColumn(
        accessor="presence_demand__presence_in_top",
        verbose_name=gettext_lazy("Närvaro under de mest belastade timmarna"),
    )
    demand_top = PercentColumn(
        accessor="presence_demand__demand_in_top",
        verbose_name=gettext_lazy("Behovets andel samma timmar"),
    )
    alignment = PercentColumn(
        accessor="presence_demand__alignment",
        verbose_name=gettext_lazy("Samstämmighet"),
        attrs={
            "th": {
                "class": "num",
                "title": gettext_lazy(
                    "1 − halva summan av skillnaderna mellan närvarons och behovets andelar per veckotimme."
                ),
            },
            "td": {"class": "num"},
        },
    )
    lowest = tables.Column(
        accessor="presence_demand",
        verbose_name=gettext_lazy("Timmar med lägst närvaro mot behov"),
        empty_values=(),
    )

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Skyddad tid och närvaro mot behov per område")
        attrs = {"class": "data sortable", "id": "presence-areas"}

    def __init__(self, *args: Any, threshold: float = 0.8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threshold = threshold

    def render_flag(self, value: bool, record: AreaResources) -> SafeString:
        if record.protected_share is None:
            return mark_safe("")
        if value:
            return format_html(
                '<span class="status status-not_met">{}</span>',
                gettext_lazy("under %(t)s %%") % {"t": f"{self.threshold * 100:.0f}"},
            )
        return format_html('<span class="status status-met">{}</span>', gettext_lazy("ok"))

    def value_flag(self, value: bool, record: AreaResources) -> str:
        if record.protected_share is None:
            return ""
        return "below" if value else "ok"

    def _lowest(self, value) -> list[str]:
        if value is None:
            return []
        return [block_label(b) for b in value.lowest_blocks["block"].head(3)]

    def render_lowest(self, value) -> str:
        return ", ".join(self._lowest(value))

    def value_lowest(self, value) -> str:
        return "; ".join(self._lowest(value))


class AllocationTable(Table):
    """A scenario's allocation per area beside the current one and proportional rounding."""

    name = tables.Column(accessor="name", verbose_name=gettext_lazy("Område"))
    lpo = tables.Column(accessor="lpo", verbose_name=gettext_lazy("Lokalpolisområde"))
    category = CategoryColumn(accessor="category", verbose_name=gettext_lazy("Kategori"))
    residents = NumberColumn(accessor="residents", verbose_name=gettext_lazy("Invånare"), grouped=True)
    need_share = PercentColumn(accessor="need_share", verbose_name=gettext_lazy("Andel av behovet"))
    floor = NumberColumn(accessor="floor", verbose_name=gettext_lazy("Golv (1 per 5 000)"))
    current = NumberColumn(accessor="current", verbose_name=gettext_lazy("Nuvarande"))
    proposed = NumberColumn(accessor="proposed", verbose_name=gettext_lazy("Förslag"))
    change = NumberColumn(accessor="change", verbose_name=gettext_lazy("Förändring"))
    proportional = NumberColumn(accessor="proportional", verbose_name=gettext_lazy("Proportionellt"))
    shortfall = NumberColumn(accessor="shortfall", verbose_name=gettext_lazy("Under golvet"))
    explanation = tables.Column(accessor="explanation", verbose_name=gettext_lazy("Varför"))

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Förslag per område med skäl")
        attrs = {"class": "data sortable", "id": "allocation"}

    def render_name(self, value: str, record: dict) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("picture:area", args=[record["panel_id"]]), value)

    def value_name(self, value: str) -> str:
        return value

    def render_change(self, value: int) -> str:
        return f"{value:+d}" if value else "0"

    def value_change(self, value: int) -> int:
        return value


class ShiftTable(Table):
    """An area's weekly shifts in the hours plan."""

    start = tables.Column(accessor="start", verbose_name=gettext_lazy("Start"))
    length = NumberColumn(accessor="length", verbose_name=gettext_lazy("Längd (timmar)"))
    count = NumberColumn(accessor="count", verbose_name=gettext_lazy("Områdespoliser"))

    class Meta(Table.Meta):
        row_header = "start"
        caption = gettext_lazy("Pass per vecka")
        attrs = {"class": "data", "id": "shifts"}

    def render_start(self, value: int) -> str:
        day, hour = divmod(int(value), 24)
        return f"{DAYS[day]} {hour:02d}:00"

    def value_start(self, value: int) -> str:
        day, hour = divmod(int(value), 24)
        return f"{day + 1} {hour:02d}:00"


class VisitTable(Table):
    """The hot-spot presence plan: short stops at the forecast cells in the peak hours."""

    when = tables.Column(accessor="block", verbose_name=gettext_lazy("När"))
    minute = NumberColumn(accessor="minute", verbose_name=gettext_lazy("Minut"))
    cell_rank = NumberColumn(accessor="cell_rank", verbose_name=gettext_lazy("Cell (rang i prognosen)"))
    minutes = NumberColumn(accessor="minutes", verbose_name=gettext_lazy("Minuter"))

    class Meta(Table.Meta):
        row_header = "when"
        caption = gettext_lazy("Besök vid prognosens heta celler per vecka")
        attrs = {"class": "data", "id": "visits"}

    def render_when(self, value: int) -> str:
        return block_label(value)

    def value_when(self, value: int) -> str:
        return block_label(value)
