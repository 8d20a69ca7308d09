"""Overview, area, unit, print and export pages read the cached problem picture."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from problembild.areas.models import Area
from problembild.core.models import AccessLogEntry
from problembild.picture.models import AreaPicture
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(rosengard_data):
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data


def test_overview_shows_indicator_figures_and_filters(client_for, analyst, computed):
    area, _, _ = computed
    doc = AreaPicture.objects.get(area=area).data
    html = client_for(analyst).get("/?indicator=shootings&period=12m").content.decode()
    assert "Skjutningar" in html and "Behovsindex" in html
    assert f'data-sort="{doc["year_figures"]["shootings"]["count"]}" data-col="count"' in html
    assert '<svg class="spark"' in html
    html = client_for(analyst).get("/?indicator=bogus&period=decade").content.decode()
    assert "indicator=bogus" in html and "period=decade" in html


def test_overview_period_from_stored_values(client_for, analyst, computed):
    html = client_for(analyst).get("/?indicator=shootings&period=year").content.decode()
    # The last complete year (2024) had 20 shootings in Rosengård, 4 the year before.
    assert 'data-sort="20" data-col="count"' in html


def test_area_page_shows_the_problem_picture(client_for, analyst, computed):
    area, _, _ = computed
    html = client_for(analyst).get(f"/areas/{area.panel_id}/").content.decode()
    for text in (
        "Nyckeltal",
        "Utveckling per månad",
        "Veckodag och timme",
        "brännpunkter",
        "Prognos för nästa månad",
        "Källor och aktualitet",
        "picture-data",
        "plotly.min.js",
    ):
        assert text in html, text
    assert 'id="key-figures"' in html
    # Every method is named in words beside its code, the baseline among them.
    assert "Alla tidigare händelser (baslinjen) (history)" in html
    assert "Självexciterande punktprocess (sepp)" in html
    assert 'id="forecast-choice"' in html and "det enklaste ärliga alternativet" in html


def test_area_without_picture_explains_refresh(client_for, analyst):
    area = Area.objects.get(name="Alby")
    html = client_for(analyst).get(f"/areas/{area.panel_id}/").content.decode()
    assert "problembild refresh" in html


def test_export_asks_for_reason_then_logs_and_matches_the_page(client_for, analyst, computed):
    area, _, _ = computed
    client = client_for(analyst)
    form = client.get(f"/areas/{area.panel_id}/export.csv")
    assert form.status_code == 200 and "Mottagare" in form.content.decode()
    response = client.get(
        f"/areas/{area.panel_id}/export.csv", {"reason": "Ärende 123", "recipient": "LPO Malmö"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    doc = AreaPicture.objects.get(area=area).data
    shootings = next(r for r in rows if r["Indikator"] == "Skjutningar")
    assert int(shootings["Antal 12 mån"]) == doc["year_figures"]["shootings"]["count"]
    entry = AccessLogEntry.objects.filter(action="export").latest("time")
    assert (entry.reason, entry.recipient) == ("Ärende 123", "LPO Malmö")
    xlsx = client.get("/export/overview.xlsx", {"reason": "r", "recipient": "x", "indicator": "shootings"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    headers = [c.value for c in sheet[3]]
    assert "Område" in headers and "Antal" in headers
    assert (
        client.get(f"/areas/{area.panel_id}/export.pdf", {"reason": "r", "recipient": "x"}).status_code == 404
    )


def test_monthly_export_and_print_page(client_for, analyst, computed):
    area, _, n = computed
    client = client_for(analyst)
    response = client.get(
        f"/areas/{area.panel_id}/export.csv", {"reason": "r", "recipient": "x", "table": "monthly"}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sum(int(r["Alla händelser"]) for r in rows) == n
    html = client.get(f"/areas/{area.panel_id}/print/", {"reason": "r", "recipient": "x"}).content.decode()
    assert "Skriv ut" in html and "Nyckeltal" in html


def test_foreign_area_export_is_forbidden(client_for, botkyrka_chief, computed):
    area, _, _ = computed
    response = client_for(botkyrka_chief).get(
        f"/areas/{area.panel_id}/export.csv", {"reason": "r", "recipient": "x"}
    )
    assert response.status_code == 403
    overview = client_for(botkyrka_chief).get("/export/overview.csv", {"reason": "r", "recipient": "x"})
    assert "Rosengård" not in overview.content.decode("utf-8-sig")


def test_unit_pages(client_for, analyst, botkyrka_chief, computed):
    area, _, _ = computed
    region = area.org_unit.parent.parent
    html = client_for(analyst).get(f"/units/{region.code}/").content.decode()
    assert "Rosengård" in html and "trend-chart" in html
    assert client_for(analyst).get("/units/nope/").status_code == 404
    assert client_for(botkyrka_chief).get(f"/units/{region.code}/").status_code == 403


def test_every_forecast_method_has_a_name():
    from problembild.analysis.forecast import METHODS
    from problembild.picture.methods import forecast_method_label

    for code in METHODS:
        label = forecast_method_label(code)
        assert label.endswith(f"({code})") and len(label) > len(code) + 3, code
    assert forecast_method_label("unknown") == "unknown" and forecast_method_label(None) == ""
