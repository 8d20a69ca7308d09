"""Response schemas of the audit API."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field


class MeasureOut(Schema):
    id: int
    title: str
    report: str = Field(description="The audit report's reference.")
    recommendation: int = Field(description="The recommendation's number in its report.")
    owner: str = Field(description="Owner org unit code.")
    responsible_role: str
    deadline: date
    status: str = Field(description="`planned`, `ongoing`, `done`, `verified` or `not_pursued`.")
    accepted: bool = Field(description="For `not_pursued`: an auditor has accepted it.")
    days_overdue: int | None = Field(description="Days past the deadline of an open measure.")
    evidence: int = Field(description="Evidence items attached by the date.")


class StatusCountsOut(Schema):
    planned: int
    ongoing: int
    done: int
    verified: int
    not_pursued: int


class AuditStatusOut(Schema):
    as_of: date
    counts: StatusCountsOut
    total: int
    closed: int = Field(description="Verified, or not pursued with an auditor's acceptance.")
    overdue: int
    due_soon: int = Field(description="Open measures due within 30 days.")
    median_days_overdue: float | None
    measures: list[MeasureOut]
