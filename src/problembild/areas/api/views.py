"""Read-only API for the register: areas, classifications and boundaries."""

import json

from django.http import Http404
from ninja import Query, Router
from ninja.pagination import paginate

from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import filter_or_422, query_schema
from problembild.core.models import AccessLogEntry

from ..filtersets import AreaListFilterSet, ClassificationFilterSet
from ..models import Area, Classification
from .schemas import AreaDetailOut, AreaOut, BoundaryOut, ClassificationOut

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


AreaQuery = query_schema(AreaListFilterSet, "AreaQuery")
ClassificationQuery = query_schema(ClassificationFilterSet, "ClassificationQuery")


@router.get("/areas", response={200: list[AreaOut], 422: Message}, summary="Areas in your scope")
@paginate
def list_areas(request, filters: Query[AreaQuery]):  # type: ignore[valid-type]
    """The areas of the latest list (with `current=false` also the historical ones) in your scope.

    The filters are the overview page's; a region, police area or category outside your
    scope or unknown is 422."""
    found = AreaListFilterSet(
        filters.dict(exclude_none=True), Area.objects.for_user(request.user), request=request
    )
    qs = filter_or_422(found)
    qs = qs.with_current_category().select_related("org_unit__parent__parent", "municipality", "parent")
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


@router.get(
    "/areas/{panel_id}/boundary",
    response={200: BoundaryOut, 403: Message, 404: Message},
    summary="The area's boundary as a GeoJSON Feature (WGS84)",
)
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


@router.get(
    "/classifications",
    response={200: list[ClassificationOut], 422: Message},
    summary="Classifications per list year",
)
@paginate
def list_classifications(request, filters: Query[ClassificationQuery]):  # type: ignore[valid-type]
    areas = Area.objects.for_user(request.user)
    found = ClassificationFilterSet(
        filters.dict(exclude_none=True),
        Classification.objects.filter(area__in=areas).select_related("round", "area"),
        request=request,
    )
    qs = filter_or_422(found)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="areas.classification", object_repr="api list"
    )
    return [classification_out(c) for c in qs.order_by("round__year", "area__name")]
