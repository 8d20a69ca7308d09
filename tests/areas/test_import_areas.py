"""``import areas`` at the level users see it: the importer function and the CLI.

The shipped files are the oracles: the 2023 list in WGS84 and in SWEREF99 TM describe the
same 59 areas, and the register the test database starts from was loaded from them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
import shapely
from typer.testing import CliRunner

from problembild.areas.geometry import read_features
from problembild.areas.importers import import_areas
from problembild.areas.models import Area, AssessmentRound, Classification
from problembild.cli import app
from problembild.core.imports import ImportFailed
from problembild.core.models import ImportRecord

from .boundary_files import (
    AREAS_HISTORICAL,
    AREAS_SWEREF,
    AREAS_WGS84,
    CLASSIFICATIONS,
    convert,
    feature,
    features,
    hausdorff_m,
    shifted,
    write_geojson,
    zip_shapefile,
)

pytestmark = pytest.mark.django_db
runner = CliRunner()

#: Shapefile field names have at most 10 characters; GDAL shortens the longer ones so.
SHAPEFILE_NAMES = {
    "local_poli": "local_police_area",
    "police_are": "police_area_code",
    "police_a_1": "police_area",
    "region_cod": "region_code",
}
ALBY = 1  # panel id of Alby (Botkyrka), in the 2023 list
ALBY_CORNER = (667_000.0, 6_566_000.0)  # SWEREF99 TM metres, inside Botkyrka


def row_counts() -> tuple[int, int, int]:
    return Area.objects.count(), Classification.objects.count(), AssessmentRound.objects.count()


def round_of(year: int) -> dict[int, tuple[str, shapely.Geometry]]:
    """panel id -> (category, boundary) of every area classified in ``year``."""
    return {
        c.area.panel_id: (c.category, c.area.shape)
        for c in Classification.objects.filter(round__year=year).select_related("area")
    }


def categories_2023() -> dict[int, str]:
    return {p: cat for p, (cat, _) in round_of(2023).items()}


def alby_props(**extra) -> dict:
    return {"panel_id": ALBY, "name": "Alby", "category": "särskilt utsatt område", **extra}


# --- the shipped 2023 list, both coordinate systems ---


@pytest.mark.parametrize("path", [AREAS_WGS84, AREAS_SWEREF], ids=["wgs84", "sweref99tm"])
def test_2023_list_imports_as_a_new_round_of_59_areas_with_the_2023_categories(path):
    areas_before = Area.objects.count()
    result = import_areas(path, year=2025)
    assert result.accepted == 59 and result.rejected == 0
    assert result.details["new_areas"] == 0  # every area is matched by its panel id
    assert Area.objects.count() == areas_before
    assert (
        AssessmentRound.objects.get(year=2025).categories == AssessmentRound.objects.get(year=2023).categories
    )
    assert {p: cat for p, (cat, _) in round_of(2025).items()} == categories_2023()


def test_2023_boundaries_in_wgs84_and_sweref99tm_agree_within_a_metre():
    import_areas(AREAS_WGS84, year=2025)
    from_wgs84 = round_of(2025)
    import_areas(AREAS_SWEREF, year=2026)
    from_sweref = round_of(2026)
    assert from_wgs84.keys() == from_sweref.keys() and len(from_wgs84) == 59
    for panel, (_, a) in from_wgs84.items():
        b = from_sweref[panel][1]
        assert a.area == pytest.approx(b.area, rel=1e-3), panel
        # WGS84 with 6 decimals is exact to about 0.1 m.
        assert hausdorff_m(a, b) < 1.0, panel


def test_2023_list_into_an_empty_register_creates_59_areas_in_their_local_police_areas():
    Area.objects.all().delete()
    AssessmentRound.objects.all().delete()
    result = import_areas(AREAS_WGS84, year=2023)
    assert result.details["new_areas"] == 59
    assert Classification.objects.filter(round__year=2023).count() == 59
    for f in features(AREAS_WGS84):
        p = f["properties"]
        area = Area.objects.select_related("org_unit__parent").get(panel_id=p["panel_id"])
        assert area.name == p["name"]
        assert area.org_unit.name == p["local_police_area"]
        assert area.org_unit.parent.code == p["police_area_code"]
        assert area.municipality_id is not None
    counts = Counter(Classification.objects.values_list("category", flat=True))
    assert counts == {"särskilt utsatt område": 17, "riskområde": 15, "utsatt område": 27}


def test_reimporting_the_same_file_adds_nothing():
    first = import_areas(AREAS_SWEREF, year=2025)
    assert first.added > 0
    counts = row_counts()
    again = import_areas(AREAS_SWEREF, year=2025)
    assert again.added == 0
    assert row_counts() == counts
    assert ImportRecord.objects.get(pk=again.record_id).status == ImportRecord.Status.UNCHANGED


def test_cli_imports_a_list_with_its_categories_and_prints_a_summary():
    result = runner.invoke(
        app,
        [
            "import",
            "areas",
            str(AREAS_WGS84),
            "--year",
            "2025",
            "--categories",
            "utsatt område,riskområde,särskilt utsatt område",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["kind"], summary["accepted"], summary["rejected"], summary["year"]) == (
        "areas",
        59,
        0,
        2025,
    )
    assert Classification.objects.filter(round__year=2025).count() == 59


# --- the historical areas ---


def test_historical_file_read_gives_the_register_boundaries():
    table = read_features(AREAS_HISTORICAL)
    assert table.crs == "EPSG:4326" and len(table.geometries) == 10 and not table.errors
    for props, geom in zip(table.properties, table.geometries, strict=True):
        stored = Area.objects.get(panel_id=props["panel_id"]).shape
        assert shapely.equals_exact(geom, stored, tolerance=1e-6), props["name"]


def test_historical_file_as_shipped_is_refused_for_its_unknown_source_property():
    result = runner.invoke(app, ["import", "areas", str(AREAS_HISTORICAL), "--year", "2021"])
    assert result.exit_code == 1
    output = result.output.replace("\n", "")
    assert f"{AREAS_HISTORICAL}: field 'source': unknown property" in output
    assert "--map source=" in output


def test_historical_file_without_categories_is_refused_feature_by_feature_and_writes_nothing():
    counts = row_counts()
    with pytest.raises(ImportFailed) as failed:
        import_areas(AREAS_HISTORICAL, year=2021, mapping={"source": ""})
    assert [(e.file, e.line, e.field) for e in failed.value.errors] == [
        (str(AREAS_HISTORICAL), line, "category") for line in range(1, 11)
    ]
    assert row_counts() == counts


def test_historical_areas_with_their_2015_categories_reimport_without_change(tmp_path):
    with CLASSIFICATIONS.open(encoding="utf-8") as handle:
        listed_2015 = {
            int(r["panel_id"]): r["category"] for r in csv.DictReader(handle) if r["year"] == "2015"
        }
    feats = []
    for f in features(AREAS_HISTORICAL):
        p = f["properties"]
        if p["panel_id"] in listed_2015:
            feats.append(
                feature({"panel_id": p["panel_id"], "category": listed_2015[p["panel_id"]]}, f["geometry"])
            )
    assert len(feats) == 9
    path = write_geojson(tmp_path / "historical_2015.geojson", feats, crs="EPSG:4326")
    counts = row_counts()
    result = import_areas(path, year=2015)
    assert (result.accepted, result.added) == (9, 0)
    assert row_counts() == counts


# --- Shapefile (plain and zipped), GeoPackage, and files without a CRS ---


def shapefile(tmp_path, source=AREAS_SWEREF, crs="from source"):
    return convert(source, tmp_path / "areas.shp", driver="ESRI Shapefile", crs=crs)


@pytest.mark.parametrize("kind", ["shp", "zip", "gpkg"])
def test_shapefile_zipped_shapefile_and_geopackage_give_the_areas_of_the_geojson(tmp_path, kind):
    import_areas(AREAS_SWEREF, year=2025)
    expected = round_of(2025)
    if kind == "gpkg":
        path = convert(AREAS_SWEREF, tmp_path / "areas.gpkg", driver="GPKG")
        mapping = {}
    else:
        path = shapefile(tmp_path)
        path = zip_shapefile(path) if kind == "zip" else path
        mapping = SHAPEFILE_NAMES
    result = import_areas(path, year=2026, mapping=mapping)
    assert (result.accepted, result.rejected) == (59, 0)
    got = round_of(2026)
    assert got.keys() == expected.keys()
    for panel, (category, boundary) in expected.items():
        assert got[panel][0] == category
        assert shapely.equals(got[panel][1], boundary), panel
    assert (
        Classification.objects.get(area__panel_id=ALBY, round__year=2026).assessed.isoformat() == "2018-10-01"
    )


@pytest.mark.parametrize(
    ("source", "crs"), [(AREAS_SWEREF, "EPSG:3006"), (AREAS_WGS84, "EPSG:4326")], ids=["sweref99tm", "wgs84"]
)
def test_shapefile_without_prj_has_its_crs_detected_from_the_coordinates(tmp_path, source, crs):
    path = shapefile(tmp_path, source, crs=None)
    assert not path.with_suffix(".prj").exists()
    table = read_features(path)
    assert table.crs == crs
    result = import_areas(path, year=2025, mapping=SHAPEFILE_NAMES)
    assert (result.accepted, result.rejected) == (59, 0)
    alby = read_features(AREAS_SWEREF).geometries[0]
    assert hausdorff_m(Area.objects.get(panel_id=ALBY).shape, alby) < 1.0


def test_geojson_without_crs_member_in_sweref99tm_metres_is_read_as_sweref99tm(tmp_path):
    # GeoJSON implies WGS84, but exports in SWEREF99 TM often leave the crs member out.
    path = write_geojson(tmp_path / "areas.geojson", features(AREAS_SWEREF), crs=None)
    assert read_features(path).crs == "EPSG:3006"
    result = import_areas(path, year=2025)
    assert (result.accepted, result.rejected) == (59, 0)


def test_file_without_crs_whose_coordinates_fit_neither_system_is_refused(tmp_path):
    # The 2023 list moved 5,000 km north: neither degrees nor SWEREF99 TM metres over Sweden.
    feats = [feature(f["properties"], shifted(f["geometry"], 0, 5e6)) for f in features(AREAS_SWEREF)[:3]]
    path = convert(
        write_geojson(tmp_path / "far.geojson", feats),
        tmp_path / "far.shp",
        driver="ESRI Shapefile",
        crs=None,
    )
    counts = row_counts()
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025, mapping=SHAPEFILE_NAMES)
    [error] = failed.value.errors
    assert (error.file, error.line, error.field) == (str(path), None, "crs")
    assert "fit neither WGS84" in error.message
    assert row_counts() == counts


def test_file_without_crs_names_the_one_feature_in_another_system(tmp_path):
    feats = [feature(f["properties"], f["geometry"]) for f in features(AREAS_SWEREF)[:3]]
    feats[1]["geometry"] = features(AREAS_WGS84)[1]["geometry"]  # degrees among metres
    path = convert(
        write_geojson(tmp_path / "mixed.geojson", feats),
        tmp_path / "mixed.shp",
        driver="ESRI Shapefile",
        crs=None,
    )
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025, mapping=SHAPEFILE_NAMES)
    [error] = failed.value.errors
    assert (error.line, error.field) == (2, "geometry")
    assert "look like WGS84 but the rest of the file is SWEREF99 TM" in error.message


def test_unsupported_crs_is_refused_naming_the_file(tmp_path):
    path = convert(AREAS_WGS84, tmp_path / "mercator.gpkg", driver="GPKG", crs="EPSG:3857")
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    [error] = failed.value.errors
    assert (error.file, error.line, error.field) == (str(path), None, "crs")
    assert "WGS 84 / Pseudo-Mercator" in error.message


# --- geometry problems ---


def test_self_intersecting_bow_tie_is_made_valid_as_its_two_triangles(tmp_path):
    x, y = ALBY_CORNER
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 100, y + 100], [x + 100, y], [x, y + 100], [x, y]]],
    }
    assert not shapely.geometry.shape(bow_tie).is_valid
    path = write_geojson(tmp_path / "bowtie.geojson", [feature(alby_props(), bow_tie)])
    import_areas(path, year=2025)
    alby = Area.objects.get(panel_id=ALBY)
    assert alby.shape.is_valid and alby.shape.geom_type == "MultiPolygon"
    assert alby.shape.area == pytest.approx(2 * 100 * 50 / 2)  # two triangles, base 100 m, height 50 m
    assert alby.area_km2 == pytest.approx(0.005)


def test_polygon_without_area_is_reported_naming_feature_and_field(tmp_path):
    x, y = ALBY_CORNER
    flat = {"type": "Polygon", "coordinates": [[[x, y], [x + 100, y], [x + 200, y], [x, y]]]}
    path = write_geojson(tmp_path / "flat.geojson", [feature(alby_props(), flat)])
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    [error] = failed.value.errors
    assert (error.file, error.line, error.field) == (str(path), 1, "geometry")
    assert "expected a polygon" in error.message


@pytest.mark.parametrize(
    ("crs", "bad", "message"),
    [
        ("EPSG:3006", float("nan"), "not a number"),
        ("EPSG:4326", float("nan"), "not a number"),
        ("EPSG:3006", 1e30, "out of range for SWEREF99 TM"),
        ("EPSG:4326", 1e30, "out of range for WGS84"),
    ],
    ids=["nan-sweref", "nan-wgs84", "huge-sweref", "huge-wgs84"],
)
def test_nan_or_huge_coordinate_is_an_error_naming_file_feature_and_field_and_writes_nothing(
    tmp_path, crs, bad, message
):
    source = AREAS_SWEREF if crs == "EPSG:3006" else AREAS_WGS84
    feats = features(source)[:3]
    ring = feats[2]["geometry"]["coordinates"][0]
    ring = ring[0] if feats[2]["geometry"]["type"] == "MultiPolygon" else ring
    ring[1] = [bad, ring[1][1]]
    path = write_geojson(tmp_path / "bad.geojson", feats, crs=crs)
    counts = row_counts()
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    [error] = failed.value.errors
    assert (error.file, error.line, error.field) == (str(path), 3, "geometry")
    assert message in error.message
    assert row_counts() == counts


def test_cli_reports_a_nan_coordinate_with_file_feature_and_field(tmp_path):
    x, y = ALBY_CORNER
    nan_square = {"type": "Polygon", "coordinates": [[[x, y], [float("nan"), y], [x, y + 50], [x, y]]]}
    path = write_geojson(tmp_path / "nan.geojson", [feature(alby_props(), nan_square)])
    result = runner.invoke(app, ["import", "areas", str(path), "--year", "2025"])
    assert result.exit_code == 1
    assert f"{path}:1: field 'geometry'" in result.output.replace("\n", "")
    assert not AssessmentRound.objects.filter(year=2025).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "file does not exist"), ("{not json", "cannot read the file")],
    ids=["missing", "garbage"],
)
def test_unreadable_file_is_an_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "areas.geojson"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["import", "areas", str(path), "--year", "2025"])
    assert result.exit_code == 1
    assert f"{path}: field 'file': {message}" in result.output.replace("\n", "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- all-or-nothing, rejects, and row checks ---


def the_2023_list_with(tmp_path, line: int, **props):
    feats = features(AREAS_WGS84)
    feats[line - 1]["properties"].update(props)
    return write_geojson(tmp_path / "areas.geojson", feats, crs="EPSG:4326")


def test_failed_import_writes_nothing_and_is_recorded(tmp_path):
    path = the_2023_list_with(tmp_path, 30, category="okänd")
    counts = row_counts()
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    assert [(e.line, e.field) for e in failed.value.errors] == [(30, "category")]
    assert row_counts() == counts
    record = ImportRecord.objects.filter(kind="areas").latest("pk")
    assert record.status == ImportRecord.Status.FAILED and record.file_name == str(path)


def test_skip_invalid_imports_the_valid_features_and_writes_the_rejected_one(tmp_path):
    x, y = ALBY_CORNER
    feats = features(AREAS_SWEREF)
    feats[4]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x, y], [float("nan"), y], [x, y + 50], [x, y]]],
    }
    path = write_geojson(tmp_path / "areas.geojson", feats)
    rejects = tmp_path / "rejects.csv"
    result = import_areas(path, year=2025, skip_invalid=True, rejects=rejects)
    assert (result.accepted, result.rejected) == (58, 1)
    assert Classification.objects.filter(round__year=2025).count() == 58
    with rejects.open(encoding="utf-8") as handle:
        [rejected] = list(csv.DictReader(handle))
    assert (rejected["line"], rejected["field"], rejected["name"]) == (
        "5",
        "geometry",
        feats[4]["properties"]["name"],
    )


def test_year_property_that_differs_from_the_round_is_an_error(tmp_path):
    path = the_2023_list_with(tmp_path, 7, year=2019)
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    assert [(e.line, e.field) for e in failed.value.errors] == [(7, "year")]


def test_the_same_panel_id_twice_is_an_error_naming_the_second_feature(tmp_path):
    path = the_2023_list_with(tmp_path, 12, panel_id=ALBY)
    with pytest.raises(ImportFailed) as failed:
        import_areas(path, year=2025)
    [error] = failed.value.errors
    assert (error.line, error.field) == (12, "panel_id")
    assert "line 1" in error.message


def test_new_area_may_be_split_from_an_area_later_in_the_file(tmp_path):
    x, y = ALBY_CORNER
    unit = {"local_police_area": "Botkyrka", "category": "utsatt område"}
    feats = [
        feature(
            {"panel_id": 901, "name": "Alby södra", "split_from": 900, **unit},
            shapely.box(x, y, x + 200, y + 100),
        ),
        feature({"panel_id": 900, "name": "Alby norra", **unit}, shapely.box(x, y + 100, x + 200, y + 200)),
    ]
    path = write_geojson(tmp_path / "split.geojson", feats)
    result = import_areas(path, year=2025)
    assert result.details["new_areas"] == 2
    child = Area.objects.select_related("parent", "org_unit").get(panel_id=901)
    assert child.parent.panel_id == 900
    assert child.org_unit.name == "Botkyrka"
    assert child.area_km2 == pytest.approx(0.02)
