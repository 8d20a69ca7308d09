import csv
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from problembild.core import roles
from problembild.core.models import AccessLogEntry, ImportRecord
from problembild.incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def csv_upload(rows, name="inc.csv", header=("id", "occurred_at", "type", "municipality")):
    lines = []

    class Sink:
        def write(self, s):
            lines.append(s)

    writer = csv.writer(Sink(), lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, "".join(lines).encode("utf-8"), content_type="text/csv")


GOOD = [
    ("w1", "2024-03-01T22:15:00", "Skottlossning", "Malmö"),
    ("w2", "2024-03-02T01:00:00+00:00", "Narkotikabrott", "1280"),
]
BAD = [
    ("b1", "2024-03-01T22:15:00", "Skottlossning", "Malmö"),
    ("b2", "not a date", "Rån", "Malmö"),
    ("b3", "2024-03-03T10:00:00", "Stöld", "Atlantis"),
]


def preview(client, upload, kind="incidents", **extra):
    return client.post("/import/", {"kind": kind, "file": upload, "source": "webtest", **extra})


def test_import_page_is_for_administrators_only(client_for, analyst):
    client = client_for(analyst)
    assert client.get("/import/").status_code == 403
    assert client.post("/import/commit/", {"token": "0" * 32}).status_code == 403
    assert client.get("/import/records.csv").status_code == 403
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED, username="noa").count() == 3


def test_administrator_role_without_staff_may_import_and_sees_the_nav_link(client_for, make_user):
    admin = make_user("adm.role", roles.ADMINISTRATOR, "SE")
    response = client_for(admin).get("/import/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/import/"' in html and 'href="/feed/"' in html
    assert "vendor/htmx/htmx.min.js" in html and 'hx-indicator="#import-busy"' in html


def test_preview_of_a_bad_csv_reports_line_and_field_and_writes_nothing(client_for, admin_user_pb):
    incidents, records = Incident.objects.count(), ImportRecord.objects.count()
    response = preview(client_for(admin_user_pb), csv_upload(BAD))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Valideringsrapport" in html and "inget är sparat än" in html
    errors = response.context["report"]["errors"]
    assert [(e["file"], e["line"], e["field"]) for e in errors] == [
        ("inc.csv", 3, "occurred_at"),
        ("inc.csv", 4, "municipality"),
    ]
    assert "<code>occurred_at</code>" in html and "not an ISO 8601 date and time" in html
    assert response.context["report"]["accepted"] == 1 and response.context["report"]["rejected"] == 2
    assert Incident.objects.count() == incidents
    assert ImportRecord.objects.count() == records
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.IMPORT).exists()
    # Importing the valid rows is offered only as an explicit choice.
    assert 'name="skip_invalid" value="1"' in html


def test_unreadable_file_is_reported_as_a_file_error(client_for, admin_user_pb):
    upload = SimpleUploadedFile("feed.json", b"{not json", content_type="application/json")
    response = preview(client_for(admin_user_pb), upload, kind="polisen-events")
    report = response.context["report"]
    assert report["failed"] and report["errors"][0]["field"] == "file"
    assert "Importera</button>" not in response.content.decode()
    assert ImportRecord.objects.count() == 0


def test_wrong_file_type_for_the_kind_is_a_form_error(client_for, admin_user_pb):
    response = preview(client_for(admin_user_pb), csv_upload(GOOD), kind="polisen-events")
    assert "Fel filtyp" in response.content.decode()
    assert "report" not in response.context


def test_preview_then_commit_writes_rows_and_a_record_and_repeat_adds_nothing(
    client_for, admin_user_pb, data_dir
):
    client = client_for(admin_user_pb)
    before = Incident.objects.count()
    response = preview(client, csv_upload(GOOD))
    report, token = response.context["report"], response.context["token"]
    assert (report["accepted"], report["rejected"], report["added"]) == (2, 0, 2)
    assert Incident.objects.count() == before and ImportRecord.objects.count() == 0
    stored = data_dir / "uploads" / token / "inc.csv"
    assert stored.is_file()
    assert "Importera</button>" in response.content.decode()

    response = client.post("/import/commit/", {"token": token})
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert not outcome["failed"] and outcome["added"] == 2
    assert Incident.objects.count() == before + 2
    assert set(Incident.objects.filter(source="webtest").values_list("municipality_code", flat=True)) == {
        "1280"
    }
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.COMMITTED and record.added == 2
    assert record.user == admin_user_pb and record.file_name == str(stored)
    log = AccessLogEntry.objects.get(action=AccessLogEntry.Action.IMPORT)
    assert log.object_id == str(record.pk) and "2 added" in log.object_repr
    html = response.content.decode()
    assert "är importerad" in html and "inc.csv" in html.split('id="import-records"')[1]

    assert not stored.exists()  # the imported upload is deleted

    # The same commit again (a double click) shows the same outcome and imports nothing;
    # the same file uploaded again adds nothing.
    again = client.post("/import/commit/", {"token": token})
    assert again.context["outcome"]["added"] == 2 and ImportRecord.objects.count() == 1
    response = preview(client, csv_upload(GOOD))
    assert response.context["report"]["added"] == 0
    repeat = client.post("/import/commit/", {"token": response.context["token"]})
    assert repeat.context["outcome"]["added"] == 0
    assert "redan importerad" in repeat.content.decode()
    assert Incident.objects.count() == before + 2
    statuses = list(ImportRecord.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["committed", "unchanged"]
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.IMPORT).count() == 2


def test_commit_with_skip_invalid_imports_only_the_valid_rows(client_for, admin_user_pb, data_dir):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(BAD)).context["token"]
    response = client.post("/import/commit/", {"token": token, "skip_invalid": "1"})
    assert response.context["outcome"]["added"] == 1
    assert list(Incident.objects.filter(source="webtest").values_list("external_id", flat=True)) == ["b1"]
    assert (data_dir / "uploads" / token / "rejects.csv").is_file()


def test_commit_without_skip_of_a_bad_file_writes_nothing_but_the_failed_record(client_for, admin_user_pb):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(BAD)).context["token"]
    response = client.post("/import/commit/", {"token": token})
    assert response.context["outcome"]["failed"]
    assert not Incident.objects.filter(source="webtest").exists()
    assert ImportRecord.objects.get().status == ImportRecord.Status.FAILED


def test_unknown_token_is_refused(client_for, admin_user_pb):
    client = client_for(admin_user_pb)
    assert client.post("/import/commit/", {"token": "f" * 32}).status_code == 404
    assert client.post("/import/commit/", {"token": "../../etc"}).status_code == 404


def test_polisen_events_preview_and_commit(client_for, admin_user_pb):
    client = client_for(admin_user_pb)
    feed = [
        {
            "id": 900,
            "datetime": "2024-06-30 10:57:12 +02:00",
            "name": "30 juni 10.57, Misshandel, Malmö",
            "summary": "",
            "url": "/aktuellt/handelser/900/",
            "type": "Misshandel",
            "location": {"name": "Malmö", "gps": "55.6,13.0"},
        }
    ]
    upload = SimpleUploadedFile("events.json", json.dumps(feed).encode(), content_type="application/json")
    response = preview(client, upload, kind="polisen-events")
    assert response.context["report"]["accepted"] == 1
    assert not Incident.objects.filter(source="polisen").exists()
    client.post("/import/commit/", {"token": response.context["token"]})
    assert Incident.objects.get(source="polisen").municipality_code == "1280"


def test_rejected_rows_export_requires_reason_and_is_logged(client_for, admin_user_pb):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(BAD)).context["token"]
    form = client.get(f"/import/{token}/errors.csv")
    assert "Skäl eller ärendenummer" in form.content.decode()
    response = client.get(f"/import/{token}/errors.csv?reason=kontroll&recipient=leverantören")
    text = response.content.decode("utf-8-sig")
    assert "inc.csv,3,occurred_at" in text
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT, reason="kontroll").exists()


def test_import_records_are_listed(client_for, admin_user_pb):
    client = client_for(admin_user_pb)
    token = preview(client, csv_upload(GOOD)).context["token"]
    client.post("/import/commit/", {"token": token})
    html = client.get("/import/").content.decode()
    table = html.split('id="import-records"')[1]
    assert "pbadmin" in table and "incidents" in table and "Genomförd" in table
