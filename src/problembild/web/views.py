"""Pages that compose the apps: the overview of the register and the area pages."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from problembild.analysis.vocabulary import ALL
from problembild.areas.choices import CATEGORY_COLOURS, category_label
from problembild.areas.history import classification_matrix, round_changes
from problembild.areas.models import Area, AssessmentRound, Municipality, Population
from problembild.core.access import log_request
from problembild.core.cache import cached_fragment, data_stamp
from problembild.core.exports import export_table
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible, visible_units
from problembild.incidents.models import AreaMatch, Incident
from problembild.picture.models import AreaPicture

from .picture import (
    INDICATOR_CHOICES,
    PERIOD_CHOICES,
    indicator_choices,
    indicator_label,
    overview_figures,
    period_label,
    sparkline,
)


def _filters(request, areas):
    """Apply region / police area / category filters; return (queryset, chosen, ignored values)."""
    chosen: dict[str, str] = {}
    ignored: list[str] = []
    units = {u.code: u for u in visible_units(request.user).filter(kind__in=["region", "police_area"])}
    for key, kind in (("region", "region"), ("police_area", "police_area")):
        value = request.GET.get(key, "").strip()
        if not value:
            continue
        unit = units.get(value)
        if unit is None or unit.kind != kind:
            ignored.append(f"{key}={value}")
            continue
        areas = areas.filter(org_unit__path__startswith=unit.path + "/")
        chosen[key] = value
    latest = AssessmentRound.latest()
    category = request.GET.get("category", "").strip()
    if category:
        if latest and category in latest.categories:
            areas = areas.filter(classifications__round=latest, classifications__category=category)
            chosen["category"] = category
        else:
            ignored.append(f"category={category}")
    for key, allowed, default in (("indicator", INDICATOR_CHOICES, ALL), ("period", PERIOD_CHOICES, "12m")):
        value = request.GET.get(key, "").strip()
        if value and value not in allowed:
            ignored.append(f"{key}={value}")
            value = ""
        chosen[key] = value or default
    return areas, chosen, ignored, units


def _overview_scope(request):
    """The user's areas, the overview's areas after the filters, the filters and the visible units."""
    base = Area.objects.for_user(request.user)
    areas, chosen, ignored, units = _filters(request, base.current())
    return base, areas, chosen, ignored, units


def _overview_table(areas, chosen):
    """The overview's rows (areas with their figures from the cache) and the assessment rounds."""
    areas = (
        areas.with_current_category()
        .select_related("org_unit__parent__parent", "municipality")
        .prefetch_related(Prefetch("population", queryset=Population.objects.order_by("-year")))
        .order_by("name")
    )
    rounds = list(AssessmentRound.objects.order_by("year"))
    area_list = list(areas)
    matrix = classification_matrix([a.pk for a in area_list])
    figures = overview_figures([a.pk for a in area_list], chosen["indicator"], chosen["period"])
    rows = []
    for area in area_list:
        pops = list(area.population.all())
        lpo = area.org_unit
        fig = figures.get(area.pk, {})
        rule = fig.get("officer_rule") or {}
        rows.append(
            {
                "area": area,
                "lpo": lpo,
                "police_area": lpo.parent,
                "region": lpo.parent.parent if lpo.parent else None,
                "history": [matrix.get(area.pk, {}).get(r.year, "") for r in rounds],
                "population": pops[0] if pops else None,
                "fig": fig,
                "spark": sparkline(fig.get("spark")),
                "required_officers": rule.get("required"),
            }
        )
    return rows, rounds


def _overview_rows(request):
    """The overview's areas after the filters, with their figures from the cache."""
    base, areas, chosen, ignored, units = _overview_scope(request)
    rows, rounds = _overview_table(areas, chosen)
    return base, rows, rounds, chosen, ignored, units


def overview(request):
    """National overview scoped to the user's unit: map, indicator table, history.

    Everything below the heading is the same for every user with the same areas, filters
    and language, so it is rendered once per data stamp and kept in the cache
    (core/cache.py); the page around it (user, unit, CSRF token, messages) is per request.
    """
    stamp = data_stamp()  # before any read of the data the fragment shows
    base, areas, chosen, ignored, units = _overview_scope(request)
    query = request.GET.copy().urlencode()
    parts = {
        "areas": list(base.order_by("pk").values_list("pk", flat=True)),
        "units": sorted(units),
        "chosen": chosen,
        "ignored": ignored,
        "query": query,
        "tiles": settings.TILE_URL,
    }

    def render_body():
        rows, rounds = _overview_table(areas, chosen)
        html = render_to_string(
            "web/_overview_body.html",
            {
                "rows": rows,
                "rounds": rounds,
                "latest": rounds[-1] if rounds else None,
                "changes": round_changes(base),
                "regions": sorted(
                    (u for u in units.values() if u.kind == OrgUnit.Kind.REGION), key=lambda u: u.name
                ),
                "police_areas": sorted(
                    (u for u in units.values() if u.kind == OrgUnit.Kind.POLICE_AREA), key=lambda u: u.name
                ),
                "chosen": chosen,
                "ignored": ignored,
                "colours": CATEGORY_COLOURS,
                "empty_register": not Area.objects.exists(),
                "indicators": indicator_choices(),
                "periods": [(p, period_label(p)) for p in PERIOD_CHOICES],
                "indicator_name": indicator_label(chosen["indicator"]),
                "period_name": period_label(chosen["period"]),
                "no_pictures": not AreaPicture.objects.exists(),
                "query": query,
                "tile_url": settings.TILE_URL,
            },
        )
        return html, {"areas": len(rows)}

    body = cached_fragment("overview", parts, render_body, stamp=stamp)
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="areas.area",
        object_repr=f"overview ({body.meta['areas']} areas)",
    )
    return render(request, "web/overview.html", {"overview_body": body.html, "ignored": ignored})


def overview_export(request, fmt: str):
    """The overview table (with the same filters) as CSV or Excel."""
    _base, rows, rounds, chosen, _ignored, _units = _overview_rows(request)
    columns = [
        ("panel_id", _("Områdes-id")),
        ("name", _("Område")),
        ("town", _("Ort")),
        ("lpo", _("Lokalpolisområde")),
        ("police_area", _("Polisområde")),
        ("region", _("Region")),
        ("category", _("Kategori")),
        ("indicator", _("Indikator")),
        ("period", _("Period")),
        ("count", _("Antal")),
        ("rate", _("Per 1 000 invånare")),
        ("previous", _("Föregående år")),
        ("change", _("Förändring")),
        ("p_value", _("p-värde")),
        ("mark", _("Signifikant")),
        ("need_index", _("Behovsindex")),
        ("residents", _("Invånare")),
        ("residents_synthetic", _("Syntetisk folkmängd")),
        ("required_officers", _("Områdespoliser enligt 1/5 000")),
    ] + [(f"cat_{r.year}", str(r.year)) for r in rounds]
    out = []
    for row in rows:
        fig, pop = row["fig"], row["population"]
        item = {
            "panel_id": row["area"].panel_id,
            "name": row["area"].name,
            "town": row["area"].town,
            "lpo": row["lpo"].name,
            "police_area": getattr(row["police_area"], "name", ""),
            "region": getattr(row["region"], "name", ""),
            "category": row["area"].current_category,
            "indicator": chosen["indicator"],
            "period": chosen["period"],
            "count": fig.get("count"),
            "rate": fig.get("rate"),
            "previous": fig.get("previous"),
            "change": fig.get("change"),
            "p_value": fig.get("p_value"),
            "mark": fig.get("mark"),
            "need_index": fig.get("need_index"),
            "residents": pop.residents if pop else None,
            "residents_synthetic": "synthetic" if pop and pop.synthetic else "",
            "required_officers": row["required_officers"],
        }
        for r, cat in zip(rounds, row["history"], strict=True):
            item[f"cat_{r.year}"] = cat
        out.append(item)
    return export_table(
        request,
        rows=out,
        columns=columns,
        name=f"problembild-oversikt-{chosen['indicator']}-{chosen['period']}",
        fmt=fmt,
        title=_("Översikt"),
        object_type="areas.area",
        note=_("Problembild. Syntetiska siffror är märkta 'synthetic'."),
    )


def _area_context(request, panel_id: int) -> dict:
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    lpo = area.org_unit
    picture = AreaPicture.objects.filter(area=area).first()
    doc = picture.data if picture else {}
    key_rows = []
    for code, label in indicator_choices():
        year = (doc.get("year_figures") or {}).get(code, {})
        month = (doc.get("key_figures") or {}).get(code, {})
        comp = (doc.get("comparisons") or {}).get(code, {})
        rest = ((doc.get("municipality_rest") or {}).get("indicators") or {}).get(code, {})
        trend = (doc.get("trends") or {}).get(code, {})
        key_rows.append(
            {
                "code": code,
                "label": label,
                "year": year,
                "month": month,
                "comp": comp,
                "rest": rest,
                "trend": trend,
            }
        )
    feed = (
        Incident.objects.filter(area=area, area_match=AreaMatch.APPROXIMATE)
        .order_by("-occurred_at")
        .only("occurred_at", "title", "raw_type", "url", "summary")[:25]
    )
    space = doc.get("space") or {}
    charts = {
        "series": doc.get("series") or {},
        "trends": {
            k: {"fitted": v.get("fitted"), "seasonal": v.get("seasonal")}
            for k, v in (doc.get("trends") or {}).items()
        },
        "hour_of_week": doc.get("hour_of_week") or {},
        "labels": dict(indicator_choices()),
        "unusual_weeks": doc.get("unusual_weeks") or [],
    }
    return {
        "area": area,
        "history": area.history(),
        "lpo": lpo,
        "police_area": lpo.parent,
        "region": lpo.parent.parent if lpo.parent else None,
        "population": list(area.population.order_by("-year")),
        "splits": list(area.splits.all()),
        "colours": CATEGORY_COLOURS,
        "picture": picture,
        "doc": doc,
        "key_rows": key_rows,
        "space": space,
        "forecast": space.get("forecast") or {},
        "charts": charts,
        "feed": list(feed),
        "need": doc.get("need") or {},
        "sources": (doc.get("sources") or {}).get("by_source", []),
        "synthetic_data": any(s.get("synthetic") for s in (doc.get("sources") or {}).get("by_source", [])),
    }


def area_detail(request, panel_id: int):
    """One area's local problem picture (lokal problembild), read from the cache."""
    context = _area_context(request, panel_id)
    log_request(request, AccessLogEntry.Action.VIEW, obj=context["area"])
    return render(request, "web/area.html", context)


def area_print(request, panel_id: int):
    """The area's problem picture as a print-ready page (print or save as PDF in the browser)."""
    context = _area_context(request, panel_id)
    log_request(
        request,
        AccessLogEntry.Action.EXPORT,
        obj=context["area"],
        object_repr=f"{context['area']} (print)",
        reason=request.GET.get("reason", ""),
        recipient=request.GET.get("recipient", ""),
    )
    return render(request, "web/area_print.html", context)


def area_export(request, panel_id: int, fmt: str):
    """The area's key figures (every indicator) and monthly series as CSV or Excel."""
    context = _area_context(request, panel_id)
    area, doc = context["area"], context["doc"]
    what = request.GET.get("table", "key")
    if what == "monthly":
        series = doc.get("series") or {}
        months = (series.get(ALL) or {}).get("months", [])
        rows = []
        for i, month in enumerate(months):
            row = {"month": month}
            for code in INDICATOR_CHOICES:
                counts = (series.get(code) or {}).get("counts", [])
                row[code] = counts[i] if i < len(counts) else None
            rows.append(row)
        columns = [("month", _("Månad"))] + [(c, indicator_label(c)) for c in INDICATOR_CHOICES]
    else:
        rows = []
        for r in context["key_rows"]:
            rows.append(
                {
                    "indicator": r["label"],
                    "count_12m": r["year"].get("count"),
                    "rate_12m": r["year"].get("rate"),
                    "previous_12m": r["year"].get("previous"),
                    "p_12m": r["year"].get("p_value"),
                    "mark_12m": r["year"].get("mark"),
                    "month": r["month"].get("period"),
                    "count_month": r["month"].get("count"),
                    "previous_month": r["month"].get("previous"),
                    "last_year_month": r["month"].get("last_year"),
                    "trend_rr": r["trend"].get("rate_ratio"),
                    "trend_p": r["trend"].get("p_value"),
                    "category_mean_rate": r["comp"].get("category_mean_rate"),
                    "rest_rate": r["rest"].get("rate"),
                }
            )
        columns = [
            ("indicator", _("Indikator")),
            ("count_12m", _("Antal 12 mån")),
            ("rate_12m", _("Per 1 000 inv. 12 mån")),
            ("previous_12m", _("Antal 12 mån året innan")),
            ("p_12m", _("p-värde")),
            ("mark_12m", _("Signifikant")),
            ("month", _("Senaste månad")),
            ("count_month", _("Antal månad")),
            ("previous_month", _("Föregående månad")),
            ("last_year_month", _("Samma månad i fjol")),
            ("trend_rr", _("Trend (faktor per år)")),
            ("trend_p", _("Trend p-värde")),
            ("category_mean_rate", _("Medel i kategorin per 1 000")),
            ("rest_rate", _("Övriga kommunen per 1 000")),
        ]
    note = _("Problembild %(area)s, data till %(as_of)s.") % {
        "area": area.name,
        "as_of": doc.get("as_of", "–"),
    }
    if context["synthetic_data"]:
        note += " " + _("Innehåller syntetiska data (synthetic).")
    return export_table(
        request,
        rows=rows,
        columns=columns,
        name=f"problembild-{area.name}-{what}",
        fmt=fmt,
        title=area.name,
        note=note,
        obj=area,
    )


def unit_detail(request, code: str):
    """A region's, police area's or local police area's picture: its areas side by side."""
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("Ingen sådan enhet."))
    require_unit_visible(request.user, unit)
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit)
    try:
        picture = unit.picture
    except ObjectDoesNotExist:
        picture = None
    doc = picture.data if picture else {}
    area_ids = doc.get("areas") or []
    areas = (
        Area.objects.for_user(request.user)
        .current()
        .filter(pk__in=area_ids)
        .with_current_category()
        .select_related("org_unit")
        .order_by("name")
    )
    indicator = request.GET.get("indicator", ALL)
    ignored = []
    if indicator not in INDICATOR_CHOICES:
        ignored.append(f"indicator={indicator}")
        indicator = ALL
    figures = overview_figures([a.pk for a in areas], indicator, "12m")
    rows = [
        {"area": a, "fig": figures.get(a.pk, {}), "spark": sparkline(figures.get(a.pk, {}).get("spark"))}
        for a in areas
    ]
    children = list(unit.children.filter(picture__isnull=False).order_by("name"))
    chain = []
    node = unit.parent
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    return render(
        request,
        "web/unit.html",
        {
            "unit": unit,
            "doc": doc,
            "rows": rows,
            "children": children,
            "chain": chain,
            "indicators": indicator_choices(),
            "indicator": indicator,
            "indicator_name": indicator_label(indicator),
            "ignored": ignored,
            "charts": {
                "series": doc.get("series") or {},
                "trends": doc.get("trends") or {},
                "labels": dict(indicator_choices()),
            },
        },
    )


@require_GET
def areas_geojson(request):
    """Boundaries (WGS84) of the areas the user may see, with their latest category."""
    features = []
    for area in Area.objects.for_user(request.user).with_current_category().exclude(geojson=""):
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(area.geojson),
                "properties": {
                    "panel_id": area.panel_id,
                    "name": area.name,
                    "category": area.current_category,
                    "category_label": category_label(area.current_category),
                    "year": area.current_year,
                    "colour": CATEGORY_COLOURS.get(area.current_category or "", "#777777"),
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "features": features})


@require_GET
@cache_control(private=True, max_age=3600)
def municipalities_geojson(request):
    """Sweden's municipalities (WGS84): the map's neutral background. Public information."""
    parts = []
    for code, name, population, geojson in Municipality.objects.values_list(
        "code", "name", "population", "geojson"
    ):
        props = json.dumps({"code": code, "name": name, "population": population}, ensure_ascii=False)
        parts.append(f'{{"type":"Feature","geometry":{geojson},"properties":{props}}}')
    body = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return HttpResponse(body, content_type="application/geo+json")


def permission_denied(request, exception=None):
    """The 403 page; every refusal of a signed-in user is written to the access log."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        log_request(request, AccessLogEntry.Action.DENIED, object_repr=str(exception or "")[:300])
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
