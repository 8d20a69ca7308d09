"""``import population`` at the level users see it: residents per area, and DeSO counts
turned into area population by area-weighted overlay (checked against hand-computed shares)."""

from __future__ import annotations

import csv
import json

import pytest
import shapely
from typer.testing import CliRunner

from problembild.areas.importers import import_population
from problembild.areas.models import Area, AssessmentRound, Classification, Population
from problembild.cli import app
from problembild.core.imports import ImportFailed
from problembild.core.models import OrgUnit

from .boundary_files import write_layer

pytestmark = pytest.mark.django_db
runner = CliRunner()

X0, Y0 = 667_000.0, 6_566_000.0  # SWEREF99 TM metres, Botkyrka


def write_csv(path, rows: list[list]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def residents() -> dict[tuple[str, int], int]:
    return {(p.area.name, p.year): p.residents for p in Population.objects.select_related("area")}


# --- residents per area ---


def test_residents_per_area_are_stored_by_panel_id_or_name(tmp_path):
    path = write_csv(
        tmp_path / "pop.csv",
        [["area", "year", "residents"], ["1", "2024", "12 345"], ["Rosengård", "2024", "24000"]],
    )
    result = import_population(path, source="SCB")
    assert (result.accepted, result.added) == (2, 2)
    alby = Population.objects.get(area__panel_id=1, year=2024)
    assert (alby.residents, alby.source, alby.synthetic) == (12345, "SCB", False)
    assert Population.objects.get(area__name="Rosengård", year=2024).residents == 24000


def test_reimporting_the_same_population_file_adds_nothing(tmp_path):
    path = write_csv(tmp_path / "pop.csv", [["area", "year", "residents"], ["1", "2024", "12345"]])
    import_population(path)
    count = Population.objects.count()
    assert import_population(path).added == 0
    assert Population.objects.count() == count


def test_bad_rows_name_file_line_and_field_and_nothing_is_written(tmp_path):
    path = write_csv(
        tmp_path / "pop.csv",
        [
            ["area", "year", "residents"],
            ["1", "2024", "5000"],
            ["Rosengård", "20x4", "100"],
            ["Nowhere", "2024", "100"],
            ["1", "2024", "abc"],
            ["Alby", "2024", "4000"],  # Alby 2024 again, by name
        ],
    )
    count = Population.objects.count()
    with pytest.raises(ImportFailed) as failed:
        import_population(path)
    assert sorted((e.file, e.line, e.field) for e in failed.value.errors) == [
        (path, 3, "year"),
        (path, 4, "area"),
        (path, 5, "residents"),
        (path, 6, "area"),
    ]
    assert Population.objects.count() == count


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    path = write_csv(tmp_path / "pop.csv", [["area", "residents"], ["1", "5000"]])
    with pytest.raises(ImportFailed) as failed:
        import_population(path)
    assert [(e.line, e.field) for e in failed.value.errors] == [(1, "year")]


def test_cli_takes_the_year_as_an_option_and_writes_rejects(tmp_path):
    path = write_csv(tmp_path / "pop.csv", [["area", "residents"], ["1", "5000"], ["2", "lots"]])
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "population", path, "--year", "2024", "--skip-invalid", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"], summary["added"]) == (1, 1, 1)
    assert Population.objects.get(area__panel_id=1, year=2024).residents == 5000
    with rejects.open(encoding="utf-8") as handle:
        [rejected] = list(csv.DictReader(handle))
    assert (rejected["line"], rejected["field"], rejected["residents"]) == ("3", "residents", "lots")


# --- DeSO counts by area-weighted overlay ---


@pytest.fixture
def two_square_areas(db):
    """Round 2030 lists two 1 km squares side by side: A = [0, 1000] x [0, 1000] and
    B = [1000, 2000] x [0, 1000] metres from (X0, Y0); they are then the current areas."""
    unit = OrgUnit.objects.get(code="5312-botkyrka")
    rnd = AssessmentRound.objects.create(year=2030, categories=["utsatt område"])
    for panel, name, dx in ((9001, "A", 0), (9002, "B", 1000)):
        box = shapely.box(X0 + dx, Y0, X0 + dx + 1000, Y0 + 1000)
        area = Area.objects.create(panel_id=panel, name=name, org_unit=unit, geometry=shapely.to_wkb(box))
        Classification.objects.create(area=area, round=rnd, category="utsatt område")


def deso_boundaries(path):
    """Four DeSO (not overlapping each other), in metres from (X0, Y0):

    * D1 = [600, 1600] x [0, 500]: 400/1000 of it in A, 600/1000 in B;
    * D2 = [0, 2000] x [500, 1500]: a quarter in A ([0, 1000] x [500, 1000]), a quarter in B;
    * D3 = [5000, 6000] x [0, 1000]: in neither;
    * D4 = [100, 300] x [100, 300]: wholly in A.
    """
    boxes = {
        "D1": (600, 0, 1600, 500),
        "D2": (0, 500, 2000, 1500),
        "D3": (5000, 0, 6000, 1000),
        "D4": (100, 100, 300, 300),
    }
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes.values()]
    return write_layer(path, geoms, {"deso": list(boxes)})


DESO_COUNTS = [
    ["deso", "year", "residents"],
    ["D1", "2024", "1000"],
    ["D2", "2024", "800"],
    ["D3", "2024", "300"],
    ["D4", "2024", "60"],
    ["D1", "2023", "500"],
]


@pytest.mark.usefixtures("two_square_areas")
def test_deso_counts_give_each_area_its_area_weighted_share(tmp_path):
    boundaries = deso_boundaries(tmp_path / "deso.gpkg")
    counts = write_csv(tmp_path / "deso.csv", DESO_COUNTS)
    import_population(counts, boundaries=boundaries)
    # 2024: A = 0.4*1000 + 0.25*800 + 60 = 660; B = 0.6*1000 + 0.25*800 = 800 (D3 lies outside both).
    # 2023: A = 0.4*500 = 200; B = 0.6*500 = 300.
    assert residents() == {("A", 2024): 660, ("B", 2024): 800, ("A", 2023): 200, ("B", 2023): 300}
    assert Population.objects.get(area__name="A", year=2024).source == "DeSO-överlagring (deso.gpkg)"


@pytest.mark.usefixtures("two_square_areas")
def test_cli_imports_deso_counts_with_geojson_boundaries(tmp_path):
    boundaries = deso_boundaries(tmp_path / "deso.geojson")
    counts = write_csv(tmp_path / "deso.csv", DESO_COUNTS[:3])
    result = runner.invoke(app, ["import", "population", counts, "--boundaries", str(boundaries)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 2
    assert residents() == {("A", 2024): 600, ("B", 2024): 800}


@pytest.mark.usefixtures("two_square_areas")
def test_bad_deso_rows_name_file_line_and_field_and_nothing_is_written(tmp_path):
    boundaries = deso_boundaries(tmp_path / "deso.gpkg")
    counts = write_csv(
        tmp_path / "deso.csv",
        [
            ["deso", "year", "residents"],
            ["D1", "2024", "1000"],
            ["D9", "2024", "10"],
            ["D2", "2024", "-5"],
            ["D1", "2024", "1000"],
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        import_population(counts, boundaries=boundaries)
    assert sorted((e.file, e.line, e.field) for e in failed.value.errors) == [
        (counts, 3, "deso"),
        (counts, 4, "residents"),
        (counts, 5, "deso"),
    ]
    assert not Population.objects.filter(area__panel_id__in=[9001, 9002]).exists()


@pytest.mark.usefixtures("two_square_areas")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_deso_boundary_with_a_nan_coordinate_names_the_boundary_file_and_feature(tmp_path):
    nan_box = shapely.Polygon([(X0, Y0), (float("nan"), Y0), (X0, Y0 + 10), (X0, Y0)])
    geoms = [shapely.box(X0, Y0, X0 + 10, Y0 + 10), nan_box]
    boundaries = write_layer(tmp_path / "deso.gpkg", geoms, {"deso": ["D1", "D2"]})
    counts = write_csv(tmp_path / "deso.csv", DESO_COUNTS[:2])
    with pytest.raises(ImportFailed) as failed:
        import_population(counts, boundaries=boundaries)
    [error] = failed.value.errors
    assert (error.file, error.line, error.field) == (str(boundaries), 2, "geometry")
    assert not Population.objects.filter(area__panel_id__in=[9001, 9002]).exists()


def test_deso_boundary_file_without_deso_property_is_refused(tmp_path):
    boundaries = write_layer(tmp_path / "b.gpkg", [shapely.box(X0, Y0, X0 + 10, Y0 + 10)], {"kod": ["D1"]})
    counts = write_csv(tmp_path / "deso.csv", DESO_COUNTS[:2])
    with pytest.raises(ImportFailed) as failed:
        import_population(counts, boundaries=boundaries)
    assert [(e.file, e.line, e.field) for e in failed.value.errors] == [(str(boundaries), None, "deso")]


def test_missing_deso_boundary_file_is_an_error_naming_it(tmp_path):
    counts = write_csv(tmp_path / "deso.csv", DESO_COUNTS[:2])
    missing = tmp_path / "nowhere.gpkg"
    with pytest.raises(ImportFailed) as failed:
        import_population(counts, boundaries=missing)
    assert [(e.file, e.field, e.message) for e in failed.value.errors] == [
        (str(missing), "file", "file does not exist")
    ]
