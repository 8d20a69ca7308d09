"""A region's, police area's or local police area's picture: its areas side by side."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible
from problembild.incidents.choices import indicator_choices, indicator_label

from ..document import UnitDocument
from ..filtersets import IndicatorFilterSet
from ..reading import overview_figures
from ..tables import UnitAreasTable, UnitRow


def crumbs(user, units: list[OrgUnit]) -> list[tuple[OrgUnit, bool]]:
    """``units`` (top first) for the breadcrumbs, each with whether ``user`` may open its page.

    Decided per request, as :func:`require_unit_visible` decides the unit page itself: a
    local police area chief sees the region's name, not a link to a page that answers 403.
    """
    out = []
    for unit in units:
        try:
            require_unit_visible(user, unit)
        except PermissionDenied:
            out.append((unit, False))
        else:
            out.append((unit, True))
    return out


def _trend_rows(doc: UnitDocument | None, indicator: str) -> list[tuple[str, int, float | None]]:
    """The chart's figures as table rows: month, count and the fitted trend (None without one)."""
    if doc is None or indicator not in doc.series:
        return []
    series = doc.series[indicator]
    trend = doc.trends.get(indicator)
    fitted = (
        trend.fitted if trend and len(trend.fitted) == len(series.months) else [None] * len(series.months)
    )
    return [
        (month.strftime("%Y-%m"), count, value)
        for month, count, value in zip(series.months, series.counts, fitted, strict=False)
    ]


def unit_detail(request, code: str):
    """The unit's summed monthly series and trend, and its areas side by side."""
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("Ingen sådan enhet."))
    require_unit_visible(request.user, unit)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit)
    try:
        doc = UnitDocument.model_validate(unit.picture.data)
    except ObjectDoesNotExist:
        doc = None
    filters = IndicatorFilterSet(request.GET, OrgUnit.objects.none(), request=request)
    indicator = filters.value("indicator")
    areas = (
        Area.objects.for_user(request.user)
        .current()
        .filter(pk__in=doc.areas if doc else [])
        .with_current_category()
        .select_related("org_unit")
        .order_by("name")
    )
    figures = overview_figures([a.pk for a in areas], indicator, "12m")
    chain = []
    node = unit.parent
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    return render(
        request,
        "picture/unit.html",
        {
            "unit": unit,
            "doc": doc,
            "table": UnitAreasTable([UnitRow(a, figures[a.pk]) for a in areas]),
            "children": list(unit.children.filter(picture__isnull=False).order_by("name")),
            "chain": crumbs(request.user, chain),
            "trend_rows": _trend_rows(doc, indicator),
            "filter": filters,
            "indicator": indicator,
            "indicator_name": indicator_label(indicator),
            "charts": {
                **(
                    doc.model_dump(mode="json", include={"series", "trends"})
                    if doc
                    else {"series": {}, "trends": {}}
                ),
                "labels": dict(indicator_choices()),
            },
        },
    )
