"""Strategy status from the data, flags for what has gone quiet, and the quarterly report."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.core.models import OrgUnit
from problembild.followup.measures import measure_status, strategy_status, target_for
from problembild.followup.models import Activity, Promise, QuarterlyReport, StrategyIndicator, Target
from problembild.followup.report import build_report, quarterly_report, quiet
from problembild.picture.models import UnitPicture

pytestmark = pytest.mark.django_db


def series(months_counts: dict[date, int]) -> dict:
    months = sorted(months_counts)
    return {"months": [m.isoformat() for m in months], "counts": [months_counts[m] for m in months]}


def monthly(start_year: int, years: int, per_month) -> dict[date, int]:
    return {
        date(y, m, 1): per_month(y, m) for y in range(start_year, start_year + years) for m in range(1, 13)
    }


@pytest.fixture
def botkyrka_picture(seeded):
    unit = OrgUnit.objects.get(code="5312-botkyrka")
    data = {
        "as_of": "2026-01-01",
        "areas": [],
        "residents": 60000,
        "series": {
            # 10 shootings a month in 2024, 8 a month in 2025.
            "shootings": series(monthly(2024, 2, lambda y, m: 10 if y == 2024 else 8)),
            "drugs": series(monthly(2024, 2, lambda y, m: 30)),
        },
        "trends": {},
    }
    UnitPicture.objects.create(unit=unit, data=data)
    return unit


def test_targets_are_inherited_from_the_nation(botkyrka_picture):
    measure = StrategyIndicator.objects.filter(kind="picture", indicator="shootings").first()
    target = target_for(measure, botkyrka_picture)
    assert target is not None and target.org_unit.code == "SE" and target.example


def test_picture_measure_status_by_hand(botkyrka_picture):
    measure = StrategyIndicator.objects.filter(
        kind="picture", indicator="shootings", statistic="rate_12m"
    ).first()
    Target.objects.create(
        measure=measure,
        org_unit=botkyrka_picture,
        baseline_year=2024,
        target_year=2026,
        target_change_pct=-20,
    )
    s = measure_status(measure, botkyrka_picture, date(2026, 1, 1))
    # Baseline 2024: 120 / 60,000 × 1,000 = 2.0; target 1.6 at the end of 2026; at 2026.0 half way: 1.8.
    # Actual 2025: 96 / 60,000 × 1,000 = 1.6: ahead of the line.
    assert s.baseline == pytest.approx(2.0) and s.actual == pytest.approx(1.6)
    assert s.status.expected == pytest.approx(1.8) and s.status.status == "on_track" and not s.inherited


def test_strategy_tree_has_the_three_directions(botkyrka_picture):
    goals = strategy_status(botkyrka_picture, date(2026, 1, 1))
    assert [g.goal.code for g in goals] == ["present_police", "synchronised_capability", "collaboration"]
    counts = {k: sum(g.counts()[k] for g in goals) for k in ("on_track", "at_risk", "off_track", "unknown")}
    assert sum(counts.values()) == StrategyIndicator.objects.count()


def test_quiet_flags(alby_doc):
    unit = OrgUnit.objects.get(code="5312-botkyrka")
    flags = quiet(unit, date(2025, 12, 20))
    kinds = {(f.kind, f.title, f.reason) for f in flags}
    # Bilbränder has no activity; the promise has activity but no feedback.
    assert ("priority", "Bilbränder", "no_activity") in kinds
    assert ("priority", "Narkotikahandel", "no_activity") not in kinds
    assert ("promise", "Synliga vid torget", "no_feedback") in kinds
    assert ("promise", "Synliga vid torget", "no_activity") not in kinds
    later = {(f.kind, f.title, f.reason) for f in quiet(unit, date(2026, 6, 1))}
    assert ("promise", "Synliga vid torget", "no_activity") in later  # quiet for more than 90 days


def test_report_reproduces_what_was_known_then(alby_doc, botkyrka_picture):
    unit = botkyrka_picture
    first = quarterly_report(unit, "2025Q4")
    assert first["final"] and QuarterlyReport.objects.filter(org_unit=unit, quarter="2025Q4").exists()
    titles = {p["title"]: p for p in first["priorities"]}
    assert titles["Narkotikahandel"]["activities"] == 3 and titles["Bilbränder"]["flag"]
    assert first["activity_hours"] == 12.0
    # Later changes do not alter the kept report ...
    Promise.objects.filter(document=alby_doc).update(feedback="Återkopplat")
    Activity.objects.create(
        area=alby_doc.area, method=Activity.objects.first().method, date=date(2025, 11, 1), hours=50
    )
    assert quarterly_report(unit, "2025Q4") == first
    # ... and a report built again from the history as of the kept one's moment is the same.
    kept = QuarterlyReport.objects.get(org_unit=unit, quarter="2025Q4")
    rebuilt = build_report(unit, "2025Q4", known=kept.generated_at)
    assert rebuilt["activity_hours"] == 12.0
    assert all(not p["feedback"] for p in rebuilt["promises"])
    assert build_report(unit, "2025Q4")["activity_hours"] == 62.0  # what is known now


def test_report_indicator_changes(botkyrka_picture):
    data = build_report(botkyrka_picture, "2025Q4")
    shootings = next(c for c in data["changes"] if c["indicator"] == "shootings")
    assert (shootings["count"], shootings["previous"], shootings["last_year"]) == (24, 24, 30)
    assert shootings["previous_mark"] == ""


def test_bad_quarter():
    with pytest.raises(ValueError, match="quarter"):
        build_report(OrgUnit.objects.get(code="SE"), "2025Q5")
