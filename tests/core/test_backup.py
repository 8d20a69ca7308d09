"""Backup and restore (issue 18): a round trip into an empty database, and the refusals.

The round trip runs the real command in subprocesses, as an operator would: a source
installation (its own ``PROBLEMBILD_DATA_DIR``; on PostgreSQL its own database) is
initialised and given incidents, an access-log entry, a cached area picture and an
evidence file; ``problembild backup`` copies it; ``problembild restore`` fills a second,
empty installation; then every row of every table and every evidence file is compared.
The suite's engine decides which path is tested: SQLite by default, PostgreSQL when
``DATABASE_URL`` names it (``URL=$(scripts/pg-test-cluster.sh start)``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from typer.testing import CliRunner

from problembild.cli import app
from problembild.core import backup as backups

runner = CliRunner()

POSTGRES_URL = (
    os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""
)
ENGINE = "postgresql" if POSTGRES_URL else "sqlite"

# Run in the source installation: rows of every kind a restore must bring back.
FILL = """
import django
django.setup()
from datetime import date
from types import SimpleNamespace
from django.core.files.uploadedfile import SimpleUploadedFile
from problembild.areas.models import Area
from problembild.audit.demo import generate_example_audit
from problembild.audit.models import Evidence, Measure
from problembild.core.access import log_access
from problembild.core.uploads import store_evidence
from problembild.picture.models import AreaPicture

generate_example_audit(today=date(2026, 1, 15))
stored = store_evidence(SimpleUploadedFile("protokoll.txt", "Protokoll från samrådet\\n".encode()))
Evidence.objects.create(
    measure=Measure.objects.order_by("pk").first(), kind="file", file_key=stored.key,
    file_name=stored.original_name, content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
)
area = Area.objects.get(name="Rosengård")
AreaPicture.objects.create(area=area, fingerprint="backup-test", need_index=12.5, data={"note": "åäö", "weeks": [1, 2]})
log_access(SimpleNamespace(username="backup-test", is_authenticated=False), "view", obj=area, reason="backup test")
"""

# Run in an installation: every table's rows (sorted, hashed) and every evidence file's bytes.
DUMP = """
import hashlib, json
import django
django.setup()
from django.conf import settings
from django.db import connection

tables = {}
with connection.cursor() as cursor:
    for name in connection.introspection.table_names(cursor):
        cursor.execute(f'SELECT * FROM "{name}"')
        rows = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)) for row in cursor.fetchall())
        tables[name] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
    cursor.execute("SELECT username, object_repr, reason FROM core_accesslogentry WHERE username = 'backup-test'")
    log = [list(r) for r in cursor.fetchall()]
from problembild.picture.models import AreaPicture
from problembild.audit.models import Evidence
pictures = {p.area.name: p.data for p in AreaPicture.objects.select_related("area")}
root = settings.DATA_DIR / "evidence"
files = {p.relative_to(root).as_posix(): p.read_text() for p in root.glob("*/*") if p.is_file()} if root.is_dir() else {}
keys = sorted(Evidence.objects.exclude(file_key="").values_list("file_key", flat=True))
print(json.dumps({"tables": tables, "log": log, "pictures": pictures, "files": files, "keys": keys}))
"""


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "problembild.settings.dev",
        "PROBLEMBILD_DATA_DIR": str(data_dir),
        "PROBLEMBILD_CACHE_URL": "dummy://",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(env: dict[str, str], *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "problembild.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def databases():
    """Two new, empty databases: ("", "") on SQLite (the data directories decide), else two
    PostgreSQL databases in the suite's cluster, dropped afterwards."""
    if not POSTGRES_URL:
        yield "", ""
        return
    import psycopg

    for tool in ("pg_dump", "pg_restore"):
        backups._pg_tool(tool)  # fails clearly when the PostgreSQL client is missing
    names = [f"pb_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    base = POSTGRES_URL.rsplit("/", 1)[0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield tuple(f"{base}/{name}" for name in names)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def source(tmp_path_factory, databases):
    """An initialised installation with incidents, an access-log entry, a picture and an evidence
    file, and a backup of it: (its environment, the backup directory, the backup's summary)."""
    root = tmp_path_factory.mktemp("backup")
    env = _env(root / "source", databases[0])
    _ok(_run(env, "init"))
    incidents = root / "incidents.csv"
    incidents.write_text(
        "id,occurred_at,type\n1,2025-03-01T22:10,Misshandel\n2,2025-03-02T01:00,Rån\n3,2025-03-04T12:00,Skottlossning\n",
        encoding="utf-8",
    )
    _ok(_run(env, "import", "incidents", str(incidents), "--source", "backup-test"))
    _ok(_run(env, code=FILL))
    directory = root / "backup"
    summary = json.loads(_ok(_run(env, "backup", str(directory), "--json")))
    return env, directory, summary


@pytest.mark.slow
def test_backup_writes_a_manifest_the_copy_and_the_evidence(source):
    _source_env, directory, summary = source
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["engine"] == summary["engine"] == ENGINE
    assert manifest["created"].endswith("+00:00")
    assert manifest["migrations"]["core"].startswith("0") and "audit" in manifest["migrations"]
    assert manifest["tables"]["incidents_incident"] == 3
    assert manifest["tables"]["picture_areapicture"] == 1
    assert manifest["tables"]["core_accesslogentry"] >= 2  # the import and the view
    assert summary["rows"] == manifest["rows"] == sum(manifest["tables"].values())
    assert manifest["files"]["count"] == summary["files"] == 1 and summary["missing_files"] == []
    assert (directory / backups.DATABASE_FILES[ENGINE]).is_file()
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    (line,) = (directory / "evidence.sha256").read_text().splitlines()
    assert (directory / "evidence" / line.split("  ")[1]).read_text(
        encoding="utf-8"
    ) == "Protokoll från samrådet\n"


@pytest.mark.slow
def test_restore_into_an_empty_database_brings_back_every_row_and_file(source, databases, tmp_path):
    env, directory, summary = source
    target = _env(tmp_path / "target", databases[1])
    restored = json.loads(_ok(_run(target, "restore", str(directory), "--json")))
    assert restored["rows"] == summary["rows"] and restored["files"] == 1
    assert restored["pending_migrations"] == []

    before = json.loads(_ok(_run(env, code=DUMP)))
    after = json.loads(_ok(_run(target, code=DUMP)))
    assert after["tables"] == before["tables"]  # every table, every row
    assert after["log"] == before["log"] == [["backup-test", "Rosengård", "backup test"]]
    assert after["pictures"] == before["pictures"] == {"Rosengård": {"note": "åäö", "weeks": [1, 2]}}
    assert after["files"] == before["files"] and len(after["files"]) == 1
    assert [rel.split("/")[1] for rel in after["files"]] == after["keys"]

    # Now the target holds data: a second restore needs --force, and then replaces it.
    again = _run(target, "restore", str(directory))
    assert again.returncode == 2
    assert "--force" in again.stderr and "not empty" in again.stderr
    forced = _ok(_run(target, "restore", str(directory), "--force"))
    assert "Restored from" in forced and f"{summary['rows']:,} rows" in forced


@pytest.mark.slow
def test_restore_checks_the_row_counts_against_the_manifest(source, databases, tmp_path):
    _source_env, directory, _summary = source
    tampered = tmp_path / "tampered"
    shutil.copytree(directory, tampered)
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["tables"]["incidents_incident"] += 1
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    result = _run(_env(tmp_path / "target", databases[1]), "restore", str(tampered), "--force")
    assert "incidents_incident: 3 row(s), manifest says 4" in result.stderr
    # SQLite checks the copy before it replaces anything; PostgreSQL can only count after pg_restore.
    assert result.returncode == (2 if ENGINE == "sqlite" else 1), result.stderr


# --- refusals, in the test process (nothing is restored) -----------------------------------------


def _manifest(directory: Path, **changes) -> Path:
    """A minimal manifest of the suite's engine (with an empty database file) in ``directory``."""
    directory.mkdir(exist_ok=True)
    (directory / backups.DATABASE_FILES[ENGINE]).write_bytes(b"")
    manifest = {
        "format": backups.FORMAT,
        "engine": ENGINE,
        "created": "2026-01-01T00:00:00+00:00",
        "problembild_version": "0.1.0",
        "migrations": {},
        "tables": {},
        "database": {"file": backups.DATABASE_FILES[ENGINE]},
        "files": {"count": 0},
        **changes,
    }
    path = directory / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_restore_refuses_a_directory_without_a_manifest(tmp_path):
    (tmp_path / "database.sqlite3").write_bytes(b"")
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'manifest.json'} does not exist" in result.output.replace("\n", "")


def test_restore_refuses_a_manifest_of_another_engine(tmp_path):
    other = "sqlite" if ENGINE == "postgresql" else "postgresql"
    path = _manifest(tmp_path, engine=other)
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 2
    output = result.output.replace("\n", "")
    assert str(path) in output and f"backup is of a {other} database" in output


def test_restore_refuses_a_manifest_that_is_not_json(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 2
    assert "manifest.json is not a readable manifest" in result.output.replace("\n", "")


def test_restore_refuses_migrations_this_version_does_not_have(tmp_path):
    path = _manifest(tmp_path, migrations={"core": "9999_from_the_future"})
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 2
    output = result.output.replace("\n", "")
    assert str(path) in output and "core.9999_from_the_future" in output


@pytest.mark.django_db
def test_restore_into_a_database_with_data_needs_force(tmp_path):
    _manifest(tmp_path)
    assert not backups.database_is_empty()  # the register is loaded
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 2
    assert "--force" in result.output and "the database holds data" in result.output.replace("\n", "")


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "something").write_text("x")
    result = runner.invoke(app, ["backup", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["something"]


@pytest.mark.django_db
def test_backup_of_the_test_database_counts_its_rows(tmp_path):
    """The register, loaded once per test database, is committed: the copy holds it."""
    from problembild.areas.models import Area

    target = tmp_path / "bk"
    result = runner.invoke(app, ["backup", str(target), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    manifest = json.loads((target / "manifest.json").read_text())
    assert summary["engine"] == connection.vendor == ENGINE
    assert manifest["tables"]["areas_area"] == Area.objects.count() > 0
