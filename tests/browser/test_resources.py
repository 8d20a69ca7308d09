"""A police-area manager's resources routine in the browser (issue 11's 'done when').

Sees which areas break the 1-per-5,000 rule, runs a scenario for the expected increase,
reads why each area gets what it gets, opens an area's week plan and exports the plan.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_police_area_manager_runs_a_scenario_and_exports_it(login, server):
    page = login("po.stockholm.syd")
    page.click("nav >> text=Resurser")
    page.wait_for_url(server + "/resources/units/5312/")
    rule = page.locator("#rule-areas")
    assert rule.locator("tbody tr").count() >= 4
    assert page.locator("#rule-summary").inner_text().strip()
    assert page.locator("#rule-units tbody tr").count() >= 2  # the police area and its local police areas
    page.wait_for_selector("#week-ratio[data-drawn] .main-svg")
    screenshot(page, "resources-unit")

    available = page.locator("#id_available").input_value()
    assert int(available) > 0  # the capacity plus the expected increase, filled in
    page.fill("#id_name", "Tillskott 2026")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_url("**/resources/scenarios/*/")
    allocation = page.locator("#allocation tbody tr")
    assert allocation.count() == rule.count() or allocation.count() >= 4
    first_reason = page.locator("#allocation tbody tr").first.locator("td").last.inner_text()
    assert "områdespolis" in first_reason
    facts = page.locator("#scenario-facts").inner_text()
    assert "proportionell avrundning" in facts

    page.select_option("#plan-area", index=0)
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#plan-chart[data-drawn] .main-svg")
    assert page.locator("#shifts tbody tr").count() >= 1
    screenshot(page, "resources-scenario")

    page.locator("p.exports a", has_text="CSV").first.click()
    page.fill("#id_reason", "Browser test")
    page.fill("#id_recipient", "CI")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {"Område", "Nuvarande", "Förslag", "Varför"} <= set(rows[0])
    assert sum(int(r["Förslag"]) for r in rows) <= int(available)


def test_another_regions_manager_is_refused(login, server):
    page = login("region.vast")
    response = page.goto(server + "/resources/units/5312/")
    assert response.status == 403
