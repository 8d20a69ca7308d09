"""The scoping sweep: every page, export and API route, asked by a user of another unit.

The Botkyrka local police area chief asks for Rosengård (Malmö) and for the Syd region:
every route answers 403 or 404, or answers without Rosengård's data. The routes are
read from the URL configuration, so a new page is swept without being listed here; a
route with a parameter this sweep does not know fails until it is taught what to send.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from problembild.areas.models import Area
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db

#: Routes outside the sweep: Django's admin (staff only, its own permissions) and the
#: shell's login, logout and language switch, which show no data.
SKIP = re.compile(r"^(admin/|login/|logout/|i18n/)")
#: What the sweep sends for each path parameter: something of the other unit's.
FOREIGN = {
    "panel_id": None,
    "code": "5600",
    "fmt": "csv",
    "token": "0" * 32,
    "month": "2024-06",
    "year": "2024",
    "quarter": "2024Q4",
    "pseudonym": "SYD-1",
    "role": "area_officer",
}


def routes(patterns=None, prefix: str = ""):
    """(route, pattern) of every URL pattern, with Django's and ninja's parameters as ``<name>``."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route.lstrip("^").rstrip("$"), p


def fill(
    route: str,
    rosengard: Area,
    scenario: int = 0,
    plan: int = 0,
    audit: tuple[int, int] = (0, 0),
    assessment: tuple[int, int, int] = (0, 0, 0),
) -> str:
    values = {
        **FOREIGN,
        "measure_id": str(audit[0]),
        "round_id": str(assessment[0]),
        "answer_id": str(assessment[1]),
        "item_id": str(assessment[2]),
        "evidence_id": str(audit[1]),
        "panel_id": str(rosengard.panel_id),
        "pk": str(scenario),
        "scenario_id": str(scenario),
        "plan_id": str(plan),
    }

    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        assert name in values, f"the sweep does not know the parameter {name!r} of {route}"
        return values[name]

    return "/" + re.sub(r"<([^>]+)>", value, route)


@pytest.fixture
def computed(rosengard_data):
    refresh(options=RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2))
    return rosengard_data[0]


@pytest.fixture
def foreign_scenario(computed):
    """Malmö's staffing and a saved scenario of Syd: the sweep asks for them from Botkyrka."""
    from problembild.core.models import OrgUnit
    from problembild.resources.models import Staffing
    from problembild.resources.scenarios import Parameters, run_scenario

    Staffing.objects.create(
        area=computed, period=date(2024, 6, 1), officers=3, hours_outside=5, actual=[1.0] * 168
    )
    from problembild.followup.models import Activity, Method, PictureDocument, Priority
    from problembild.followup.seed import load_seed

    load_seed()
    doc = PictureDocument.objects.create(area=computed, year=2024, summary="Rosengård secret")
    Priority.objects.create(document=doc, rank=1, title="Rosengård priority")
    Activity.objects.create(
        area=computed, method=Method.objects.first(), date=date(2024, 11, 1), hours=2, note="Rosengård"
    )
    from problembild.followup.models import Evaluation

    Evaluation.objects.create(
        area=computed, indicator="all", start=date(2024, 6, 1), title="Rosengård evaluation"
    )
    return run_scenario(OrgUnit.objects.get(code="5600"), Parameters(available=5), name="Syd").pk


@pytest.fixture
def foreign_plan(computed):
    """A member of staff serving Rosengård and a training plan of Syd that places them."""
    from problembild.competence.catalogue import load_catalogue
    from problembild.competence.models import (
        Competence,
        Course,
        CourseOutcome,
        CourseRound,
        Requirement,
        RoleProfile,
        Staff,
    )
    from problembild.competence.planning import PlanParameters, run_plan
    from problembild.core.models import OrgUnit

    load_catalogue()
    conflict = Competence.objects.get(code="conflict")
    profile = RoleProfile.objects.create(role="area_officer", version=1, decided=date(2020, 1, 1))
    Requirement.objects.create(profile=profile, competence=conflict, level=2)
    course = Course.objects.create(code="k", name_sv="Konflikt", days=2, seats=5, cost=100)
    CourseOutcome.objects.create(course=course, competence=conflict, level=3)
    CourseRound.objects.create(course=course, starts=date(2027, 3, 1))
    Staff.objects.create(pseudonym="SYD-1", role="area_officer", org_unit=computed.org_unit, area=computed)
    return run_plan(OrgUnit.objects.get(code="5600"), 2027, PlanParameters(), name="Syd").pk


@pytest.fixture
def foreign_measure(db):
    """An audit measure of Syd about Rosengård, with evidence: (measure id, evidence id)."""
    from problembild.audit.models import AuditReport, Evidence, Measure, Recommendation
    from problembild.core.models import OrgUnit

    report = AuditReport.objects.create(reference="IR-SWEEP", title="Sweep", issued=date(2018, 6, 8))
    rec = Recommendation.objects.create(report=report, number=1, text="Sweep")
    measure = Measure.objects.create(
        recommendation=rec,
        title="Rosengård measure",
        owner=OrgUnit.objects.get(code="5600"),
        responsible_role="region_manager",
        deadline=date(2020, 1, 1),
    )
    evidence = Evidence.objects.create(measure=measure, kind="note", text="Rosengård evidence")
    return measure.pk, evidence.pk


@pytest.fixture
def foreign_answer(computed, tmp_path, settings):
    """An open round with Rosengård's answer and its evidence file: (round id, answer id, evidence id)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from problembild.assessment.models import AnswerEvidence, CriteriaSet
    from problembild.assessment.rounds import open_round
    from problembild.core.uploads import store

    settings.DATA_DIR = tmp_path / "data"
    cs = CriteriaSet.objects.create(year=2025, categories=["utsatt område"], decided=date(2024, 1, 1))
    rnd = open_round(cs, deadline=date(2100, 1, 1), cutoff=date(2025, 1, 1))
    answer = rnd.answers.get(area=computed)
    stored = store(SimpleUploadedFile("rosengard.pdf", "%PDF-1.4 Rosengård".encode()))
    item = AnswerEvidence.objects.create(
        answer=answer, text="Rosengård evidence", file_key=stored.key, file_name="rosengard.pdf",
        content_type=stored.content_type,
    )  # fmt: skip
    return rnd.pk, answer.pk, item.pk


def test_every_route_refuses_or_hides_another_units_area(
    client_for, botkyrka_chief, computed, foreign_scenario, foreign_plan, foreign_measure, foreign_answer
):
    client = client_for(botkyrka_chief)
    rosengard = computed
    swept = []
    for route, _pattern in routes():
        if SKIP.match(route):
            continue
        url = fill(route, rosengard, foreign_scenario, foreign_plan, foreign_measure, foreign_answer)
        for query in ("", "reason=sweep&recipient=sweep"):
            response = client.get(url + ("?" + query if query else ""))
            swept.append(url)
            assert response.status_code != 500, url
            if response.status_code in (403, 404, 405):
                continue
            assert response.status_code in (200, 302), (url, response.status_code)
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            assert "Rosengård" not in text, url
            assert (
                f'"panel_id": {rosengard.panel_id},' not in text
                and f'"panel_id":{rosengard.panel_id},' not in text
            ), url
    # The sweep reached the pages, the exports and the API.
    for expected in (
        "/areas/",
        "/export/overview.csv",
        "/feed/export.csv",
        "/api/areas/",
        "/api/units/",
        "/units/",
        "/resources/units/",
        "/resources/scenarios/",
        "/api/resources/",
        "/followup/units/",
        "/followup/areas/",
        "/followup/evaluations/",
        "/api/followup/",
        "/competence/units/",
        "/competence/staff/",
        "/competence/plans/",
        "/competence/needs/",
        "/api/competence/",
        "/audit/measures/",
        "/audit/evidence/",
        "/audit/report/",
        "/api/audit/",
        "/assessment/rounds/",
        "/assessment/answers/",
        "/assessment/evidence/",
        "/assessment/diff/",
        "/api/assessment/",
    ):
        assert any(u.startswith(expected) for u in swept), expected


def test_the_sweep_sees_every_app(botkyrka_chief):
    names = {p.lookup_str.split(".")[1] for _, p in routes() if p.lookup_str.startswith("problembild.")}
    assert {
        "core",
        "areas",
        "incidents",
        "picture",
        "resources",
        "followup",
        "competence",
        "audit",
        "assessment",
    } <= names
