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


class ScenarioParameters(Schema):
    """What the scenario was run with."""

    available: int | None = Field(description="Officers to place.")
    extra: int = Field(0, description="Current allocation + this many (nobody moves); 0: a full proposal.")
    cap: int | None = Field(None, description="At most this many per area.")
    max_change: int | None = Field(None, description="At most this many officers moved from their area.")
    robust: str = Field("none", description="`none`, `expected` or `worst_decile` over need scenarios.")
    hours_per_officer: float | None = Field(None, description="Presence hours per officer and week (plans).")
    scope: str = Field("settings", description="The rule's scope: `settings` or `special`.")
    ratio: int | None = Field(None, description="Residents per officer (None: the setting).")
    seed: int = 0


class ScenarioArea(Schema):
    """One area of a scenario: what it has, what it gets and why."""

    panel_id: int
    name: str
    lpo: str = Field(description="Local police area.")
    category: str
    residents: int | None
    population_synthetic: bool
    need: float = Field(description="Harm-weighted incidents in the picture's twelve months.")
    need_share: float | None
    has_picture: bool
    reported: bool = Field(description="Staffing was reported for the month (else current is 0).")
    covered: bool = Field(description="The 1-per-5,000 floor applies to the area.")
    floor: int | None
    current: int
    proposed: int
    change: int
    proportional: int = Field(description="Proportional (Hamilton) rounding of the same officers by need.")
    shortfall: int = Field(description="Officers below the floor in the proposal.")
    marginal: float = Field(description="Coverage the area's next officer would add.")
    reasons: list[str] = Field(description="Reason codes, most decisive first (analysis.allocation.REASONS).")
    text_sv: str
    text_en: str


class ScenarioOut(Schema):
    id: int
    unit: str
    name: str
    kind: str
    period: date
    author: str
    created: datetime
    example: bool
    parameters: ScenarioParameters
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
    areas: list[ScenarioArea] = Field(
        description="Per area: current, proposed, proportional, floor, need, reasons and explanations (sv, en)."
    )
