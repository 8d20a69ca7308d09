"""The competence API, the training-plan command and the CSV imports from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from problembild.cli import app
from problembild.competence.models import Staff, TrainingPlan
from problembild.competence.planning import PlanParameters, build_problem, run_plan
from problembild.core.models import OrgUnit
from problembild.picture.models import AreaPicture

pytestmark = pytest.mark.django_db
ON = "on=2026-12-01"


def test_person_api_for_the_person_and_hr_not_for_noa(client_for, coordinator, hr, analyst, world):
    mine = client_for(coordinator).get(f"/api/competence/staff/IC1?{ON}")
    assert mine.status_code == 200
    data = mine.json()
    gaps = {g["competence"]: g for g in data["gaps"]}
    assert (gaps["analysis"]["required"], gaps["analysis"]["level"], gaps["analysis"]["gap"]) == (3, 1, 2)
    assert data["profile_version"] == 1 and data["meets"] is False
    assert client_for(hr).get("/api/competence/staff/A1").status_code == 200
    assert client_for(analyst).get("/api/competence/staff/A1").status_code == 403
    assert client_for(hr).get("/api/competence/staff/nobody").status_code == 404
    assert client_for(hr).get("/api/competence/staff/A1?on=not-a-date").status_code == 422


def test_unit_api_counts_for_noa_people_for_hr(client_for, hr, analyst, world):
    noa = client_for(analyst).get(f"/api/competence/units/SE?{ON}&role=area_officer").json()
    assert noa["people"] is None and noa["staff"] == 3
    regions = {u["code"]: u for u in noa["units"]}
    assert regions["5300"]["lacking"]["collaboration"] == 2
    full = client_for(hr).get(f"/api/competence/units/5312-botkyrka?{ON}").json()
    assert {p["id"] for p in full["people"]} == {"A1", "A2", "IC1"}
    alby = next(c for c in full["coverage"] if c["name"] == "Alby")
    assert alby["roles"]["area_officer"] == {"serving": 1, "meeting": 0}


def test_weights_multiply_criticality_need_and_expiry(world):
    a1, a2 = world["A1"], world["A2"]
    AreaPicture.objects.create(area=a1.area, fingerprint="t", need_index=20.0, data={})
    AreaPicture.objects.create(area=a2.area, fingerprint="t", need_index=10.0, data={})
    built = build_problem(OrgUnit.objects.get(code="5312-botkyrka"), 2027, PlanParameters(), today=None)
    pb, st = built.problem, built.standing
    i1 = [s.pseudonym for s in st.staff].index("A1")
    conflict = [c.code for c in st.competences].index("conflict")
    collab = [c.code for c in st.competences].index("collaboration")
    # Median need 15: Alby 20/15, area officers weigh 2, the lapsing certificate 1.5.
    assert pb.weights[i1, conflict] == pytest.approx(2 * 20 / 15 * 1.5)
    assert pb.weights[i1, collab] == pytest.approx(2 * 20 / 15)
    assert pb.gaps[i1, conflict] == 2  # the certificate lapses on 2027-01-10
    # Courses in code order (analys, konflikt, samverkan): seats × the rounds starting in 2027.
    assert [c.code for c in built.courses] == ["analys", "konflikt", "samverkan"]
    assert pb.seats.tolist() == [1.0, 2.0, 1.0]


def test_plan_beats_or_equals_both_baselines_and_respects_the_budget(world):
    plan = run_plan(OrgUnit.objects.get(code="5312-botkyrka"), 2027, PlanParameters(budget=20000), save=False)
    r = plan.result
    assert r["cost"] <= 20000
    assert r["gap_closed"] >= r["baselines"]["largest_gap_first"] - 1e-9
    assert r["gap_closed"] >= r["baselines"]["first_come_first_served"] - 1e-9
    assert sum(c["places"] for c in r["courses"]) == r["places"]


def test_training_plan_command_prints_the_contract(world):
    result = CliRunner().invoke(
        app,
        [
            "training-plan",
            "--period",
            "2027",
            "--unit",
            "5312",
            "--budget",
            "50000",
            "--json",
            "--save",
            "cli",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"gap_closed", "baselines", "places", "cost", "optimal", "gap"} <= set(data)
    assert set(data["baselines"]) == {"largest_gap_first", "first_come_first_served"}
    assert data["cost"] <= 50000 and data["places"] >= 1
    assert TrainingPlan.objects.get(name="cli").result["places"] == data["places"]
    bad = CliRunner().invoke(app, ["training-plan", "--period", "2027", "--unit", "nope"])
    assert bad.exit_code == 2
    empty = CliRunner().invoke(app, ["training-plan", "--period", "2031", "--unit", "5312"])
    assert empty.exit_code == 1 and "no course rounds start in 2031" in empty.output


def test_import_staff_from_the_command_line(tmp_path, world):
    path = tmp_path / "staff.csv"
    path.write_text("id,role,unit\nP-77,kommunpolis,5312-botkyrka\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "staff", str(path)])
    assert result.exit_code == 0, result.output
    assert Staff.objects.get(pseudonym="P-77").role == "municipal_liaison"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,role,unit\n198001011234,kommunpolis,5312-botkyrka\n", encoding="utf-8")
    failed = CliRunner().invoke(app, ["import", "staff", str(bad)])
    assert failed.exit_code != 0 and "bad.csv:2: field 'id'" in failed.output


def test_plan_api(client_for, hr, analyst, world):
    plan = run_plan(OrgUnit.objects.get(code="5312-botkyrka"), 2027, PlanParameters())
    full = client_for(hr).get(f"/api/competence/plans/{plan.pk}").json()
    assert full["assignments"] and set(full["baselines"]) == {"largest_gap_first", "first_come_first_served"}
    assert client_for(analyst).get(f"/api/competence/plans/{plan.pk}").json()["assignments"] is None
    listed = client_for(hr).get("/api/competence/units/5312-botkyrka/plans").json()
    assert [p["id"] for p in listed] == [plan.pk]
