"""The import page under load and misuse (issue 9): a preview that writes nothing, large
imports in the background, an upload limit, uploads that are deleted, and who may import."""

from __future__ import annotations

import json
import os
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from problembild.core import imports, roles
from problembild.core.imports import MAX_ERRORS, ImportJob
from problembild.core.models import AccessLogEntry, ImportRecord
from problembild.core.views import imports as import_views
from problembild.incidents.models import Incident

from .test_import_page import BAD, GOOD, csv_upload, preview

pytestmark = pytest.mark.django_db

#: Statements that write or open a transaction (a write transaction takes SQLite's write lock).
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|BEGIN|SAVEPOINT)\b", re.I)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def statements_of(fn):
    """The SQL statements ``fn()`` runs, and its result."""
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        result = fn()
    return seen, result


# --- item 5: the preview holds no write lock and keeps a bounded number of errors ---------


def test_incident_preview_writes_nothing_and_opens_no_transaction(tmp_path):
    path = tmp_path / "inc.csv"
    path.write_bytes(csv_upload(BAD).read())
    seen, report = statements_of(
        lambda: import_views.dry_run("incidents", path, {"source": "webtest", "map": []})
    )
    assert (report["accepted"], report["rejected"], report["added"]) == (1, 2, 1)
    assert [s for s in seen if WRITES.match(s)] == []
    assert any(s.lstrip().upper().startswith("SELECT") for s in seen)  # it did read the register


def test_feed_and_population_previews_write_nothing(tmp_path):
    feed = tmp_path / "events.json"
    feed.write_text(
        json.dumps(
            [
                {
                    "id": 901,
                    "datetime": "2024-06-30 10:57:12 +02:00",
                    "name": "30 juni 10.57, Misshandel, Malmö",
                    "summary": "",
                    "url": "/aktuellt/handelser/901/",
                    "type": "Misshandel",
                    "location": {"name": "Malmö", "gps": "55.6,13.0"},
                }
            ]
        ),
        encoding="utf-8",
    )
    seen, report = statements_of(lambda: import_views.dry_run("polisen-events", feed, {}))
    assert (report["accepted"], report["added"], report["failed"]) == (1, 1, False)
    assert [s for s in seen if WRITES.match(s)] == []

    population = tmp_path / "pop.csv"
    population.write_text("area,year,residents\nRosengård,2024,24000\nNowhere,2024,5\n", encoding="utf-8")
    seen, report = statements_of(
        lambda: import_views.dry_run("population", population, {"year": None, "source": None})
    )
    assert (report["accepted"], report["rejected"], report["failed"]) == (1, 1, False)
    assert report["added"] is None  # counted only by the import itself
    assert [s for s in seen if WRITES.match(s)] == []
    assert not Incident.objects.filter(source="polisen", external_id="901").exists()


def test_preview_page_of_a_file_with_many_bad_rows_shows_the_first_and_counts_all(client_for, admin_user_pb):
    rows = [(f"m{i}", "not a date", "Rån", "Malmö") for i in range(MAX_ERRORS + 150)]
    response = preview(client_for(admin_user_pb), csv_upload(rows))
    report = response.context["report"]
    assert len(report["errors"]) == MAX_ERRORS and report["total_errors"] == MAX_ERRORS + 150
    assert report["rejected"] == MAX_ERRORS + 150 and report["accepted"] == 0
    assert report["errors"][0]["line"] == 2 and report["errors"][-1]["line"] == MAX_ERRORS + 1
    assert f"de första {MAX_ERRORS} visas" in response.content.decode()


# --- item 5: large imports run in the background, the page polls their progress ------------


@pytest.fixture
def background(monkeypatch):
    """Every commit runs in the background; the started tasks wait in the list until run."""
    tasks: list = []
    monkeypatch.setattr(import_views, "BACKGROUND_FROM_BYTES", 1)
    monkeypatch.setattr(import_views, "start_background", tasks.append)
    return tasks


def test_large_commit_runs_in_the_background_and_the_page_polls_until_done(
    client_for, admin_user_pb, data_dir, background
):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(GOOD)).context["token"]
    status_url = f"/import/{token}/status/"

    response = client.post("/import/commit/", {"token": token})
    html = response.content.decode()
    assert response.status_code == 200 and len(background) == 1
    assert 'hx-trigger="every 2s"' in html and f'hx-get="{status_url}"' in html
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.RUNNING and record.user == admin_user_pb
    assert not Incident.objects.filter(source="webtest").exists()
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.IMPORT).exists()

    # Progress reported by the importer shows on the next poll.
    ImportJob(data_dir / "uploads" / token, record.pk).progress(1, 2)
    polled = client.get(status_url)
    assert polled.context["job"]["done"] == 1 and polled.context["job"]["total"] == 2
    assert 'hx-trigger="every 2s"' in polled.content.decode()

    background.pop()()  # the background thread's work
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.COMMITTED and record.added == 2
    assert ImportRecord.objects.count() == 1
    assert Incident.objects.filter(source="webtest").count() == 2
    log = AccessLogEntry.objects.get(action=AccessLogEntry.Action.IMPORT)
    assert log.object_id == str(record.pk) and "2 added" in log.object_repr and log.user == admin_user_pb

    done = client.get(status_url)
    html = done.content.decode()
    assert "every 2s" not in html and "är importerad" in html
    assert done.context["outcome"]["added"] == 2
    assert not (data_dir / "uploads" / token / "inc.csv").exists()  # the upload is deleted


def test_a_failed_background_import_is_reported_and_recorded(client_for, admin_user_pb, background):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(BAD)).context["token"]
    client.post("/import/commit/", {"token": token})
    background.pop()()
    assert ImportRecord.objects.get().status == ImportRecord.Status.FAILED
    assert not Incident.objects.filter(source="webtest").exists()
    outcome = client.get(f"/import/{token}/status/").context["outcome"]
    assert outcome["failed"] and outcome["total_errors"] == 2
    assert "failed" in AccessLogEntry.objects.get(action=AccessLogEntry.Action.IMPORT).object_repr


def test_a_background_import_whose_process_died_is_marked_failed(
    client_for, admin_user_pb, data_dir, background
):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(GOOD)).context["token"]
    client.post("/import/commit/", {"token": token})
    # Never run: the process running it was killed, and its heartbeat grew old.
    job_file = data_dir / "uploads" / token / ImportJob.FILE
    state = json.loads(job_file.read_text())
    state["updated"] = time.time() - import_views.STALE_AFTER - 5
    job_file.write_text(json.dumps(state))
    response = client.get(f"/import/{token}/status/")
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED and "abandoned" in record.message
    assert response.context["outcome"]["failed"]
    assert "every 2s" not in response.content.decode()


def test_small_commits_stay_synchronous():
    assert import_views.BACKGROUND_FROM_BYTES >= 1024 * 1024


def test_start_background_runs_the_task_in_another_thread():
    import threading

    seen = []
    thread = import_views.start_background(lambda: seen.append(threading.current_thread()))
    thread.join(5)
    assert seen and seen[0] is not threading.main_thread()


# --- item 5: the upload limit -------------------------------------------------------------


def test_upload_over_the_limit_is_a_form_error_naming_the_limit(
    client_for, admin_user_pb, settings, data_dir
):
    settings.MAX_UPLOAD_MB = 1
    body = b"id,occurred_at,type\n" + b"x" * (1024 * 1024 + 10)
    upload = SimpleUploadedFile("big.csv", body, content_type="text/csv")
    response = preview(client_for(admin_user_pb), upload)
    html = response.content.decode()
    assert "report" not in response.context
    assert "1 MB" in html and "för stor" in html
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())


def test_the_upload_limit_is_a_setting_with_a_generous_default(settings):
    assert settings.MAX_UPLOAD_MB >= 100


# --- item 13: uploads are deleted on commit and cancel, and expire ---------------------------


def test_commit_deletes_the_uploaded_file_and_a_repeat_shows_the_same_outcome(
    client_for, admin_user_pb, data_dir
):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(GOOD)).context["token"]
    folder = data_dir / "uploads" / token
    assert (folder / "inc.csv").is_file()
    first = client.post("/import/commit/", {"token": token})
    assert first.context["outcome"]["added"] == 2
    assert not (folder / "inc.csv").exists()
    again = client.post("/import/commit/", {"token": token})  # a double click
    assert again.status_code == 200 and again.context["outcome"]["added"] == 2
    assert ImportRecord.objects.count() == 1


def test_cancel_deletes_the_upload_and_forgets_the_preview(client_for, admin_user_pb, data_dir):
    client = client_for(admin_user_pb)
    response = preview(client, csv_upload(GOOD))
    token = response.context["token"]
    assert "/import/cancel/" in response.content.decode()
    folder = data_dir / "uploads" / token
    assert folder.is_dir()
    response = client.post("/import/cancel/", {"token": token})
    assert response.status_code == 200 and "report" not in response.context
    assert not folder.exists()
    assert client.post("/import/commit/", {"token": token}).status_code == 404
    assert client.post("/import/cancel/", {"token": token}).status_code == 404


def test_old_upload_folders_expire_when_the_page_is_used(client_for, admin_user_pb, data_dir):
    uploads = data_dir / "uploads"
    old, fresh = uploads / ("a" * 32), uploads / ("b" * 32)
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "x.csv").write_text("id\n")
    two_days_ago = time.time() - 2 * 86400
    for path in (old / "x.csv", old):
        os.utime(path, (two_days_ago, two_days_ago))
    assert client_for(admin_user_pb).get("/import/").status_code == 200
    assert not old.exists() and (fresh / "x.csv").is_file()


def test_purge_uploads_keeps_a_running_import(data_dir):
    folder = data_dir / "uploads" / ("c" * 32)
    folder.mkdir(parents=True)
    ImportJob(folder, 1).start()
    two_days_ago = time.time() - 2 * 86400
    os.utime(folder, (two_days_ago, two_days_ago))
    assert imports.purge_uploads() == 0 and folder.is_dir()


# --- item 7: the record is part of the import's transaction ------------------------------


class Killed(BaseException):
    """Stands for kill -9 between writing the rows and writing the record."""


def test_rows_are_never_committed_without_their_import_record(tmp_path, monkeypatch):
    from problembild.incidents.importers import import_incidents

    path = tmp_path / "inc.csv"
    path.write_bytes(csv_upload(GOOD).read())

    def killed(**fields):
        raise Killed

    monkeypatch.setattr(ImportRecord.objects, "create", killed)
    with pytest.raises(Killed):
        import_incidents(path, source="atomic")
    assert not Incident.objects.filter(source="atomic").exists()


# --- item 13: who may import ----------------------------------------------------------------


def test_import_roles_are_administrators_only_and_the_page_uses_them(client_for, make_user):
    """Administrators import every kind; HR only the kinds that name it (the competence files)."""
    assert set(roles.IMPORT_ROLES) == {roles.ADMINISTRATOR}
    for role in roles.ROLES:
        user = make_user(f"u.{role}", role, "SE")
        status = client_for(user).get("/import/").status_code
        assert status == (200 if role in roles.IMPORT_ROLES | {roles.HR} else 403), role
    hr = client_for(make_user("hr.only", roles.HR, "SE"))
    refused = hr.post("/import/", {"kind": "incidents", "file": SimpleUploadedFile("x.csv", b"a\n")})
    assert refused.status_code == 200 and "kind" in refused.context["form"].errors
