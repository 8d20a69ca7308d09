"""Reading boundary files and converting geometries between SWEREF99 TM and WGS84."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyproj
import shapely
from pyogrio.raw import read as ogr_read

from problembild.analysis.spatial import SWEREF99TM, WGS84, detect_crs, to_sweref, to_wgs84
from problembild.core.imports import ImportFailed, RowError, check_file

SUPPORTED_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg", ".zip")

#: |x| or |y| beyond this (metres) is no position in a transverse Mercator grid such as SWEREF99 TM.
_MAX_GRID_METRES = 1e8
_NAMES = {WGS84: "WGS84", SWEREF99TM: "SWEREF99 TM"}


@dataclass
class FeatureTable:
    """Features of a boundary file, geometries already in SWEREF99 TM.

    ``errors`` lists the features that could not be used (numbered from 1 in file order,
    field ``geometry``); their geometry is ``None`` and the caller must reject them.
    """

    path: str
    crs: str
    properties: list[dict]
    geometries: list[shapely.Geometry | None]
    errors: list[RowError] = field(default_factory=list)


def read_features(path: str | Path, *, strict: bool = True) -> FeatureTable:
    """Read a GeoJSON, Shapefile (also zipped) or GeoPackage; return SWEREF99 TM geometries.

    The coordinate system is taken from the file (WGS84 or SWEREF99 TM), or detected from
    the coordinates when the file states none. GeoJSON always implies WGS84, so a GeoJSON
    file whose coordinates are all SWEREF99 TM metres over Sweden (a common export without
    a ``crs`` member) is read as SWEREF99 TM. Invalid polygons are made valid (their
    polygonal parts kept). A problem with the whole file raises :class:`ImportFailed`
    naming the file; a problem with one feature (coordinates that are not finite, out of
    range or in another system than the rest) is a :class:`RowError` naming the feature
    number and the field ``geometry``: raised with ``strict``, else listed in
    ``FeatureTable.errors``.
    """
    p = check_file(path, SUPPORTED_SUFFIXES)
    path = str(p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL warnings (e.g. "several layers") become Python warnings
            meta, _fids, wkb, field_data = ogr_read(path, force_2d=True)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ImportFailed([RowError(path, None, "file", f"cannot read the file: {exc}")]) from None
    names = [str(n) for n in meta["fields"]]
    dtypes = [str(d) for d in meta.get("dtypes", [None] * len(names))]
    n = len(wkb) if wkb is not None else (len(field_data[0]) if field_data else 0)
    if n == 0:
        raise ImportFailed([RowError(path, None, "file", "the file has no features")])
    if wkb is None:
        wkb = [None] * n
    rows = [{name: _plain(field_data[k][i], dtypes[k]) for k, name in enumerate(names)} for i in range(n)]
    errors: dict[int, RowError] = {}

    def bad(i: int, message: str) -> None:
        errors.setdefault(i, RowError(path, i + 1, "geometry", message, rows[i]))

    geoms: list[shapely.Geometry | None] = []
    coords: list[np.ndarray] = []
    for i, blob in enumerate(wkb):
        geom, xy = None, np.empty((0, 2))
        if blob is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    geom = from_wkb(blob)
            except shapely.errors.ShapelyError as exc:
                bad(i, f"unreadable geometry: {exc}")
            if geom is not None and geom.is_empty:
                geom = None
            if geom is not None:
                xy = shapely.get_coordinates(geom)
                if not np.isfinite(xy).all():
                    bad(i, "a coordinate is not a number (NaN or infinite)")
        geoms.append(geom)
        coords.append(xy)

    crs = _crs_of(meta.get("crs"), coords, errors, path, bad)
    if crs == WGS84 and p.suffix.lower() in (".geojson", ".json"):
        crs = _implied_wgs84_or_sweref(coords, errors)
    for i, geom in enumerate(geoms):
        if geom is None or i in errors:
            continue
        message = _out_of_range(coords[i], crs)
        if message:
            bad(i, message)
            continue
        if crs == WGS84:
            geom = shapely.transform(geom, _to_sweref_xy)
            if not np.isfinite(shapely.get_coordinates(geom)).all():
                bad(i, "the coordinates cannot be converted from WGS84 to SWEREF99 TM")
                continue
        try:
            geoms[i] = _made_valid(geom)
        except shapely.errors.ShapelyError as exc:
            bad(i, f"invalid geometry that cannot be repaired: {exc}")
    found = [errors[i] for i in sorted(errors)]
    for e in found:
        geoms[e.line - 1] = None
    if found and strict:
        raise ImportFailed(found)
    return FeatureTable(path=path, crs=crs, properties=rows, geometries=geoms, errors=found)


def _crs_of(meta_crs: str | None, coords: list[np.ndarray], errors: dict, path: str, bad) -> str:
    """WGS84 or SWEREF99 TM: as the file states, else detected from the coordinates.

    Without a stated system each feature's coordinates are recognised on their own; the
    system most features fit is the file's, and features that fit neither (or the other)
    are reported. When no feature fits either system the whole file is refused.
    """
    if meta_crs:
        return _named_crs(meta_crs, path)
    detected: dict[int, str] = {}
    reasons: dict[int, str] = {}
    for i, xy in enumerate(coords):
        if len(xy) == 0 or i in errors:
            continue
        try:
            detected[i] = detect_crs(xy[:, 0], xy[:, 1])
        except ValueError as exc:
            reasons[i] = str(exc)
    if not detected:
        if not reasons:
            if errors:  # every geometry is unusable: say why, feature by feature
                raise ImportFailed([errors[i] for i in sorted(errors)])
            raise ImportFailed([RowError(path, None, "geometry", "the file has no usable geometries")])
        every = np.vstack([coords[i] for i in reasons])
        message = "coordinates fit neither WGS84 nor SWEREF99 TM over Sweden"
        try:
            detect_crs(every[:, 0], every[:, 1])
        except ValueError as exc:
            message = str(exc)
        raise ImportFailed(
            [RowError(path, None, "crs", f"the file states no coordinate system, and its {message}")]
        )
    systems = list(detected.values())
    crs = max((WGS84, SWEREF99TM), key=systems.count)
    for i, reason in reasons.items():
        bad(i, f"the file states no coordinate system and this feature's {reason}")
    for i, system in detected.items():
        if system != crs:
            bad(
                i,
                f"coordinates look like {_NAMES[system]} but the rest of the file is {_NAMES[crs]}; "
                "a file uses one coordinate system",
            )
    return crs


def _implied_wgs84_or_sweref(coords: list[np.ndarray], errors: dict) -> str:
    """SWEREF99 TM if every usable coordinate is SWEREF99 TM metres over Sweden, else WGS84."""
    usable = [xy for i, xy in enumerate(coords) if len(xy) and i not in errors]
    if not usable:
        return WGS84
    every = np.vstack(usable)
    try:
        return detect_crs(every[:, 0], every[:, 1])
    except ValueError:
        return WGS84


def _named_crs(meta_crs: str, path: str) -> str:
    """Map the coordinate system a file states to WGS84 or SWEREF99 TM, or refuse it."""
    try:
        stated = pyproj.CRS.from_user_input(meta_crs)
    except pyproj.exceptions.CRSError:
        stated = None
    if stated is not None:
        if stated.to_epsg(min_confidence=70) == 3006:
            return SWEREF99TM
        if stated.to_epsg(min_confidence=70) == 4326 or stated.equals(
            pyproj.CRS.from_user_input("OGC:CRS84")
        ):
            return WGS84
    name = stated.name if stated is not None else meta_crs
    raise ImportFailed(
        [
            RowError(
                path,
                None,
                "crs",
                f"unsupported coordinate system {name}; use WGS84 (EPSG:4326) or SWEREF99 TM (EPSG:3006)",
            )
        ]
    )


def _out_of_range(xy: np.ndarray, crs: str) -> str:
    """Why coordinates cannot be positions in ``crs``, or '' when they can."""
    if len(xy) == 0:
        return ""
    x, y = np.abs(xy[:, 0]), np.abs(xy[:, 1])
    if crs == WGS84 and (x.max() > 180 or y.max() > 90):
        k = int(np.argmax(np.maximum(x / 180, y / 90)))
        return (
            f"coordinate ({xy[k, 0]:g}, {xy[k, 1]:g}) is out of range for WGS84 "
            "(longitude -180 to 180, latitude -90 to 90)"
        )
    if crs == SWEREF99TM and max(x.max(), y.max()) > _MAX_GRID_METRES:
        k = int(np.argmax(np.maximum(x, y)))
        return f"coordinate ({xy[k, 0]:g}, {xy[k, 1]:g}) is out of range for SWEREF99 TM metres"
    return ""


def _made_valid(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` if valid, else repaired; a repaired polygon keeps only its polygonal parts."""
    if shapely.is_valid(geom):
        return geom
    fixed = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon") and fixed.geom_type == "GeometryCollection":
        polygons = [
            part
            for part in shapely.get_parts(fixed)
            if part.geom_type in ("Polygon", "MultiPolygon") and not part.is_empty
        ]
        if polygons:
            fixed = shapely.union_all(polygons)
    return fixed


def _plain(value, dtype: str | None = None):
    """NumPy values become plain Python values: NaN and NaT become None, datetimes ISO
    text, whole numbers in integer fields (read as float when the field has nulls) int,
    and empty strings None."""
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value, unit="s"))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if dtype and dtype.startswith(("int", "uint")) and value.is_integer():
            return int(value)
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


def from_wkb(value: bytes | memoryview | None) -> shapely.Geometry | None:
    """The one decoder of stored boundaries: WKB (``BinaryField``, SWEREF99 TM) to shapely, or None."""
    return shapely.from_wkb(bytes(value)) if value else None
