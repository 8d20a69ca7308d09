"""The assessment round in the browser (issue 16's 'done when', the steps a person does).

A local police area finishes and submits its answer with evidence; Noa decides with a reason
where the decision differs from the proposal and reads the agreement; the list diff of
2021 → 2023 shows the police's published changes and exports. (Publishing a whole national
list is covered end to end over HTTP in tests/assessment/test_round.py.)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_local_police_area_submits_and_noa_decides(login, server):
    page = login("lpo.botkyrka")
    page.click("nav >> text=Bedömning")
    page.wait_for_url(server + "/assessment/")
    page.click("#round-list a")
    page.wait_for_url("**/assessment/rounds/*/")
    rows = page.locator("#round-answers tbody tr")
    assert rows.count() == 4  # Botkyrka's own areas
    page.click("#round-answers >> text=Storvreten")
    page.wait_for_url("**/assessment/answers/*/")
    page.click("#evidence-add summary")
    page.fill("#evidence_text", "Lägesbild: öppen narkotikahandel vid centrum.")
    with page.expect_navigation():
        page.click("#evidence-add button[type=submit]")
    assert "öppen narkotikahandel" in page.locator("#answer-evidence").inner_text()
    for select in page.locator("#answer-form select[name^=m_]").all():
        select.select_option(index=2)
    page.select_option("#answer_direction", "stable")
    page.select_option("#answer_proposed_category", "utsatt område")
    page.check("#answer_municipality_participated")
    with page.expect_navigation():
        page.click("#answer-form button[value='1']")
    assert "Inlämnad" in page.locator("h1").inner_text()
    screenshot(page, "assessment-answer")
    url = page.url

    noa = login("noa.analytiker")
    noa.goto(url)
    noa.select_option("#id_category", "särskilt utsatt område")
    with noa.expect_navigation():
        noa.click("#decision-form button")
    assert "Beslutet sparades inte" in noa.locator(".messages").inner_text()
    noa.select_option("#id_category", "särskilt utsatt område")
    noa.fill("#id_reason", "Skjutningar i området under hösten.")
    with noa.expect_navigation():
        noa.click("#decision-form button")
    assert noa.locator("#round-agreement").count() == 1
    screenshot(noa, "assessment-round")


def test_the_list_diff_shows_the_published_changes_and_exports(login, server):
    page = login("noa.analytiker")
    page.goto(server + "/assessment/diff/?from_year=2021&to_year=2023")
    summary = page.locator("#diff-summary").inner_text()
    assert "61 områden 2021, 59 områden 2023" in summary and "4 tillkom" in summary and "6 utgick" in summary
    screenshot(page, "assessment-diff")
    page.locator("p.exports a", has_text="CSV").first.click()
    page.fill("#id_reason", "Browser test")
    page.fill("#id_recipient", "CI")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    assert sum(r["Förändring"] == "added" for r in rows) == 4
    assert sum(r["Förändring"] == "removed" for r in rows) == 6
