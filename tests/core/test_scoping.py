import pytest

from problembild.areas.models import Area
from problembild.core.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_national_analyst_sees_every_area(analyst):
    assert Area.objects.for_user(analyst).count() == 69


def test_local_chief_sees_only_own_local_police_area(botkyrka_chief):
    names = set(Area.objects.for_user(botkyrka_chief).values_list("name", flat=True))
    assert {"Alby", "Fittja", "Hallunda / Norsborg"} <= names
    assert "Rosengård" not in names
    assert all(a.org_unit.code == "5312-botkyrka" for a in Area.objects.for_user(botkyrka_chief))


def test_user_without_unit_sees_nothing(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x")
    assert Area.objects.for_user(user).count() == 0


def test_foreign_area_page_is_forbidden_and_logged(client_for, botkyrka_chief):
    client = client_for(botkyrka_chief)
    rosengard = Area.objects.get(name="Rosengård")
    response = client.get(f"/areas/{rosengard.panel_id}/")
    assert response.status_code == 403
    assert AccessLogEntry.objects.filter(username="chief.botkyrka", action="denied").exists()
    alby = Area.objects.get(name="Alby")
    assert client.get(f"/areas/{alby.panel_id}/").status_code == 200


def test_unknown_area_is_404_with_a_helpful_page(client_for, analyst):
    response = client_for(analyst).get("/areas/99999/")
    assert response.status_code == 404
    assert "översikten" in response.content.decode()


def test_geojson_contains_only_visible_areas(client_for, botkyrka_chief):
    data = client_for(botkyrka_chief).get("/geo/areas.geojson").json()
    names = {f["properties"]["name"] for f in data["features"]}
    assert "Alby" in names and "Rosengård" not in names


def test_overview_lists_only_visible_areas(client_for, botkyrka_chief):
    html = client_for(botkyrka_chief).get("/").content.decode()
    assert "Alby" in html and "Rosengård" not in html
