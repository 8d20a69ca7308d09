"""A 2025 criteria set (two categories; one matrix question; two socioeconomic criteria) and its open round."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from problembild.areas.models import Area
from problembild.assessment.models import CriteriaSet, Criterion, SocioValue
from problembild.assessment.rounds import open_round
from problembild.core import roles


@pytest.fixture
def criteria(db):
    cs = CriteriaSet.objects.create(
        year=2025, categories=["utsatt område", "särskilt utsatt område"], decided=date(2024, 6, 1), objective_min=1,
        objective_top=2,
    )  # fmt: skip
    Criterion.objects.create(criteria_set=cs, code="organised", kind="matrix", title="Organiserad brottslighet",
                             scale=["ingen", "viss", "etablerad", "konflikter"])  # fmt: skip
    Criterion.objects.create(criteria_set=cs, code="employment", kind="objective", title="Förvärvsfrekvens",
                             source="socio", measure="employment_rate", threshold=60, above=False, order=1)  # fmt: skip
    Criterion.objects.create(criteria_set=cs, code="education", kind="objective", title="Låg utbildning",
                             source="socio", measure="low_education_share", threshold=30, above=True, order=2)  # fmt: skip
    alby = Area.objects.get(name="Alby")
    SocioValue.objects.create(area=alby, year=2024, measure="employment_rate", value=52.0)
    SocioValue.objects.create(area=alby, year=2024, measure="low_education_share", value=35.0)
    return cs


@pytest.fixture
def round_open(criteria):
    return open_round(criteria, deadline=timezone.localdate() + timedelta(days=30), cutoff=date(2025, 1, 1))


@pytest.fixture
def syd_chief(make_user):
    """The chief of the local police area that Rosengård belongs to (another region than Botkyrka)."""
    code = Area.objects.get(name="Rosengård").org_unit.code
    return make_user("chief.rosengard", roles.LOCAL_CHIEF, code)
