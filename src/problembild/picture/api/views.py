"""Read-only API for the computed problem picture: indicator values, documents, hot-spot grids.

Everything here reads the cache that `problembild refresh` fills; nothing is computed on
request. Scoping and logging follow the register API: a foreign area is 403 (and logged as
denied), and every answer revealing one area's data writes a VIEW entry for that area.
"""

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.api import Message
from problembild.core.filters import filter_or_422
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible

from ..document import AreaDocument, ForecastPart, SpacePart, UnitDocument
from ..filtersets import IndicatorValueFilterSet
from ..models import AreaPicture, IndicatorValue, RefreshRun, UnitPicture
from .schemas import (
    AreaPictureOut,
    ForecastFeature,
    HotspotCollection,
    HotspotFeature,
    HotspotMetadata,
    HotspotQuery,
    IndicatorFilter,
    IndicatorValueOut,
    PictureQuery,
    RefreshRunOut,
    UnitPictureOut,
)

router = Router(tags=["problem picture"])

NOT_COMPUTED = "The problem picture of this area is not computed yet: run `problembild refresh`."
GEOJSON = "application/geo+json"
WGS84 = "WGS84 (EPSG:4326): positions are [longitude, latitude] as in RFC 7946"


def _inline_schema(model) -> dict:
    """`model`'s JSON schema with its `$defs` inlined (for a hand-written OpenAPI content)."""
    schema = model.model_json_schema(mode="serialization")
    defs = schema.pop("$defs", {})

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return walk({**defs[ref.rsplit("/", 1)[1]], **rest})
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


class Pages(LimitOffsetPagination):
    """`limit`/`offset` as in the register API, bounded: the pages are sliced in the database."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=10_000)
        offset: int = Field(0, ge=0, le=10**12)


# --- indicator values -----------------------------------------------------------------


@router.get(
    "/indicators",
    response={200: list[IndicatorValueOut], 403: Message, 404: Message},
    summary="Indicator values per area and period",
)
@paginate(Pages)
def list_indicators(request, filters: Query[IndicatorFilter]):  # type: ignore[valid-type]
    """Counts, rates per 1,000 residents and changes, from the cache; areas in your scope only.

    Filtering by `area` answers 404 for an unknown and 403 for a foreign area.
    """
    scoped = IndicatorValue.objects.filter(area__in=Area.objects.for_user(request.user))
    qs = filter_or_422(IndicatorValueFilterSet(filters.dict(exclude_none=True), scoped, request=request))
    if filters.area is not None:
        area = Area.objects.get_for_user(request.user, panel_id=filters.area)
        log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} (indicators)")
    else:
        log_request(
            request, AccessLogEntry.Action.VIEW, object_type="picture.indicatorvalue", object_repr="api list"
        )
    # A queryset, so that the paginator slices in the database.
    return qs.select_related("area").order_by("area__name", "indicator", "period", "period_start", "pk")


# --- an area's document and hot spots -------------------------------------------------


def _area_picture(request, panel_id: int) -> tuple[Area, AreaPicture]:
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    picture = AreaPicture.objects.filter(area=area).first()
    if picture is None:
        raise Http404(NOT_COMPUTED)
    return area, picture


@router.get(
    "/areas/{panel_id}/picture",
    response={200: AreaPictureOut, 403: Message, 404: Message},
    exclude_unset=True,
    summary="The area's cached problem picture",
)
def area_picture(request, panel_id: int, q: Query[PictureQuery]):
    """The whole document, or only the top-level members named in `parts` (comma-separated,
    e.g. `key_figures,trends`); an unknown member is 422."""
    parts = q.parts
    area, picture = _area_picture(request, panel_id)
    data = {k: v for k, v in picture.data.items() if k not in {"panel_id", "name", "computed_at"}}
    if parts is not None:
        wanted = list(dict.fromkeys(p.strip() for p in parts.split(",") if p.strip()))
        unknown = [p for p in wanted if p not in data]
        if unknown:
            raise HttpError(
                422, f"parts: unknown member(s) {', '.join(unknown)}; known: {', '.join(sorted(data))}"
            )
        data = {k: data[k] for k in wanted}
    log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} (picture)")
    return {"panel_id": area.panel_id, "name": area.name, "computed_at": picture.computed_at, **data}


def _polygon(ring: list) -> dict:
    coords = [(float(p[0]), float(p[1])) for p in ring]
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


@router.get(
    "/areas/{panel_id}/hotspots.geojson",
    response={200: None, 403: Message, 404: Message},
    summary="Hot-spot grid (or next month's forecast cells) as GeoJSON (WGS84)",
    openapi_extra={
        "responses": {
            200: {
                "description": "A GeoJSON FeatureCollection with a `metadata` member.",
                "content": {GEOJSON: {"schema": _inline_schema(HotspotCollection)}},
            }
        }
    },
)
def area_hotspots(request, panel_id: int, q: Query[HotspotQuery]):
    """One square Polygon per grid cell. `layer=hotspots` (default): cells with a notable
    kernel density or a significant Gi* label (properties `density` in events per km², `z`,
    `label` 1 hot, -1 cold, 0 not significant). `layer=forecast`: the cells flagged for the
    next 30 days (properties `score`, `method`, `period_start`)."""
    layer = q.layer
    area, picture = _area_picture(request, panel_id)
    doc = AreaDocument.model_validate(picture.data)
    space = doc.space or SpacePart(status="")
    grid = space.grid
    meta = {
        "area": area.panel_id,
        "layer": layer,
        "status": space.status or None,
        "message": space.message,
        "crs": WGS84,
        "grid_crs": grid.crs if grid else None,
        "cell_size_m": grid.cell_size if grid else None,
        "bandwidth_m": space.bandwidth,
        "gi_radius_cells": space.gi_radius_cells,
        "alpha": space.alpha,
        "window": space.window,
        "n_events": space.n_events,
        "as_of": doc.as_of,
    }
    if layer == "forecast":
        fc = space.forecast or ForecastPart(status=meta["status"] or "")
        meta.update(
            status=fc.status or None,
            message=fc.message,
            method=fc.method,
            period_start=fc.period_start,
            horizon_days=fc.horizon_days,
            coverage=fc.coverage,
        )
        features = [
            ForecastFeature(
                geometry=_polygon(c.ring),
                properties={"score": c.score, "method": fc.method or "", "period_start": fc.period_start},
            )
            for c in fc.cells
        ]
    else:
        features = [
            HotspotFeature(
                geometry=_polygon(c.ring), properties={"density": c.density, "z": c.z, "label": c.label}
            )
            for c in space.cells
        ]
    body = HotspotCollection(metadata=HotspotMetadata(**meta), features=features)
    log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} ({layer})")
    return HttpResponse(body.model_dump_json(), content_type=GEOJSON)


# --- org units ------------------------------------------------------------------------


@router.get(
    "/units/{code}/picture",
    response={200: UnitPictureOut, 403: Message, 404: Message},
    summary="An org unit's aggregated problem picture",
)
def unit_picture(request, code: str):
    """Monthly series and trends summed over the unit's areas; your own unit or one below it."""
    unit = OrgUnit.objects.filter(code=code).first() if "\x00" not in code else None
    if unit is None:
        raise Http404("No such org unit.")
    require_unit_visible(request.user, unit)
    picture = UnitPicture.objects.filter(unit=unit).first()
    if picture is None:
        raise Http404("The picture of this unit is not computed yet: run `problembild refresh`.")
    data = UnitDocument.model_validate(picture.data).model_dump(exclude_unset=True)
    # The document lists area primary keys; the API speaks panel_ids.
    data["areas"] = sorted(
        Area.objects.filter(pk__in=data.get("areas") or []).values_list("panel_id", flat=True)
    )
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (picture)")
    return {
        **data,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "computed_at": picture.computed_at,
    }


# --- refresh runs ---------------------------------------------------------------------


@router.get("/refresh-runs", response=list[RefreshRunOut], summary="Latest runs of `problembild refresh`")
@paginate(Pages)
def refresh_runs(request):
    """Newest first: when the cache was filled, from how many incidents, how much was recomputed."""
    return RefreshRun.objects.order_by("-started_at", "-pk")
