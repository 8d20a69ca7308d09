"""The events feed page (`/feed/`) and its exports."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry

from .feed import CLASS_COLOURS, MISSING_COLOUR, ZERO_COLOUR, feed_context, legend, period_label, type_label
from .tables import CountyTable, MunicipalityTable

#: The feed's exports (``?table=``): per municipality (default) or the county-only events.
EXPORT_TABLES = ("municipality", "county")


def _query_without(request, *keys: str) -> str:
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


def _latest(request, scope_qs) -> list:
    """The latest events of the selection; an area named in one is linked when the user may see it."""
    latest = list(
        scope_qs.order_by("-occurred_at").only(
            "occurred_at", "raw_type", "title", "url", "area_id", "area_match", "municipality_code"
        )[:20]
    )
    area_ids = {e.area_id for e in latest if e.area_id}
    visible = (
        dict(Area.objects.for_user(request.user).filter(pk__in=area_ids).values_list("pk", "panel_id"))
        if area_ids
        else {}
    )
    names = dict(Area.objects.filter(pk__in=visible).values_list("pk", "name")) if visible else {}
    for e in latest:
        e.visible_panel_id = visible.get(e.area_id)
        e.visible_area_name = names.get(e.area_id, "")
    return latest


def feed(request):
    """The events feed per municipality and type: map, table, monthly chart, county-only events."""
    ctx = feed_context(request)
    f = ctx["filter"]
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="incidents.incident",
        object_repr=f"polisen feed ({ctx['municipal_total'] + ctx['county_total'] + ctx['unplaced']} events)",
    )
    base = _query_without(request, "municipality")
    link = "?" + (base + "&" if base else "") + "municipality="
    map_data = {
        "munis": {r["code"]: {"n": r["count"], "rate": r["rate"], "c": r["cls"]} for r in ctx["rows"]},
        "colours": [ZERO_COLOUR, *CLASS_COLOURS],
        "missing": MISSING_COLOUR,
        "selected": f.value("municipality") or "",
        "link": link,
        "chart": ctx["chart"],
        "scope": ctx["scope_name"],
        "labels": {
            "events": _("händelser"),
            "per": _("per 10 000 invånare"),
            "nopop": _("folkmängd saknas"),
            "month": _("Månad"),
            "count": _("Antal händelser"),
        },
    }
    ctx.update(
        latest=_latest(request, ctx.pop("scope_qs")),
        map_data=map_data,
        legend=legend(ctx["breaks"]),
        period_label=period_label(f, ctx["span"]),
        query=request.GET.urlencode(),
        base_query=base,
        type_label=type_label(f),
        table=MunicipalityTable(ctx["rows"], link=link, selected=f.value("municipality") or ""),
        county_table=CountyTable(ctx["county_rows"]),
    )
    return render(request, "incidents/feed.html", ctx)


def feed_export(request, fmt: str):
    """The feed page's municipality table (or, with ``table=county``, the county-only table)."""
    which = request.GET.get("table") or "municipality"
    if which not in EXPORT_TABLES:
        raise Http404(_("Okänd tabell: %(table)s") % {"table": which})
    ctx = feed_context(request, with_chart=False)
    f = ctx["filter"]
    if which == "county":
        table, name, title = (
            CountyTable(ctx["county_rows"]),
            "problembild-handelser-lan",
            _("Händelser bara på länsnivå"),
        )
    else:
        table = MunicipalityTable(ctx["rows"])
        name, title = "problembild-handelser-kommuner", _("Händelser per kommun")
    note = _(
        "Polisens händelser (polisen.se), %(period)s, %(kind)s. Positionerna är kommunens eller länets "
        "mittpunkt, aldrig brottsplatsens adress."
    ) % {"period": period_label(f, ctx["span"]), "kind": type_label(f)}
    return export_table(
        request, table, name=name, fmt=fmt, title=title, note=note, object_type="incidents.incident"
    )
