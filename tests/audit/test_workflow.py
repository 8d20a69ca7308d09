"""The state machine: owners up to done with evidence, auditors verify or reopen, not pursued needs acceptance."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from problembild.audit import workflow
from problembild.audit.models import Evidence, Measure
from problembild.core.locking import EditConflict

pytestmark = pytest.mark.django_db
S = Measure.Status


def step(measure, code, user, text=""):
    measure.refresh_from_db()
    return workflow.apply(measure, code, user, version=measure.version, text=text)


def test_owner_takes_a_measure_to_done_and_an_auditor_verifies_it(audit, botkyrka_chief, auditor):
    m = audit["own"]
    assert [a.code for a in workflow.allowed(botkyrka_chief, m)] == ["start", "complete", "decline"]
    assert workflow.allowed(auditor, m) == []
    step(m, "start", botkyrka_chief)
    assert m.status == S.ONGOING and m.started is not None
    with pytest.raises(workflow.TransitionRefused, match="evidence"):
        step(m, "complete", botkyrka_chief)
    Evidence.objects.create(measure=m, kind="note", text="Löften antagna")
    step(m, "complete", botkyrka_chief)
    assert m.status == S.DONE
    with pytest.raises(PermissionDenied):
        step(m, "verify", botkyrka_chief)
    step(m, "verify", auditor, "Kontrollerat")
    assert m.status == S.VERIFIED and m.closed
    with pytest.raises(workflow.TransitionRefused, match="reason"):
        step(m, "reopen", auditor)
    step(m, "reopen", auditor, "Löftena saknar återkoppling")
    assert m.status == S.ONGOING and m.reason == "Löftena saknar återkoppling"
    reasons = [h.history_change_reason for h in m.history.order_by("history_date")]
    assert reasons[-1] == "reopen: Löftena saknar återkoppling"


def test_not_pursued_needs_a_justification_and_an_auditors_acceptance(audit, botkyrka_chief, auditor):
    m = audit["soon"]
    with pytest.raises(workflow.TransitionRefused, match="justification"):
        step(m, "decline", botkyrka_chief)
    step(m, "decline", botkyrka_chief, "Ingår i ordinarie arbete")
    assert m.status == S.NOT_PURSUED and not m.accepted and not m.closed
    with pytest.raises(PermissionDenied):
        step(m, "accept", botkyrka_chief)
    step(m, "accept", auditor)
    assert m.accepted and m.closed
    assert "accept" not in [a.code for a in workflow.allowed(auditor, m)]
    step(m, "reject", auditor, "Ska genomföras")
    assert m.status == S.ONGOING and not m.accepted


def test_other_units_and_administrators_are_not_owners(audit, botkyrka_chief, make_user, admin_user_pb):
    from problembild.core import roles

    assert not workflow.is_owner(botkyrka_chief, audit["foreign"])
    assert not workflow.is_owner(admin_user_pb, audit["own"])  # who verifies is kept apart from who does
    region = make_user("syd.manager", roles.REGION_MANAGER, "5600")
    assert workflow.is_owner(region, audit["foreign"])


def test_a_stale_version_is_refused(audit, botkyrka_chief):
    m = audit["own"]
    stale = m.version
    step(m, "start", botkyrka_chief)
    m.refresh_from_db()
    with pytest.raises(EditConflict):
        workflow.apply(m, "decline", botkyrka_chief, version=stale, text="x")
    m.refresh_from_db()
    assert m.status == S.ONGOING
