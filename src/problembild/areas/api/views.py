"""Read-only API for the register: areas, classifications and boundaries."""

import json

from django.http import Http404
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry

from ..models import Area, Classification
from .schemas import AreaDetailOut, AreaOut, ClassificationOut

router = Router(tags=["register"])


def area_out(area: Area) -> dict:
    lpo = area.org_unit
    pop = area.latest_population()
    return {
        "panel_id": area.panel_id,
        "name": area.name,
        "town": area.town,
        "category": getattr(area, "current_category", None),
        "category_year": getattr(area, "current_year", None),
        "local_police_area": lpo.name,
        "police_area": lpo.parent.name if lpo.parent else None,
        "region": lpo.parent.parent.name if lpo.parent and lpo.parent.parent else None,
        "municipality_code": area.municipality_id,
        "municipality": area.municipality.name if area.municipality else None,
        "area_km2": area.area_km2,
        "population": (
            {"year": pop.year, "residents": pop.residents, "synthetic": pop.synthetic, "source": pop.source}
            if pop
            else None
        ),
        "split_from": area.parent.panel_id if area.parent else None,
    }


class AreaFilter(Schema):
    current: bool = True
    category: str | None = None
    region: str | None = None


@router.get("/areas", response=list[AreaOut], summary="Areas in your scope")
@paginate
def list_areas(request, filters: Query[AreaFilter]):
    qs = Area.objects.for_user(request.user)
    if filters.current:
        qs = qs.current()
    if filters.region:
        qs = qs.filter(org_unit__path__contains=f"/{filters.region}/")
    qs = qs.with_current_category().select_related("org_unit__parent__parent", "municipality", "parent")
    if filters.category:
        qs = qs.filter(current_category=filters.category)
    log_request(request, AccessLogEntry.Action.VIEW, object_type="areas.area", object_repr="api list")
    return [area_out(a) for a in qs.order_by("name")]


@router.get("/areas/{panel_id}", response=AreaDetailOut, summary="One area with its classification history")
def get_area(request, panel_id: int):
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    area = (
        Area.objects.with_current_category()
        .select_related("org_unit__parent__parent", "municipality")
        .get(pk=area.pk)
    )
    log_request(request, AccessLogEntry.Action.VIEW, obj=area)
    out = area_out(area)
    out["source"] = area.source
    out["classifications"] = [
        classification_out(c) for c in area.classifications.select_related("round", "area")
    ]
    return out


@router.get("/areas/{panel_id}/boundary", summary="The area's boundary as a GeoJSON Feature (WGS84)")
def get_boundary(request, panel_id: int):
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    if not area.geojson:
        raise Http404("This area has no boundary.")
    log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} (boundary)")
    return {
        "type": "Feature",
        "geometry": json.loads(area.geojson),
        "properties": {"panel_id": area.panel_id, "name": area.name},
    }


def classification_out(c: Classification) -> dict:
    return {
        "panel_id": c.area.panel_id,
        "area": c.area.name,
        "year": c.round.year,
        "category": c.category,
        "direction": c.direction,
        "assessed": c.assessed,
    }


class ClassificationFilter(Schema):
    year: int | None = None
    category: str | None = None


@router.get("/classifications", response=list[ClassificationOut], summary="Classifications per list year")
@paginate
def list_classifications(request, filters: Query[ClassificationFilter]):
    areas = Area.objects.for_user(request.user)
    qs = Classification.objects.filter(area__in=areas).select_related("round", "area")
    if filters.year is not None:
        qs = qs.filter(round__year=filters.year)
    if filters.category:
        qs = qs.filter(category=filters.category)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="areas.classification", object_repr="api list"
    )
    return [classification_out(c) for c in qs.order_by("round__year", "area__name")]
