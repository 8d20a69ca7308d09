import csv
import json

import pandas as pd
import pytest
import shapely

from problembild.areas.models import Area
from problembild.core.imports import ImportFailed
from problembild.core.models import ImportRecord
from problembild.incidents.importers import import_incidents, parse_mapping
from problembild.incidents.models import Incident

pytestmark = pytest.mark.django_db


def inside(name: str) -> tuple[float, float]:
    p = shapely.point_on_surface(Area.objects.get(name=name).shape)
    return p.x, p.y


def write_csv(path, rows, header=("id", "occurred_at", "type", "x", "y")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def good_csv(tmp_path):
    x, y = inside("Rosengård")
    return write_csv(
        tmp_path / "inc.csv",
        [
            ("a1", "2024-03-01T22:15:00", "Skottlossning", x, y),
            ("a2", "2024-03-02T01:00:00+00:00", "Narkotikabrott", x + 1, y + 1),
            ("a3", "2024-03-03 12:00", "Stöld", 674000, 6580000),  # Stockholm, outside every area
            ("a4", "2024-03-04T10:00:00", "Övrigt", "", ""),
        ],
    )


def test_import_assigns_points_to_the_area_containing_them(good_csv):
    result = import_incidents(good_csv, source="test")
    assert result.added == 4
    rosengard = Area.objects.get(name="Rosengård")
    assert set(Incident.objects.filter(area=rosengard).values_list("external_id", flat=True)) == {"a1", "a2"}
    assert Incident.objects.get(external_id="a3").area is None
    assert Incident.objects.get(external_id="a4").x is None
    assert Incident.objects.get(external_id="a1").indicator == "shootings"
    assert Incident.objects.get(external_id="a1").area_match == "exact"


def test_time_without_offset_means_europe_stockholm(good_csv):
    import_incidents(good_csv, source="test")
    # 22:15 local in March (CET, +01:00) is 21:15 UTC.
    assert Incident.objects.get(external_id="a1").occurred_at.isoformat() == "2024-03-01T21:15:00+00:00"
    assert Incident.objects.get(external_id="a2").occurred_at.isoformat() == "2024-03-02T01:00:00+00:00"


def test_reimporting_the_same_file_adds_nothing_and_is_recorded(good_csv):
    import_incidents(good_csv, source="test")
    again = import_incidents(good_csv, source="test")
    assert again.added == 0
    assert Incident.objects.filter(source="test").count() == 4
    records = list(ImportRecord.objects.filter(kind="incidents").order_by("started_at"))
    assert [r.status for r in records] == ["committed", "unchanged"]
    assert records[0].sha256 == records[1].sha256 and len(records[0].sha256) == 64


def test_import_rejects_bad_date_and_writes_nothing(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv", [("b1", "2024-03-01T10:00", "Rån", "", ""), ("b2", "yesterday", "Rån", "", "")]
    )
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="test")
    err = info.value.errors[0]
    assert (err.file, err.line, err.field) == (str(path), 3, "occurred_at")
    assert "bad.csv:3: field 'occurred_at'" in str(info.value)
    assert Incident.objects.filter(source="test").count() == 0
    assert ImportRecord.objects.get(kind="incidents").status == "failed"


def test_import_rejects_coordinates_outside_sweden(tmp_path):
    path = write_csv(tmp_path / "far.csv", [("c1", "2024-01-01T00:00", "Rån", 100, 200)])
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="test")
    assert info.value.errors[0].field == "x"
    assert "outside Sweden" in info.value.errors[0].message


def test_import_rejects_unknown_column_and_suggests_a_mapping(tmp_path):
    path = write_csv(
        tmp_path / "cols.csv",
        [("d1", "2024-01-01T00:00", "Rån", "x")],
        header=("id", "occurred_at", "type", "colour"),
    )
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="test")
    assert info.value.errors[0].field == "colour"
    assert "--map colour=" in info.value.errors[0].message
    assert import_incidents(path, source="test", mapping=parse_mapping(["colour="])).added == 1


def test_mapping_renames_columns(tmp_path):
    x, y = inside("Alby")
    path = write_csv(
        tmp_path / "m.csv", [("e1", "2024-01-01T00:00", "Rån", x, y)], header=("nr", "tid", "brott", "E", "N")
    )
    result = import_incidents(
        path, source="test", mapping=parse_mapping(["nr=id", "tid=occurred_at", "brott=type", "E=x", "N=y"])
    )
    assert result.added == 1
    assert Incident.objects.get(external_id="e1").area.name == "Alby"


def test_duplicate_id_with_different_content_is_an_error(tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        [("f1", "2024-01-01T00:00", "Rån", "", ""), ("f1", "2024-01-02T00:00", "Rån", "", "")],
    )
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="test")
    assert (info.value.errors[0].line, info.value.errors[0].field) == (3, "id")


def test_changed_row_against_stored_data_is_an_error(tmp_path, good_csv):
    import_incidents(good_csv, source="test")
    path = write_csv(tmp_path / "changed.csv", [("a1", "2024-03-01T22:15:00", "Rån", "", "")])
    with pytest.raises(ImportFailed, match="imported before"):
        import_incidents(path, source="test")


def test_skip_invalid_imports_valid_rows_and_writes_rejects(tmp_path):
    path = write_csv(
        tmp_path / "mixed.csv",
        [
            ("g1", "2024-01-01T00:00", "Rån", "", ""),
            ("g2", "not a date", "Rån", "", ""),
            ("g3", "2024-01-01T00:00", "", "", ""),
        ],
    )
    rejects = tmp_path / "rejects.csv"
    result = import_incidents(path, source="test", skip_invalid=True, rejects=rejects)
    assert (result.accepted, result.rejected, result.added) == (1, 2, 1)
    with open(rejects, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["line"], r["field"]) for r in rows] == [("3", "occurred_at"), ("4", "type")]
    assert rows[0]["id"] == "g2"


def test_lat_lon_are_converted_to_sweref(tmp_path):
    path = write_csv(
        tmp_path / "ll.csv",
        [("h1", "2024-01-01T00:00", "Rån", 55.5833, 13.0333)],
        header=("id", "occurred_at", "type", "lat", "lon"),
    )
    import_incidents(path, source="test")
    inc = Incident.objects.get(external_id="h1")
    assert 370_000 < inc.x < 380_000 and 6_150_000 < inc.y < 6_170_000


def test_parquet_and_geojson_are_accepted(tmp_path):
    x, y = inside("Hjällbo")
    frame = pd.DataFrame(
        {"id": ["p1"], "occurred_at": ["2024-05-01T12:00:00+02:00"], "type": ["Rån"], "x": [x], "y": [y]}
    )
    frame.to_parquet(tmp_path / "p.parquet")
    assert import_incidents(tmp_path / "p.parquet", source="pq").added == 1
    assert Incident.objects.get(source="pq").area.name == "Hjällbo"
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [18.0686, 59.3293]},
                "properties": {"id": "g1", "occurred_at": "2024-05-01T12:00:00", "type": "Rån"},
            }
        ],
    }
    (tmp_path / "g.geojson").write_text(json.dumps(gj))
    assert import_incidents(tmp_path / "g.geojson", source="gj").added == 1


def test_municipality_by_name_or_code(tmp_path):
    path = write_csv(
        tmp_path / "mu.csv",
        [("k1", "2024-01-01T00:00", "Rån", "malmö"), ("k2", "2024-01-01T00:00", "Rån", "0180")],
        header=("id", "occurred_at", "type", "municipality"),
    )
    import_incidents(path, source="test")
    assert sorted(Incident.objects.values_list("municipality_code", flat=True)) == ["0180", "1280"]
    bad = write_csv(
        tmp_path / "mu2.csv",
        [("k3", "2024-01-01T00:00", "Rån", "Atlantis")],
        header=("id", "occurred_at", "type", "municipality"),
    )
    with pytest.raises(ImportFailed, match="unknown municipality"):
        import_incidents(bad, source="test")


def test_missing_file_and_wrong_suffix_are_clear_errors(tmp_path):
    with pytest.raises(ImportFailed, match="does not exist"):
        import_incidents(tmp_path / "nope.csv")
    (tmp_path / "x.txt").write_text("id\n")
    with pytest.raises(ImportFailed, match="unsupported file type"):
        import_incidents(tmp_path / "x.txt")
