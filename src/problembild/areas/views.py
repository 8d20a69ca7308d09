"""The register's map layers: the user's areas and the municipalities, as GeoJSON (WGS84)."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry

from .choices import CATEGORY_COLOURS, category_label
from .models import Area, Municipality


@require_GET
def areas_geojson(request):
    """Boundaries (WGS84) of the areas the user may see, with their latest category."""
    features = []
    areas = Area.objects.for_user(request.user).with_current_category().exclude(geojson="")
    for area in areas:
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
    log_request(
        request,
        AccessLogEntry.Action.VIEW,
        object_type="areas.area",
        object_repr=f"map ({len(features)} areas)",
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
