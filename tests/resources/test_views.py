"""The resources pages at the level users see them: scoped, logged, edited by managers only."""

from __future__ import annotations

import pytest

from problembild.core import roles
from problembild.core.models import AccessLogEntry
from problembild.resources.models import Scenario, Staffing

from .conftest import JUNE

pytestmark = pytest.mark.django_db

UNIT = "/resources/units/5312-botkyrka/"


@pytest.fixture
def manager(make_user):
    return make_user("po.syd", roles.POLICE_AREA_MANAGER, "5312")


def test_index_goes_to_the_users_unit(client_for, botkyrka_chief):
    response = client_for(botkyrka_chief).get("/resources/")
    assert response.status_code == 302 and response.url == UNIT


def test_unit_page_shows_the_rule_and_logs(client_for, botkyrka_chief, pictures):
    response = client_for(botkyrka_chief).get(UNIT)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="rule-areas"' in text and "Fittja" in text and "ej uppfyllt" in text
    assert "2 av 4 områden uppfyller regeln" in text
    assert 'id="presence-areas"' in text and 'id="scenario-form"' in text
    assert AccessLogEntry.objects.filter(action="view", path=UNIT).exists()


def test_foreign_unit_is_refused(client_for, botkyrka_chief, botkyrka):
    assert client_for(botkyrka_chief).get("/resources/units/5600/").status_code == 403


def test_export_of_each_table(client_for, botkyrka_chief, pictures):
    client = client_for(botkyrka_chief)
    for table, header in (("rule", "1 per 5 000"), ("units", "Enhet"), ("presence", "Andel i området")):
        response = client.get(f"{UNIT}export.csv?table={table}&reason=test&recipient=test")
        assert response.status_code == 200, table
        body = response.content.decode("utf-8-sig")
        assert header in body and "<" not in body, table
    bad = client.get(f"{UNIT}export.csv?table=nope&reason=t&recipient=t")
    assert bad.status_code == 200 and b"Fittja" in bad.content  # refused value: the default table
    assert AccessLogEntry.objects.filter(action="export").count() == 4


def test_scenario_run_saved_and_explained(client_for, botkyrka_chief, pictures):
    client = client_for(botkyrka_chief)
    response = client.post(f"{UNIT}scenarios/", {"available": "16", "robust": "none", "name": "Tillskott"})
    assert response.status_code == 302
    scenario = Scenario.objects.get(name="Tillskott")
    assert scenario.author_name == "chief.botkyrka" and scenario.parameters["available"] == 16
    proposed = {a["name"]: a["proposed"] for a in scenario.result["areas"]}
    assert sum(proposed.values()) <= 16
    # Every floor fits in 16 (5 + 4 + 4 + 1 = 14), so every area reaches its floor.
    assert scenario.result["floors_met"] is True
    assert proposed["Alby"] >= 5 and proposed["Storvreten"] >= 1
    page = client.get(response.url)
    text = page.content.decode()
    assert page.status_code == 200 and 'id="allocation"' in text
    assert all(a["text_sv"] for a in scenario.result["areas"])
    assert scenario.result["areas"][0]["text_sv"].split(".")[0] in text
    assert AccessLogEntry.objects.filter(action="change", object_type="resources.scenario").exists()


def test_scenario_plan_for_an_area(client_for, botkyrka_chief, pictures):
    client = client_for(botkyrka_chief)
    client.post(f"{UNIT}scenarios/", {"available": "14", "robust": "none", "name": "Plan"})
    scenario = Scenario.objects.get(name="Plan")
    alby = pictures["Alby"].panel_id
    page = client.get(f"/resources/scenarios/{scenario.pk}/?area={alby}")
    text = page.content.decode()
    assert page.status_code == 200 and 'id="shifts"' in text and 'id="visits"' in text
    shifts = client.get(
        f"/resources/scenarios/{scenario.pk}/export.csv?table=shifts&area={alby}&reason=t&recipient=t"
    )
    assert shifts.status_code == 200 and len(shifts.content.decode("utf-8-sig").splitlines()) > 1
    visits = client.get(
        f"/resources/scenarios/{scenario.pk}/export.csv?table=visits&area={alby}&reason=t&recipient=t"
    )
    assert visits.status_code == 200
    assert client.get(f"/resources/scenarios/{scenario.pk}/?area=999999").status_code == 404


def test_extra_officers_scenario(client_for, botkyrka_chief, pictures):
    client = client_for(botkyrka_chief)
    client.post(f"{UNIT}scenarios/", {"extra": "3", "robust": "none", "name": "Plus tre"})
    scenario = Scenario.objects.get(name="Plus tre")
    assert scenario.kind == "extra"
    current = {a["name"]: a["current"] for a in scenario.result["areas"]}
    proposed = {a["name"]: a["proposed"] for a in scenario.result["areas"]}
    assert all(proposed[n] >= current[n] for n in current)  # nobody moves
    assert sum(proposed.values()) == sum(current.values()) + 3
    assert [e["n"] for e in scenario.result["extra_officers"]] == [1, 2, 3]


def test_read_only_role_may_not_run_scenarios(client_for, make_user, botkyrka):
    reader = make_user("reader", roles.READ_ONLY, "5312-botkyrka")
    assert (
        client_for(reader).post(f"{UNIT}scenarios/", {"available": "3", "robust": "none"}).status_code == 403
    )
    assert not Scenario.objects.exists()


def test_staffing_edit_by_manager_with_history(client_for, manager, botkyrka):
    client = client_for(manager)
    fittja = botkyrka["Fittja"]
    url = f"/resources/areas/{fittja.panel_id}/staffing/2025-06/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"officers": "4", "fte": "3.6", "hours_outside": "20"})
    assert response.status_code == 302
    row = Staffing.objects.get(area=fittja, period=JUNE)
    assert row.officers == 4 and row.actual  # presence kept
    last = row.history.first()
    assert last.history_user == manager and last.officers == 4
    page = client.get(url).content.decode()
    assert "po.syd" in page and 'id="history"' in page
    assert AccessLogEntry.objects.filter(action="change", object_type="resources.staffing").exists()


def test_staffing_edit_refused_outside_role_or_scope(client_for, analyst, make_user, botkyrka):
    fittja = botkyrka["Fittja"]
    url = f"/resources/areas/{fittja.panel_id}/staffing/2025-06/"
    # The national analyst reads everything but does not manage Botkyrka's staffing.
    assert client_for(analyst).post(url, {"officers": "9"}).status_code == 403
    west = make_user("po.vast", roles.POLICE_AREA_MANAGER, "5500")
    assert client_for(west).get(url).status_code == 403
    assert Staffing.objects.get(area=fittja, period=JUNE).officers == 3
    assert client_for(west).get(f"/resources/areas/{fittja.panel_id}/staffing/2025-13/").status_code in (
        403,
        404,
    )


def test_capacity_edit(client_for, manager, botkyrka):
    client = client_for(manager)
    url = "/resources/units/5312-botkyrka/capacity/2026-01/"
    response = client.post(url, {"officers": "15", "hours": "", "increase": "3"})
    assert response.status_code == 302
    from problembild.resources.models import Capacity

    assert Capacity.objects.get(org_unit__code="5312-botkyrka", period="2026-01-01").increase == 3
