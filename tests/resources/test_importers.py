"""Staffing, presence and capacity imports: all or nothing, idempotent, errors naming file, line and field."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from problembild.core import csvrows
from problembild.core.errors import ImportFailed
from problembild.resources import importers
from problembild.resources.models import Capacity, Staffing

pytestmark = pytest.mark.django_db


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_staffing_import_is_idempotent(tmp_path, botkyrka):
    path = write(
        tmp_path,
        "staffing.csv",
        "area,month,officers,fte,hours_outside\n"
        'Alby,2025-07,5,"4,5",40\n'
        "15,2025-07,4,3.8,\n",  # Fittja by panel id; decimal comma and point both read
    )
    first = importers.import_staffing(path)
    assert (first.accepted, first.added) == (2, 2)
    alby = Staffing.objects.get(area__name="Alby", period=date(2025, 7, 1))
    assert (alby.officers, alby.fte, alby.hours_outside) == (5, 4.5, 40.0)
    again = importers.import_staffing(path)
    assert again.added == 0
    assert Staffing.objects.filter(period=date(2025, 7, 1)).count() == 2
    # History keeps the first version of each row (and nothing for the idle re-import).
    assert alby.history.count() == 1


def test_staffing_errors_name_file_line_and_field_and_write_nothing(tmp_path, botkyrka):
    path = write(
        tmp_path,
        "bad.csv",
        "area,month,officers\nAlby,2025-07,5\nNowhere,2025-07,3\nFittja,2025-13,2\nHallunda / Norsborg,2025-07,-1\n",
    )
    with pytest.raises(ImportFailed) as caught:
        importers.import_staffing(path)
    found = {(e.line, e.field) for e in caught.value.errors}
    assert found == {(3, "area"), (4, "month"), (5, "officers")}
    assert f"{path}:3: field 'area'" in str(caught.value)
    assert not Staffing.objects.filter(period=date(2025, 7, 1)).exists()  # Alby's good row too


def test_skip_invalid_imports_the_good_rows(tmp_path, botkyrka):
    path = write(tmp_path, "mixed.csv", "area,month,officers\nAlby,2025-07,5\nNowhere,2025-07,3\n")
    rejects = tmp_path / "rejects.csv"
    result = importers.import_staffing(path, skip_invalid=True, rejects=rejects)
    assert (result.accepted, result.rejected, result.added) == (1, 1, 1)
    assert "Nowhere" in rejects.read_text(encoding="utf-8")


def test_unknown_and_missing_columns(tmp_path, botkyrka):
    with pytest.raises(ImportFailed, match=r"officers.*required column is missing"):
        importers.import_staffing(write(tmp_path, "a.csv", "area,month\nAlby,2025-07\n"))
    with pytest.raises(ImportFailed, match="'colour': unknown column"):
        importers.import_staffing(
            write(tmp_path, "b.csv", "area,month,officers,colour\nAlby,2025-07,1,red\n")
        )


def test_duplicate_area_month(tmp_path, botkyrka):
    with pytest.raises(ImportFailed, match="already on line 2"):
        importers.import_staffing(
            write(tmp_path, "d.csv", "area,month,officers\nAlby,2025-07,5\nAlby,2025-07,6\n")
        )


def test_presence_import_replaces_the_month_profile(tmp_path, botkyrka):
    path = write(
        tmp_path,
        "presence.csv",
        "area;month;day;hour;planned;actual\nAlby;2025-06;mån;18;10;8\nAlby;2025-06;7;23;2;\n",
    )
    result = importers.import_staffing(path, presence_only=True)
    assert result.added == 1
    alby = Staffing.objects.get(area__name="Alby", period=date(2025, 6, 1))
    assert alby.officers == 5  # staffing kept
    assert alby.actual[18] == 8 and sum(alby.actual) == 8
    assert alby.planned[18] == 10 and alby.planned[6 * 24 + 23] == 2
    assert importers.import_staffing(path, presence_only=True).added == 0


def test_presence_needs_staffing_and_unique_blocks(tmp_path, botkyrka):
    with pytest.raises(ImportFailed, match="no staffing for Alby 2024-01"):
        importers.import_staffing(
            write(tmp_path, "p.csv", "area,month,day,hour,actual\nAlby,2024-01,1,8,3\n"), presence_only=True
        )
    with pytest.raises(ImportFailed, match="already on line 2"):
        importers.import_staffing(
            write(
                tmp_path, "q.csv", "area,month,day,hour,actual\nAlby,2025-06,1,8,3\nAlby,2025-06,mon,8,4\n"
            ),
            presence_only=True,
        )


def test_staffing_with_presence_rows(tmp_path, botkyrka):
    path = write(
        tmp_path,
        "both.csv",
        "area,month,officers,hours_outside,day,hour,actual\nFittja,2025-08,3,20,1,9,5\nFittja,2025-08,3,20,1,10,6\n",
    )
    importers.import_staffing(path)
    fittja = Staffing.objects.get(area__name="Fittja", period=date(2025, 8, 1))
    assert fittja.officers == 3 and fittja.actual[9] == 5 and fittja.actual[10] == 6 and fittja.planned == []
    bad = write(
        tmp_path,
        "both-bad.csv",
        "area,month,officers,day,hour,actual\nFittja,2025-09,3,1,9,5\nFittja,2025-09,4,1,10,6\n",
    )
    with pytest.raises(ImportFailed, match="differ from line 2"):
        importers.import_staffing(bad)


def test_capacity_import(tmp_path, botkyrka):
    path = write(
        tmp_path,
        "cap.csv",
        "unit,month,officers,increase\n5312-botkyrka,2026-01,14,3\n5312,2026-01,60,-2\n",
    )
    result = importers.import_capacity(path)
    assert result.added == 2
    assert Capacity.objects.get(org_unit__code="5312-botkyrka", period=date(2026, 1, 1)).increase == 3
    assert importers.import_capacity(path).added == 0
    with pytest.raises(ImportFailed) as caught:
        importers.import_capacity(
            write(
                tmp_path, "cap-bad.csv", "unit,month,officers\nNo unit,2026-01,1\n5312-botkyrka,2026-01,x\n"
            )
        )
    assert {(e.line, e.field) for e in caught.value.errors} == {(2, "unit"), (3, "officers")}


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_parse_month_round_trip(year, month):
    assert csvrows.parse_month(f"{year}-{month:02d}") == date(year, month, 1)
    assert csvrows.parse_month(f"{year}-{month:02d}-01") == date(year, month, 1)


@given(st.text(max_size=12))
def test_parse_month_refuses_or_reads(text):
    try:
        value = csvrows.parse_month(text)
    except csvrows.FieldError as exc:
        assert repr(text) in str(exc)
    else:
        assert value.day == 1 and f"{value:%Y-%m}" in text


@given(st.integers(0, csvrows.MAX_OFFICERS))
def test_parse_count_reads_grouped_numbers(n):
    assert csvrows.parse_count(f"{n:,}".replace(",", "\u00a0")) == n


@given(st.floats(0, csvrows.MAX_HOURS, allow_nan=False))
def test_parse_hours_reads_decimal_commas(x):
    assert csvrows.parse_hours(repr(x).replace(".", ",")) == pytest.approx(x)


@given(st.text(max_size=10))
def test_parse_hours_never_crashes(text):
    try:
        value = csvrows.parse_hours(text)
    except csvrows.FieldError:
        return
    assert 0 <= value <= csvrows.MAX_HOURS
