"""The overview's cached fragment: same page, far fewer queries, invalidated by every change of its data."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from problembild.areas.choices import SARSKILT, UTSATT
from problembild.areas.models import Area, AssessmentRound, Classification, Population
from problembild.core.cache import register_changes
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.picture.models import AreaPicture, RefreshRun

pytestmark = pytest.mark.django_db


def page(client, path="/") -> str:
    """The page without what differs per request (CSRF token, CSP nonce)."""
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


def queries(client, path="/") -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


#: Tables only the table, map and history read: a cached request must not touch them.
FRAGMENT_TABLES = (
    "areas_classification",
    "areas_population",
    "picture_areapicture",
    "picture_indicatorvalue",
)


def admin_form_data(response) -> dict:
    """POST data of an admin change page as it stands (main form and inline formsets)."""
    data: dict = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def test_cached_page_equals_the_rendered_one_and_costs_far_fewer_queries(client_for, analyst):
    client = client_for(analyst)
    rendering = queries(client)  # renders and stores the fragment
    first = page(client)
    cached = queries(client)
    assert page(client) == first
    assert any(t in sql for sql in rendering for t in FRAGMENT_TABLES)
    assert not [sql for sql in cached if any(t in sql for t in FRAGMENT_TABLES)]
    # What is left: session, user, profile and roles, the data stamp, the filters, the log entry.
    assert len(cached) <= 12 and len(cached) < len(rendering), (len(cached), len(rendering))
    assert "59 områden" in first and "Rinkeby / Tensta" in first and "Klassningshistorik" in first


def test_every_request_is_logged_and_reports_ignored_filters(client_for, analyst):
    client = client_for(analyst)
    for _ in range(2):
        html = page(client, "/?region=9999&category=dangerous")
        assert "region=9999" in html and "category=dangerous" in html and "59 områden" in html
    entries = AccessLogEntry.objects.filter(username="noa", object_repr="overview (59 areas)")
    assert entries.count() == 2


def test_filters_and_query_string_are_part_of_the_key(client_for, analyst):
    client = client_for(analyst)
    assert "59 områden" in page(client)
    html = page(client, "/?region=5600")
    assert "9 områden" in html and "Rinkeby / Tensta" not in html
    assert "?region=5600" in html  # the export links carry the query
    assert "59 områden" in page(client)


def test_a_finished_refresh_invalidates(client_for, analyst):
    client = client_for(analyst)
    area = Area.objects.get(name="Rosengård")
    assert "4242" not in page(client)
    AreaPicture.objects.create(
        area=area, fingerprint="test", need_index=1.5, data={"year_figures": {"all": {"count": 4242}}}
    )
    run = RefreshRun.objects.create()
    assert "4242" not in page(client)  # a refresh that has not finished keeps the cached page
    run.finished_at = timezone.now()
    run.save()
    assert 'data-sort="4242" data-col="count"' in page(client)


def test_renaming_an_area_in_the_admin_invalidates(client_for, analyst, admin_user_pb):
    area = Area.objects.get(name="Alby")
    client = client_for(analyst)
    assert "Alby" in page(client)
    admin = client_for(admin_user_pb)
    form = admin.get(f"/admin/areas/area/{area.pk}/change/")
    data = admin_form_data(form)
    data["name"] = "Alby centrum"
    response = admin.post(f"/admin/areas/area/{area.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Area.objects.get(pk=area.pk).name == "Alby centrum"
    client = client_for(analyst)
    assert f'/areas/{area.panel_id}/">Alby centrum</a>' in page(client)


def test_a_new_classification_invalidates(client_for, analyst):
    client = client_for(analyst)
    assert "59 områden" in page(client)
    historical = Area.objects.exclude(classifications__round__year=2023).order_by("name").first()
    Classification.objects.create(
        area=historical, round=AssessmentRound.objects.get(year=2023), category=UTSATT
    )
    html = page(client)
    assert "60 områden" in html and f">{historical.name}</a>" in html


def test_renaming_an_org_unit_invalidates(client_for, analyst):
    client = client_for(analyst)
    page(client)
    unit = OrgUnit.objects.get(code="5312-botkyrka")
    unit.name = "Botkyrka LPO"
    unit.save()
    assert "<td>Botkyrka LPO</td>" in page(client)


def test_bulk_writes_in_register_changes_invalidate(client_for, analyst):
    area = Area.objects.get(name="Alby")
    client = client_for(analyst)
    assert "987\xa0654" not in page(client) and "987,654" not in page(client)
    Population.objects.filter(area=area).delete()
    page(client)  # cached again without Alby's residents
    with register_changes():  # bulk_create sends no signals
        Population.objects.bulk_create([Population(area=area, year=2030, residents=987654, source="test")])
    html = page(client)
    assert "987\xa0654" in html or "987 654" in html or "987,654" in html


def test_users_with_different_scopes_never_share_rows(client_for, analyst, botkyrka_chief):
    national = page(client_for(analyst))
    local = page(client_for(botkyrka_chief))
    assert "Rosengård" in national and "59 områden" in national
    assert "Alby" in local and "Rosengård" not in local and "59 områden" not in local
    # and the other way round, each from the cache now
    assert page(client_for(analyst)) == national
    assert page(client_for(botkyrka_chief)) == local


def test_scoped_user_first_does_not_leak_to_national(client_for, analyst, botkyrka_chief):
    local = page(client_for(botkyrka_chief))
    national = page(client_for(analyst))
    assert "Rosengård" not in local and "Rosengård" in national


def test_language_switch_gives_the_english_fragment(client_for, analyst):
    client = client_for(analyst)
    swedish = page(client)
    assert "59 områden" in swedish and "Klassningshistorik" in swedish
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = page(client)
    assert "59 areas" in english and "59 områden" not in english and "Klassningshistorik" not in english
    assert f">{SARSKILT}<" not in english
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert page(client) == swedish


def test_a_broken_cache_costs_time_not_the_page(client_for, analyst, monkeypatch):
    from django.core.cache import cache

    expected = page(client_for(analyst))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    for method in ("get", "set", "add"):
        monkeypatch.setattr(cache, method, broken)
    assert page(client_for(analyst)) == expected
    Area.objects.get(name="Alby").save()  # and the register can still be written
