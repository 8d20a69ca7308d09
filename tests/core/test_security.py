"""Hardening (issue 9): exports, logins and the API schema."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from problembild.areas.models import Area
from problembild.core import roles
from problembild.core.exports import table_bytes
from problembild.core.models import AccessLogEntry, ApiToken
from problembild.incidents.polisen import import_polisen_events

pytestmark = pytest.mark.django_db
WHY = {"reason": "Ärende 1", "recipient": "LPO"}


# --- item 2: formula injection ----------------------------------------------------------


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_is_written_as_text(text):
    sheet = load_workbook(io.BytesIO(table_bytes(["a"], [[text]], "xlsx"))).active
    cell = sheet.cell(row=2, column=1)
    # (the sheet's XML stores a carriage return as a line feed)
    assert cell.data_type == "s" and cell.value == "'" + text.replace("\r", "\n")
    rows = list(csv.reader(io.StringIO(table_bytes(["a"], [[text]], "csv").decode("utf-8-sig"), newline="")))
    assert rows[1] == ["'" + text]


def test_numbers_stay_numbers_in_exports():
    sheet = load_workbook(io.BytesIO(table_bytes(["a"], [[-0.21]], "xlsx"))).active
    assert sheet.cell(row=2, column=1).value == -0.21


def test_an_imported_event_type_is_never_a_live_formula_in_the_feed_export(client_for, analyst, tmp_path):
    event = {
        "id": 1,
        "datetime": "2024-06-30 10:57:12 +02:00",
        "name": "30 juni, =cmd|' /C calc'!A0, Malmö",
        "summary": "",
        "url": "/aktuellt/handelser/2024/juni/30/1/",
        "type": "=cmd|' /C calc'!A0",
        "location": {"name": "Malmö", "gps": "55.6,13.0"},
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([event], ensure_ascii=False), encoding="utf-8")
    import_polisen_events(path)
    xlsx = client_for(analyst).get("/feed/export.xlsx", WHY)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "cmd" in c.value]
    assert cells and all(c.data_type == "s" and not c.value.startswith("=") for c in cells)


# --- items 3 and 4: who may export, and the print page as an export ------------------------


@pytest.fixture
def reader(make_user):
    return make_user("lasare", roles.READ_ONLY, "SE")


@pytest.mark.parametrize(
    "url",
    [
        "/areas/{id}/export.csv",
        "/areas/{id}/export.xlsx",
        "/export/overview.csv",
        "/feed/export.csv",
        "/areas/{id}/print/",
    ],
)
def test_read_only_users_cannot_export_or_print(client_for, reader, url):
    alby = Area.objects.get(name="Alby")
    response = client_for(reader).get(url.format(id=alby.panel_id), WHY)
    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()
    assert AccessLogEntry.objects.filter(username="lasare", action=AccessLogEntry.Action.DENIED).exists()


def test_the_print_page_asks_for_reason_and_recipient_like_the_exports(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    client = client_for(analyst)
    form = client.get(f"/areas/{alby.panel_id}/print/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    blank = client.get(f"/areas/{alby.panel_id}/print/", {"reason": "  ", "recipient": " ", "submitted": "1"})
    assert 'name="reason"' in blank.content.decode() and "Skriv ut" not in blank.content.decode()
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()
    page = client.get(f"/areas/{alby.panel_id}/print/", WHY)
    assert "Skriv ut" in page.content.decode()
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.EXPORT)
    assert (entry.reason, entry.recipient) == ("Ärende 1", "LPO")


# --- item 10: brute force and the login log -------------------------------------------------


def test_wrong_passwords_lock_the_user_and_every_attempt_is_logged(client, make_user):
    make_user("target", roles.LOCAL_CHIEF, "5312-botkyrka")
    for _ in range(4):
        response = client.post("/login/", {"username": "target", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    fifth = client.post("/login/", {"username": "target", "password": "wrong"})
    assert fifth.status_code == 429 and "spärrad" in fifth.content.decode()
    # Locked: even the right password is refused, from this address and from another one.
    assert client.post("/login/", {"username": "target", "password": "pw-for-tests-only"}).status_code == 429
    other = client.post(
        "/login/", {"username": "target", "password": "pw-for-tests-only"}, REMOTE_ADDR="10.9.8.7"
    )
    assert other.status_code == 429
    failed = AccessLogEntry.objects.filter(username="target", action=AccessLogEntry.Action.DENIED)
    assert failed.count() >= 5
    assert not AccessLogEntry.objects.filter(username="target", action=AccessLogEntry.Action.LOGIN).exists()


def test_a_successful_login_is_logged(client, make_user):
    make_user("someone", roles.LOCAL_CHIEF, "5312-botkyrka")
    response = client.post("/login/", {"username": "someone", "password": "pw-for-tests-only"})
    assert response.status_code == 302
    entry = AccessLogEntry.objects.get(username="someone", action=AccessLogEntry.Action.LOGIN)
    assert entry.object_repr.startswith("login from")


# --- item 11: the API schema --------------------------------------------------------------


def test_api_schema_and_docs_need_a_signed_in_user(client, analyst):
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/api/docs").status_code == 401
    _, key = ApiToken.issue(analyst)
    assert client.get("/api/openapi.json", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    client.force_login(analyst)
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/docs").status_code == 200


def test_api_schema_can_be_made_public(client, settings):
    settings.PUBLIC_API_SCHEMA = True
    assert client.get("/api/openapi.json").status_code == 200


# --- item 13 (parts): map layer logged, one row per refusal, no-store ----------------------


def test_the_map_layer_of_areas_is_access_logged(client_for, botkyrka_chief):
    client_for(botkyrka_chief).get("/geo/areas.geojson")
    entry = AccessLogEntry.objects.get(username="chief.botkyrka", action=AccessLogEntry.Action.VIEW)
    assert entry.object_type == "areas.area" and entry.path == "/geo/areas.geojson"


def test_a_refused_access_log_visit_writes_one_row(client_for, botkyrka_chief):
    assert client_for(botkyrka_chief).get("/access-log/").status_code == 403
    rows = AccessLogEntry.objects.filter(username="chief.botkyrka").exclude(
        action=AccessLogEntry.Action.LOGIN
    )
    assert [r.action for r in rows] == [AccessLogEntry.Action.DENIED]


@pytest.mark.parametrize(
    "url", ["/", "/feed/", "/areas/{id}/", "/api/areas", "/export/overview.csv?reason=r&recipient=x"]
)
def test_data_is_never_stored_by_browsers_or_proxies(client_for, analyst, url):
    alby = Area.objects.get(name="Alby")
    response = client_for(analyst).get(url.format(id=alby.panel_id))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_public_municipality_map_keeps_its_own_cache_policy(client_for, analyst):
    response = client_for(analyst).get("/geo/municipalities.geojson")
    assert "max-age=3600" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]


def test_logout_ends_the_session_kept_in_the_cache(client_for, analyst):
    """Sessions are read from a cache first (cached_db): logging out must end them there too."""
    from django.conf import settings
    from django.test import Client

    assert settings.SESSION_ENGINE == "problembild.core.sessions"
    client = client_for(analyst)
    assert client.get("/").status_code == 200
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/logout/")
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert stolen.get("/").status_code == 302  # to the login page


def test_a_deactivated_user_is_out_at_once_though_the_session_is_cached(client_for, analyst):
    client = client_for(analyst)
    assert client.get("/").status_code == 200
    analyst.is_active = False
    analyst.save()
    assert client.get("/").status_code == 302


def test_a_session_is_read_from_the_database_when_the_cache_fails(client_for, analyst, monkeypatch):
    from django.core.cache import cache

    client = client_for(analyst)
    assert client.get("/").status_code == 200

    def broken(*args, **kwargs):
        raise OSError("disk full")

    for method in ("get", "set", "add", "has_key"):
        monkeypatch.setattr(cache, method, broken)
    assert client.get("/").status_code == 200  # still signed in, from the database
