"""Reading the cached problem picture for pages and exports (never computing it).

Everything here reads :mod:`problembild.picture` rows that ``problembild refresh``
wrote; the heavy analytics never run on a request.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from problembild.analysis.vocabulary import ALL, INDICATOR_CODES, INDICATORS
from problembild.picture.models import AreaPicture, IndicatorValue

#: Periods the overview can show: the last 12 complete months, or the last complete
#: month, quarter or year from the stored indicator values.
PERIOD_CHOICES = ("12m", "month", "quarter", "year")
INDICATOR_CHOICES = (ALL, *INDICATOR_CODES)


def indicator_label(code: str) -> str:
    """The indicator's label in the active language."""
    english = (get_language() or "sv").startswith("en")
    if code == ALL:
        return "All incident reports" if english else "Alla händelser"
    sv, en = INDICATORS.get(code, (code, code))
    return en if english else sv


def indicator_choices() -> list[tuple[str, str]]:
    return [(code, indicator_label(code)) for code in INDICATOR_CHOICES]


def period_label(period: str) -> str:
    english = (get_language() or "sv").startswith("en")
    labels = {
        "12m": ("Senaste 12 månaderna", "Last 12 months"),
        "month": ("Senaste hela månaden", "Last complete month"),
        "quarter": ("Senaste hela kvartalet", "Last complete quarter"),
        "year": ("Senaste hela året", "Last complete year"),
    }
    sv, en = labels[period]
    return en if english else sv


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


def overview_figures(area_ids: list[int], indicator: str, period: str) -> dict[int, dict]:
    """Per area: count, rate, comparison with last year (mark, p), need index, sparkline.

    Reads only the small JSON members the table needs, not the whole documents.
    """
    out: dict[int, dict] = {a: {} for a in area_ids}
    rows = AreaPicture.objects.filter(area_id__in=area_ids).values(
        "area_id",
        "need_index",
        "computed_at",
        "data__year_figures",
        "data__series",
        "data__residents",
        "data__as_of",
        "data__officer_rule",
    )
    for r in rows:
        series = (r["data__series"] or {}).get(indicator) or {}
        months = series.get("months") or []
        counts = series.get("counts") or []
        fig = out[r["area_id"]]
        fig.update(
            need_index=r["need_index"],
            spark=counts[-24:],
            spark_from=months[-24] if len(months) >= 24 else (months[0] if months else None),
            as_of=r["data__as_of"],
            officer_rule=r["data__officer_rule"],
        )
        if period == "12m":
            yf = (r["data__year_figures"] or {}).get(indicator)
            if yf:
                fig.update(
                    count=yf.get("count"),
                    rate=yf.get("rate"),
                    previous=yf.get("previous"),
                    p_value=yf.get("p_value"),
                    mark=yf.get("mark") or "",
                )
    if period != "12m":
        latest = (
            IndicatorValue.objects.filter(period=period, indicator=indicator, area_id__in=area_ids)
            .order_by("-period_start")
            .values_list("period_start", flat=True)
            .first()
        )
        if latest:
            for v in IndicatorValue.objects.filter(
                period=period, indicator=indicator, period_start=latest, area_id__in=area_ids
            ):
                out[v.area_id].update(
                    count=v.count,
                    rate=v.rate,
                    previous=v.last_year,
                    p_value=v.p_last_year,
                    mark=v.mark,
                    period_start=v.period_start,
                )
    for fig in out.values():
        prev, now = fig.get("previous"), fig.get("count")
        fig["change"] = (now / prev - 1) if prev and now is not None else None
    return out
