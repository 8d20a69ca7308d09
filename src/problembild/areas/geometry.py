"""Reading boundary files and converting geometries between SWEREF99 TM and WGS84."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from problembild.analysis.spatial import detect_crs, to_sweref, to_wgs84
from problembild.core.imports import ImportFailed, RowError

SUPPORTED_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg", ".zip")


@dataclass
class FeatureTable:
    """Features of a boundary file, geometries already in SWEREF99 TM."""

    path: str
    crs: str
    properties: list[dict]
    geometries: list[shapely.Geometry | None]


def _crs_of(meta_crs: str | None, geoms: list[shapely.Geometry | None], path: str) -> str:
    if meta_crs:
        text = meta_crs.upper()
        if "3006" in text:
            return "EPSG:3006"
        if "4326" in text or "CRS84" in text:
            return "EPSG:4326"
        raise ImportFailed(
            [
                RowError(
                    path, None, "crs", f"unsupported coordinate system {meta_crs}; use WGS84 or SWEREF99 TM"
                )
            ]
        )
    coords = np.vstack([shapely.get_coordinates(g) for g in geoms if g is not None] or [np.empty((0, 2))])
    if len(coords) == 0:
        raise ImportFailed([RowError(path, None, "geometry", "the file has no geometries")])
    try:
        return detect_crs(coords[:, 0], coords[:, 1])
    except ValueError as exc:
        raise ImportFailed([RowError(path, None, "crs", str(exc))]) from None


def read_features(path: str | Path) -> FeatureTable:
    """Read a GeoJSON, Shapefile or GeoPackage with pyogrio; return SWEREF99 TM geometries.

    The coordinate system is taken from the file, or detected from the coordinates when the
    file does not state one. Raises :class:`ImportFailed` naming the file on unreadable input.
    """
    path = str(path)
    try:
        meta, _fids, wkb, field_data = pyogrio.read(path, force_2d=True)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ImportFailed([RowError(path, None, "file", f"cannot read the file: {exc}")]) from None
    names = list(meta["fields"])
    geoms = [shapely.from_wkb(g) if g is not None else None for g in wkb]
    crs = _crs_of(meta.get("crs"), geoms, path)
    if crs != "EPSG:3006":
        geoms = [None if g is None else shapely.transform(g, _to_sweref_xy) for g in geoms]
    geoms = [None if g is None else shapely.make_valid(g) if not shapely.is_valid(g) else g for g in geoms]
    rows = []
    for i in range(len(geoms)):
        rows.append({n: _plain(field_data[k][i]) for k, n in enumerate(names)})
    return FeatureTable(path=path, crs=crs, properties=rows, geometries=geoms)


def _plain(value):
    """NumPy scalars and NaN become plain Python values; empty strings become None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _to_sweref_xy(coords: np.ndarray) -> np.ndarray:
    x, y = to_sweref(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _to_wgs84_xy(coords: np.ndarray) -> np.ndarray:
    lon, lat = to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def sweref_to_geojson(geom: shapely.Geometry, *, precision: int = 6, simplify_m: float = 0.0) -> str:
    """GeoJSON text in WGS84 for a SWEREF99 TM geometry (optionally simplified, in metres)."""
    if simplify_m > 0:
        geom = shapely.simplify(geom, simplify_m, preserve_topology=True)
    wgs = shapely.transform(geom, _to_wgs84_xy)
    return json.dumps(json.loads(shapely.to_geojson(shapely.set_precision(wgs, 10**-precision))))


def wgs84_to_sweref(geom: shapely.Geometry) -> shapely.Geometry:
    """Transform a WGS84 (lon, lat) geometry to SWEREF99 TM."""
    return shapely.transform(geom, _to_sweref_xy)
