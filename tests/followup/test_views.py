"""The follow-up pages as users see them: documents, the edit conflict, the assessment, activities, the report."""

from __future__ import annotations

import pytest

from problembild.areas.models import Area
from problembild.core import roles
from problembild.core.models import AccessLogEntry
from problembild.followup.models import Activity, Delegate, PictureDocument

pytestmark = pytest.mark.django_db


def doc_url(doc, suffix=""):
    return f"/followup/areas/{doc.area.panel_id}/{doc.year}/{suffix}"


def edit_data(doc, **changes):
    data = {
        "version": str(doc.version),
        "status": doc.status,
        "summary": doc.summary,
        "dialogue": "",
        "challenges": "",
        "measures": "",
        "resources_plan": "",
    }
    for name in ("priorities", "promises", "partners", "meetings"):
        items = list(getattr(doc, name).all())
        data.update(
            {
                f"{name}-TOTAL_FORMS": str(len(items)),
                f"{name}-INITIAL_FORMS": str(len(items)),
                f"{name}-MIN_NUM_FORMS": "0",
                f"{name}-MAX_NUM_FORMS": "1000",
            }
        )
        for i, item in enumerate(items):
            data[f"{name}-{i}-id"] = str(item.pk)
            if name == "priorities":
                data.update(
                    {
                        f"{name}-{i}-rank": str(item.rank),
                        f"{name}-{i}-title": item.title,
                        f"{name}-{i}-description": item.description,
                    }
                )
                for code in item.indicators:
                    data.setdefault(f"{name}-{i}-indicators", code)
            elif name == "promises":
                data.update(
                    {
                        f"{name}-{i}-commitment": item.commitment,
                        f"{name}-{i}-owners": item.owners,
                        f"{name}-{i}-status": item.status,
                        f"{name}-{i}-deadline": item.deadline.isoformat() if item.deadline else "",
                    }
                )
    data.update(changes)
    return data


def test_document_page_shows_figures_priorities_and_flags(client_for, chief, alby_doc):
    text = client_for(chief).get(doc_url(alby_doc)).content.decode()
    assert "Narkotikahandel" in text and "Bilbränder" in text and "ingen aktivitet" in text
    assert "ingen återkoppling" in text
    assert 'id="assessment-link"' not in text  # the chief is no intelligence role


def test_chief_starts_next_year_from_this(client_for, chief, alby_doc):
    client = client_for(chief)
    assert client.get(doc_url(alby_doc).replace("/2025/", "/2026/")).status_code == 404
    response = client.post(doc_url(alby_doc, "start/").replace("/2025/", "/2026/"))
    assert response.status_code == 302
    new = PictureDocument.objects.get(area=alby_doc.area, year=2026)
    assert new.previous == alby_doc and new.summary == alby_doc.summary
    assert [p.title for p in new.priorities.all()] == ["Narkotikahandel", "Bilbränder"]
    assert new.promises.count() == 1  # open promises carry over


def test_edit_saves_with_history_and_a_conflict_is_never_silent(client_for, chief, make_user, alby_doc):
    other = make_user("delegate", roles.READ_ONLY, "5312-botkyrka")
    Delegate.objects.create(org_unit=alby_doc.area.org_unit, user=other)
    first, second = client_for(chief), None
    opened = edit_data(alby_doc, summary="Chefens text.")
    from django.test import Client

    second = Client()
    second.force_login(other)
    assert second.get(doc_url(alby_doc, "edit/")).status_code == 200
    theirs = edit_data(alby_doc, summary="Ombudets text.")
    # The chief saves first ...
    assert first.post(doc_url(alby_doc, "edit/"), opened).status_code == 302
    alby_doc.refresh_from_db()
    assert alby_doc.summary == "Chefens text." and alby_doc.version == 2
    # ... the delegate's save of version 1 is refused with both texts shown, nothing overwritten.
    response = second.post(doc_url(alby_doc, "edit/"), theirs)
    text = response.content.decode()
    assert response.status_code == 200 and 'id="edit-conflict"' in text
    assert "Chefens text." in text and "Ombudets text." in text
    alby_doc.refresh_from_db()
    assert alby_doc.summary == "Chefens text."
    # Saving again (the form now carries version 2) is a deliberate overwrite.
    again = dict(theirs, version="2")
    assert second.post(doc_url(alby_doc, "edit/"), again).status_code == 302
    alby_doc.refresh_from_db()
    assert alby_doc.summary == "Ombudets text." and alby_doc.version == 3
    history = list(alby_doc.history.order_by("history_date").values_list("summary", "history_user__username"))
    assert history[-2:] == [("Chefens text.", "chief"), ("Ombudets text.", "delegate")]


def test_only_the_chief_or_delegates_edit(client_for, analyst, make_user, alby_doc):
    assert client_for(analyst).get(doc_url(alby_doc, "edit/")).status_code == 403
    manager = make_user("region", roles.REGION_MANAGER, "5300")
    assert client_for(manager).post(doc_url(alby_doc, "edit/"), edit_data(alby_doc)).status_code == 403


def test_assessment_is_for_intelligence_roles_and_every_read_is_logged(
    client_for, chief, coordinator, alby_doc
):
    url = doc_url(alby_doc, "assessment/")
    assert client_for(chief).get(url).status_code == 403
    client = client_for(coordinator)
    assert client.post(url, {"text": "Hemlig bedömning."}).status_code == 302
    before = AccessLogEntry.objects.filter(object_type="followup.assessment").count()
    page = client.get(url)
    assert page.status_code == 200 and "Hemlig bedömning." in page.content.decode()
    assert AccessLogEntry.objects.filter(object_type="followup.assessment").count() == before + 1
    # Never on the document page, its print or the API.
    for path in (
        doc_url(alby_doc),
        doc_url(alby_doc, "print/"),
        f"/api/followup/areas/{alby_doc.area.panel_id}/documents/2025",
    ):
        assert "Hemlig bedömning." not in client.get(path).content.decode()


def test_activity_form_and_export(client_for, chief, alby_doc):
    client = client_for(chief)
    priority = alby_doc.priorities.get(rank=2)
    from problembild.followup.models import Method

    method = Method.objects.get(code="hot_spot_policing")
    response = client.post(
        "/followup/activities/",
        {
            "area": alby_doc.area.pk,
            "method": method.pk,
            "date": "2025-12-01",
            "hours": "3",
            "officers": "2",
            "priority": priority.pk,
        },
    )
    assert response.status_code == 302
    assert Activity.objects.filter(priority=priority).count() == 1
    # An area outside the chief's scope is not among the form's choices: refused, nothing saved.
    rosengard = Area.objects.get(name="Rosengård")
    bad = client.post(
        "/followup/activities/",
        {"area": rosengard.pk, "method": method.pk, "date": "2025-12-01", "hours": "3", "officers": "1"},
    )
    assert bad.status_code == 200 and Activity.objects.count() == 4  # Rosengård is not the chief's
    export = client.get("/followup/activities/export.csv?reason=t&recipient=t")
    assert export.status_code == 200 and "hot_spot_policing" in export.content.decode("utf-8-sig")


def test_unit_strategy_methods_and_report_pages(client_for, chief, alby_doc):
    client = client_for(chief)
    unit = client.get("/followup/units/5312-botkyrka/").content.decode()
    assert "Bilbränder" in unit and 'id="flags"' in unit
    assert client.get("/followup/strategy/?unit=5312-botkyrka").status_code == 200
    assert "EMMIE" in client.get("/followup/methods/").content.decode()
    report = client.get("/followup/units/5312-botkyrka/reports/2025Q4/")
    assert report.status_code == 200 and "Narkotikahandel" in report.content.decode()
    assert client.get("/followup/units/5312-botkyrka/reports/2025Q9/").status_code == 404
    assert client.get("/followup/units/5600/reports/2025Q4/").status_code == 403


def test_report_pdf(client_for, chief, alby_doc):
    from io import BytesIO

    from pypdf import PdfReader

    response = client_for(chief).get(
        "/followup/units/5312-botkyrka/reports/2025Q4/pdf/?reason=uppföljning&recipient=ledningen"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    assert "Kvartalsuppföljning 2025Q4" in text and "Narkotikahandel" in text
    assert AccessLogEntry.objects.filter(action="export", recipient="ledningen").exists()


def test_document_pdf_without_the_assessment(client_for, coordinator, alby_doc):
    from io import BytesIO

    from pypdf import PdfReader

    from problembild.followup.models import Assessment

    Assessment.objects.create(document=alby_doc, text="Hemlig bedömning.")
    client = client_for(coordinator)
    asked = client.get(doc_url(alby_doc, "pdf/"))
    assert asked.status_code == 200 and b"export-form" in asked.content  # reason and recipient first
    response = client.get(doc_url(alby_doc, "pdf/") + "?reason=samverkan&recipient=kommunen")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    assert "Narkotikahandel" in text and "Hemlig" not in text
    assert AccessLogEntry.objects.filter(action="export", recipient="kommunen").exists()
