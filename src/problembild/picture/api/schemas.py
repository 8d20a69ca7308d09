"""Request and response schemas of the problem-picture API (:mod:`problembild.picture.api.views`).

The documents' schemas are the typed documents themselves
(:mod:`problembild.picture.document`), so the OpenAPI types every member the refresh
writes; the query parameters of the indicator list come from its FilterSet.
"""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import BaseModel

from problembild.core.filters import query_schema

from ..document import AreaDocument, UnitDocument, Window
from ..filtersets import IndicatorValueFilterSet
from ..models import IndicatorValue, RefreshRun

HotspotLayer = Literal["hotspots", "forecast"]

# --- /api/indicators ------------------------------------------------------------------

IndicatorFilter = query_schema(IndicatorValueFilterSet, "IndicatorFilter")


class IndicatorValueOut(Schema):
    area: int = Field(description="The area's panel_id.")
    area_name: str
    indicator: str
    period: str
    period_start: date
    period_label: str = Field(description="`2024-W03`, `2024-01`, `2024-Q1` or `2024`.")
    count: int
    rate: float | None = Field(description="Per 1,000 residents; null when the population is unknown.")
    previous: int | None = Field(description="Count of the previous period.")
    last_year: int | None = Field(description="Count of the same period a year before.")
    p_previous: float | None = Field(description="Exact Poisson test p-value of the change vs. `previous`.")
    p_last_year: float | None = Field(description="Exact Poisson test p-value of the change vs. `last_year`.")
    mark: str = Field(
        description="↑/↓ when the change versus last year is significant as a single test (p < 0.05), "
        "else empty. Not adjusted for multiplicity: adjust over the rows you compare (pages use "
        "Benjamini–Hochberg over what they show)."
    )
    share_of_municipality: float | None = Field(description="The area's share of the municipality's count.")

    @staticmethod
    def resolve_area(obj: IndicatorValue) -> int:
        return obj.area.panel_id

    @staticmethod
    def resolve_area_name(obj: IndicatorValue) -> str:
        return obj.area.name

    @staticmethod
    def resolve_period_label(obj: IndicatorValue) -> str:
        from problembild.analysis.periods import period_label

        return period_label(obj.period_start, obj.period)


class PictureQuery(Schema):
    parts: str | None = Field(
        None, description="Comma-separated top-level members to return, e.g. `key_figures,trends`."
    )


class HotspotQuery(Schema):
    layer: HotspotLayer = Field("hotspots", description="`hotspots` (the Gi* grid) or `forecast`.")


# --- the cached documents -------------------------------------------------------------


class AreaPictureOut(AreaDocument):
    """An area's cached problem picture: the document `problembild refresh` wrote.

    With `?parts=` only the named members follow `panel_id`, `name` and `computed_at`.
    """

    panel_id: int
    name: str
    computed_at: datetime


class UnitPictureOut(UnitDocument):
    """An org unit's figures summed over its areas (`areas` are the areas' panel_ids)."""

    code: str
    name: str
    kind: str
    computed_at: datetime


# --- hot-spot GeoJSON -----------------------------------------------------------------


class PolygonGeometry(BaseModel):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]] = Field(
        description="One closed ring of five [longitude, latitude] positions (WGS84)."
    )


class HotspotProperties(BaseModel):
    density: float = Field(description="Kernel density estimate, events per km².")
    z: float = Field(description="Getis-Ord Gi* z-score of the cell's count.")
    label: Literal[-1, 0, 1] = Field(description="1 hot spot, -1 cold spot, 0 not significant.")


class ForecastProperties(BaseModel):
    score: float = Field(description="The forecast method's score (higher: more expected events).")
    method: str
    period_start: date | None = Field(description="First day of the forecast's 30 days.")


class HotspotFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: PolygonGeometry
    properties: HotspotProperties


class ForecastFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: PolygonGeometry
    properties: ForecastProperties


class HotspotMetadata(BaseModel):
    area: int = Field(description="The area's panel_id.")
    layer: HotspotLayer
    status: str | None = Field(
        description="`ok`, or why there are no cells (`no_events`, `too_few_events`, `no_boundary`)."
    )
    message: str = ""
    crs: str = Field(description="Coordinates are WGS84 longitude/latitude (RFC 7946).")
    grid_crs: str | None = Field(None, description="The grid's own reference system (SWEREF 99 TM).")
    cell_size_m: float | None = None
    bandwidth_m: float | None = Field(None, description="Kernel density bandwidth.")
    gi_radius_cells: float | None = None
    alpha: float | None = Field(None, description="Significance level of the Gi* labels.")
    window: Window | None = Field(None, description="`start` and `end` of the events used.")
    n_events: int | None = None
    as_of: date | None = None
    method: str | None = Field(None, description="Forecast layer: the method chosen by the backtest.")
    period_start: date | None = None
    horizon_days: int | None = None
    coverage: float | None = Field(None, description="Forecast layer: share of the grid flagged.")


class HotspotCollection(BaseModel):
    """A GeoJSON FeatureCollection of grid cells with a `metadata` foreign member."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    metadata: HotspotMetadata
    features: list[HotspotFeature] | list[ForecastFeature]


# --- refresh runs ---------------------------------------------------------------------


class RefreshRunOut(Schema):
    started_at: datetime
    status: Literal["running", "finished", "failed"] = Field(
        description="`failed` when the run stopped with an error or its process was killed."
    )
    finished_at: datetime | None = Field(description="Null while running (or after a crash).")
    seconds: float | None
    incidents: int
    areas_recomputed: int
    areas_unchanged: int
    as_of: date | None = Field(description="End of the data the run covered.")

    @staticmethod
    def resolve_as_of(obj: RefreshRun) -> str | None:
        return (obj.settings or {}).get("as_of_used") or None
