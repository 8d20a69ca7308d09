"""Breadcrumbs link only to the units the user may open; the others are named as plain text."""

from __future__ import annotations

import re

import pytest

from problembild.areas.models import Area

pytestmark = pytest.mark.django_db


def crumbs(html: str) -> str:
    match = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', html, re.S)
    assert match, "no breadcrumbs"
    return match.group(1)


def unit_links(html: str) -> set[str]:
    return set(re.findall(r'href="/units/([^/"]+)/"', crumbs(html)))


def area_page(client, panel_id: int) -> str:
    response = client.get(f"/areas/{panel_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_local_chief_sees_region_and_police_area_as_text_not_links_on_the_area_page(
    client_for, botkyrka_chief
):
    alby = Area.objects.get(name="Alby")
    html = area_page(client_for(botkyrka_chief), alby.panel_id)
    assert unit_links(html) == {"5312-botkyrka"}
    assert "Stockholm syd" in crumbs(html) and "Stockholm" in crumbs(html)
    assert client_for(botkyrka_chief).get("/units/5300/").status_code == 403


def test_analyst_gets_links_to_region_police_area_and_lpo_on_the_area_page(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    html = area_page(client_for(analyst), alby.panel_id)
    assert unit_links(html) == {"5300", "5312", "5312-botkyrka"}


def test_area_page_crumbs_are_decided_per_user_although_the_body_is_cached(client, analyst, botkyrka_chief):
    alby = Area.objects.get(name="Alby")
    client.force_login(analyst)
    assert unit_links(area_page(client, alby.panel_id)) == {"5300", "5312", "5312-botkyrka"}
    client.force_login(botkyrka_chief)  # same area, same cached body, another scope
    assert unit_links(area_page(client, alby.panel_id)) == {"5312-botkyrka"}
    client.force_login(analyst)
    assert unit_links(area_page(client, alby.panel_id)) == {"5300", "5312", "5312-botkyrka"}


def test_local_chief_sees_the_units_above_as_text_on_the_unit_page(client_for, botkyrka_chief):
    response = client_for(botkyrka_chief).get("/units/5312-botkyrka/")
    assert response.status_code == 200
    html = response.content.decode()
    assert unit_links(html) == set()
    assert "Stockholm syd" in crumbs(html)


def test_analyst_gets_links_to_the_units_above_on_the_unit_page(client_for, analyst):
    html = client_for(analyst).get("/units/5312-botkyrka/").content.decode()
    assert {"5300", "5312"} <= unit_links(html)
