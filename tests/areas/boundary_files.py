"""Small boundary files written by the tests: GeoJSON by hand, Shapefile and GeoPackage with pyogrio."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import read as ogr_read
from pyogrio.raw import write as ogr_write

from problembild.areas.register import DATA_DIR

AREAS_WGS84 = DATA_DIR / "areas_2023.geojson"
AREAS_SWEREF = DATA_DIR / "areas_2023_sweref99tm.geojson"
AREAS_HISTORICAL = DATA_DIR / "areas_historical.geojson"
CLASSIFICATIONS = DATA_DIR / "area_classifications_2015_2023.csv"

#: How a GeoJSON file names its coordinate system.
CRS_MEMBER = {
    "EPSG:3006": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
    "EPSG:4326": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
}


def features(path: Path) -> list[dict]:
    """The features of a GeoJSON file as plain dicts."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["features"]


def feature(properties: dict, geometry) -> dict:
    """A GeoJSON feature from properties and a shapely geometry (or a GeoJSON geometry dict)."""
    if isinstance(geometry, shapely.Geometry):
        geometry = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path: Path, feats: list[dict], crs: str | None = "EPSG:3006") -> Path:
    """Write a FeatureCollection; ``crs`` None leaves the member out (GeoJSON then implies WGS84).

    Python's json writes NaN and 1e+30 as such; GDAL reads both.
    """
    data: dict = {"type": "FeatureCollection", "features": feats}
    if crs:
        data["crs"] = CRS_MEMBER[crs]
    Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return Path(path)


def convert(source: Path, target: Path, *, driver: str, crs: str | None = "from source") -> Path:
    """Copy a boundary file into another format with pyogrio; ``crs=None`` writes no CRS (.prj)."""
    meta, _fids, geometry, field_data = ogr_read(source)
    with warnings.catch_warnings():
        # Shapefiles shorten long field names, store datetimes as text and may lack a .prj: all intended.
        warnings.simplefilter("ignore")
        ogr_write(
            target,
            geometry,
            field_data,
            meta["fields"],
            driver=driver,
            crs=meta["crs"] if crs == "from source" else crs,
            geometry_type="MultiPolygon" if driver == "ESRI Shapefile" else "Unknown",
            promote_to_multi=driver == "ESRI Shapefile",
            encoding="UTF-8",
        )
    return target


def zip_shapefile(shp: Path) -> Path:
    """Zip a Shapefile's parts (``.shp``, ``.dbf``, ``.shx``, ``.prj``, ``.cpg``) next to it."""
    target = shp.with_suffix(".zip")
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            if part != target:
                archive.write(part, part.name)
    return target


def hausdorff_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Hausdorff distance in metres (densified, so that vertices between vertices count too)."""
    return float(shapely.hausdorff_distance(a, b, densify=0.1))


def shifted(geom: dict, dx: float, dy: float) -> dict:
    """A GeoJSON geometry dict moved by (dx, dy)."""
    moved = shapely.transform(shapely.geometry.shape(geom), lambda xy: xy + np.array([dx, dy]))
    return json.loads(shapely.to_geojson(moved))


def write_layer(path: Path, geoms: list, fields: dict[str, list], *, crs: str | None = "EPSG:3006") -> Path:
    """Write shapely geometries with attribute columns (driver chosen by the suffix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ogr_write(
            path,
            np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object),
            [np.array(v, dtype=object) for v in fields.values()],
            list(fields),
            crs=crs,
            geometry_type="Polygon",
        )
    return Path(path)
