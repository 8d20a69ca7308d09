"""Response schemas of the assessment API."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field


class Related(Schema):
    panel_id: int
    name: str
    to: str | None = None
    from_: str | None = Field(None, alias="from")


class ChangeOut(Schema):
    panel_id: int
    name: str
    region: str
    from_: str | None = Field(None, alias="from", description="Category on the earlier list.")
    to: str | None = Field(None, description="Category on the later list.")
    into: list[Related] | None = Field(None, description="For a split: the areas it was split into.")
    of: list[Related] | None = Field(None, description="For a merger: the areas merged into it.")


class DiffOut(Schema):
    from_year: int
    to_year: int
    added: list[ChangeOut]
    removed: list[ChangeOut]
    raised: list[ChangeOut]
    lowered: list[ChangeOut]
    unchanged: list[ChangeOut]
    split: list[ChangeOut]
    merged: list[ChangeOut]


class AgreementOut(Schema):
    region: str = Field(description="Region name; empty for the nation.")
    n: int
    equal: int
    share_equal: float | None
    kappa: float | None = Field(description="Cohen's kappa (None when undefined: one category only).")


class AnswerOut(Schema):
    id: int
    name: str
    panel_id: int | None
    unit: str
    status: str
    proposed_category: str
    direction: str
    objective_category: str | None
    decision: str | None
    reason: str


class RoundOut(Schema):
    id: int
    year: int
    status: str
    deadline: date
    cutoff: date
    categories: list[str]
    answers: list[AnswerOut]
    agreement: list[AgreementOut] | None = Field(description="Noa only.")
