from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Schema


class PopulationOut(Schema):
    year: int
    residents: int
    synthetic: bool
    source: str


class ClassificationOut(Schema):
    panel_id: int
    area: str
    year: int
    category: str
    direction: str
    assessed: date | None


class AreaOut(Schema):
    panel_id: int
    name: str
    town: str
    category: str | None
    category_year: int | None
    local_police_area: str
    police_area: str | None
    region: str | None
    municipality_code: str | None
    municipality: str | None
    area_km2: float | None
    population: PopulationOut | None
    split_from: int | None


class AreaDetailOut(AreaOut):
    classifications: list[ClassificationOut]
    source: str


class BoundaryGeometry(Schema):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([longitude, latitude], RFC 7946)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[list[list[float]]] | list[list[list[list[float]]]]


class BoundaryProperties(Schema):
    panel_id: int
    name: str


class BoundaryOut(Schema):
    """The area's boundary as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: BoundaryGeometry
    properties: BoundaryProperties
