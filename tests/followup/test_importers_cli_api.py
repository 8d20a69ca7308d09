"""Activity and survey imports, `problembild report quarterly`, the follow-up API."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from problembild.cli import app
from problembild.core.errors import ImportFailed
from problembild.followup.importers import import_activities, import_survey
from problembild.followup.models import Activity, SurveyResult

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="f.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_activity_import_links_priority_and_promise_and_is_idempotent(tmp_path, alby_doc):
    path = write(
        tmp_path,
        "area,date,method,hours,officers,priority,promise,partners\n"
        "Alby,2025-11-05,hot_spot_policing,2,2,1,,\n"
        "Alby,2025-11-06,Trygghetsvandringar,1,3,,Synliga vid torget,Kommunen\n",
    )
    result = import_activities(path)
    assert (result.accepted, result.added) == (2, 2)
    new = Activity.objects.filter(source="f.csv").order_by("date")
    assert new[0].priority.title == "Narkotikahandel" and new[1].promise.commitment == "Synliga vid torget"
    assert import_activities(path).added == 0


def test_activity_import_errors_name_line_and_field(tmp_path, alby_doc):
    path = write(
        tmp_path,
        "area,date,method,hours,priority\n"
        "Alby,2025-11-05,hot_spot_policing,2,1\n"
        "Alby,2025-13-05,hot_spot_policing,2,\n"
        "Alby,2025-11-05,juggling,2,\n"
        "Alby,2025-11-05,hot_spot_policing,0,\n"
        "Alby,2025-11-05,hot_spot_policing,2,7\n",
    )
    before = Activity.objects.count()
    with pytest.raises(ImportFailed) as caught:
        import_activities(path)
    assert {(e.line, e.field) for e in caught.value.errors} == {
        (3, "date"),
        (4, "method"),
        (5, "hours"),
        (6, "priority"),
    }
    assert Activity.objects.count() == before


def test_survey_import(tmp_path, seeded):
    path = write(
        tmp_path, 'area,year,measure,value\nAlby,2025,safety_index,"2,8"\nFittja,2025,safety_index,3.1\n'
    )
    assert import_survey(path).added == 2
    assert SurveyResult.objects.get(area__name="Alby").value == 2.8
    assert import_survey(path).added == 0
    with pytest.raises(ImportFailed, match="already on line 2"):
        import_survey(write(tmp_path, "area,year,measure,value\nAlby,2025,x,1\nAlby,2025,x,2\n", "g.csv"))


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_report_quarterly_cli(tmp_path, alby_doc, fmt):
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "quarterly",
            "--unit",
            "5312-botkyrka",
            "--quarter",
            "2025Q4",
            "--format",
            fmt,
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    content = out.read_bytes()
    assert content.startswith(b"%PDF") if fmt == "pdf" else b"Narkotikahandel" in content


def test_report_quarterly_cli_errors(tmp_path, seeded):
    out = str(tmp_path / "r.html")
    bad_unit = CliRunner().invoke(
        app, ["report", "quarterly", "--unit", "nope", "--quarter", "2025Q4", "--output", out]
    )
    assert bad_unit.exit_code == 1 and "no org unit" in bad_unit.output
    bad_q = CliRunner().invoke(
        app, ["report", "quarterly", "--unit", "SE", "--quarter", "2025-4", "--output", out]
    )
    assert bad_q.exit_code == 1 and "quarter" in bad_q.output


def test_api(client_for, chief, alby_doc):
    client = client_for(chief)
    strategy = client.get("/api/followup/strategy/5312-botkyrka").json()
    assert [g["code"] for g in strategy["goals"]] == [
        "present_police",
        "synchronised_capability",
        "collaboration",
    ]
    doc = client.get(f"/api/followup/areas/{alby_doc.area.panel_id}/documents/2025").json()
    assert [p["title"] for p in doc["priorities"]] == ["Narkotikahandel", "Bilbränder"]
    acts = client.get("/api/followup/activities?method=area_officer_presence").json()
    assert acts["count"] == 3 and acts["items"][0]["area"] == "Alby"
    assert client.get("/api/followup/activities?method=nope").status_code == 422
    report = client.get("/api/followup/units/5312-botkyrka/reports/2025Q4").json()
    assert report["quarter"] == "2025Q4" and report["activity_hours"] == 12.0
    assert client.get("/api/followup/units/5312-botkyrka/reports/2025Q7").status_code == 422
    assert client.get("/api/followup/strategy/5600").status_code == 403


def test_import_commands_run_the_importers(tmp_path, seeded):
    path = write(tmp_path, "area,year,measure,value\nAlby,2025,safety_index,2.5\n")
    result = CliRunner().invoke(app, ["import", "survey", str(path), "--source", "enkät"])
    assert result.exit_code == 0, result.output
    assert SurveyResult.objects.get(area__name="Alby").source == "enkät"
    bad = CliRunner().invoke(
        app, ["import", "survey", str(write(tmp_path, "area,year\nAlby,2025\n", "b.csv"))]
    )
    assert bad.exit_code == 1 and "required column is missing" in bad.output
