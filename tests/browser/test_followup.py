"""The steering chain in the browser (issue 12's 'done when').

A local police area chief writes next year's problem picture from this year's and the computed
figures, sets a priority and a promise, logs an activity and reads the quarterly report (and its
PDF); two editors of the same document meet a conflict message instead of a silent overwrite; a
national analyst reads the strategy's status; a region sees which promises have gone quiet.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser


def last_line(output: str) -> str:
    """The snippet's own output (the shell may print a note on its imports before it)."""
    return output.strip().splitlines()[-1].strip()


def test_chief_writes_the_problem_picture_logs_an_activity_and_reads_the_report(login, server, manage):
    alby = last_line(
        manage("from problembild.areas.models import Area; print(Area.objects.get(name='Alby').panel_id)")
    ).strip()
    year = date.today().year + 1
    page = login("lpo.botkyrka")
    page.goto(f"{server}/followup/areas/{alby}/{year}/")
    page.click("#start-document")
    page.wait_for_url(f"**/followup/areas/{alby}/{year}/edit/")
    page.fill("#id_summary", "Nästa års problembild: narkotikahandeln har flyttat till gångtunneln.")
    rows = page.locator("#fs-priorities .formset-row")
    last = rows.last
    last.locator("input[name$='-rank']").fill("9")
    last.locator("input[name$='-title']").fill("Narkotikahandel i gångtunneln")
    last.locator("input[type=checkbox][value=drugs]").check()
    promise = page.locator("#fs-promises .formset-row").last
    promise.locator("input[name$='-commitment']").fill("Belysning i gångtunneln före oktober")
    page.click("#save-document")
    page.wait_for_url(f"**/followup/areas/{alby}/{year}/")
    assert "Narkotikahandel i gångtunneln" in page.locator("#priorities").inner_text()
    assert "Belysning i gångtunneln" in page.locator("#promises").inner_text()
    assert page.locator("#document-figures tbody tr").count() >= 1  # pulled from the computed picture
    screenshot(page, "followup-document")

    page.goto(f"{server}/followup/activities/")
    page.select_option("#activity_area", label="Alby")
    page.select_option("#activity_method", label="Hot spot-polisiering")
    page.fill("#activity_date", f"{year}-01-15")
    page.fill("#activity_hours", "3")
    page.select_option("#activity_priority", label=f"Alby {year}: Narkotikahandel i gångtunneln")
    with page.expect_navigation():
        page.click("#activity-form button[type=submit]")
    assert "Narkotikahandel i gångtunneln" in page.locator("#activities").inner_text()

    quarter = f"{date.today().year - 1}Q4"
    page.goto(f"{server}/followup/units/5312-botkyrka/reports/{quarter}/")
    assert page.locator("#report-priorities tbody tr").count() >= 1
    page.click("#report-pdf")
    page.fill("#id_reason", "Kvartalsuppföljning")
    page.fill("#id_recipient", "Polisområdesledningen")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")


def test_two_editors_meet_a_conflict_not_a_silent_overwrite(login, server, manage):
    alby = last_line(
        manage("from problembild.areas.models import Area; print(Area.objects.get(name='Fittja').panel_id)")
    ).strip()
    year = date.today().year
    url = f"{server}/followup/areas/{alby}/{year}/edit/"
    first, second = login("lpo.botkyrka"), login("lpo.botkyrka")
    first.goto(url)
    second.goto(url)
    first.fill("#id_summary", "Första redaktörens text.")
    first.click("#save-document")
    first.wait_for_url(re.compile(rf".*/followup/areas/{alby}/{year}/$"))
    second.fill("#id_summary", "Andra redaktörens text.")
    second.click("#save-document")
    alert = second.locator("#edit-conflict")
    alert.wait_for()
    assert (
        "Första redaktörens text." in alert.inner_text() and "Andra redaktörens text." in alert.inner_text()
    )
    screenshot(second, "followup-conflict")
    saved = manage(
        f"from problembild.followup.models import PictureDocument as D; print(D.objects.get(area__panel_id={alby}, year={year}).summary)"
    )
    assert last_line(saved) == "Första redaktörens text."


def test_national_analyst_reads_the_strategy_and_region_sees_quiet_promises(login, server):
    page = login("noa.analytiker")
    page.goto(f"{server}/followup/strategy/")
    assert page.locator("#strategy table.strategy tbody tr").count() >= 10
    assert "En närvarande polis" in page.locator("#strategy").inner_text()
    region = login("region.stockholm")
    region.goto(f"{server}/followup/units/5300/")
    flags = region.locator("#flags li")
    assert flags.count() >= 1
    assert "ingen återkoppling" in region.locator("#flags").inner_text()


def test_national_analyst_evaluates_a_measure(login, server):
    page = login("noa.analytiker")
    page.goto(f"{server}/followup/evaluations/")
    page.fill("#id_title", "Hot spot-närvaro i Alby")
    page.select_option("#id_area", label="Alby")
    page.select_option("#id_indicator", value="violence_public")
    page.fill("#id_start", f"{date.today().year - 2}-06")
    page.select_option("#id_method", value="synthetic_control")
    with page.expect_navigation():
        page.click("#evaluation-form button[type=submit]")
    page.wait_for_selector("#evaluation-chart[data-drawn] .main-svg")
    verdict = page.locator("#verdict").inner_text()
    assert "95 %" in verdict and ("slumpen" in verdict or "jämförelseområdena" in verdict)
    assert page.locator("#mde").inner_text().strip()
    screenshot(page, "followup-evaluation")
