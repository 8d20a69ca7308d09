"""The competence pages as each role sees them: HR, Noa, the coordinator, a manager, others."""

from __future__ import annotations

from datetime import date

import pytest

from problembild.competence.models import Assessment, RoleProfile, TrainingPlan
from problembild.core import roles
from problembild.core.models import AccessLogEntry

pytestmark = pytest.mark.django_db
ON = "on=2026-12-01"


def test_hr_reads_the_national_training_needs_and_exports_them(client_for, hr, world):
    client = client_for(hr)
    page = client.get(f"/competence/needs/?{ON}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Områdespolis" in text and 'id="needs-data"' in text
    assert page.context["staff"] == 3 and page.context["meets"] == 1
    rows = {r["unit"].code: r for r in page.context["table"].data.data}
    assert rows["5300"]["staff"] == 2
    export = client.get(f"/competence/needs/?{ON}&format=csv&reason=review&recipient=hr")
    assert export.status_code == 200
    body = export.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("Enhet,Personal,Uppfyller profilen")
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT, user=hr).exists()
    every = client.get(f"/competence/needs/?{ON}&role=all")
    assert every.context["staff"] == 4


def test_the_unit_page_shows_gaps_coverage_and_people_to_hr(client_for, hr, world):
    client = client_for(hr)
    page = client.get(f"/competence/units/5312-botkyrka/?{ON}")
    assert page.status_code == 200
    text = page.content.decode()
    for anchor in (
        'id="competence-gaps"',
        'id="competence-coverage"',
        'id="competence-people"',
        'id="plan-form"',
    ):
        assert anchor in text
    assert "/competence/staff/A2/" in text
    for table in ("competences", "units", "coverage", "people"):
        response = client.get(f"/competence/units/5312/export.csv?{ON}&table={table}&reason=t&recipient=t")
        assert response.status_code == 200, table


def test_noa_reads_counts_but_not_people(client_for, analyst, world):
    client = client_for(analyst)
    page = client.get(f"/competence/units/5312-botkyrka/?{ON}")
    assert page.status_code == 200
    assert 'id="competence-people"' not in page.content.decode()
    assert client.get("/competence/staff/A2/").status_code == 403
    assert (
        client.get(f"/competence/units/5312/export.csv?{ON}&table=people&reason=t&recipient=t").status_code
        == 403
    )


def test_a_coordinator_is_one_click_from_their_gap_list_and_sees_no_one_else(client_for, coordinator, world):
    client = client_for(coordinator)
    menu = client.get("/")
    assert b'href="/competence/"' in menu.content
    landing = client.get("/competence/", follow=True)
    assert landing.redirect_chain[-1][0] == "/competence/staff/IC1/"
    text = client.get(f"/competence/staff/IC1/?{ON}").content.decode()
    assert 'id="gap-list"' in text and "Analysmetoder" in text
    assert client.get("/competence/staff/A1/").status_code == 403
    assert client.get("/competence/units/5312-botkyrka/").status_code == 403
    assert client.get("/competence/needs/").status_code == 403
    # They read but do not assess themselves.
    assert 'id="assess"' not in text
    response = client.post(
        "/competence/staff/IC1/assess/", {"competence": 1, "level": 4, "assessed": "2026-01-01"}
    )
    assert response.status_code == 403


def test_a_read_only_user_without_a_record_has_no_competence_menu(client_for, make_user, world):
    user = make_user("reader", roles.READ_ONLY, "SE")
    client = client_for(user)
    assert b'href="/competence/"' not in client.get("/").content
    assert client.get("/competence/").status_code == 403


def test_a_manager_records_an_assessment_with_history(client_for, botkyrka_chief, world):
    client = client_for(botkyrka_chief)
    collab = Assessment.objects.filter(competence__code="collaboration").first().competence
    response = client.post(
        "/competence/staff/A1/assess/",
        {"competence": collab.pk, "level": 3, "assessed": "2026-11-30", "note": "ok"},
    )
    assert response.status_code == 302
    made = Assessment.objects.get(staff=world["A1"], assessed=date(2026, 11, 30))
    assert (made.level, made.assessor) == (3, botkyrka_chief.username)
    assert made.history.first().history_user == botkyrka_chief
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE, user=botkyrka_chief).exists()
    page = client.get(f"/competence/staff/A1/?{ON}")
    assert page.context["total_gap"] == 0
    future = client.post(
        "/competence/staff/A1/assess/", {"competence": collab.pk, "level": 3, "assessed": "2999-01-01"}
    )
    assert future.status_code == 302
    assert not Assessment.objects.filter(assessed=date(2999, 1, 1)).exists()
    # Väst is outside Botkyrka's scope.
    assert client.get("/competence/staff/V1/").status_code == 403


def test_noa_decides_a_new_profile_version_and_hr_may_not(client_for, analyst, hr, world):
    client = client_for(analyst)
    form = client.get("/competence/profiles/area_officer/new/")
    assert form.status_code == 200
    data = {"decided": "2026-12-01", "decided_by": "Noa", "criticality": "2.5", "note": ""}
    for field, value in form.context["form"].initial.items():
        data.setdefault(field, value)
    for name, field in form.context["form"].fields.items():
        if name.startswith("level_"):
            data[name] = field.initial
    conflict = next(n for n, f in form.context["form"].fields.items() if f.label == "Konflikthantering")
    data[conflict] = 3
    response = client.post("/competence/profiles/area_officer/new/", data)
    assert response.status_code == 302
    v3 = RoleProfile.objects.get(role="area_officer", version=3)
    assert v3.levels()[int(conflict.split("_")[1])] == 3
    assert RoleProfile.objects.get(role="area_officer", version=2).requirements.count() == 2  # unchanged
    assert client_for(hr).get("/competence/profiles/area_officer/new/").status_code == 403
    assert client.get("/competence/profiles/sheriff/new/").status_code == 404
    profiles = client.get("/competence/profiles/").content.decode()
    assert 'id="profile-matrix"' in profiles and "Konflikthantering" in profiles


def test_hr_computes_a_plan_compares_it_and_exports_it(client_for, hr, world):
    client = client_for(hr)
    response = client.post(
        "/competence/units/5312-botkyrka/plans/",
        {"name": "Botkyrka 2027", "period": 2027, "budget": "", "max_days_per_person": 10, "away_share": 0.05,
         "expiry_weight": 1.5, "role": ""},
    )  # fmt: skip
    assert response.status_code == 302
    plan = TrainingPlan.objects.get()
    assert response.url == f"/competence/plans/{plan.pk}/"
    page = client.get(response.url)
    text = page.content.decode()
    assert 'id="plan-comparison"' in text and 'id="plan-assignments"' in text
    assert plan.result["gap_closed"] >= max(plan.result["baselines"].values())
    for table in ("assignments", "courses", "groups"):
        export = client.get(f"/competence/plans/{plan.pk}/export.xlsx?table={table}&reason=t&recipient=t")
        assert export.status_code == 200, table
    bad = client.post("/competence/units/5312-botkyrka/plans/", {"period": 1999})
    assert bad.status_code == 302 and not TrainingPlan.objects.filter(period=1999).exists()


def test_a_plan_for_a_year_without_rounds_says_why(client_for, hr, world):
    client = client_for(hr)
    response = client.post(
        "/competence/units/5312-botkyrka/plans/",
        {"period": 2030, "max_days_per_person": 10, "away_share": 0.05, "expiry_weight": 1.5},
        follow=True,
    )
    assert "no course rounds start in 2030" in response.content.decode()


def test_courses_page_and_export(client_for, hr, world):
    client = client_for(hr)
    page = client.get("/competence/courses/")
    assert page.status_code == 200 and "2027-03-01" in page.content.decode()
    assert client.get("/competence/courses/export.csv?reason=t&recipient=t").status_code == 200


def test_hr_imports_staff_on_the_import_page_but_not_incidents(client_for, hr):
    client = client_for(hr)
    page = client.get("/import/")
    assert page.status_code == 200
    kinds = [code for code, _label in page.context["form"].fields["kind"].choices]
    assert kinds == ["staff", "competence-assessments", "courses", "course-completions"]
    assert b'href="/import/"' in client.get("/").content


def test_every_export_link_on_the_pages_downloads(client_for, hr, world):
    """The links the pages show (not URLs written by hand) lead to their exports."""
    import re

    from problembild.competence.planning import PlanParameters, run_plan
    from problembild.core.models import OrgUnit

    plan = run_plan(OrgUnit.objects.get(code="5312-botkyrka"), 2027, PlanParameters())
    client = client_for(hr)
    pages = [f"/competence/units/5312-botkyrka/?{ON}", f"/competence/staff/A1/?{ON}", f"/competence/plans/{plan.pk}/",
             "/competence/courses/", f"/competence/needs/?{ON}"]  # fmt: skip
    seen = 0
    for url in pages:
        text = client.get(url).content.decode()
        for block in re.findall(r'<p class="exports">(.*?)</p>', text, re.S):
            for href in re.findall(r'href="([^"]+)"', block):
                link = href.replace("&amp;", "&")
                if link.startswith("?"):
                    link = url.split("?")[0] + link
                response = client.get(link + "&reason=t&recipient=t")
                assert response.status_code == 200 and response["Content-Disposition"].startswith(
                    "attachment"
                ), link
                seen += 1
    assert seen == 2 * (3 + 1 + 3 + 1 + 1)  # Botkyrka has no unit below it: no per-unit table


@pytest.mark.parametrize(
    ("table", "element"),
    [
        ("competences", "competence-gaps"),
        ("coverage", "competence-coverage"),
        ("people", "competence-people"),
    ],
)
def test_unit_page_and_its_exports_have_the_same_columns(client_for, hr, world, table, element):
    from tests.test_exports import export_headers, page_headers

    client = client_for(hr)
    url = "/competence/units/5312-botkyrka/"
    assert export_headers(client, f"{url}export.csv", {"table": table}) == page_headers(client, url, element)
