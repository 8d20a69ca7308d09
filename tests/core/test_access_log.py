import pytest
from django.db import DatabaseError, connection, transaction

from problembild.areas.models import Area
from problembild.core.access import log_access
from problembild.core.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_viewing_an_area_writes_who_what_when(client_for, analyst):
    alby = Area.objects.get(name="Alby")
    client_for(analyst).get(f"/areas/{alby.panel_id}/")
    entry = AccessLogEntry.objects.filter(object_type="areas.area", object_id=str(alby.pk)).get()
    assert entry.username == "noa"
    assert entry.roles == "national_analyst"
    assert entry.unit == "Polismyndigheten"
    assert entry.action == "view"
    assert entry.path == f"/areas/{alby.panel_id}/"


def test_log_entries_cannot_be_changed_or_deleted_through_the_orm(analyst):
    entry = log_access(analyst, "view", object_type="test", object_id=1)
    entry.reason = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().update(reason="x")
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().delete()


def test_log_entries_cannot_be_changed_or_deleted_in_the_database(analyst):
    entry = log_access(analyst, "view", object_type="test", object_id=2)
    table = AccessLogEntry._meta.db_table
    for sql in (f"UPDATE {table} SET reason = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AccessLogEntry.objects.get(pk=entry.pk).reason == ""


def test_access_log_page_is_for_auditors_only(client_for, auditor, analyst):
    log_access(
        analyst, "export", object_type="areas.area", object_id=7, reason="Dnr A-123", recipient="Kommunen"
    )
    response = client_for(auditor).get("/access-log/?q=A-123")
    assert response.status_code == 200
    assert "Kommunen" in response.content.decode()


def test_access_log_page_refuses_analysts(client, analyst):
    client.force_login(analyst)
    assert client.get("/access-log/").status_code == 403


def test_access_log_search_reports_ignored_dates(client_for, auditor):
    html = client_for(auditor).get("/access-log/?from=yesterday").content.decode()
    assert "from=yesterday" in html


def test_admin_cannot_edit_the_log(client_for, admin_user_pb, analyst):
    entry = log_access(analyst, "view", object_type="test", object_id=3)
    client = client_for(admin_user_pb)
    assert client.get(f"/admin/core/accesslogentry/{entry.pk}/change/").status_code in (200, 403)
    response = client.post(f"/admin/core/accesslogentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_access_review_lists_every_user_and_records_the_review(
    client_for, auditor, botkyrka_chief, django_user_model
):
    django_user_model.objects.create_user("orphan", password="x")
    client = client_for(auditor)
    html = client.get("/access-review/").content.decode()
    assert "chief.botkyrka" in html and "Botkyrka" in html and "orphan" in html
    assert "Saknar organisationsenhet" in html
    response = client.post("/access-review/", {"note": "Kvartalsgranskning Q4"})
    assert response.status_code == 302
    assert AccessLogEntry.objects.filter(action="review", username="auditor").exists()


def test_everything_but_login_requires_login(client):
    assert client.get("/").status_code == 302
    assert client.get("/geo/areas.geojson").status_code == 302
    assert client.get("/login/").status_code == 200
