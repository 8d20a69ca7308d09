"""The problem-picture API: indicator values, documents and hot-spot GeoJSON, scoped and logged."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.core.models import AccessLogEntry, ApiToken
from problembild.picture.models import IndicatorValue
from problembild.picture.services import RefreshOptions, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(rosengard_data):
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data


def test_indicators_match_the_database(client_for, analyst, computed):
    area, _, _ = computed
    data = (
        client_for(analyst)
        .get(
            "/api/indicators",
            {"area": area.panel_id, "period": "year", "indicator": "shootings", "limit": 100},
        )
        .json()
    )
    rows = {r["period_start"]: r["count"] for r in data["items"]}
    want = dict(
        IndicatorValue.objects.filter(area=area, period="year", indicator="shootings").values_list(
            "period_start", "count"
        )
    )
    assert rows == {d.isoformat(): n for d, n in want.items()}
    assert data["items"][-1]["period_label"] == "2024"
    assert client_for(analyst).get("/api/indicators", {"period": "decade"}).status_code == 422
    assert client_for(analyst).get("/api/indicators", {"indicator": "bogus"}).status_code == 422


def test_picture_and_hotspots(client_for, analyst, computed):
    area, _, _ = computed
    client = client_for(analyst)
    doc = client.get(f"/api/areas/{area.panel_id}/picture", {"parts": "need,year_figures"}).json()
    assert set(doc) == {"panel_id", "name", "computed_at", "need", "year_figures"}
    assert client.get(f"/api/areas/{area.panel_id}/picture", {"parts": "nope"}).status_code == 422
    response = client.get(f"/api/areas/{area.panel_id}/hotspots.geojson")
    assert response["Content-Type"] == "application/geo+json"
    gj = response.json()
    assert gj["metadata"]["cell_size_m"] == 100
    hot = [f for f in gj["features"] if f["properties"]["label"] == 1]
    assert hot
    for f in gj["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        assert all(10 < lon < 25 and 55 < lat < 69.5 for lon, lat in ring)
    fc = client.get(f"/api/areas/{area.panel_id}/hotspots.geojson", {"layer": "forecast"}).json()
    assert fc["features"] and "score" in fc["features"][0]["properties"]
    assert AccessLogEntry.objects.filter(action="view", object_repr__contains="(hotspots)").exists()


def test_scoping_404_and_tokens(client_for, analyst, botkyrka_chief, computed):
    area, _, _ = computed
    chief = client_for(botkyrka_chief)
    assert chief.get(f"/api/areas/{area.panel_id}/picture").status_code == 403
    assert chief.get(f"/api/areas/{area.panel_id}/hotspots.geojson").status_code == 403
    items = chief.get("/api/indicators", {"period": "year", "limit": 1000}).json()["items"]
    assert items and all(r["area_name"] != "Rosengård" for r in items)
    client = client_for(analyst)
    assert client.get("/api/areas/99999/picture").status_code == 404
    assert client.get(f"/api/units/{area.org_unit.parent.parent.code}/picture").json()["series"]
    assert client.get("/api/units/nope/picture").status_code == 404
    assert client.get("/api/refresh-runs").json()[0]["incidents"] > 0
    _, key = ApiToken.issue(analyst, name="test")
    client.logout()
    assert client.get(f"/api/areas/{area.panel_id}/picture").status_code == 401
    ok = client.get(f"/api/areas/{area.panel_id}/picture", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert ok.status_code == 200


def test_area_without_picture_is_404(client_for, analyst):
    assert client_for(analyst).get("/api/areas/48/picture").status_code == 404
