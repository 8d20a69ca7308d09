"""The audit workflow over HTTP: owners update with evidence, auditors verify or reopen, leadership reads
the status report (also for a past date), and forbidden or disguised uploads are refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from typer.testing import CliRunner

from problembild.audit.models import Evidence, Measure
from problembild.cli import app
from problembild.core.models import AccessLogEntry

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _evidence_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def act(client, measure, action, text=""):
    measure.refresh_from_db()
    return client.post(
        f"/audit/measures/{measure.pk}/action/", {"action": action, "version": measure.version, "text": text}
    )


def test_owner_updates_with_evidence_and_the_auditor_verifies(client_for, botkyrka_chief, auditor, audit):
    owner, m = client_for(botkyrka_chief), audit["own"]
    page = owner.get(f"/audit/measures/{m.pk}/").content.decode()
    assert 'id="action-start"' in page and 'id="action-verify"' not in page
    assert act(owner, m, "start").status_code == 302
    refused = act(owner, m, "complete")
    assert refused.status_code == 302
    m.refresh_from_db()
    assert m.status == "ongoing"  # no evidence yet
    upload = SimpleUploadedFile("protokoll.pdf", PDF, content_type="application/pdf")
    owner.post(f"/audit/measures/{m.pk}/evidence/", {"kind": "file", "file": upload})
    owner.post(f"/audit/measures/{m.pk}/evidence/", {"kind": "link", "link": "/followup/evaluations/"})
    assert m.evidence.count() == 2
    act(owner, m, "complete")
    m.refresh_from_db()
    assert m.status == "done"
    act(owner, m, "verify")
    m.refresh_from_db()
    assert m.status == "done"  # owners do not verify
    checker = client_for(auditor)
    assert 'id="action-verify"' in checker.get(f"/audit/measures/{m.pk}/").content.decode()
    act(checker, m, "verify", "Protokollet visar beslutet")
    m.refresh_from_db()
    assert m.status == "verified"
    act(checker, m, "reopen")
    m.refresh_from_db()
    assert m.status == "verified"  # a reason is required
    act(checker, m, "reopen", "Återkopplingen saknas")
    m.refresh_from_db()
    assert m.status == "ongoing"
    history = checker.get(f"/audit/measures/{m.pk}/").content.decode()
    assert "Återkopplingen saknas" in history and botkyrka_chief.username in history
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE, user=auditor).count() == 2


def test_a_stale_form_is_refused_and_says_so(client_for, botkyrka_chief, audit):
    owner, m = client_for(botkyrka_chief), audit["own"]
    old = m.version
    act(owner, m, "start")
    response = owner.post(
        f"/audit/measures/{m.pk}/action/", {"action": "decline", "version": old, "text": "x"}, follow=True
    )
    assert "medan du hade den öppen" in response.content.decode()
    m.refresh_from_db()
    assert m.status == "ongoing"
    edit = owner.post(
        f"/audit/measures/{m.pk}/edit/",
        {"title": "Ny", "description": "", "deadline": "2030-01-01", "version": old},
    )
    assert edit.status_code == 302
    m.refresh_from_db()
    assert m.title == "Medborgarlöften"
    ok = owner.post(
        f"/audit/measures/{m.pk}/edit/",
        {"title": "Ny rubrik", "description": "", "deadline": "2030-01-01", "version": m.version},
    )
    assert ok.status_code == 302
    m.refresh_from_db()
    assert (m.title, str(m.deadline)) == ("Ny rubrik", "2030-01-01")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("rapport.pdf", b"<html><script>alert(1)</script></html>"),  # HTML disguised as PDF
        ("rapport.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60),  # an executable disguised as PDF
        ("bild.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("program.exe", PDF),  # a PDF with a forbidden extension
    ],
)
def test_forbidden_and_disguised_uploads_are_refused(client_for, botkyrka_chief, audit, name, content):
    owner, m = client_for(botkyrka_chief), audit["own"]
    response = owner.post(
        f"/audit/measures/{m.pk}/evidence/",
        {"kind": "file", "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        follow=True,
    )
    assert "Filen togs inte emot" in response.content.decode()
    assert not Evidence.objects.exists()
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED, user=botkyrka_chief).exists()


def test_evidence_files_are_downloads_only_and_scoped(client_for, botkyrka_chief, make_user, audit):
    from problembild.core import roles

    owner, m = client_for(botkyrka_chief), audit["own"]
    owner.post(
        f"/audit/measures/{m.pk}/evidence/", {"kind": "file", "file": SimpleUploadedFile("b.pdf", PDF)}
    )
    evidence = Evidence.objects.get()
    response = owner.get(f"/audit/evidence/{evidence.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    assert (
        owner.post(
            f"/audit/measures/{audit['foreign'].pk}/evidence/", {"kind": "note", "text": "x"}
        ).status_code
        == 403
    )
    link = owner.post(f"/audit/measures/{m.pk}/evidence/", {"kind": "link", "link": "https://evil.example/"})
    assert link.status_code == 302 and Evidence.objects.count() == 1
    # The same client, now signed in as another region's manager.
    other = client_for(make_user("syd.chef", roles.REGION_MANAGER, "5600"))
    assert other.get(f"/audit/evidence/{evidence.pk}/file/").status_code == 403
    assert other.get(f"/audit/measures/{m.pk}/").status_code == 403


def test_dashboard_shows_overdue_due_soon_and_a_past_date(client_for, auditor, audit, botkyrka_chief):
    client = client_for(auditor)
    page = client.get("/audit/")
    assert page.context["summary"].overdue == 1 and page.context["summary"].due_soon == 1
    text = page.content.decode()
    assert 'id="reminders"' in text and "Medborgarlöften" in text
    m = audit["own"]
    act(client_for(botkyrka_chief), m, "start")
    created, started = m.history.order_by("history_date")
    created.history_date = timezone.now() - timedelta(days=60)
    created.save()
    started.history_date = timezone.now() - timedelta(days=10)
    started.save()
    then = (timezone.localdate() - timedelta(days=30)).isoformat()
    past = client.get(f"/audit/?on={then}")
    assert 'id="as-of"' in past.content.decode()
    assert past.context["summary"].counts["ongoing"] == 0 and past.context["summary"].total == 1
    assert client.get("/audit/").context["summary"].counts["ongoing"] == 1
    chief = client_for(botkyrka_chief).get("/audit/")
    assert "Rosengård plan" not in chief.content.decode()


def test_leadership_reads_the_status_report_as_html_pdf_and_excel(client_for, leader, auditor, audit):
    client = client_for(leader)
    html = client.get("/audit/report/")
    assert html.status_code == 200 and 'id="report-summary"' in html.content.decode()
    pdf = client.get("/audit/report/pdf/?on=2026-01-01&reason=styrelse&recipient=rikspolischefen")
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    for table in ("measures", "reports", "recommendations", "owners"):
        xlsx = client.get(f"/audit/export.xlsx?table={table}&reason=t&recipient=t")
        assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK"), table
    assert client_for(auditor).get("/audit/report/pdf/?reason=t&recipient=t").status_code == 403


def test_api_status_and_measure(client_for, botkyrka_chief, auditor, audit):
    data = client_for(auditor).get("/api/audit/status").json()
    assert data["total"] == 3 and data["overdue"] == 1 and data["counts"]["planned"] == 3
    mine = client_for(botkyrka_chief).get("/api/audit/status").json()
    assert {m["title"] for m in mine["measures"]} == {"Medborgarlöften", "Trygghetsvandringar"}
    assert client_for(botkyrka_chief).get(f"/api/audit/measures/{audit['foreign'].pk}").status_code == 403
    assert client_for(auditor).get("/api/audit/status?on=not-a-date").status_code == 422


def test_cli_reminders_and_status(audit):
    result = CliRunner().invoke(app, ["audit", "reminders", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [o["owner"] for o in data] == ["5312-botkyrka"]
    assert [m["days_overdue"] for m in data[0]["measures"]] == [10, None]
    status = json.loads(
        CliRunner()
        .invoke(app, ["audit", "status", "--as-of", timezone.localdate().isoformat(), "--json"])
        .output
    )
    assert status["counts"]["planned"] == 3 and status["overdue"] == 1
    assert CliRunner().invoke(app, ["audit", "status", "--as-of", "yesterday"]).exit_code == 2
    assert Measure.objects.count() == 3


def test_a_file_larger_than_the_evidence_limit_is_refused_and_a_deleted_record_takes_its_file(
    client_for, botkyrka_chief, audit, settings
):
    from problembild.core.uploads import path_of

    owner, m = client_for(botkyrka_chief), audit["own"]
    settings.EVIDENCE_MAX_MB = 1
    big = SimpleUploadedFile("stor.pdf", PDF + b"0" * (1024 * 1024))
    response = owner.post(f"/audit/measures/{m.pk}/evidence/", {"kind": "file", "file": big}, follow=True)
    assert "Filen togs inte emot" in response.content.decode() and not Evidence.objects.exists()
    owner.post(
        f"/audit/measures/{m.pk}/evidence/", {"kind": "file", "file": SimpleUploadedFile("a.pdf", PDF)}
    )
    evidence = Evidence.objects.get()
    path = path_of(evidence.file_key)
    assert path.is_file()
    evidence.delete()
    assert not path.exists()
