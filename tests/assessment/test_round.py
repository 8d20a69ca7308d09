"""The round end to end: Noa opens it, two local police areas answer with evidence and submit, Noa
decides with reasons where needed, the list is published and its diff shown; scoping and read-only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from problembild.areas.models import Area, AssessmentRound
from problembild.assessment import rounds
from problembild.assessment.models import Answer, Round
from problembild.core.models import AccessLogEntry

pytestmark = pytest.mark.django_db
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [[[17.90, 59.25], [17.92, 59.25], [17.92, 59.26], [17.90, 59.26], [17.90, 59.25]]],
}


def _answer(client, answer, **values):
    data = {"version": Answer.objects.get(pk=answer.pk).version, "direction": "negative",
            "proposed_category": "särskilt utsatt område", "m_organised": 3, "municipality_participated": "on",
            "municipality_note": "Kommunens trygghetssamordnare", **values}  # fmt: skip
    return client.post(f"/assessment/answers/{answer.pk}/", data)


def test_objective_values_and_what_they_give(round_open):
    alby = round_open.answers.get(area__name="Alby")
    assert alby.objective == {
        "employment": {"value": 52.0, "met": True},
        "education": {"value": 35.0, "met": True},
    }
    assert rounds.objective_category(alby) == "särskilt utsatt område"
    fittja = round_open.answers.get(area__name="Fittja")
    assert rounds.objective_category(fittja) is None  # no figures: nothing judged
    alby.proposed_category = "utsatt område"
    assert rounds.needs_reason(alby, "utsatt område") == [
        "differs from what the objective criteria alone give"
    ]
    assert rounds.needs_reason(alby, "särskilt utsatt område") == ["differs from the local proposal"]


def test_the_round_end_to_end(client_for, analyst, botkyrka_chief, syd_chief, round_open, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    rnd = round_open
    assert rnd.answers.count() == 59
    # Botkyrka answers Alby with evidence and submits; it cannot see Rosengård's answer.
    chief = client_for(botkyrka_chief)
    alby = rnd.answers.get(area__name="Alby")
    rosengard = rnd.answers.get(area__name="Rosengård")
    assert chief.get(f"/assessment/answers/{rosengard.pk}/").status_code == 403
    pdf = SimpleUploadedFile("underlag.pdf", b"%PDF-1.4\n%%EOF\n")
    chief.post(
        f"/assessment/answers/{alby.pk}/evidence/", {"criterion": "", "text": "Lägesbild", "file": pdf}
    )
    chief.post(f"/assessment/answers/{alby.pk}/evidence/", {"text": "", "link": "https://example.org/"})
    assert alby.evidence.count() == 1
    assert _answer(chief, alby, submit="1").status_code == 302
    alby.refresh_from_db()
    assert alby.status == "submitted" and alby.matrix == {"organised": 3}
    assert _answer(chief, alby).status_code == 403  # submitted: no more edits
    # Botkyrka proposes a new area with a boundary.
    bad = chief.post(
        f"/assessment/rounds/{rnd.pk}/propose/", {"name": "Ny", "boundary": '{"type": "Point"}'}, follow=True
    )
    assert "polygon" in bad.content.decode()
    new = chief.post(
        f"/assessment/rounds/{rnd.pk}/propose/",
        {"name": "Norsborg centrum", "boundary": json.dumps(BOUNDARY)},
    )
    proposed = Answer.objects.get(proposed_name="Norsborg centrum")
    assert new.url == f"/assessment/answers/{proposed.pk}/"
    _answer(chief, proposed, proposed_category="utsatt område", submit="1")
    # A second local police area, in another region, submits Rosengård.
    syd = client_for(syd_chief)
    assert syd.get(f"/assessment/answers/{alby.pk}/").status_code == 403
    _answer(syd, rosengard, submit="1")
    assert Answer.objects.filter(status="submitted").count() == 3
    # Noa decides: a deviation from the proposal needs a reason.
    noa = client_for(analyst)
    page = noa.get(f"/assessment/answers/{alby.pk}/").content.decode()
    assert 'id="decision-form"' in page and "underlag.pdf" in page
    noa.post(f"/assessment/answers/{alby.pk}/decide/", {"category": "utsatt område", "reason": ""})
    assert not hasattr(Answer.objects.get(pk=alby.pk), "decision")
    noa.post(
        f"/assessment/answers/{alby.pk}/decide/",
        {"category": "utsatt område", "reason": "Minskad brottslighet"},
    )
    noa.post(f"/assessment/answers/{rosengard.pk}/decide/", {"category": "särskilt utsatt område"})
    noa.post(f"/assessment/answers/{proposed.pk}/decide/", {"category": "utsatt område"})
    assert Answer.objects.filter(decision__isnull=False).count() == 3
    # Publishing needs every answer decided; after the deadline Noa decides the rest too.
    refused = noa.post(f"/assessment/rounds/{rnd.pk}/publish/", follow=True)
    assert "decide every answer first" in refused.content.decode()
    Round.objects.filter(pk=rnd.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    rnd.refresh_from_db()
    for answer in rnd.answers.filter(decision__isnull=True).select_related("area"):
        latest = answer.area.classifications.order_by("-round__year").first().category
        category = latest if latest in rnd.criteria_set.categories else "utsatt område"
        rounds.decide(answer, category, "Inget svar kom in; kategorin behålls.", analyst)
    agreement = noa.get(f"/assessment/rounds/{rnd.pk}/").context["agreement"]
    assert agreement is not None
    published = noa.post(f"/assessment/rounds/{rnd.pk}/publish/")
    assert published.url == "/assessment/diff/?from_year=2023&to_year=2025"
    register = AssessmentRound.objects.get(year=2025)
    assert register.categories == ["utsatt område", "särskilt utsatt område"]
    assert register.classifications.count() == 60
    new_area = Area.objects.get(name="Norsborg centrum")
    assert new_area.shape is not None and new_area.org_unit == alby.org_unit
    diff = noa.get(published.url)
    assert "Norsborg centrum" in diff.content.decode()
    # The published round is read-only.
    rnd.refresh_from_db()
    assert rnd.read_only
    with pytest.raises(rounds.RoundError, match="read-only"):
        rounds.decide(rosengard, "utsatt område", "x", analyst)
    assert AccessLogEntry.objects.filter(user=analyst, action=AccessLogEntry.Action.CHANGE).count() >= 4


def test_only_noa_opens_decides_and_publishes(client_for, botkyrka_chief, analyst, criteria):
    chief = client_for(botkyrka_chief)
    data = {"criteria_set": criteria.pk, "deadline": "2030-01-01", "cutoff": "2025-01-01"}
    assert chief.post("/assessment/rounds/open/", data).status_code == 403
    noa = client_for(analyst)
    response = noa.post("/assessment/rounds/open/", data)
    rnd = Round.objects.get()
    assert response.url == f"/assessment/rounds/{rnd.pk}/"
    again = noa.post("/assessment/rounds/open/", data, follow=True)
    assert "already open" in again.content.decode() and Round.objects.count() == 1
    chief = client_for(botkyrka_chief)
    answer = rnd.answers.filter(org_unit__code="5312-botkyrka").first()
    assert (
        chief.post(f"/assessment/answers/{answer.pk}/decide/", {"category": "utsatt område"}).status_code
        == 403
    )
    assert chief.post(f"/assessment/rounds/{rnd.pk}/publish/").status_code == 403
    round_page = chief.get(f"/assessment/rounds/{rnd.pk}/")
    assert round_page.context["counts"]["answers"] == 4  # Botkyrka's own areas only


def test_submit_says_what_is_missing(round_open, botkyrka_chief):
    answer = round_open.answers.get(area__name="Fittja")
    with pytest.raises(rounds.RoundError, match=r"Organiserad brottslighet.*direction"):
        rounds.submit(answer, botkyrka_chief)


def test_diff_page_exports_and_api(client_for, analyst, botkyrka_chief):
    noa = client_for(analyst)
    page = noa.get("/assessment/diff/")
    assert page.status_code == 200 and page.context["national"]["removed"] == 6
    assert 'id="diff-changes"' in page.content.decode()
    csv = noa.get(
        "/assessment/diff/export.csv?from_year=2021&to_year=2023&table=changes&reason=t&recipient=t"
    )
    assert csv.status_code == 200 and len(csv.content.decode("utf-8-sig").splitlines()) == 1 + 65
    printed = noa.get("/assessment/diff/?print=1")
    assert printed.status_code == 200 and "<header" not in printed.content.decode()
    data = client_for(botkyrka_chief).get("/api/assessment/diff?from_year=2021&to_year=2023").json()
    names = {i["name"] for kind in ("added", "removed", "raised", "lowered", "unchanged") for i in data[kind]}
    assert names == {"Alby", "Fittja", "Hallunda / Norsborg", "Storvreten"}
    assert noa.get("/api/assessment/diff?from_year=2021&to_year=2031").status_code == 404


def test_a_deleted_evidence_record_takes_its_file(round_open, botkyrka_chief, client_for, tmp_path, settings):
    from problembild.assessment.models import AnswerEvidence
    from problembild.core.uploads import path_of

    settings.DATA_DIR = tmp_path / "data"
    alby = round_open.answers.get(area__name="Alby")
    pdf = SimpleUploadedFile("underlag.pdf", b"%PDF-1.4\n%%EOF\n")
    client_for(botkyrka_chief).post(f"/assessment/answers/{alby.pk}/evidence/", {"text": "x", "file": pdf})
    item = AnswerEvidence.objects.get()
    path = path_of(item.file_key)
    assert path.is_file()
    round_open.delete()
    assert not path.exists()
