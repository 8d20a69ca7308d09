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
