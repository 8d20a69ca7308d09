"""Staff, assessment, course and completion imports: all or nothing, idempotent, errors naming line and field."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from problembild.competence import importers
from problembild.competence.catalogue import load_catalogue
from problembild.competence.models import Assessment, Completion, Course, Staff
from problembild.core.csvrows import FieldError
from problembild.core.errors import ImportFailed

pytestmark = pytest.mark.django_db


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


STAFF = (
    "id,role,unit,area,login,active\n"
    "P-001,områdespolis,5312-botkyrka,Alby,,ja\n"
    "P-002,intelligence_coordinator,Botkyrka,,us.p002,1\n"
)


def test_staff_import_is_idempotent_and_updates_a_known_id(tmp_path):
    path = write(tmp_path, "staff.csv", STAFF)
    first = importers.import_staff(path)
    assert (first.accepted, first.added) == (2, 2)
    p1 = Staff.objects.get(pseudonym="P-001")
    assert (p1.role, p1.org_unit.code, p1.area.name, p1.active) == (
        "area_officer",
        "5312-botkyrka",
        "Alby",
        True,
    )
    assert importers.import_staff(path).added == 0
    (tmp_path / "b").mkdir()
    moved = write(tmp_path / "b", "staff.csv", STAFF.replace("Alby,,ja", "Fittja,,nej"))
    assert importers.import_staff(moved).added == 1
    p1.refresh_from_db()
    assert (p1.area.name, p1.active) == ("Fittja", False)
    assert p1.history.count() == 2  # created, then moved


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("19800101-1234,area_officer,5312-botkyrka,,,", "id", "personal identity number"),
        ("someone@polisen.se,area_officer,5312-botkyrka,,,", "id", "e-mail"),
        ("P-9,sheriff,5312-botkyrka,,,", "role", "unknown role"),
        ("P-9,area_officer,9999,,,", "unit", "unknown unit"),
        ("P-9,area_officer,5312-botkyrka,Rosengård,,", "area", "not in Botkyrka"),
        ("P-9,area_officer,5312-botkyrka,,,kanske", "active", "not yes or no"),
    ],
)
def test_staff_errors_name_line_and_field_and_write_nothing(tmp_path, row, field, message):
    path = write(tmp_path, "staff.csv", STAFF + row + "\n")
    with pytest.raises(ImportFailed) as failed:
        importers.import_staff(path)
    error = failed.value.errors[0]
    assert (error.line, error.field) == (4, field) and message in error.message
    assert not Staff.objects.exists()


def test_duplicate_ids_and_logins_are_refused(tmp_path):
    path = write(
        tmp_path,
        "staff.csv",
        STAFF + "P-001,area_officer,5312-botkyrka,,,\nP-003,local_chief,5312-botkyrka,,us.p002,\n",
    )
    with pytest.raises(ImportFailed) as failed:
        importers.import_staff(path)
    assert [(e.line, e.field) for e in failed.value.errors] == [(4, "id"), (5, "login")]


def test_skip_invalid_imports_the_good_rows(tmp_path):
    path = write(tmp_path, "staff.csv", STAFF + "P-9,sheriff,5312-botkyrka,,,\n")
    result = importers.import_staff(path, skip_invalid=True, rejects=tmp_path / "rejects.csv")
    assert (result.accepted, result.rejected) == (2, 1)
    assert "sheriff" in (tmp_path / "rejects.csv").read_text(encoding="utf-8")


def test_assessments(tmp_path):
    load_catalogue()
    importers.import_staff(write(tmp_path, "staff.csv", STAFF))
    path = write(
        tmp_path,
        "levels.csv",
        "staff,competence,level,date,assessor\nP-001,conflict,2,2025-03-01,chef 1\nP-001,Lokal samverkan,3,2025-03-01,\n",
    )
    assert importers.import_assessments(path).added == 2
    assert importers.import_assessments(path).added == 0
    assert Assessment.objects.get(competence__code="collaboration").level == 3
    bad = write(tmp_path, "bad.csv", "staff,competence,level,date\nP-404,conflict,5,2099-01-01\n")
    with pytest.raises(ImportFailed) as failed:
        importers.import_assessments(bad)
    assert {e.field for e in failed.value.errors} == {"staff", "level", "date"}


def test_courses_one_row_per_competence_replace_outcomes_and_rounds(tmp_path):
    load_catalogue()
    text = (
        "code,name,competence,level,days,seats,cost,valid_months,dates\n"
        'pop,POP,problem-oriented,3,5,24,"15 000",,2027-02-01;2027-09-01\n'
        'pop,POP,analysis,2,5,24,"15 000",,2027-02-01;2027-09-01\n'
        "bdl,BDL,criminal-data-act,3,1,40,2500,36,2027-03-01\n"
    )
    path = write(tmp_path, "courses.csv", text)
    assert importers.import_courses(path).added == 2
    assert importers.import_courses(path).added == 0
    pop = Course.objects.get(code="pop")
    assert (pop.cost, pop.seats, pop.valid_months) == (15000.0, 24, None)
    assert {(o.competence.code, o.level) for o in pop.outcomes.all()} == {
        ("problem-oriented", 3),
        ("analysis", 2),
    }
    assert [r.starts for r in pop.rounds.all()] == [date(2027, 2, 1), date(2027, 9, 1)]
    fewer = write(tmp_path, "fewer.csv", text.splitlines()[0] + "\n" + text.splitlines()[1] + "\n")
    assert importers.import_courses(fewer).added == 1
    assert pop.outcomes.count() == 1
    clash = write(tmp_path, "clash.csv", text.replace("pop,POP,analysis,2,5,24", "pop,POP,analysis,2,6,24"))
    with pytest.raises(ImportFailed) as failed:
        importers.import_courses(clash)
    assert (failed.value.errors[0].line, failed.value.errors[0].field) == (3, "code")


def test_completions_default_to_the_courses_validity(tmp_path):
    load_catalogue()
    importers.import_staff(write(tmp_path, "staff.csv", STAFF))
    importers.import_courses(
        write(
            tmp_path,
            "c.csv",
            "code,name,competence,level,days,seats,cost,valid_months\nbdl,BDL,criminal-data-act,3,1,40,2500,36\n",
        )
    )
    path = write(
        tmp_path,
        "done.csv",
        "staff,course,date,expires\nP-001,bdl,2024-02-29,\nP-002,bdl,2025-01-10,2025-12-31\n",
    )
    assert importers.import_completions(path).added == 2
    assert Completion.objects.get(staff__pseudonym="P-001").expires == date(2027, 2, 28)
    assert importers.import_completions(path).added == 0
    bad = write(tmp_path, "bad.csv", "staff,course,date,expires\nP-001,bdl,2025-01-10,2024-01-01\n")
    with pytest.raises(ImportFailed) as failed:
        importers.import_completions(bad)
    assert failed.value.errors[0].field == "expires"


@given(st.from_regex(r"\A(19|20)?\d{6}[-+]?\d{4}\Z"))
def test_no_personal_identity_number_passes_as_an_id(text):
    with pytest.raises(FieldError):
        importers.parse_pseudonym(text)


@given(st.from_regex(r"\A[A-Z]{1,3}-[0-9]{1,6}\Z"))
def test_pseudonyms_read_back_unchanged(text):
    assert importers.parse_pseudonym(text) == text


@given(
    st.lists(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), max_size=6),
    st.sampled_from([";", " ", ","]),
)
def test_round_dates_read_back_sorted_without_repeats(days, sep):
    assert importers.parse_dates(sep.join(d.isoformat() for d in days)) == sorted(set(days))
