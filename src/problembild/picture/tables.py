"""The problem picture's tables: each declared once, shown on its page and written by its export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import django_tables2 as tables
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from problembild.areas.choices import category_label
from problembild.areas.models import Area, Population
from problembild.core.models import OrgUnit
from problembild.core.tables import DASH, NumberColumn, Table, muted, num
from problembild.incidents.choices import INDICATOR_CHOICES, indicator_label

from .document import Backtest, IndicatorFigures, MonthlySeries, MonthToDate
from .marks import Mark, page_marks
from .methods import forecast_method_label
from .reading import OverviewFigures


def sparkline(values: list[int] | None, width: int = 120, height: int = 24) -> SafeString:
    """An inline SVG line of ``values`` (no script, so it prints and passes the CSP)."""
    if not values:
        return mark_safe("")
    top = max(values) or 1
    n = len(values)
    step = width / max(n - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        _("%(n)s månader: %(first)s…%(last)s (max %(top)s)")
        % {"n": n, "first": values[0], "last": values[-1], "top": top},
        points,
    )


def _sort(value: Any) -> str:
    return "" if value is None else str(value)


def _mark(mark: Mark) -> SafeString:
    """The mark after a figure: the direction where the page's FDR control keeps it, p and q on hover."""
    if not mark.shown:
        return mark_safe("")
    return format_html(' <span class="mark" title="{}">{}</span>', _mark_title(mark), mark.shown)


def _mark_title(mark: Mark) -> str:
    return _("p = %(p)s, q = %(q)s (falsk upptäcktsandel kontrollerad över sidan)") % {
        "p": floatformat(mark.p_value, 4),
        "q": floatformat(mark.q_value, 4),
    }


class CategoryColumn(tables.Column):
    """An area category: a coloured badge on the page (in the active language), the stored name in exports."""

    empty_values = ()

    def render(self, value: str | None) -> SafeString:
        if not value:
            return mark_safe(DASH)
        return format_html('<span class="badge" data-category="{}">{}</span>', value, category_label(value))

    def value(self, value: str | None) -> str:
        return value or ""


class AreaColumn(tables.Column):
    """An area's name: a link to its problem picture on the page, the name in exports (row has ``area``)."""

    def render(self, value: str, record: Any) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("picture:area", args=[record.area.panel_id]), value)

    def value(self, value: str) -> str:
        return value


class SparklineColumn(tables.Column):
    """Monthly counts: a small line on the page, the counts (space-separated) in exports."""

    def render(self, value: list[int]) -> SafeString:
        return sparkline(value)

    def value(self, value: list[int]) -> str:
        return " ".join(str(v) for v in value)


class MarkColumn(tables.Column):
    """↑/↓ where a change survives the page's FDR control (marks.py), p and q on hover; exported as the mark."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", num())
        kwargs.setdefault("empty_values", ())
        super().__init__(*args, **kwargs)

    def render(self, value: Mark | None) -> SafeString:
        if value is None or not value.shown:
            return mark_safe("")
        return format_html('<span class="mark" title="{}">{}</span>', _mark_title(value), value.shown)

    def value(self, value: Mark | None) -> str:
        return value.shown if value is not None else ""


# --- the overview -----------------------------------------------------------------------


@dataclass
class OverviewRow:
    """One area of the overview with its organisation, population and figures."""

    area: Area
    lpo: OrgUnit
    police_area: OrgUnit | None
    region: OrgUnit | None
    history: dict[str, str]  # assessment year ("2023") -> category
    population: Population | None
    fig: OverviewFigures


class OverviewTable(Table):
    """The overview: each area's figures for one indicator and period, and its categories per round."""

    panel_id = NumberColumn(accessor="area__panel_id", verbose_name=gettext_lazy("Områdes-id"))
    name = AreaColumn(accessor="area__name", verbose_name=gettext_lazy("Område"))
    town = tables.Column(accessor="area__town", verbose_name=gettext_lazy("Ort"))
    lpo = tables.Column(accessor="lpo__name", verbose_name=gettext_lazy("Lokalpolisområde"))
    police_area = tables.Column(accessor="police_area__name", verbose_name=gettext_lazy("Polisområde"))
    region = tables.Column(accessor="region__name", verbose_name=gettext_lazy("Region"))
    count = NumberColumn(
        accessor="fig__count",
        verbose_name=gettext_lazy("Antal"),
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.count), "data-col": "count"}),
    )
    rate = NumberColumn(
        accessor="fig__rate",
        verbose_name=gettext_lazy("Per 1 000 inv."),
        digits=2,
        missing=DASH,
        missing_title=gettext_lazy("Folkmängd saknas"),
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.rate), "data-col": "rate"}),
    )
    previous = NumberColumn(accessor="fig__previous", verbose_name=gettext_lazy("Året innan"))
    change = tables.Column(
        accessor="fig__change",
        verbose_name=gettext_lazy("Mot året innan"),
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.change)}),
    )
    mark = MarkColumn(accessor="fig__significance", verbose_name=gettext_lazy("Signifikant"))
    p_value = NumberColumn(accessor="fig__p_value", verbose_name=gettext_lazy("p-värde"), digits=3)
    q_value = NumberColumn(accessor="fig__q_value", verbose_name=gettext_lazy("q-värde"), digits=3)
    spark = SparklineColumn(accessor="fig__spark", verbose_name=gettext_lazy("Månader (24)"))
    need_index = NumberColumn(
        accessor="fig__need_index",
        verbose_name=gettext_lazy("Behovsindex"),
        digits=1,
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.need_index)}),
    )
    residents = NumberColumn(
        accessor="population__residents",
        verbose_name=gettext_lazy("Invånare"),
        grouped=True,
        missing=gettext_lazy("saknas"),
        attrs=num(**{"data-sort": lambda record: _sort(record.population and record.population.residents)}),
    )
    residents_synthetic = tables.Column(
        accessor="population__synthetic", verbose_name=gettext_lazy("Syntetisk folkmängd"), empty_values=()
    )
    required_officers = NumberColumn(
        accessor="fig__required_officers", verbose_name=gettext_lazy("Poliser enl. 1/5 000")
    )

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Områden med kategori per bedömningsår")
        attrs = {"class": "data sortable", "id": "register"}
        empty_text = gettext_lazy("Inga områden i urvalet.")

    def __init__(self, rows: list[OverviewRow], *, years: list[int], **kwargs: Any) -> None:
        rounds = [
            (
                f"cat_{year}",
                CategoryColumn(
                    accessor=tables.A(f"history__{year}"),
                    verbose_name=str(year),
                    attrs={"th": {"class": "num"}, "td": {"class": "cat", "data-sort": _history(year)}},
                ),
            )
            for year in years
        ]
        super().__init__(rows, extra_columns=rounds, **kwargs)

    def render_change(self, value: float) -> SafeString:
        return format_html("{} %", round(value * 100))

    def value_change(self, value: float) -> float:
        return value

    def render_residents_synthetic(self, record: OverviewRow) -> SafeString:
        if record.population is not None and record.population.synthetic:
            return format_html(
                '<span class="tag synthetic" title="{}">synthetic</span>', _("Syntetisk siffra")
            )
        return mark_safe("")

    def value_residents_synthetic(self, record: OverviewRow) -> str:
        return "synthetic" if record.population is not None and record.population.synthetic else ""


def _history(year: int):
    return lambda record: record.history.get(str(year), "")


# --- an area's page -----------------------------------------------------------------------


@dataclass
class IndicatorRow:
    """One indicator of an area's key figures (the label in the active language)."""

    label: str
    figures: IndicatorFigures
    marks: dict[str, Mark] = field(default_factory=dict)  # KEY_COMPARISONS key -> mark

    @property
    def code(self) -> str:
        return self.figures.code


def _no_test() -> tuple[str, None]:
    return "", None


#: The comparisons the key figures mark, as (stored direction, p-value) of an indicator's figures.
KEY_COMPARISONS = {
    "year": lambda f: (f.year.mark, f.year.p_value) if f.year else _no_test(),
    "previous_month": lambda f: (f.month.previous_mark, f.month.previous_p) if f.month else _no_test(),
    "last_year_month": lambda f: (f.month.last_year_mark, f.month.last_year_p) if f.month else _no_test(),
    "trend": lambda f: (f.trend.mark, f.trend.p_value) if f.trend and f.trend.status == "ok" else _no_test(),
}


def indicator_rows(figures: list[tuple[str, IndicatorFigures]]) -> list[IndicatorRow]:
    """The key figures' rows, their marks controlled for the false discovery rate over the
    whole table (every comparison of every indicator: one page's family of tests)."""
    tests = [compare(f) for _, f in figures for compare in KEY_COMPARISONS.values()]
    marks = iter(page_marks(tests))
    return [IndicatorRow(label, f, {key: next(marks) for key in KEY_COMPARISONS}) for label, f in figures]


class KeyFiguresTable(Table):
    """An area's key figures per indicator: twelve months, latest month, trend, ranks, comparisons."""

    indicator = tables.Column(accessor="label", verbose_name=gettext_lazy("Indikator"))
    count_12m = NumberColumn(
        accessor="figures__year__count",
        verbose_name=gettext_lazy("Antal 12 mån"),
        attrs=num(**{"data-col": "count_12m"}),
    )
    rate_12m = NumberColumn(
        accessor="figures__year__rate",
        verbose_name=gettext_lazy("Per 1 000 inv. 12 mån"),
        digits=2,
        missing=DASH,
        missing_title=gettext_lazy("Folkmängd saknas"),
    )
    previous_12m = NumberColumn(
        accessor="figures__year__previous", verbose_name=gettext_lazy("Antal 12 mån året innan")
    )
    mark_12m = MarkColumn(accessor="marks__year", verbose_name=gettext_lazy("Signifikant"))
    p_12m = NumberColumn(accessor="figures__year__p_value", verbose_name=gettext_lazy("p-värde"), digits=3)
    q_12m = NumberColumn(accessor="marks__year__q_value", verbose_name=gettext_lazy("q-värde"), digits=3)
    month = tables.Column(
        accessor="figures__month__period", verbose_name=gettext_lazy("Senaste månad"), attrs=num()
    )
    count_month = NumberColumn(accessor="figures__month__count", verbose_name=gettext_lazy("Antal månad"))
    previous_month = NumberColumn(
        accessor="figures__month__previous", verbose_name=gettext_lazy("Föregående månad")
    )
    last_year_month = NumberColumn(
        accessor="figures__month__last_year", verbose_name=gettext_lazy("Samma månad i fjol")
    )
    trend = tables.Column(
        accessor="figures__trend", verbose_name=gettext_lazy("Trend per år (95 % KI)"), empty_values=()
    )
    trend_p = NumberColumn(
        accessor="figures__trend__p_value", verbose_name=gettext_lazy("Trend p-värde"), digits=3
    )
    rank = tables.Column(
        accessor="figures__comparison__rank",
        verbose_name=gettext_lazy("Rang (alla / kategorin)"),
        attrs=num(),
    )
    category_mean_rate = NumberColumn(
        accessor="figures__comparison__category_mean_rate",
        verbose_name=gettext_lazy("Kategorins medel per 1 000"),
        digits=2,
    )
    rest_rate = NumberColumn(
        accessor="figures__rest__rate", verbose_name=gettext_lazy("Övriga kommunen per 1 000"), digits=2
    )

    class Meta(Table.Meta):
        row_header = "indicator"
        caption = gettext_lazy(
            "Antal och takt per indikator jämfört med föregående period och samma period i fjol"
        )
        attrs = {"class": "data", "id": "key-figures"}
        row_attrs = {"data-indicator": lambda record: record.code}

    def render_previous_month(self, record: IndicatorRow) -> SafeString:
        month = record.figures.month
        return format_html("{}{}", month.previous, _mark(record.marks["previous_month"]))

    def value_previous_month(self, value: int) -> int:
        return value

    def render_last_year_month(self, record: IndicatorRow) -> SafeString:
        month = record.figures.month
        return format_html("{}{}", month.last_year, _mark(record.marks["last_year_month"]))

    def value_last_year_month(self, value: int) -> int:
        return value

    def render_trend(self, value, record: IndicatorRow) -> SafeString:
        if value is not None and value.status == "ok":
            mark = _mark(record.marks["trend"])
            return format_html(
                "×{} ({}–{}){}",
                floatformat(value.rate_ratio, 2),
                floatformat(value.ci_low, 2),
                floatformat(value.ci_high, 2),
                mark,
            )
        return muted(trend_status(value.status if value is not None else ""))

    def value_trend(self, value) -> float | None:
        return value.rate_ratio if value is not None and value.status == "ok" else None

    def render_rank(self, value) -> SafeString | str:
        if not value.rank:
            return DASH
        return format_html(
            '<span title="{}">{}</span>',
            _(
                "Rangordnad efter empirisk Bayes-skattad takt %(value)s (95 %% KI %(low)s–%(high)s) per "
                "1 000 inv.; egen takt %(rate)s (%(rate_low)s–%(rate_high)s)"
            )
            % {
                "value": floatformat(value.value, 2),
                "low": floatformat(value.shrunk_low, 2),
                "high": floatformat(value.shrunk_high, 2),
                "rate": floatformat(value.rate, 2),
                "rate_low": floatformat(value.rate_low, 2),
                "rate_high": floatformat(value.rate_high, 2),
            },
            _rank_text(value),
        )

    def value_rank(self, value) -> str:
        return _rank_text(value) if value.rank else ""


def _rank_text(value) -> str:
    return f"{value.rank}/{value.n_ranked} · {value.group_rank}/{value.group_n}"


def trend_status(status: str) -> str:
    """Why a series has no trend estimate, in words."""
    return {
        "too_few_periods": _("för kort serie (färre än 6 perioder)"),
        "all_zero": _("inga händelser"),
        "too_few_events": _("för få händelser för en trend"),
        "fit_failed": _("modellen kunde inte skattas"),
    }.get(status, DASH)


class MonthlyTable(Table):
    """An area's monthly counts, one column per indicator (the trend chart's figures)."""

    month = tables.Column(verbose_name=gettext_lazy("Månad"))

    class Meta(Table.Meta):
        row_header = "month"
        caption = gettext_lazy("Antal händelser per månad och indikator")
        attrs = {"class": "data sortable", "id": "monthly"}

    def __init__(self, series: dict[str, MonthlySeries], **kwargs: Any) -> None:
        months = (series.get(INDICATOR_CHOICES[0]) or MonthlySeries()).months
        rows = []
        for i, month in enumerate(months):
            row: dict[str, Any] = {"month": month.isoformat()}
            for code in INDICATOR_CHOICES:
                counts = (series.get(code) or MonthlySeries()).counts
                row[code] = counts[i] if i < len(counts) else None
            rows.append(row)
        columns = [
            (code, tables.Column(verbose_name=indicator_label(code), attrs=num()))
            for code in INDICATOR_CHOICES
        ]
        super().__init__(rows, extra_columns=columns, **kwargs)


class MonthToDateTable(Table):
    """The month the data end in, so far, beside the same days before (counts only, no marks)."""

    indicator = tables.Column(verbose_name=gettext_lazy("Indikator"))
    count = NumberColumn(verbose_name=gettext_lazy("Antal hittills"))
    previous = NumberColumn(verbose_name=gettext_lazy("Samma dagar föregående månad"), missing=DASH)
    last_year = NumberColumn(verbose_name=gettext_lazy("Samma dagar i fjol"), missing=DASH)

    class Meta(Table.Meta):
        row_header = "indicator"
        caption = gettext_lazy("Innevarande månad hittills och samma dagar tidigare")
        attrs = {"class": "data", "id": "month-to-date"}

    def __init__(self, to_date: MonthToDate | None, **kwargs: Any) -> None:
        rows = []
        for code in INDICATOR_CHOICES:
            figures = to_date.indicators.get(code) if to_date else None
            if figures is not None:
                rows.append(
                    {
                        "indicator": indicator_label(code),
                        "count": figures.count,
                        "previous": figures.previous,
                        "last_year": figures.last_year,
                    }
                )
        super().__init__(rows, **kwargs)


class BacktestTable(Table):
    """The forecast methods' accuracy in the rolling-origin backtest (the winner marked)."""

    method = tables.Column(verbose_name=gettext_lazy("Metod"))
    coverage = tables.Column(verbose_name=gettext_lazy("Yta"), attrs=num())
    hit_rate = NumberColumn(verbose_name=gettext_lazy("Träffandel"), digits=2)
    pai = NumberColumn(verbose_name="PAI", digits=2)
    pei = NumberColumn(verbose_name="PEI", digits=2)
    n_origins = NumberColumn(verbose_name=gettext_lazy("Testperioder"))

    class Meta(Table.Meta):
        row_header = "method"
        caption = gettext_lazy("Prognosmetodernas träffsäkerhet i bakåttestet")
        attrs = {"class": "data", "id": "backtest"}
        row_attrs = {"class": lambda record: "winner" if record.winner else ""}

    def __init__(self, rows: list[Backtest], **kwargs: Any) -> None:
        super().__init__(rows, **kwargs)

    def render_method(self, value: str) -> str:
        return forecast_method_label(value)

    def value_method(self, value: str) -> str:
        return value

    def render_coverage(self, value: float) -> str:
        return f"{round(value * 100)} %"

    def value_coverage(self, value: float) -> float:
        return value


# --- a unit's page ------------------------------------------------------------------------


@dataclass
class UnitRow:
    area: Area
    fig: OverviewFigures


class UnitAreasTable(Table):
    """A unit's areas side by side (the last twelve months of one indicator)."""

    name = AreaColumn(accessor="area__name", verbose_name=gettext_lazy("Område"))
    category = CategoryColumn(accessor="area__current_category", verbose_name=gettext_lazy("Kategori"))
    lpo = tables.Column(accessor="area__org_unit__name", verbose_name=gettext_lazy("Lokalpolisområde"))
    count = NumberColumn(accessor="fig__count", verbose_name=gettext_lazy("Antal"))
    rate = NumberColumn(
        accessor="fig__rate",
        verbose_name=gettext_lazy("Per 1 000 inv."),
        digits=2,
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.rate)}),
    )
    previous = NumberColumn(accessor="fig__previous", verbose_name=gettext_lazy("Året innan"))
    spark = SparklineColumn(accessor="fig__spark", verbose_name=gettext_lazy("Månader (24)"))
    need_index = NumberColumn(
        accessor="fig__need_index",
        verbose_name=gettext_lazy("Behovsindex"),
        digits=1,
        attrs=num(**{"data-sort": lambda record: _sort(record.fig.need_index)}),
    )

    class Meta(Table.Meta):
        row_header = "name"
        caption = gettext_lazy("Enhetens områden, senaste 12 månaderna")
        attrs = {"class": "data sortable", "id": "unit-areas"}

    def render_previous(self, record: UnitRow) -> SafeString:
        return format_html("{}{}", record.fig.previous, _mark(record.fig.significance))

    def value_previous(self, value: int) -> int:
        return value
