"""Status on a past date (from the history), overdue and due-soon figures, reminders, the example audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from problembild.audit import workflow
from problembild.audit.demo import generate_example_audit
from problembild.audit.models import Evidence, Measure
from problembild.audit.status import reminders, states, summarise

pytestmark = pytest.mark.django_db
S = Measure.Status


def test_the_status_as_of_a_past_date_is_read_from_the_history(audit, botkyrka_chief, auditor):
    m = audit["own"]
    Evidence.objects.create(measure=m, kind="note", text="ok")
    workflow.apply(m, "complete", botkyrka_chief, version=m.version)
    # Date the history back: registered two months ago, completed one month ago.
    created, completed = m.history.order_by("history_date")
    created.history_date = timezone.now() - timedelta(days=60)
    created.save()
    completed.history_date = timezone.now() - timedelta(days=30)
    completed.save()
    today = timezone.localdate()
    then = {s.pk: s.status for s in states(Measure.objects.all(), today - timedelta(days=20))}
    assert then[m.pk] == S.DONE
    before = {s.pk: s.status for s in states(Measure.objects.all(), today - timedelta(days=40))}
    assert before[m.pk] == S.PLANNED
    # Before the measures were registered there was nothing.
    assert states(Measure.objects.all(), date(2000, 1, 1)) == []


def test_overdue_due_soon_median_and_reminders(audit):
    today = timezone.localdate()
    rows = states(Measure.objects.all(), today)
    summary = summarise(rows, today)
    assert summary.counts == {"planned": 3, "ongoing": 0, "done": 0, "verified": 0, "not_pursued": 0}
    assert (summary.overdue, summary.due_soon, summary.median_days_overdue) == (1, 1, 10.0)
    due = reminders(rows)
    assert list(due) == [audit["own"].owner_id]
    assert [m.pk for m in due[audit["own"].owner_id]] == [audit["own"].pk, audit["soon"].pk]


def test_the_example_audit_has_a_past(db):
    today = timezone.localdate()
    assert generate_example_audit(today=today) == {"reports": 1, "measures": 9}
    now = summarise(states(Measure.objects.all(), today), today)
    assert now.counts["verified"] == 2 and now.counts["not_pursued"] == 1 and now.overdue == 2
    then = summarise(states(Measure.objects.all(), date(2019, 1, 1)), date(2019, 1, 1))
    assert then.counts["verified"] == 1 and then.total == 9  # only the strategy was verified by then
    assert generate_example_audit(today=today) == {"reports": 1, "measures": 9}  # replaced, not doubled
    assert Measure.objects.count() == 9
