"""Response schemas of the resources API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class AreaRuleOut(Schema):
    panel_id: int
    name: str
    local_police_area: str
    category: str | None
    residents: int | None
    population_synthetic: bool
    officers: int | None = Field(description="Area officers reported for the month (None: not reported).")
    fte: float | None
    required: int | None = Field(description="Officers the rule requires: ceil(residents / ratio).")
    shortfall: float | None = Field(description="Officers short (0 when met).")
    status: str = Field(description="`met`, `not_met`, `unknown` (a figure missing) or `not_covered`.")
    protected_share: float | None = Field(description="Share of the officers' hours spent in their area.")
    protected_flag: bool = Field(description="Share below the protected-time threshold.")
    presence_in_top: float | None = Field(
        description="Share of presence in the top-demand quarter of the week."
    )
    demand_in_top: float | None = Field(description="Share of demand in the same hours.")
    alignment: float | None = Field(description="1 − total variation distance of presence and demand shares.")
    example: bool = Field(description="The staffing is example data (demo).")


class RollupOut(Schema):
    code: str
    name: str
    kind: str
    areas: int
    met: int
    not_met: int
    unknown: int
    residents: int
    officers: int
    required: int
    shortfall: int
    aggregate_met: bool | None = Field(
        description="The unit's officers ≥ what its residents require together."
    )


class UnitResourcesOut(Schema):
    code: str
    name: str
    period: date | None
    scope: str
    residents_per_officer: int
    protected_time_threshold: float
    local_police_areas_met: int
    local_police_areas_judged: int
    areas: list[AreaRuleOut]
    units: list[RollupOut]


class ScenarioOut(Schema):
    id: int
    unit: str
    name: str
    kind: str
    period: date
    author: str
    created: datetime
    example: bool
    parameters: dict
    officers: dict[str, int] = Field(description="Panel id → proposed officers.")
    current: dict[str, int]
    floors_met: bool | None
    shortfall: int | None
    objective: float | None
    optimal: bool | None
    gap: float | None
    baselines: dict[str, float | None] = Field(
        description="Objective of proportional rounding and of the current allocation."
    )
    available: int | None
    messages: list[str]
    areas: list[dict] = Field(
        description="Per area: current, proposed, proportional, floor, need, reasons and explanations (sv, en)."
    )
