"""Levels, gaps, the profile in force, coverage and roll-ups, checked by hand on the small world."""

from __future__ import annotations

from datetime import date

from problembild.competence.models import Completion, Staff
from problembild.competence.standing import (
    by_competence,
    by_person,
    by_unit,
    coverage,
    person_gaps,
    staff_in,
    standing,
)
from problembild.core.models import OrgUnit

from .conftest import TODAY


def _gap(st, pseudonym: str, code: str) -> int:
    i = next(i for i, s in enumerate(st.staff) if s.pseudonym == pseudonym)
    j = next(j for j, c in enumerate(st.competences) if c.code == code)
    return int(st.gaps[i, j])


def test_levels_and_gaps_against_the_profile_in_force(world):
    st = standing(Staff.objects.all(), TODAY)
    assert _gap(st, "A1", "conflict") == 0  # the certificate gives 3
    assert _gap(st, "A1", "collaboration") == 1  # v2 requires 3, assessed 2
    assert _gap(st, "A2", "conflict") == 2 and _gap(st, "A2", "collaboration") == 2
    assert _gap(st, "IC1", "analysis") == 2 and _gap(st, "IC1", "intel-process") == 0
    assert dict(zip([s.pseudonym for s in st.staff], st.meets.tolist(), strict=True)) == {
        "A1": False,
        "A2": False,
        "IC1": False,
        "V1": True,
    }
    assert st.profiles["area_officer"].version == 2


def test_an_earlier_date_uses_the_earlier_profile_and_no_later_certificate(world):
    st = standing(Staff.objects.all(), date(2024, 6, 1))
    assert st.profiles["area_officer"].version == 1
    assert _gap(st, "A1", "collaboration") == 0  # v1 requires 2
    assert _gap(st, "A1", "conflict") == 2  # the certificate came in 2025


def test_a_certificate_that_lapses_before_the_horizon_opens_a_gap(world):
    st = standing(Staff.objects.all(), TODAY, horizon=date(2027, 12, 31))
    assert _gap(st, "A1", "conflict") == 2
    i = [s.pseudonym for s in st.staff].index("A1")
    assert st.expiring[i].sum() == 1
    # An expired certificate counts for nothing on a later date.
    later = standing(Staff.objects.all(), date(2027, 2, 1))
    assert _gap(later, "A1", "conflict") == 2 and not later.expiring.any()


def test_the_person_rows_flag_a_certificate_expiring_within_90_days(world):
    _st, rows = person_gaps(world["A1"], TODAY)
    by_code = {r["code"]: r for r in rows}
    assert by_code["conflict"]["certified"] == 3 and by_code["conflict"]["expiring"]
    assert by_code["collaboration"]["gap"] == 1 and not by_code["collaboration"]["expiring"]
    assert rows[0]["code"] == "collaboration"  # largest gap first
    assert Completion.objects.get(staff=world["A1"]).expiry_state(TODAY) == "expiring"


def test_counts_per_competence_person_and_unit(world):
    st = standing(staff_in(OrgUnit.objects.get(code="SE"), role="area_officer"), TODAY)
    rows = {r.competence.code: r for r in by_competence(st)}
    assert (
        rows["collaboration"].required,
        rows["collaboration"].lacking,
        rows["collaboration"].gap_levels,
    ) == (3, 2, 3)
    assert rows["leadership"].required == 0 and rows["leadership"].share_lacking is None
    people = by_person(st)
    assert [p.staff.pseudonym for p in people] == ["A2", "A1", "V1"]
    assert people[0].gap_levels == 4
    regions = {u.unit.code: u for u in by_unit(OrgUnit.objects.get(code="SE"), st)}
    assert regions["5300"].staff == 2 and regions["5300"].meets == 0 and regions["5500"].meets == 1
    collab = [c.code for c in st.competences].index("collaboration")
    assert regions["5300"].lacking[collab] == 2


def test_coverage_counts_area_officers_per_area_and_coordinators_per_local_police_area(world):
    st = standing(Staff.objects.all(), TODAY)
    areas = list(world["areas"].values())
    cover = {c.area.name: c for c in coverage(areas, st)}
    assert cover["Alby"].roles["area_officer"].serving == 1
    assert cover["Alby"].roles["area_officer"].meeting == 0
    assert cover["Storvreten"].roles["area_officer"].serving == 0
    for c in cover.values():
        assert c.roles["intelligence_coordinator"].serving == 1  # IC1 serves every Botkyrka area
        assert not c.covered
