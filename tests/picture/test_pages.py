import pytest

from problembild.areas.models import Area

pytestmark = pytest.mark.django_db


def test_overview_shows_register_with_history_columns(client_for, analyst):
    html = client_for(analyst).get("/").content.decode()
    for year in ("2015", "2017", "2019", "2021", "2023"):
        assert f">{year}<" in html
    assert "59 områden" in html
    assert "Rinkeby / Tensta" in html


def test_overview_filter_by_region_changes_the_table(client_for, analyst):
    html = client_for(analyst).get("/?region=5600").content.decode()
    assert "Rosengård" in html and "Rinkeby / Tensta" not in html
    assert "9 områden" in html


def test_malformed_filter_is_reported_not_applied(client_for, analyst):
    html = client_for(analyst).get("/?region=9999&category=dangerous").content.decode()
    assert "region=9999" in html and "category=dangerous" in html
    assert "59 områden" in html


def test_classification_history_lists_changes(client_for, analyst):
    html = client_for(analyst).get("/").content.decode()
    assert "Tillkom" in html and "Höjd" in html and "Sänkt" in html


def test_area_page_shows_history_and_organisation(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    html = client_for(analyst).get(f"/areas/{alby.panel_id}/").content.decode()
    assert "Botkyrka" in html and "Stockholm syd" in html
    assert "riskområde" in html and "särskilt utsatt område" in html


def test_municipality_background_is_served_locally(client_for, analyst):
    response = client_for(analyst).get("/geo/municipalities.geojson")
    assert response.status_code == 200
    assert len(response.json()["features"]) == 290


def test_pages_set_a_strict_content_security_policy(client_for, analyst):
    csp = client_for(analyst).get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self' 'nonce-" in csp


def test_english_switch(client_for, analyst):
    client = client_for(analyst)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html
