"""Response schemas of the follow-up API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class MeasureOut(Schema):
    code: str
    title: str
    kind: str
    direction: str
    status: str = Field(description="`on_track`, `at_risk`, `off_track`, `unknown` or `no_target`.")
    actual: float | None
    expected: float | None = Field(description="On the straight line from baseline to target, now.")
    baseline: float | None
    target: float | None
    target_year: int | None
    target_unit: str | None = Field(description="The unit whose target applies (own or nearest parent).")
    tolerance: float | None


class GoalOut(Schema):
    code: str
    title: str
    measures: list[MeasureOut]
    subgoals: list[GoalOut]


class StrategyOut(Schema):
    unit: str
    as_of: date
    goals: list[GoalOut]


class PriorityOut(Schema):
    rank: int
    title: str
    description: str
    indicators: list[str]
    hot_spots: bool
    assessment: bool


class PromiseOut(Schema):
    commitment: str
    owners: str
    deadline: date | None
    status: str
    feedback: str
    feedback_date: date | None


class DocumentOut(Schema):
    panel_id: int
    area: str
    year: int
    version: int
    status: str
    example: bool
    updated_at: datetime
    summary: str
    dialogue: str
    challenges: str
    measures: str
    resources_plan: str
    priorities: list[PriorityOut]
    promises: list[PromiseOut]


class ActivityOut(Schema):
    """One activity (read from the model; the list is paginated in the database)."""

    panel_id: int
    area: str
    date: date
    method: str
    hours: float
    officers: int
    partners: str
    priority: str | None
    promise: str | None
    note: str
    example: bool

    @staticmethod
    def resolve_panel_id(obj) -> int:
        return obj.area.panel_id

    @staticmethod
    def resolve_area(obj) -> str:
        return obj.area.name

    @staticmethod
    def resolve_method(obj) -> str:
        return obj.method.code

    @staticmethod
    def resolve_priority(obj) -> str | None:
        return obj.priority.title if obj.priority else None

    @staticmethod
    def resolve_promise(obj) -> str | None:
        return obj.promise.commitment if obj.promise else None


class ReportStrategyRow(Schema):
    goal: str
    subgoal: str
    measure: str
    status: str
    actual: float | None
    baseline: float | None
    expected: float | None
    target: float | None
    target_year: int | None
    target_unit: str | None
    inherited: bool


class ReportPriority(Schema):
    area: str
    rank: int
    title: str
    activities: int
    hours: float
    flag: bool = Field(description="No activity in the quarter.")


class ReportPromise(Schema):
    area: str
    commitment: str
    status: str
    deadline: str | None
    activities: int
    feedback: bool
    flag: bool = Field(description="Open, and no activity in the quarter or no feedback given.")


class ReportMethod(Schema):
    method: str
    name_sv: str
    name_en: str
    activities: int
    hours: float
    areas: int


class ReportHours(Schema):
    panel_id: int
    area: str
    hours: float
    need: float | None
    hours_per_need: float | None


class ReportChange(Schema):
    indicator: str
    label: str
    count: int
    dispersion: float
    previous: int | None
    previous_p: float | None
    previous_mark: str
    last_year: int | None
    last_year_p: float | None
    last_year_mark: str


class ReportRule(Schema):
    month: str
    areas: int
    met: int
    not_met: int
    unknown: int
    shortfall: int
    lpo_met: int
    lpo_judged: int


class ReportEvaluation(Schema):
    title: str
    area: str
    indicator: str
    start: str
    method: str
    status: str
    relative_effect: float | None
    relative_interval: list[float | None]
    p_value: float | None
    warnings: int


class ReportUnit(Schema):
    code: str
    name: str
    kind: str


class ReportOut(Schema):
    unit: ReportUnit
    quarter: str
    start: str
    end: str
    generated_at: str
    final: bool = Field(
        description="The quarter had ended when the report was made (it is then kept as made)."
    )
    documents: int
    strategy: list[ReportStrategyRow]
    priorities: list[ReportPriority]
    promises: list[ReportPromise]
    methods: list[ReportMethod]
    hours: list[ReportHours]
    activities: int
    activity_hours: float
    changes: list[ReportChange]
    rule: ReportRule | None
    evaluations: list[ReportEvaluation] = Field(default_factory=list)
    data_as_of: str | None
