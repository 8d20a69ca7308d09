"""The ``problembild`` command at the level users see it (Typer's runner, same process)."""

import csv
import json

import pytest
from typer.testing import CliRunner

from problembild.cli import app
from problembild.incidents.models import Incident

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_stats_json_has_the_documented_shape():
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["classifications"]["2023"] == {
        "riskområde": 15,
        "särskilt utsatt område": 17,
        "utsatt område": 27,
    }
    assert sum(data["classifications"]["2015"].values()) == 53
    for key in ("by_source", "by_indicator", "assigned", "unassigned", "approximate"):
        assert key in data["incidents"]


def test_import_incidents_reports_errors_with_file_line_and_field(tmp_path):
    path = tmp_path / "x.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [["id", "occurred_at", "type"], ["1", "2024-01-01T00:00", "Rån"], ["2", "never", "Rån"]]
        )
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli"])
    assert result.exit_code == 1
    assert f"{path}:3: field 'occurred_at'" in result.output.replace("\n", "")
    assert not Incident.objects.filter(source="cli").exists()


def test_import_incidents_skip_invalid_writes_rejects(tmp_path):
    path = tmp_path / "x.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [["id", "occurred_at", "type"], ["1", "2024-01-01T00:00", "Rån"], ["2", "never", "Rån"]]
        )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "incidents", str(path), "--source", "cli", "--skip-invalid", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"], summary["added"]) == (1, 1, 1)
    assert "never" in rejects.read_text()


def test_bad_mapping_is_a_usage_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,occurred_at,type\n")
    result = runner.invoke(app, ["import", "incidents", str(path), "--map", "a=nonsense"])
    assert result.exit_code == 2
    assert "unknown field" in result.output


def test_taxonomy_check_reports_the_file(tmp_path):
    assert runner.invoke(app, ["taxonomy", "check"]).exit_code == 0
    bad = tmp_path / "t.toml"
    bad.write_text("[indicators]\nfoo = ['x']\n")
    result = runner.invoke(app, ["taxonomy", "check", str(bad)])
    assert result.exit_code == 1
    assert "indicators.foo" in result.output


# --- issue 9: CLI imports are access-logged, log lines stay whole, taxonomy gaps, uploads ---


def _two_row_csv(path, second_time="never"):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [["id", "occurred_at", "type"], ["1", "2024-01-01T00:00", "Rån"], ["2", second_time, "Rån"]]
        )
    return path


def test_cli_import_writes_an_access_log_entry_with_os_user_file_and_rows(tmp_path):
    import getpass

    from problembild.core.models import AccessLogEntry, ImportRecord

    path = _two_row_csv(tmp_path / "x.csv", "2024-01-02T00:00")
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli"])
    assert result.exit_code == 0, result.output
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.IMPORT)
    record = ImportRecord.objects.get()
    assert entry.username == getpass.getuser() and entry.user is None
    assert entry.object_type == "core.importrecord" and entry.object_id == str(record.pk)
    assert "x.csv" in entry.object_repr and "2 added" in entry.object_repr
    assert entry.path.startswith("cli:") and "import incidents" in entry.path


def test_import_with_refresh_refreshes_the_pictures_in_the_same_run(tmp_path):
    from problembild.areas.models import Area
    from problembild.picture.models import AreaPicture, RefreshRun

    area = Area.objects.get(name="Rosengård")
    point = area.shape.representative_point()
    path = tmp_path / "x.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [["id", "occurred_at", "type", "x", "y"]]
            + [[str(i), f"2024-01-0{i}T12:00", "Rån", f"{point.x:.1f}", f"{point.y:.1f}"] for i in (1, 2)]
        )
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli", "--refresh"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 2
    # The refresh's own summary, as `problembild refresh` prints it; the data end the day after the last row.
    assert summary["refresh"]["incidents"] == 2 and summary["refresh"]["as_of"] == "2024-01-03"
    assert RefreshRun.objects.filter(status=RefreshRun.Status.FINISHED).count() == 1
    assert AreaPicture.objects.count() == summary["refresh"]["areas_recomputed"] > 0
    assert AreaPicture.objects.get(area=area).data["sources"]


def test_a_failed_refresh_after_an_import_keeps_the_import_and_says_so(tmp_path, monkeypatch):
    from problembild.picture.refresh import run

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(run, "refresh", broken)
    path = _two_row_csv(tmp_path / "x.csv", "2024-01-02T00:00")
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli", "--refresh"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["added"] == 2
    assert "the import was written, the refresh failed" in result.output and "disk full" in result.output
    assert Incident.objects.filter(source="cli").count() == 2
    # Without --refresh nothing is refreshed.
    again = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli"])
    assert again.exit_code == 0 and "refresh" not in json.loads(again.stdout)


def test_failed_cli_import_is_access_logged_too(tmp_path):
    from problembild.core.models import AccessLogEntry

    path = _two_row_csv(tmp_path / "x.csv")
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli"])
    assert result.exit_code == 1
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.IMPORT)
    assert "failed" in entry.object_repr and "x.csv" in entry.object_repr


def test_errors_stay_on_one_line_when_not_on_a_terminal(tmp_path):
    folder = tmp_path / ("a-rather-long-folder-name-for-incident-files-" * 2)
    folder.mkdir()
    path = _two_row_csv(folder / "x.csv")
    result = runner.invoke(app, ["import", "incidents", str(path), "--source", "cli"])
    assert result.exit_code == 1
    line = f"  {path}:3: field 'occurred_at': not an ISO 8601 date and time"
    assert line in result.output.splitlines(), result.output


def test_taxonomy_check_lists_stored_types_the_taxonomy_does_not_name(tmp_path):
    from problembild.incidents.importers import import_incidents

    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [
                ["id", "occurred_at", "type"],
                ["1", "2024-01-01T00:00", "Trafikolycka"],
                ["2", "2024-01-02T00:00", "Trafikolycka"],
                ["3", "2024-01-03T00:00", "Sammanfattning helg"],
            ]
        )
    import_incidents(path, source="tax")
    result = runner.invoke(app, ["taxonomy", "check"])
    assert result.exit_code == 0, result.output
    assert "Trafikolycka: 2" in result.output
    assert "Sammanfattning helg" not in result.output
    plain = tmp_path / "plain.toml"
    plain.write_text("[indicators]\nshootings = ['Skottlossning']\n", encoding="utf-8")
    result = runner.invoke(app, ["taxonomy", "check", str(plain)])
    assert "Sammanfattning helg: 1" in result.output and "Trafikolycka: 2" in result.output


def test_clean_uploads_deletes_old_upload_folders(tmp_path, settings):
    import os
    import time

    settings.DATA_DIR = tmp_path
    old = tmp_path / "uploads" / ("d" * 32)
    old.mkdir(parents=True)
    (old / "x.csv").write_text("id\n")
    then = time.time() - 3 * 3600
    for path in (old / "x.csv", old):
        os.utime(path, (then, then))
    result = runner.invoke(app, ["import", "clean-uploads", "--hours", "2"])
    assert result.exit_code == 0, result.output
    assert not old.exists() and "1" in result.output
