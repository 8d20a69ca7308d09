"""The resources API and `problembild allocate` (its JSON is a contract)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from problembild.cli import app
from problembild.resources.models import Scenario

pytestmark = pytest.mark.django_db


def test_unit_resources_api(client_for, botkyrka_chief, pictures):
    client = client_for(botkyrka_chief)
    data = client.get("/api/resources/units/5312-botkyrka").json()
    by = {a["name"]: a for a in data["areas"]}
    assert by["Fittja"]["status"] == "not_met" and by["Fittja"]["shortfall"] == 1
    assert by["Storvreten"]["status"] == "unknown"
    assert data["period"] == "2025-06-01" and data["residents_per_officer"] == 5000
    assert client.get("/api/resources/units/5312-botkyrka?scope=special").json()["scope"] == "special"
    assert client.get("/api/resources/units/5312-botkyrka?period=1999-01").status_code == 422
    assert client.get("/api/resources/units/5600").status_code == 403


def test_allocate_json_contract(botkyrka_chief, pictures):
    result = CliRunner().invoke(app, ["allocate", "--unit", "5312-botkyrka", "--available", "16", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    panel = {a.name: str(a.panel_id) for a in pictures.values()}
    assert set(data["officers"]) == set(panel.values())
    assert sum(data["officers"].values()) <= 16
    assert data["floors_met"] is True and data["shortfall"] == 0
    assert isinstance(data["objective"], float) and data["optimal"] is True and data["gap"] <= 1e-4
    assert set(data["baselines"]) >= {"proportional", "current"}
    # Proportional rounding (7, 5, 3, 0) leaves Hallunda and Storvreten under their floors:
    # the optimum meets every floor first, then covers need as well as it can.
    assert data["baseline_shortfall"]["proportional"] > 0
    assert data["objective"] >= data["baselines"]["current"] - 1e-9
    assert not Scenario.objects.exists()  # not saved without --save


def test_allocate_reports_infeasible_floors(pictures):
    result = CliRunner().invoke(app, ["allocate", "--unit", "5312-botkyrka", "--available", "6", "--json"])
    data = json.loads(result.output)
    assert data["floors_met"] is False and data["shortfall"] == 14 - 6
    assert sum(data["officers"].values()) == 6


def test_allocate_saves_and_the_api_reads_it(client_for, botkyrka_chief, pictures):
    result = CliRunner().invoke(app, ["allocate", "--unit", "5312-botkyrka", "--save", "CLI-scenario"])
    assert result.exit_code == 0, result.output
    scenario = Scenario.objects.get(name="CLI-scenario")
    client = client_for(botkyrka_chief)
    data = client.get(f"/api/resources/scenarios/{scenario.pk}").json()
    assert data["name"] == "CLI-scenario" and data["officers"]
    assert all(a["text_en"] for a in data["areas"])
    listed = client.get("/api/resources/units/5312-botkyrka/scenarios").json()
    assert [s["id"] for s in listed] == [scenario.pk]


def test_allocate_unknown_unit():
    result = CliRunner().invoke(app, ["allocate", "--unit", "nope"])
    assert result.exit_code == 2 and "no org unit" in result.output
