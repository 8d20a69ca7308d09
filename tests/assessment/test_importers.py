"""Socioeconomic figures per area: all or nothing, idempotent, errors naming line and field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from problembild.assessment.importers import import_socio, parse_measure
from problembild.assessment.models import SocioValue
from problembild.core.csvrows import FieldError
from problembild.core.errors import ImportFailed

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str):
    path = tmp_path / "socio.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_is_idempotent_and_replaces_a_value(tmp_path):
    path = write(
        tmp_path, 'area,year,measure,value\nAlby,2024,employment_rate,"52,5"\n15,2024,employment_rate,58\n'
    )
    assert import_socio(path).added == 2
    assert import_socio(path).added == 0
    assert SocioValue.objects.get(area__name="Alby").value == 52.5
    path.write_text("area,year,measure,value\nAlby,2024,employment_rate,53\n", encoding="utf-8")
    assert import_socio(path).added == 1
    assert SocioValue.objects.get(area__name="Alby").value == 53.0


def test_errors_name_line_and_field_and_write_nothing(tmp_path):
    text = (
        "area,year,measure,value\n"
        "Alby,2024,employment_rate,52\n"
        "Nowhere,2024,employment_rate,50\n"
        "Alby,1890,employment_rate,50\n"
        "Alby,2024,Employment Rate!,50\n"
        "Alby,2024,income_index,abc\n"
        "Alby,2024,employment_rate,51\n"
    )
    with pytest.raises(ImportFailed) as failed:
        import_socio(write(tmp_path, text))
    assert [(e.line, e.field) for e in failed.value.errors] == [
        (3, "area"),
        (4, "year"),
        (5, "measure"),
        (6, "value"),
        (7, "measure"),
    ]
    assert not SocioValue.objects.exists()


@given(st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,20}\Z"))
def test_measure_codes_read_back(code):
    assert parse_measure(code) == code


@given(st.text(alphabet=" !?.,;:/åäö", min_size=1, max_size=10))
def test_other_measure_codes_are_refused(code):
    with pytest.raises(FieldError):
        parse_measure(code)
