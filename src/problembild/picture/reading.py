"""Reading the cached problem picture for pages and exports (never computing it).

Everything here reads the rows that ``problembild refresh`` wrote, through the typed
documents of :mod:`problembild.picture.document`; the heavy analytics never run on a
request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .document import AreaDocument, MonthlySeries, OfficerRule, YearFigures
from .marks import Mark, page_marks
from .models import AreaPicture, IndicatorValue


def area_document(picture: AreaPicture | None, *, cells: bool = True) -> AreaDocument | None:
    """The stored document of ``picture`` (None when the area has no picture yet).

    ``cells=False`` leaves out the hot-spot and forecast cells, which pages never show
    (their maps fetch them as GeoJSON): they are most of a document's size.
    """
    if picture is None:
        return None
    data = picture.data
    space = data.get("space")
    if not cells and space:
        space = {k: v for k, v in space.items() if k != "cells"}
        if space.get("forecast"):
            space["forecast"] = {k: v for k, v in space["forecast"].items() if k != "cells"}
        data = {**data, "space": space}
    return AreaDocument.model_validate(data)


@dataclass
class OverviewFigures:
    """What the overview and the unit pages show of one area for one indicator and period."""

    count: int | None = None
    rate: float | None = None
    previous: int | None = None
    p_value: float | None = None
    q_value: float | None = None  # over the areas shown together (see marks.py)
    mark: str = ""  # ↑/↓ only where q < 0.05
    need_index: float | None = None
    spark: list[int] = field(default_factory=list)
    spark_from: date | None = None
    as_of: date | None = None
    officer_rule: OfficerRule | None = None
    period_start: date | None = None

    @property
    def change(self) -> float | None:
        """Relative change against the comparison period (0.25 = +25 %)."""
        if self.previous and self.count is not None:
            return self.count / self.previous - 1
        return None

    @property
    def significance(self) -> Mark:
        return Mark(self.mark, self.p_value, self.q_value)

    @property
    def required_officers(self) -> int | None:
        return self.officer_rule.required if self.officer_rule else None


def overview_figures(area_ids: list[int], indicator: str, period: str) -> dict[int, OverviewFigures]:
    """Per area: count, rate, comparison with last year (mark, p, q), need index, sparkline.

    ``period`` is ``12m`` (the last twelve months, from the documents) or ``month``,
    ``quarter``, ``year`` (the latest stored period of that length). Reads only the
    members the tables need, not whole documents. ``area_ids`` are the areas one page shows
    together: the q-values and marks control the false discovery rate over them.
    """
    out = {a: OverviewFigures() for a in area_ids}
    rows = AreaPicture.objects.filter(area_id__in=area_ids).values(
        "area_id", "need_index", "data__year_figures", "data__series", "data__as_of", "data__officer_rule"
    )
    for r in rows:
        fig = out[r["area_id"]]
        # Only the indicator shown is read into its type: the documents hold every indicator.
        series = MonthlySeries.model_validate((r["data__series"] or {}).get(indicator) or {})
        fig.need_index = r["need_index"]
        fig.spark = series.counts[-24:]
        fig.spark_from = series.months[-24] if len(series.months) >= 24 else next(iter(series.months), None)
        fig.as_of = date.fromisoformat(r["data__as_of"]) if r["data__as_of"] else None
        fig.officer_rule = (
            OfficerRule.model_validate(r["data__officer_rule"]) if r["data__officer_rule"] else None
        )
        if period == "12m":
            stored = (r["data__year_figures"] or {}).get(indicator)
            if stored:
                year = YearFigures.model_validate(stored)
                fig.count, fig.rate, fig.previous = year.count, year.rate, year.previous
                fig.p_value, fig.mark = year.p_value, year.mark or ""
    if period != "12m":
        _latest_values(out, area_ids, indicator, period)
    figures = list(out.values())
    for fig, mark in zip(figures, page_marks((f.mark, f.p_value) for f in figures), strict=True):
        fig.q_value, fig.mark = mark.q_value, mark.shown
    return out


def _latest_values(out: dict[int, OverviewFigures], area_ids: list[int], indicator: str, period: str) -> None:
    values = IndicatorValue.objects.filter(period=period, indicator=indicator, area_id__in=area_ids)
    latest = values.order_by("-period_start").values_list("period_start", flat=True).first()
    if latest is None:
        return
    for v in values.filter(period_start=latest):
        fig = out[v.area_id]
        fig.count, fig.rate, fig.previous = v.count, v.rate, v.last_year
        fig.p_value, fig.mark, fig.period_start = v.p_last_year, v.mark, v.period_start
