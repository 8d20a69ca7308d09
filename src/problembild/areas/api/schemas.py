from __future__ import annotations

from datetime import date

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
