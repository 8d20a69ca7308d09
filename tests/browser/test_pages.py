import csv
import io
import re
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_login_and_the_overview_map_draws_the_2023_polygons(login, server):
    page = login("admin")
    page.wait_for_selector("#map[data-loaded]")
    assert page.get_attribute("#map", "data-loaded") == "59"
    assert page.locator("#map path[data-panel-id]").count() == 59
    screenshot(page, "overview")


def test_filtering_by_region_changes_the_table(login):
    page = login("admin")
    before = page.locator("#register tbody tr").count()
    page.select_option("select[name=region]", label="Syd")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"region=5600"))
    after = page.locator("#register tbody tr").count()
    assert before == 59 and after == 9
    assert page.locator("#register tbody", has_text="Rosengård").count() == 1


def test_user_of_another_unit_gets_403_for_a_foreign_area(login, server):
    page = login("lpo.botkyrka")
    page.goto(server + "/")
    assert page.locator("#register tbody tr", has_text="Rosengård").count() == 0
    response = page.goto(server + "/areas/48/")  # Rosengård lies outside Botkyrka
    assert response.status == 403


def test_english_switch(login):
    page = login("admin")
    page.click("form.lang button")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("nav").first.inner_text().find("Overview") >= 0


def test_area_page_shows_charts_and_hot_spot_map(login, server):
    page = login("admin")
    page.goto(server + "/areas/48/")  # Rosengård
    page.wait_for_selector("#trend-chart[data-drawn=all] .main-svg")
    page.wait_for_selector("#how-chart[data-drawn=all] .main-svg")
    page.wait_for_selector("#map[data-hotspots]")
    assert int(page.get_attribute("#map", "data-hotspots")) > 0
    page.select_option("#trend-indicator", "violence_public")
    page.wait_for_selector("#trend-chart[data-drawn=violence_public]")
    assert page.locator("#key-figures tbody tr").count() == 9
    assert page.locator(".tag.synthetic").count() >= 1
    screenshot(page, "area")


def test_export_downloads_a_csv_whose_figures_match_the_page(login, server):
    page = login("admin")
    page.goto(server + "/?indicator=all&period=12m")
    row = page.locator("#register tbody tr", has_text="Rosengård")
    shown = row.locator("td[data-col=count]").inner_text().strip()
    page.click("a[data-export=csv]")
    page.fill("#id_reason", "Browser test")
    page.fill("#id_recipient", "CI")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = {r["Område"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["Rosengård"]["Antal"] == shown
    screenshot(page, "export")


def test_unit_page_and_feed(login, server):
    page = login("admin")
    page.goto(server + "/units/5600/")
    page.wait_for_selector("#trend-chart[data-drawn] .main-svg")
    assert page.locator("#unit-areas tbody tr").count() == 9
    screenshot(page, "region")
    page.goto(server + "/feed/")
    page.wait_for_selector("#feed-map .leaflet-interactive")
    assert page.locator("#feed-table tbody tr").count() > 100
    screenshot(page, "feed")
