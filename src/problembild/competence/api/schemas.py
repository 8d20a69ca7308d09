"""Response schemas of the competence API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class GapOut(Schema):
    competence: str = Field(description="Competence code.")
    name: str
    required: int = Field(description="Level the profile in force requires (0–4; 0: not required).")
    level: int = Field(description="The person's level: max(latest assessment, valid certificate).")
    assessed: int | None = Field(description="Latest assessed level on the date (None: never assessed).")
    assessed_on: date | None
    certified: int | None = Field(description="Level a valid certificate gives (None: none).")
    gap: int = Field(description="Levels lacking: max(required − level, 0).")
    expiring: bool = Field(description="The level rests on a certificate that expires within 90 days.")


class CertificateOut(Schema):
    course: str
    completed: date
    expires: date | None
    state: str = Field(description="`valid`, `expiring` (within 90 days), `expired` or `permanent`.")


class PersonOut(Schema):
    id: str = Field(description="Pseudonymous id.")
    role: str
    unit: str = Field(description="Org unit code.")
    area: int | None = Field(description="Panel id of the area served.")
    on: date
    profile_version: int | None = Field(description="Version of the role profile in force (None: none).")
    meets: bool
    gap_levels: int
    gaps: list[GapOut]
    certificates: list[CertificateOut]
    example: bool


class CompetenceCountOut(Schema):
    competence: str
    name: str
    required: int = Field(description="People the competence is required of.")
    lacking: int = Field(description="People below the required level.")
    gap_levels: int


class UnitGapOut(Schema):
    code: str
    name: str
    staff: int
    meets: int
    gap_levels: int
    lacking: dict[str, int] = Field(description="Competence code -> people lacking the required level.")


class RoleCoverOut(Schema):
    serving: int
    meeting: int = Field(description="Of those serving, how many meet the role's profile.")


class AreaCoverageOut(Schema):
    panel_id: int
    name: str
    category: str
    covered: bool = Field(
        description="Every role the area needs has at least one person meeting its profile."
    )
    roles: dict[str, RoleCoverOut]


class PersonSummaryOut(Schema):
    id: str
    role: str
    unit: str
    area: int | None
    meets: bool
    gap_levels: int
    lacking: list[str] = Field(description="Names of the competences below the required level.")


class UnitCompetenceOut(Schema):
    code: str
    name: str
    on: date
    role: str | None
    staff: int
    meets: int
    competences: list[CompetenceCountOut]
    units: list[UnitGapOut]
    coverage: list[AreaCoverageOut]
    people: list[PersonSummaryOut] | None = Field(
        description="Per person (HR and managers of the unit only; None for other roles)."
    )
    example: bool


class BaselinesOut(Schema):
    largest_gap_first: float = Field(description="Weighted gap the largest-gap-first rule closes.")
    first_come_first_served: float = Field(description="Weighted gap first come, first served closes.")


class PlanCourseOut(Schema):
    code: str
    name: str
    seats: int
    places: int
    largest_gap_first: int
    first_come_first_served: int
    cost: float


class AssignmentOut(Schema):
    staff: str
    role: str
    unit: str
    course: str
    competences: list[str]
    levels: int
    gap_closed: float
    renews: bool
    cost: float
    days: float


class PlanOut(Schema):
    id: int
    name: str
    unit: str
    period: int
    author: str
    created: datetime
    example: bool
    gap_closed: float = Field(description="Weighted gap the plan closes.")
    gap_total: float = Field(description="Weighted gap before the plan.")
    baselines: BaselinesOut
    places: int
    cost: float
    optimal: bool
    gap: float | None = Field(description="Relative MIP gap HiGHS proved (None for a proven optimum).")
    courses: list[PlanCourseOut]
    assignments: list[AssignmentOut] | None = Field(
        description="Who takes which course (HR and managers only)."
    )
