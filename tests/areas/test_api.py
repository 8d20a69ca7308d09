import pytest

from problembild.areas.models import Area
from problembild.core.models import AccessLogEntry, ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def chief_token(botkyrka_chief):
    _, key = ApiToken.issue(botkyrka_chief, name="test")
    return key


def test_api_requires_authentication(client):
    assert client.get("/api/areas").status_code == 401


def test_token_api_lists_only_areas_in_scope(client, chief_token):
    data = client.get("/api/areas", headers={"Authorization": f"Bearer {chief_token}"}).json()
    names = {a["name"] for a in data["items"]}
    assert "Alby" in names and "Rosengård" not in names
    assert data["count"] == len(names)


def test_api_key_header_works_too(client, chief_token):
    assert client.get("/api/areas", headers={"X-API-Key": chief_token}).status_code == 200


def test_foreign_area_is_403_by_api_and_logged(client, chief_token):
    rosengard = Area.objects.get(name="Rosengård")
    response = client.get(
        f"/api/areas/{rosengard.panel_id}", headers={"Authorization": f"Bearer {chief_token}"}
    )
    assert response.status_code == 403
    assert AccessLogEntry.objects.filter(username="chief.botkyrka", action="denied").exists()


def test_unknown_area_is_404(client, chief_token):
    assert (
        client.get("/api/areas/99999", headers={"Authorization": f"Bearer {chief_token}"}).status_code == 404
    )


def test_session_api_returns_classification_history(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    data = client_for(analyst).get(f"/api/areas/{alby.panel_id}").json()
    assert [c["year"] for c in data["classifications"]] == [2015, 2017, 2019, 2021, 2023]
    assert data["category"] == "särskilt utsatt område"
    assert data["local_police_area"] == "Botkyrka"


def test_classifications_filter_by_year(client_for, analyst):
    data = client_for(analyst).get("/api/classifications?year=2019&limit=1000").json()
    assert data["count"] == 60


def test_boundary_is_geojson(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    feature = client_for(analyst).get(f"/api/areas/{alby.panel_id}/boundary").json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_openapi_schema_and_docs_are_served_locally(client_for, analyst):
    client = client_for(analyst)
    schema = client.get("/api/openapi.json").json()
    assert "/api/areas" in schema["paths"]
    html = client.get("/api/docs").content.decode()
    assert "cdn." not in html and "/static/ninja/swagger-ui-bundle.js" in html


def test_expired_or_unknown_token_is_refused(client, botkyrka_chief):
    token, key = ApiToken.issue(botkyrka_chief, days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires="2000-01-01T00:00:00Z")
    assert client.get("/api/areas", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert client.get("/api/areas", headers={"Authorization": "Bearer pb_nonsense"}).status_code == 401


def test_area_list_filters_are_the_overviews_and_refuse_values_outside_scope(client, analyst, chief_token):
    from django.test import Client

    noa = Client()
    noa.force_login(analyst)
    syd = noa.get("/api/areas", {"region": "5600", "limit": 100}).json()
    assert syd["count"] == 9 and "Rosengård" in {a["name"] for a in syd["items"]}
    # Botkyrka's chief may filter only by units at or below Botkyrka: not region Syd, nor the
    # police area above Botkyrka; an unknown category is refused too.
    auth = {"Authorization": f"Bearer {chief_token}"}
    for params, name in (
        ({"region": "5600"}, "region"),
        ({"police_area": "5312"}, "police_area"),
        ({"category": "farligt"}, "category"),
    ):
        response = client.get("/api/areas", params, headers=auth)
        assert response.status_code == 422, params
        assert name in response.json()["detail"]
    risk = noa.get("/api/areas", {"category": "riskområde", "limit": 100}).json()
    assert risk["count"] == 15 and all(a["category"] == "riskområde" for a in risk["items"])


def test_classification_filter_refuses_an_unknown_category(client_for, analyst):
    response = client_for(analyst).get("/api/classifications", {"category": "farligt"})
    assert response.status_code == 422 and "category" in response.json()["detail"]
