"""Pages that compose the apps: the overview of the register and the area pages."""

from __future__ import annotations

import json

from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from problembild.areas.choices import CATEGORY_COLOURS
from problembild.areas.history import classification_matrix, round_changes
from problembild.areas.models import Area, AssessmentRound, Municipality, Population
from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import visible_units


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
    return areas, chosen, ignored, units


def overview(request):
    """National overview scoped to the user's unit: map and table of the areas."""
    base = Area.objects.for_user(request.user)
    areas, chosen, ignored, units = _filters(request, base.current())
    areas = (
        areas.with_current_category()
        .select_related("org_unit__parent__parent", "municipality")
        .prefetch_related(Prefetch("population", queryset=Population.objects.order_by("-year")))
        .order_by("name")
    )
    rounds = list(AssessmentRound.objects.order_by("year"))
    area_list = list(areas)
    matrix = classification_matrix([a.pk for a in area_list])
    rows = []
    for area in area_list:
        pops = list(area.population.all())
        lpo = area.org_unit
        rows.append(
            {
                "area": area,
                "lpo": lpo,
                "police_area": lpo.parent,
                "region": lpo.parent.parent if lpo.parent else None,
                "history": [matrix.get(area.pk, {}).get(r.year, "") for r in rounds],
                "population": pops[0] if pops else None,
            }
        )
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="areas.area",
        object_repr=f"overview ({len(rows)} areas)",
    )
    return render(
        request,
        "web/overview.html",
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
        },
    )


def area_detail(request, panel_id: int):
    """One area: its boundary, classification history, organisation and population."""
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    log_request(request, AccessLogEntry.Action.VIEW, obj=area)
    lpo = area.org_unit
    return render(
        request,
        "web/area.html",
        {
            "area": area,
            "history": area.history(),
            "lpo": lpo,
            "police_area": lpo.parent,
            "region": lpo.parent.parent if lpo.parent else None,
            "population": list(area.population.order_by("-year")),
            "splits": list(area.splits.all()),
            "colours": CATEGORY_COLOURS,
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
