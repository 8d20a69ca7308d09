"""The problem-picture API: indicator values, documents and hot-spot GeoJSON, scoped and logged."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.analysis.spatial import to_wgs84
from problembild.areas.models import Area
from problembild.core.models import AccessLogEntry, ApiToken
from problembild.picture.models import AreaPicture, IndicatorValue, RefreshRun
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db

FIELDS = [
    "count",
    "rate",
    "previous",
    "last_year",
    "p_previous",
    "p_last_year",
    "mark",
    "share_of_municipality",
]


@pytest.fixture
def computed(rosengard_data):
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data


def views_of(area) -> int:
    return AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.VIEW, object_type="areas.area", object_id=str(area.pk)
    ).count()


def test_indicators_match_the_database_and_filters_validate(client_for, analyst, computed):
    area, _, _ = computed
    client = client_for(analyst)
    before = views_of(area)
    query = {"area": area.panel_id, "period": "month", "indicator": "shootings", "limit": 1000}
    data = client.get("/api/indicators", query).json()
    want = IndicatorValue.objects.filter(area=area, period="month", indicator="shootings").order_by(
        "period_start"
    )
    assert data["count"] == want.count() == 36
    for row, value in zip(data["items"], want, strict=True):
        assert row["area"] == area.panel_id and row["area_name"] == "Rosengård"
        assert row["period_start"] == value.period_start.isoformat()
        assert {f: row[f] for f in FIELDS} == {f: getattr(value, f) for f in FIELDS}
    assert data["items"][-1]["period_label"] == "2024-12"
    # The filtered list reveals one area's data: a VIEW entry for that area.
    assert views_of(area) == before + 1

    year = client.get("/api/indicators", {**query, "period": "year"}).json()["items"]
    assert [(r["period_label"], r["count"], r["last_year"], r["mark"]) for r in year] == [
        ("2022", 2, None, ""),
        ("2023", 4, 2, ""),
        ("2024", 20, 4, "↑"),
    ]
    assert year[-1]["rate"] == pytest.approx(20 / 24000 * 1000)
    window = {**query, "period": "quarter", "start": "2024-01-01", "end": "2024-07-01"}
    assert [r["period_label"] for r in client.get("/api/indicators", window).json()["items"]] == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
    ]
    every = client.get("/api/indicators", {"area": area.panel_id, "indicator": "all", "limit": 1}).json()
    assert every["count"] == IndicatorValue.objects.filter(area=area, indicator="all").count()
    assert len(every["items"]) == 1

    # Unknown values are 422 naming the parameter; an unknown area is 404.
    for params, name in (
        ({"period": "decade"}, "period"),
        ({"indicator": "bogus"}, "indicator"),
        ({"start": "yesterday"}, "start"),
        ({"area": "x"}, "area"),
        ({"limit": 10**6}, "limit"),
    ):
        response = client.get("/api/indicators", params)
        assert response.status_code == 422, params
        assert name in str(response.json()["detail"])
    backwards = client.get("/api/indicators", {"start": "2024-02-01", "end": "2024-01-01"})
    assert backwards.status_code == 422 and "start" in backwards.json()["detail"]
    assert client.get("/api/indicators", {"area": 99999}).status_code == 404


def test_picture_document_parts_and_hotspots(client_for, analyst, computed):
    area, hot, _ = computed
    client = client_for(analyst)
    stored = AreaPicture.objects.get(area=area)
    before = views_of(area)

    doc = client.get(f"/api/areas/{area.panel_id}/picture").json()
    assert doc["panel_id"] == area.panel_id and doc["name"] == "Rosengård"
    assert "fingerprint" not in doc and doc["computed_at"]
    assert {k: v for k, v in doc.items() if k not in {"panel_id", "name", "computed_at"}} == stored.data
    assert doc["as_of"] == "2025-01-01" and doc["year_figures"]["shootings"]["count"] == 20

    part = client.get(f"/api/areas/{area.panel_id}/picture", {"parts": "key_figures, trends"}).json()
    assert set(part) == {"panel_id", "name", "computed_at", "key_figures", "trends"}
    assert part["trends"] == stored.data["trends"]
    bad = client.get(f"/api/areas/{area.panel_id}/picture", {"parts": "trends,nope"})
    assert bad.status_code == 422 and "nope" in bad.json()["detail"] and "parts" in bad.json()["detail"]

    response = client.get(f"/api/areas/{area.panel_id}/hotspots.geojson")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    gj = response.json()
    assert gj["type"] == "FeatureCollection"
    meta = gj["metadata"]
    assert meta["cell_size_m"] == 100 and meta["bandwidth_m"] == 150 and meta["alpha"] == 0.05
    assert meta["window"] == {"start": "2024-01-01", "end": "2025-01-01"} and "WGS84" in meta["crs"]
    assert len(gj["features"]) == len(stored.data["space"]["cells"])
    for f in gj["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Polygon"
        (ring,) = f["geometry"]["coordinates"]
        assert len(ring) == 5 and ring[0] == ring[-1]
        assert all(10.5 < lon < 24.2 and 55.3 < lat < 69.1 for lon, lat in ring)
        assert set(f["properties"]) == {"density", "z", "label"} and f["properties"]["label"] in (-1, 0, 1)
    # The planted hot spot lies in or next to a Gi* hot cell.
    lon, lat = to_wgs84([hot.x], [hot.y])
    hot_cells = [f for f in gj["features"] if f["properties"]["label"] == 1]
    assert hot_cells
    assert any(
        min(abs(p[0] - lon[0]) + abs(p[1] - lat[0]) for p in f["geometry"]["coordinates"][0]) < 0.003
        for f in hot_cells
    )

    fc = client.get(f"/api/areas/{area.panel_id}/hotspots.geojson", {"layer": "forecast"}).json()
    forecast = stored.data["space"]["forecast"]
    assert fc["metadata"]["method"] == forecast["method"] and fc["metadata"]["period_start"] == "2025-01-01"
    assert len(fc["features"]) == len(forecast["cells"]) > 0
    assert fc["features"][0]["properties"] == {
        "score": forecast["cells"][0]["score"],
        "method": forecast["method"],
        "period_start": "2025-01-01",
    }
    assert client.get(f"/api/areas/{area.panel_id}/hotspots.geojson", {"layer": "x"}).status_code == 422

    # Two documents, two grids (the 422s reveal nothing and are not logged).
    assert views_of(area) == before + 4
    reprs = set(AccessLogEntry.objects.filter(object_id=str(area.pk)).values_list("object_repr", flat=True))
    assert {"Rosengård (picture)", "Rosengård (hotspots)", "Rosengård (forecast)"} <= reprs


def test_scoping_units_runs_and_tokens(client, client_for, analyst, botkyrka_chief, computed):
    area, _, n = computed
    chief = client_for(botkyrka_chief)
    for url in (
        f"/api/areas/{area.panel_id}/picture",
        f"/api/areas/{area.panel_id}/hotspots.geojson",
        f"/api/indicators?area={area.panel_id}",
    ):
        assert chief.get(url).status_code == 403, url
    assert AccessLogEntry.objects.filter(username="chief.botkyrka", action="denied").count() == 3
    assert views_of(area) == 0
    mine = set(Area.objects.for_user(botkyrka_chief).values_list("panel_id", flat=True))
    page = chief.get("/api/indicators", {"period": "year", "indicator": "all", "limit": 1000}).json()
    assert page["count"] == 3 * len(mine) and {r["area"] for r in page["items"]} == mine
    assert area.panel_id not in mine
    alby = Area.objects.get(name="Alby")
    assert chief.get(f"/api/areas/{alby.panel_id}/picture", {"parts": "need"}).status_code == 200

    # Units: your own and those below it; a unit above or beside it is 403.
    own = chief.get("/api/units/5312-botkyrka/picture").json()
    assert own["code"] == "5312-botkyrka" and own["kind"] == "local_police_area"
    assert set(own["areas"]) == mine and own["series"]["all"]["counts"]
    region = area.org_unit.parent.parent
    assert chief.get(f"/api/units/{region.code}/picture").status_code == 403
    assert chief.get("/api/units/SE/picture").status_code == 403
    nation = client_for(analyst).get("/api/units/SE/picture").json()
    assert sum(nation["series"]["all"]["counts"]) == n and area.panel_id in nation["areas"]
    assert client_for(analyst).get("/api/units/nope/picture").status_code == 404

    runs = client_for(analyst).get("/api/refresh-runs").json()
    assert runs["count"] == RefreshRun.objects.count() == 1
    run = runs["items"][0]
    assert run["incidents"] == n and run["as_of"] == "2025-01-01" and run["finished_at"]
    assert run["areas_recomputed"] == Area.objects.count()

    # Tokens: bearer or X-API-Key; nothing without one.
    client.logout()
    url = f"/api/areas/{area.panel_id}/picture?parts=as_of"
    assert client.get(url).status_code == 401
    assert client.get("/api/refresh-runs").status_code == 401
    _, key = ApiToken.issue(analyst, name="test")
    assert client.get(url, headers={"Authorization": f"Bearer {key}"}).json()["as_of"] == "2025-01-01"
    assert client.get(url, headers={"X-API-Key": key}).status_code == 200
    assert AccessLogEntry.objects.filter(username="noa", action="view", object_id=str(area.pk)).count() == 2


def test_not_computed_unknown_and_openapi(client_for, analyst):
    """Without a refresh: 404s that say what to do, empty lists, and the declared schemas."""
    client = client_for(analyst)
    rosengard = Area.objects.get(name="Rosengård")
    for url in (
        f"/api/areas/{rosengard.panel_id}/picture",
        f"/api/areas/{rosengard.panel_id}/hotspots.geojson",
        "/api/units/SE/picture",
    ):
        response = client.get(url)
        assert response.status_code == 404 and "problembild refresh" in response.json()["detail"], url
    assert client.get("/api/areas/99999/picture").status_code == 404
    assert client.get("/api/areas/99999/hotspots.geojson").status_code == 404
    assert client.get("/api/indicators").json() == {"items": [], "count": 0}
    assert client.get("/api/refresh-runs").json() == {"items": [], "count": 0}

    paths = client.get("/api/openapi.json").json()["paths"]
    geo = paths["/api/areas/{panel_id}/hotspots.geojson"]["get"]["responses"]["200"]["content"]
    assert list(geo) == ["application/geo+json"]
    assert geo["application/geo+json"]["schema"]["properties"]["metadata"]["properties"]["cell_size_m"]
    params = {p["name"] for p in paths["/api/indicators"]["get"]["parameters"]}
    assert {"area", "indicator", "period", "start", "end", "limit", "offset"} <= params
    for path in ("/api/areas/{panel_id}/picture", "/api/units/{code}/picture", "/api/refresh-runs"):
        assert "application/json" in paths[path]["get"]["responses"]["200"]["content"], path


def test_openapi_types_every_member(client_for, analyst):
    """No object in the schema is a bare dict: every member of every answer is declared."""
    schema = client_for(analyst).get("/api/openapi.json").json()
    untyped = []

    def walk(node, path):
        if isinstance(node, dict):
            extra = node.get("additionalProperties")
            if node.get("type") == "object" and "properties" not in node and not isinstance(extra, dict):
                untyped.append(path)
            if extra is True:
                untyped.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(schema, "")
    assert not untyped, untyped
    documents = schema["components"]["schemas"]
    assert {"AreaPictureOut", "UnitPictureOut", "MonthFigures", "Trend", "SpacePart"} <= set(documents)
