"""Audit follow-up in the browser (issue 15's 'done when').

An owner attaches evidence and marks a measure done (a disguised file is refused), an
auditor verifies it, and the leadership reads the status report for a past date and as PDF.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser
MEASURE = "Årlig lokal problembild med prioriteringar och aktiviteter per område"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _evidence(page, path: Path) -> None:
    page.click("#evidence-add summary")
    page.select_option("#evidence_kind", "file")
    page.set_input_files("#evidence_file", str(path))
    with page.expect_navigation():
        page.click("#evidence-add button[type=submit]")


def test_owner_completes_with_evidence_and_the_auditor_verifies(login, server, tmp_path):
    page = login("po.stockholm.syd")
    page.click("nav >> text=Revision")
    page.wait_for_url(server + "/audit/")
    assert page.locator("#audit-measures tbody tr").count() >= 1
    screenshot(page, "audit-dashboard")
    page.click(f"#audit-measures >> text={MEASURE}")
    page.wait_for_url("**/audit/measures/*/")
    url = page.url

    disguised = tmp_path / "protokoll.pdf"
    disguised.write_bytes(b"<html><script>alert(1)</script></html>")
    _evidence(page, disguised)
    assert "Filen togs inte emot" in page.locator(".messages").inner_text()
    real = tmp_path / "beslut.pdf"
    real.write_bytes(PDF)
    _evidence(page, real)
    assert page.locator("#audit-evidence", has_text="beslut.pdf").count() == 1
    with page.expect_navigation():
        page.click("#action-complete button")
    assert page.locator("#measure-status").inner_text() == "Genomförd"
    assert page.locator("#action-verify").count() == 0
    screenshot(page, "audit-measure")

    auditor = login("revisor")
    auditor.goto(url)
    auditor.fill("#verify_text", "Beslutet och protokollet visar genomförandet.")
    with auditor.expect_navigation():
        auditor.click("#action-verify button")
    assert auditor.locator("#measure-status").inner_text() == "Verifierad"
    assert "revisor" in auditor.locator(".audit-history").inner_text()


def test_leadership_reads_the_status_report_for_a_past_date(login, server):
    page = login("noa.analytiker")
    page.goto(server + "/audit/report/")
    page.fill("input[name=on]", "2019-01-01")
    with page.expect_navigation():
        page.click("form.filters button")
    summary = page.locator("#report-summary").inner_text()
    assert "av 9 åtgärder" in summary
    page.click("p.exports >> text=PDF")
    page.fill("#id_reason", "Ledningsgrupp")
    page.fill("#id_recipient", "Rikspolischefen")
    with page.expect_download() as info:
        page.click("form.export-form button[type=submit]")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
