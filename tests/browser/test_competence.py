"""Competence in the browser (issue 14's 'done when').

HR imports staff and assessments and reads the national training-needs report; a
coordinator reaches their gap list in one click; a plan is computed, compared with the
baselines and exported.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _import(page, server, kind: str, path: Path) -> str:
    """Upload, read the validation report, commit (the import page swaps its parts with htmx)."""
    page.goto(server + "/import/")
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[type=file]", str(path))
    page.click("form.import-form button[type=submit]")
    page.wait_for_selector("form.import-commit")
    page.click("form.import-commit button[type=submit]")
    return page.locator("p.import-done").inner_text()


def test_hr_imports_staff_and_assessments_and_reads_the_training_needs(login, server, tmp_path):
    page = login("hr.nationell")
    staff = tmp_path / "staff.csv"
    staff.write_text("id,role,unit,area\nBT-1,områdespolis,5312-botkyrka,Alby\n", encoding="utf-8")
    levels = tmp_path / "levels.csv"
    levels.write_text("staff,competence,level,date\nBT-1,conflict,0,2026-01-15\n", encoding="utf-8")
    for kind, path in (("staff", staff), ("competence-assessments", levels)):
        assert "1 godkända, 0 avvisade, 1 nya" in _import(page, server, kind, path)

    page.click("nav >> text=Kompetens")
    page.wait_for_url(server + "/competence/units/SE/")
    page.click("text=Utbildningsbehov")
    page.wait_for_url(server + "/competence/needs/")
    page.wait_for_selector("#needs-chart[data-drawn] .main-svg")
    regions = page.locator("#competence-units tbody tr")
    assert regions.count() >= 6
    conflict = page.locator("#competence-gaps tbody tr", has_text="Konflikthantering")
    assert int(conflict.locator("td").nth(2).inner_text()) >= 1
    screenshot(page, "competence-needs")

    page.goto(server + "/competence/staff/BT-1/")
    assert "Konflikthantering" in page.locator("#gap-list").inner_text()


def test_a_coordinator_reaches_their_gap_list_in_one_click(login, server):
    page = login("us.botkyrka")
    page.click("nav >> text=Kompetens")
    page.wait_for_url("**/competence/staff/*/")
    assert page.locator("h1").inner_text().startswith("EX-")
    assert page.locator("#person-gaps tbody tr").count() >= 1
    screenshot(page, "competence-person")


def test_hr_computes_a_plan_compares_it_and_exports_it(login, server):
    page = login("hr.nationell")
    page.goto(server + "/competence/units/5312/")
    page.fill("#plan_name", "Stockholm syd nästa år")
    page.fill("#plan_budget", "400000")
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    page.wait_for_url("**/competence/plans/*/")
    rows = page.locator("#plan-comparison tbody tr")
    assert rows.count() == 3
    closed = [float(rows.nth(i).locator("td").first.inner_text().replace(",", ".")) for i in range(3)]
    assert closed[0] >= max(closed[1:])
    screenshot(page, "competence-plan")

    page.locator("p.exports a", has_text="CSV").last.click()
    page.fill("#id_reason", "Browser test")
    page.fill("#id_recipient", "CI")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    places = list(csv.DictReader(io.StringIO(text)))
    assert places and {"Id", "Kurs", "Viktad brist som stängs"} <= set(places[0])
    assert sum(float(r["Kostnad (kr)"]) for r in places) <= 400000
