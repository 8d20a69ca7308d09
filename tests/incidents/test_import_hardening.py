"""Incident imports under bad input (issue 9): bounded error lists with every rejected row in
the rejects file, a preview that finds what the import would find without writing, GeoJSON
features with unusable geometry, files that are not UTF-8, and summaries in the taxonomy."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from problembild.core.imports import MAX_ERRORS, ImportFailed, validate_only
from problembild.core.models import ImportRecord
from problembild.incidents.importers import import_incidents
from problembild.incidents.models import Incident
from problembild.incidents.polisen import import_polisen_events
from problembild.incidents.services import configured_taxonomy, unnamed_types
from problembild.incidents.taxonomy import TaxonomyError, load_taxonomy

from .test_import_incidents import write_csv

pytestmark = pytest.mark.django_db


def write_parquet(path, rows, header=("id", "occurred_at", "type", "x", "y")):
    """Rows as a Parquet file: read in batches of ``chunk_rows`` (a CSV file in blocks of 16 MB)."""
    pd.DataFrame.from_records(rows, columns=list(header)).astype(str).to_parquet(path)
    return path


def bad_rows(n, start=0):
    return [(f"z{i}", "never", "Rån", "", "") for i in range(start, start + n)]


# --- item 5: at most MAX_ERRORS errors kept, all counted, all in the rejects file -------------


def test_errors_are_capped_but_counted_and_the_failure_says_how_many(tmp_path):
    path = write_parquet(tmp_path / "many.parquet", bad_rows(MAX_ERRORS + 100))
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="cap", chunk_rows=150)
    assert len(info.value.errors) == MAX_ERRORS and info.value.total == MAX_ERRORS + 100
    assert [e.line for e in info.value.errors[:2]] == [1, 2]  # Parquet rows count from 1
    assert info.value.errors[-1].line == MAX_ERRORS
    assert f"({MAX_ERRORS + 100} error(s))" in str(info.value)
    assert ImportRecord.objects.get(kind="incidents").status == "failed"


def test_skip_invalid_keeps_few_errors_in_memory_but_writes_every_rejected_row(tmp_path):
    good = [(f"ok{i}", "2024-01-01T00:00", "Rån", "", "") for i in range(5)]
    data = good[:2] + bad_rows(MAX_ERRORS + 40) + good[2:]
    data.append(("ok0", "2024-02-01T00:00", "Rån", "", ""))  # the id of line 2 with other content
    path = write_parquet(tmp_path / "mixed.parquet", data)
    rejects = tmp_path / "rejects.csv"
    result = import_incidents(path, source="cap", skip_invalid=True, rejects=rejects, chunk_rows=100)
    assert (result.accepted, result.added) == (5, 5)
    assert result.rejected == MAX_ERRORS + 41 and result.total_errors == MAX_ERRORS + 41
    assert len(result.errors) == MAX_ERRORS
    with open(rejects, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == MAX_ERRORS + 41
    lines = [int(r["line"]) for r in rows]
    assert lines == sorted(lines) and lines[0] == 3 and lines[-1] == len(data)
    assert rows[0]["field"] == "occurred_at" and rows[0]["id"] == "z0" and rows[0]["occurred_at"] == "never"
    assert rows[-1]["field"] == "id" and rows[-1]["id"] == "ok0" and "different content" in rows[-1]["reason"]


def test_feed_errors_are_capped_and_counted(tmp_path):
    events = [
        {"id": i, "datetime": "yesterday", "type": "Rån", "location": {"name": "Malmö"}} for i in range(600)
    ]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_polisen_events(path)
    assert len(info.value.errors) == MAX_ERRORS and info.value.total == 600
    rejects = tmp_path / "rejects.csv"
    result = import_polisen_events(path, skip_invalid=True, rejects=rejects)
    assert result.rejected == 600 and len(result.errors) == MAX_ERRORS
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 601


# --- item 5: the preview finds what the import finds, without writing ------------------------


def test_preview_finds_a_repeated_id_in_a_later_chunk_without_writing(tmp_path):
    data = [(f"p{i}", "2024-01-01T00:00", "Rån", "", "") for i in range(6)]
    data.append(("p1", "2024-01-05T00:00", "Rån", "", ""))  # row 7: row 2's id, other content
    data.append(("p2", "2024-01-01T00:00", "Rån", "", ""))  # row 8: row 3 again: a repeat
    path = write_parquet(tmp_path / "dup.parquet", data)
    with validate_only():
        result = import_incidents(path, source="preview", skip_invalid=True, chunk_rows=2)
    assert (result.accepted, result.rejected, result.added) == (7, 1, 6)
    assert [(e.line, e.field) for e in result.errors] == [(7, "id")]
    assert not Incident.objects.filter(source="preview").exists()
    assert not ImportRecord.objects.exists()
    committed = import_incidents(path, source="preview", skip_invalid=True, chunk_rows=2)
    assert (committed.accepted, committed.rejected, committed.added) == (7, 1, 6)


def test_preview_of_a_parallel_import_writes_nothing(tmp_path):
    path = write_parquet(
        tmp_path / "par.parquet", [(f"q{i}", "2024-01-01T00:00", "Rån", "", "") for i in range(9)]
    )
    with validate_only():
        result = import_incidents(path, source="preview", chunk_rows=2, parallel=True)
    assert (result.accepted, result.added, result.details["parallel"]) == (9, 9, True)
    assert not Incident.objects.filter(source="preview").exists()


# --- item 13: GeoJSON features with unusable geometry ---------------------------------------


def feature(i, geometry):
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"id": f"g{i}", "occurred_at": "2024-05-01T12:00:00", "type": "Rån"},
    }


def test_geojson_null_coordinates_and_lines_are_errors_of_their_feature(tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(1, {"type": "Point", "coordinates": [18.0686, 59.3293]}),
            feature(2, {"type": "Point", "coordinates": None}),
            feature(3, {"type": "LineString", "coordinates": [[18.0, 59.3], [18.1, 59.4]]}),
            feature(4, None),  # no geometry: an incident without coordinates
            feature(5, {"type": "Point", "coordinates": [18.0]}),
            "not a feature",
        ],
    }
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="gj")
    errors = info.value.errors
    assert [(e.line, e.field) for e in errors] == [
        (2, "geometry"),
        (3, "geometry"),
        (5, "geometry"),
        (6, "feature"),
    ]
    assert "no coordinates" in errors[0].message
    assert "LineString" in errors[1].message and "Point" in errors[1].message
    assert str(path) in str(errors[0]) and f"{path}:2: field 'geometry'" in str(info.value)
    result = import_incidents(path, source="gj", skip_invalid=True)
    assert (result.added, result.rejected) == (2, 4)
    assert Incident.objects.get(source="gj", external_id="g1").x is not None
    assert Incident.objects.get(source="gj", external_id="g4").x is None


# --- item 13: a file that is not UTF-8 names its line -----------------------------------------


def test_latin1_csv_names_the_line_and_asks_for_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "id,occurred_at,type\n1,2024-01-01T00:00,Misshandel\n2,2024-01-01T00:00,Rån\n".encode("latin-1")
    )
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="latin")
    error = info.value.errors[0]
    assert (error.line, error.field) == (3, "file")
    assert "UTF-8" in error.message


def test_latin1_header_is_line_1(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,occurred_at,type,plats\u00e5\n1,2024-01-01T00:00,Rån,x\n".encode("latin-1"))
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="latin")
    assert (info.value.errors[0].line, info.value.errors[0].field) == (1, "file")
    assert "UTF-8" in info.value.errors[0].message


def test_latin1_far_into_a_large_csv_names_its_line(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as handle:
        handle.write(b"id,occurred_at,type\n")
        for i in range(30_000):
            handle.write(b"%d,2024-01-01T00:00,Misshandel\n" % i)
        handle.write("x,2024-01-01T00:00,Rån\n".encode("latin-1"))
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="latin")
    assert info.value.errors[0].line == 30_002 and "UTF-8" in info.value.errors[0].message


# --- item 13: summaries are excluded by a rule that catches new ones -------------------------


def test_new_summary_types_are_excluded_by_the_prefix_rule():
    tax = configured_taxonomy()
    assert tax.indicator_of("Sammanfattning helg") == ""
    assert tax.indicator_of("Sammanfattning natt") == ""
    assert tax.indicator_of("Uppdatering") == ""
    assert tax.indicator_of("Trafikolycka") == "other"
    assert list(tax.map_array(["Sammanfattning jul", "Rån"])) == ["", "violence_public"]


def test_a_mapped_type_caught_by_an_excluded_prefix_is_a_taxonomy_error(tmp_path):
    path = tmp_path / "tax.toml"
    path.write_text(
        "[indicators]\nshootings = ['Sammanfattning skott']\n[exclude]\nprefixes = ['Sammanfattning']\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match=r"exclude\.prefixes"):
        load_taxonomy(path)
    path.write_text("[indicators]\n[exclude]\nprefixes = ['']\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"exclude\.prefixes"):
        load_taxonomy(path)


def test_unnamed_types_lists_stored_types_the_taxonomy_does_not_name(tmp_path):
    rows = [
        ("u1", "2024-01-01T00:00", "Trafikolycka", "", ""),
        ("u2", "2024-01-02T00:00", "Trafikolycka", "", ""),
        ("u3", "2024-01-03T00:00", "Sammanfattning helg", "", ""),
        ("u4", "2024-01-04T00:00", "Rån", "", ""),
    ]
    import_incidents(write_csv(tmp_path / "t.csv", rows), source="tax")
    found = dict(unnamed_types(configured_taxonomy()))
    assert found.get("Trafikolycka") == 2
    assert "Sammanfattning helg" not in found and "Rån" not in found
    assert Incident.objects.get(source="tax", external_id="u3").indicator == ""
