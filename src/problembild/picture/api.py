"""Read-only API for the computed problem picture: indicator values, documents, hot-spot grids."""

from datetime import date
from typing import Literal

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from problembild.analysis.periods import period_label
from problembild.areas.models import Area
from problembild.core.access import log_request
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.scoping import require_unit_visible

from .models import AreaPicture, IndicatorValue, RefreshRun

router = Router(tags=["problem picture"])

IndicatorCode = Literal[
    "all",
    "shootings",
    "explosions",
    "violence_public",
    "drugs",
    "weapons",
    "vehicle_arson_vandalism",
    "threats_intimidation",
    "other",
]


class IndicatorFilter(Schema):
    area: int | None = Field(None, description="Area id (panel_id)")
    indicator: IndicatorCode | None = None
    period: Literal["week", "month", "quarter", "year"] = "month"
    start: date | None = Field(None, description="First period start (inclusive)")
    end: date | None = Field(None, description="Last period start (inclusive)")


class IndicatorValueOut(Schema):
    area: int
    area_name: str
    indicator: str
    period: str
    period_start: date
    period_label: str
    count: int
    rate: float | None = Field(None, description="Per 1,000 residents; null when population is unknown")
    previous: int | None
    last_year: int | None
    p_previous: float | None
    p_last_year: float | None
    mark: str
    share_of_municipality: float | None


class RefreshRunOut(Schema):
    started_at: str
    finished_at: str | None
    seconds: float | None
    incidents: int
    areas_recomputed: int
    areas_unchanged: int


@router.get("/indicators", response=list[IndicatorValueOut], summary="Indicator values per area and period")
@paginate
def list_indicators(request, filters: Query[IndicatorFilter]):
    areas = Area.objects.for_user(request.user)
    qs = IndicatorValue.objects.filter(area__in=areas, period=filters.period).select_related("area")
    if filters.area is not None:
        qs = qs.filter(area__panel_id=filters.area)
    if filters.indicator:
        qs = qs.filter(indicator=filters.indicator)
    if filters.start:
        qs = qs.filter(period_start__gte=filters.start)
    if filters.end:
        qs = qs.filter(period_start__lte=filters.end)
    log_request(
        request, AccessLogEntry.Action.VIEW, object_type="picture.indicatorvalue", object_repr="api list"
    )
    return [
        {
            "area": v.area.panel_id,
            "area_name": v.area.name,
            "indicator": v.indicator,
            "period": v.period,
            "period_start": v.period_start,
            "period_label": period_label(v.period_start, v.period),
            "count": v.count,
            "rate": v.rate,
            "previous": v.previous,
            "last_year": v.last_year,
            "p_previous": v.p_previous,
            "p_last_year": v.p_last_year,
            "mark": v.mark,
            "share_of_municipality": v.share_of_municipality,
        }
        for v in qs.order_by("area__name", "indicator", "period_start")
    ]


def _picture(request, panel_id: int) -> tuple[Area, AreaPicture]:
    area = Area.objects.get_for_user(request.user, panel_id=panel_id)
    picture = AreaPicture.objects.filter(area=area).first()
    if picture is None:
        raise Http404("The problem picture of this area is not computed yet: run `problembild refresh`.")
    return area, picture


@router.get("/areas/{panel_id}/picture", response=dict, summary="The area's cached problem picture")
def area_picture(request, panel_id: int, parts: str | None = None):
    """The whole document, or only the top-level members named in ``parts`` (comma-separated)."""
    area, picture = _picture(request, panel_id)
    data = picture.data
    if parts:
        wanted = [p.strip() for p in parts.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in data]
        if unknown:
            from ninja.errors import HttpError

            raise HttpError(
                422, f"parts: unknown member(s) {', '.join(unknown)}; known: {', '.join(sorted(data))}"
            )
        data = {k: data[k] for k in wanted}
    log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} (picture)")
    return {
        "panel_id": area.panel_id,
        "name": area.name,
        "computed_at": picture.computed_at.isoformat(),
        **data,
    }


@router.get(
    "/areas/{panel_id}/hotspots.geojson",
    summary="Hot-spot grid (or next month's forecast cells) as GeoJSON (WGS84)",
    response={200: dict},
)
def area_hotspots(request, panel_id: int, layer: Literal["hotspots", "forecast"] = "hotspots"):
    area, picture = _picture(request, panel_id)
    space = picture.data.get("space") or {}
    cells = space.get("cells") or []
    meta = {
        "area": area.panel_id,
        "cell_size_m": (space.get("grid") or {}).get("cell_size"),
        "bandwidth_m": space.get("bandwidth"),
        "window": space.get("window"),
        "alpha": space.get("alpha"),
        "crs": "WGS84 longitude/latitude (cells are SWEREF 99 TM squares)",
        "status": space.get("status"),
    }
    if layer == "forecast":
        fc = space.get("forecast") or {}
        cells = fc.get("cells") or []
        meta.update(method=fc.get("method"), period_start=fc.get("period_start"), coverage=fc.get("coverage"))
    features = []
    for c in cells:
        ring = [list(p) for p in c["ring"]]
        props = {k: v for k, v in c.items() if k != "ring"}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": props,
            }
        )
    log_request(request, AccessLogEntry.Action.VIEW, obj=area, object_repr=f"{area} ({layer})")
    import json

    body = json.dumps({"type": "FeatureCollection", "metadata": meta, "features": features})
    return HttpResponse(body, content_type="application/geo+json")


@router.get("/units/{code}/picture", response=dict, summary="An org unit's aggregated problem picture")
def unit_picture(request, code: str):
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404("No such org unit.")
    require_unit_visible(request.user, unit)
    try:
        picture = unit.picture
    except OrgUnit.picture.RelatedObjectDoesNotExist:
        raise Http404("Not computed yet: run `problembild refresh`.") from None
    log_request(request, AccessLogEntry.Action.VIEW, obj=unit, object_repr=f"{unit} (picture)")
    return {
        "code": unit.code,
        "name": unit.name,
        "computed_at": picture.computed_at.isoformat(),
        **picture.data,
    }


@router.get("/refresh-runs", response=list[RefreshRunOut], summary="Latest runs of `problembild refresh`")
def refresh_runs(request):
    return [
        {
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "seconds": r.seconds,
            "incidents": r.incidents,
            "areas_recomputed": r.areas_recomputed,
            "areas_unchanged": r.areas_unchanged,
        }
        for r in RefreshRun.objects.all()[:20]
    ]
