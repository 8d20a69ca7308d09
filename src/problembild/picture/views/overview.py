"""The overview: the areas the user may see on the map, their figures and the classification history."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from problembild.areas.choices import CATEGORY_COLOURS
from problembild.areas.history import classification_matrix, round_changes
from problembild.areas.models import PREFERRED_POPULATION_ORDER, Area, AssessmentRound, Population
from problembild.core.access import log_request
from problembild.core.cache import cached_fragment, data_stamp
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry
from problembild.core.scoping import scope_key
from problembild.core.shell import render_page
from problembild.incidents.choices import indicator_label

from ..filtersets import OverviewFilterSet, period_label
from ..models import AreaPicture
from ..reading import overview_figures
from ..tables import OverviewRow, OverviewTable


def _filters(request) -> tuple[OverviewFilterSet, object]:
    """The overview's FilterSet over the user's current areas, and the user's areas."""
    base = Area.objects.for_user(request.user)
    return OverviewFilterSet(request.GET, base.current(), request=request), base


def overview_table(filters: OverviewFilterSet) -> OverviewTable:
    """The overview's table: the filtered areas with their figures from the cache."""
    areas = list(
        filters.qs.with_current_category()
        .select_related("org_unit__parent__parent", "municipality")
        .prefetch_related(
            Prefetch("population", queryset=Population.objects.order_by(*PREFERRED_POPULATION_ORDER))
        )
        .order_by("name")
    )
    years = list(AssessmentRound.objects.order_by("year").values_list("year", flat=True))
    matrix = classification_matrix([a.pk for a in areas])
    figures = overview_figures([a.pk for a in areas], filters.value("indicator"), filters.value("period"))
    rows = []
    for area in areas:
        pops = list(area.population.all())
        lpo = area.org_unit
        rows.append(
            OverviewRow(
                area=area,
                lpo=lpo,
                police_area=lpo.parent,
                region=lpo.parent.parent if lpo.parent else None,
                history={str(year): category for year, category in matrix.get(area.pk, {}).items()},
                population=pops[0] if pops else None,
                fig=figures[area.pk],
            )
        )
    return OverviewTable(rows, years=years)


def overview(request):
    """National overview scoped to the user's unit: map, indicator table, history.

    Everything below the heading is the same for every user with the same areas, filters
    and language, so it is rendered once per data stamp and kept in the cache
    (core/cache.py); the page around it (user, unit, CSRF token, messages) is per request.
    """
    stamp = data_stamp()  # before any read of the data the fragment shows
    query = request.GET.copy().urlencode()
    # The user's scope decides the areas and the filter choices; the query string the rest.
    parts = {"scope": scope_key(request.user), "query": query, "tiles": settings.TILE_URL}

    def render_body():
        filters, base = _filters(request)
        table = overview_table(filters)
        rounds = list(AssessmentRound.objects.order_by("year"))
        html = render_to_string(
            "picture/_overview_body.html",
            {
                "table": table,
                "filter": filters,
                "latest": rounds[-1] if rounds else None,
                "changes": round_changes(base),
                "colours": CATEGORY_COLOURS,
                "empty_register": not Area.objects.exists(),
                "indicator_name": indicator_label(filters.value("indicator")),
                "period_name": period_label(filters.value("period")),
                "no_pictures": not AreaPicture.objects.exists(),
                "query": query,
                "tile_url": settings.TILE_URL,
            },
        )
        return html, {"areas": len(table.rows), "ignored": filters.ignored}

    body = cached_fragment("overview", parts, render_body, stamp=stamp)
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="areas.area",
        object_repr=f"overview ({body.meta['areas']} areas)",
    )
    ignored = body.meta["ignored"]
    # The page around the body shows nothing of the view's but the body (the user's unit comes
    # with the shell's own key): the shell is kept per user and path (core/shell.py).
    return render_page(
        request,
        "picture/overview.html",
        {"ignored": ignored},
        body_name="overview_body",
        body=body.html,
        key=("overview", tuple(ignored)),
    )


def overview_export(request, fmt: str):
    """The overview table (with the same filters, so the same rows and columns) as CSV or Excel."""
    filters, _base = _filters(request)
    indicator, period = filters.value("indicator"), filters.value("period")
    return export_table(
        request,
        overview_table(filters),
        name=f"problembild-oversikt-{indicator}-{period}",
        fmt=fmt,
        title=_("Översikt"),
        object_type="areas.area",
        note=_("Problembild, %(indicator)s, %(period)s. Syntetiska siffror är märkta 'synthetic'.")
        % {"indicator": indicator_label(indicator), "period": period_label(period).lower()},
    )
