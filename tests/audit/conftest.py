"""An audit report with measures owned by Botkyrka (the chief's) and by Syd (foreign to Botkyrka)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from problembild.audit.models import AuditReport, Measure, Recommendation
from problembild.core import roles
from problembild.core.models import OrgUnit


@pytest.fixture
def audit(db):
    # Today is read when the fixture runs, not at import: a run that crosses midnight (local time)
    # would otherwise place the deadlines a day off.
    today = timezone.localdate()
    report = AuditReport.objects.create(reference="IR-T", title="Test audit", issued=date(2018, 6, 8))
    rec = Recommendation.objects.create(report=report, number=1, text="Samverka mer.")
    botkyrka = OrgUnit.objects.get(code="5312-botkyrka")
    syd = OrgUnit.objects.get(code="5600")
    own = Measure.objects.create(
        recommendation=rec, title="Medborgarlöften", owner=botkyrka, responsible_role=roles.LOCAL_CHIEF,
        deadline=today - timedelta(days=10),
    )  # fmt: skip
    soon = Measure.objects.create(
        recommendation=rec, title="Trygghetsvandringar", owner=botkyrka, responsible_role=roles.LOCAL_CHIEF,
        deadline=today + timedelta(days=5),
    )  # fmt: skip
    foreign = Measure.objects.create(
        recommendation=rec, title="Rosengård plan", owner=syd, responsible_role=roles.REGION_MANAGER,
        deadline=today + timedelta(days=200),
    )  # fmt: skip
    return {"report": report, "rec": rec, "own": own, "soon": soon, "foreign": foreign}


@pytest.fixture
def leader(make_user):
    """A national analyst: reads everything, exports the status report, owns none of these measures."""
    return make_user("leader", roles.NATIONAL_ANALYST, "SE")
