"""Page shells kept per user and page (core/shell.py): never shared, filled in per request."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group
from django.test import Client
from django.utils.safestring import mark_safe

from problembild.areas.models import Area
from problembild.core import roles
from problembild.core.models import AccessLogEntry, OrgUnit
from problembild.core.shell import shells

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'nonce="([^"]+)"')


def get(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    return response, response.content.decode()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_shell_is_kept_and_filled_in_per_request(analyst):
    client = logged_in(analyst)
    _first, html1 = get(client)
    assert len(shells._items) == 1
    second, html2 = get(client)
    assert len(shells._items) == 1  # the same shell, filled in again
    # A fresh CSRF token (masked anew) and CSP nonce per request, the nonce also in the header.
    assert CSRF.findall(html1) and CSRF.findall(html1) != CSRF.findall(html2)
    nonces = set(NONCE.findall(html2))
    assert len(nonces) == 1 and nonces != set(NONCE.findall(html1))
    assert f"'nonce-{nonces.pop()}'" in second["Content-Security-Policy"]
    # Otherwise the same page, and every view is still logged.
    strip = lambda html: NONCE.sub("", CSRF.sub("", html))  # noqa: E731
    assert strip(html1) == strip(html2)
    assert AccessLogEntry.objects.filter(username="noa", action="view", path="/").count() == 2


def test_the_csrf_token_of_a_kept_shell_is_accepted(analyst):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    get(client)
    _response, html = get(client)
    token = CSRF.findall(html)[0]
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "59 areas" in get(client)[1]


def test_users_of_different_units_and_roles_never_share_a_shell(analyst, botkyrka_chief, make_user):
    national = logged_in(analyst)
    local = logged_in(botkyrka_chief)
    auditor = logged_in(make_user("auditor.se", roles.AUDITOR, "SE"))
    for _ in range(2):  # rendered, then from the kept shells
        _r, n = get(national)
        _r, b = get(local)
        _r, a = get(auditor)
        assert ">noa · Polismyndigheten<" in n and "Botkyrka" not in n.split("<main")[0]
        assert ">chief.botkyrka · " in b and "noa" not in b.split("<main")[0]
        assert "Åtkomstlogg" in a and "Åtkomstlogg" not in n and "Åtkomstlogg" not in b
    assert len(shells._items) == 3


def test_a_role_or_unit_change_shows_on_the_next_request(botkyrka_chief):
    client = logged_in(botkyrka_chief)
    assert "Åtkomstlogg" not in get(client)[1]
    botkyrka_chief.groups.add(Group.objects.get(name=roles.AUDITOR))
    assert "Åtkomstlogg" in get(client)[1]
    profile = botkyrka_chief.profile
    profile.org_unit = OrgUnit.objects.get(code="5312")
    profile.save()
    html = get(client)[1]
    assert "Botkyrka" not in html.split("<main")[0] and "Stockholm syd" in html.split("<main")[0]


def test_the_language_is_part_of_the_key(analyst):
    client = logged_in(analyst)
    swedish = get(client)[1]
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = get(client)[1]
    assert "Logga ut" in swedish and "Log out" in english and "Logga ut" not in english


def test_the_path_is_part_of_the_key(analyst):
    client = logged_in(analyst)
    plain = get(client, "/")[1]
    filtered = get(client, "/?region=5600")[1]
    assert 'name="next" type="hidden" value="/"' in plain
    assert 'name="next" type="hidden" value="/?region=5600"' in filtered


def test_a_request_with_messages_is_rendered_in_full(analyst):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory
    from django.urls import resolve

    from problembild.core.shell import render_page

    def request_with(message: str | None):
        request = RequestFactory().get("/")
        request.user = analyst
        request.session = logged_in(analyst).session
        request.resolver_match = resolve("/")
        request._messages = FallbackStorage(request)
        if message:
            messages.info(request, message)
        return request

    def page(request):
        return render_page(
            request,
            "picture/overview.html",
            {},
            body_name="overview_body",
            body=mark_safe("<p>body</p>"),
            key=("t",),
        ).content.decode()

    assert "<p>body</p>" in page(request_with(None))  # kept
    html = page(request_with("Meddelande till användaren"))
    assert "Meddelande till användaren" in html and "<p>body</p>" in html
    assert "Meddelande" not in page(request_with(None))


def test_area_crumbs_are_links_only_for_those_who_may_open_them(analyst, botkyrka_chief):
    alby = Area.objects.get(name="Alby")
    path = f"/areas/{alby.panel_id}/"
    for _ in range(2):
        national = get(logged_in(analyst), path)[1]
        local = get(logged_in(botkyrka_chief), path)[1]
        crumbs_n = national.split('class="crumbs"')[1].split("</nav>")[0]
        crumbs_l = local.split('class="crumbs"')[1].split("</nav>")[0]
        assert '<a href="/units/5300/">' in crumbs_n
        assert '<a href="/units/5300/">' not in crumbs_l and "<span>" in crumbs_l
        assert '<a href="/units/5312-botkyrka/">' in crumbs_l


def test_under_debug_every_request_is_rendered_in_full(analyst, settings):
    settings.DEBUG = True
    client = logged_in(analyst)
    get(client)
    get(client)
    assert not shells._items
