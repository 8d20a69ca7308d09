"""Importing area lists and population.

``import_areas`` reads a list of vulnerable areas (GeoJSON, Shapefile or GeoPackage;
WGS84 or SWEREF99 TM) and adds an assessment round without losing earlier ones.
``import_population`` reads residents per area and year, or DeSO counts with DeSO
boundaries turned into area population by area-weighted overlay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db.models import Max

from problembild.analysis.spatial import area_weighted_overlay, inside_sweden
from problembild.core import imports
from problembild.core.cache import register_changes
from problembild.core.db import upsert
from problembild.core.imports import (
    ImportFailed,
    ImportResult,
    RowError,
    check_file,
    finish_validation,
    recorded_import,
)
from problembild.core.models import OrgUnit

from .choices import STANDARD_CATEGORIES, Direction
from .geometry import SUPPORTED_SUFFIXES, read_features, sweref_to_geojson
from .models import Area, AssessmentRound, Classification, Population
from .municipalities import MunicipalityIndex
from .register import ensure_org_unit, lpo_code, nation

AREA_FIELDS = (
    "panel_id",
    "name",
    "category",
    "direction",
    "assessed",
    "town",
    "area_code",
    "local_police_area",
    "police_area",
    "police_area_code",
    "region",
    "region_code",
    "split_from",
    "year",
)
#: The largest residents figure accepted: more than Sweden's population is a typing error.
_MAX_RESIDENTS = 20_000_000
_DIRECTIONS = {
    "positive": Direction.POSITIVE,
    "positiv": Direction.POSITIVE,
    "stable": Direction.STABLE,
    "stabil": Direction.STABLE,
    "negative": Direction.NEGATIVE,
    "negativ": Direction.NEGATIVE,
}


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``their_property=field`` pairs against the area fields; an empty field ignores the property."""
    return imports.parse_mapping(pairs, AREA_FIELDS)


def run_area_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner (:class:`~problembild.core.imports.ImportKind`) for lists of areas."""
    return import_areas(
        path,
        year=options.get("year"),
        categories=options.get("categories"),
        mapping=parse_mapping(options.get("map") or []),
        **common,
    )


def run_population_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for residents per area and year."""
    return import_population(path, year=options.get("year"), source=options.get("source") or "", **common)


def _apply_mapping(props: dict, mapping: dict[str, str], known: Sequence[str]) -> tuple[dict, list[str]]:
    out, unknown = {}, []
    for key, value in props.items():
        target = mapping.get(key, key)
        if key in mapping and not target:
            continue
        if target not in known:
            unknown.append(key)
            continue
        out[target] = value
    return out, unknown


@dataclass
class _AreaPlan:
    """One valid row of an area list, ready to be written."""

    line: int
    row: dict
    geom: shapely.Geometry | None
    area: Area | None  # the registered area it updates (None: a new area)
    unit: OrgUnit | None  # a new area's lokalpolisområde (None: created from the row's codes)
    category: str
    direction: str
    assessed: date | None
    parent: int | None  # panel id of the area it was split from


@dataclass
class _Known:
    """The register as the rows of an area list are matched against it."""

    by_panel: dict[int, Area]
    by_code: dict[str, Area]
    by_name: dict[str, Area]
    lpos: dict[str, OrgUnit]
    in_file: set[int]  # panel ids the file names

    @classmethod
    def load(cls, rows: list[tuple[int, dict, shapely.Geometry | None]]) -> _Known:
        by_panel = {a.panel_id: a for a in Area.objects.all()}
        return cls(
            by_panel=by_panel,
            by_code={a.area_code: a for a in by_panel.values() if a.area_code},
            by_name={a.name: a for a in by_panel.values()},
            lpos={u.name.casefold(): u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.LOCAL_POLICE_AREA)},
            in_file={int(r["panel_id"]) for _, r, _ in rows if str(r.get("panel_id") or "").isdecimal()},
        )


@register_changes()
def import_areas(
    path: str | Path,
    *,
    year: int | None = None,
    categories: Sequence[str] | None = None,
    mapping: dict[str, str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
) -> ImportResult:
    """Import one list of areas as the assessment round ``year``; see the module docstring.

    Areas are matched by ``panel_id``, else ``area_code``, else exact name; a new area
    needs a boundary and a lokalpolisområde (existing, or created from ``police_area_code``
    and ``region_code``). ``split_from`` names the panel id of the area it was split from.
    """
    p = check_file(path, SUPPORTED_SUFFIXES)
    fname = str(p)
    mapping = mapping or {}
    rows, errors, bad_geometry = _area_rows(p, mapping)
    year = _round_year(fname, rows, year, errors)
    rejected_early = {e.line for e in errors}
    existing_round = AssessmentRound.objects.filter(year=year).first()
    cats = list(categories or (existing_round.categories if existing_round else STANDARD_CATEGORIES))
    if existing_round and categories and list(categories) != existing_round.categories:
        raise ImportFailed(
            [RowError(fname, None, "categories", f"round {year} already uses {existing_round.categories}")]
        )
    known = _Known.load(rows)
    plans: list[_AreaPlan] = []
    seen: dict[object, int] = {}  # panel id or area -> the first line naming it
    for line, r, geom in rows:
        n_before = len(errors)
        plan = _plan_area(
            fname,
            line,
            r,
            geom,
            known=known,
            cats=cats,
            year=year,
            seen=seen,
            errors=errors,
            bad_geometry=bad_geometry,
        )
        if len(errors) == n_before and line not in rejected_early:
            plans.append(plan)
    plans = _without_orphan_splits(fname, plans, known, errors)

    with recorded_import(
        "areas", p, user=user, options={"year": year, "categories": cats, "map": mapping}
    ) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(plans))
        rnd, changed = upsert(
            AssessmentRound, {"year": year}, {"categories": cats, "source": Path(fname).name}
        )
        added, created = _write_areas(fname, plans, rnd)
        result.added = added + int(changed and existing_round is None)
        result.details = {"year": year, "categories": cats, "new_areas": created}
    return result


def _area_rows(p: Path, mapping: dict[str, str]) -> tuple[list, list[RowError], set[int | None]]:
    """The file's features as ``(line, mapped properties, geometry)``; geometry errors; their lines."""
    fname = str(p)
    table = read_features(p, strict=False)
    # Features whose geometry could not be used are rejected like any other bad row.
    errors: list[RowError] = list(table.errors)
    rows: list[tuple[int, dict, shapely.Geometry | None]] = []
    unknown_cols: set[str] = set()
    for i, (props, geom) in enumerate(zip(table.properties, table.geometries, strict=True), start=1):
        mapped, unknown = _apply_mapping(props, mapping, AREA_FIELDS)
        for key in ("panel_id", "split_from", "year"):  # numbers stored as reals (e.g. in a Shapefile)
            if isinstance(mapped.get(key), float) and mapped[key].is_integer():
                mapped[key] = int(mapped[key])
        unknown_cols.update(unknown)
        rows.append((i, mapped, geom))
    if unknown_cols:
        raise ImportFailed(
            [
                RowError(
                    fname,
                    None,
                    c,
                    f"unknown property; map it with --map {c}=FIELD or ignore it with --map {c}=",
                )
                for c in sorted(unknown_cols)
            ]
        )
    return rows, errors, {e.line for e in table.errors}


def _round_year(fname: str, rows: list, year: int | None, errors: list[RowError]) -> int:
    """The round's year: ``year``, or the file's single ``year`` value; rows of other years are errors."""
    row_years: dict[int, tuple[int, dict]] = {}
    for line, r, _ in rows:
        if r.get("year") in (None, ""):
            continue
        text = str(r["year"]).strip()
        if text.isdecimal() and 1900 <= int(text) <= 2100:
            row_years[line] = (int(text), r)
        else:
            errors.append(RowError(fname, line, "year", f"not a year: {r['year']!r}", dict(r)))
    if year is None:
        years = {y for y, _ in row_years.values()}
        if len(years) != 1:
            raise ImportFailed(
                [RowError(fname, None, "year", "give --year (the file has no single 'year' value)")]
            )
        year = years.pop()
    for line, (y, r) in row_years.items():
        if y != year:
            errors.append(
                RowError(fname, line, "year", f"{y} differs from the round being imported ({year})", dict(r))
            )
    return year


def _plan_area(
    fname: str,
    line: int,
    r: dict,
    geom: shapely.Geometry | None,
    *,
    known: _Known,
    cats: list[str],
    year: int,
    seen: dict[object, int],
    errors: list[RowError],
    bad_geometry: set,
) -> _AreaPlan:
    """Check one row against the round and the register; its problems are appended to ``errors``."""

    def err(field: str, message: str) -> None:
        errors.append(RowError(fname, line, field, message, dict(r)))

    category = str(r.get("category") or "").strip()
    if category not in cats:
        err("category", f"unknown category {category!r} for {year}; allowed: {', '.join(cats)}")
    direction = str(r.get("direction") or "").strip().casefold()
    if direction and direction not in _DIRECTIONS:
        err("direction", f"unknown direction {direction!r}; use positive, stable or negative")
    assessed = None
    if r.get("assessed"):
        try:
            # Shapefiles store dates as YYYY/MM/DD text when written from datetimes.
            assessed = date.fromisoformat(str(r["assessed"])[:10].replace("/", "-"))
        except ValueError:
            err("assessed", f"not a date: {r['assessed']!r}")
    area = _registered_area(r, known, seen, line, err)
    parent = None
    if r.get("split_from") not in (None, ""):
        sp = str(r["split_from"])
        if not sp.isdecimal() or (int(sp) not in known.by_panel and int(sp) not in known.in_file):
            err("split_from", f"unknown area {sp!r} (give the panel id of the area it was split from)")
        else:
            parent = int(sp)
    if geom is not None:
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            err("geometry", f"expected a polygon, got {geom.geom_type}")
        else:
            b = shapely.bounds(geom)
            if not inside_sweden(np.array([b[0], b[2]]), np.array([b[1], b[3]])).all():
                err("geometry", "boundary lies outside Sweden")
    unit = None
    if area is None:
        if not r.get("name"):
            err("name", "a new area needs a name")
        if geom is None and line not in bad_geometry:
            err("geometry", "a new area needs a boundary")
        lpo_name = str(r.get("local_police_area") or "").strip()
        unit = known.lpos.get(lpo_name.casefold())
        if unit is None and not (lpo_name and r.get("police_area_code") and r.get("region_code")):
            err(
                "local_police_area",
                f"unknown lokalpolisområde {lpo_name!r} (give police_area_code and region_code to create it)",
            )
    return _AreaPlan(line, r, geom, area, unit, category, _DIRECTIONS.get(direction, ""), assessed, parent)


def _registered_area(r: dict, known: _Known, seen: dict[object, int], line: int, err) -> Area | None:
    """The registered area a row names (by panel id, area code or name); a second row naming it is an error."""
    panel = r.get("panel_id")
    if panel not in (None, "") and not str(panel).isdecimal():
        err("panel_id", f"not a whole number: {panel!r}")
        panel = None
    area = None
    if panel not in (None, ""):
        area = known.by_panel.get(int(panel))
    if area is None and r.get("area_code"):
        area = known.by_code.get(str(r["area_code"]))
    if area is None and r.get("name") and panel in (None, ""):
        area = known.by_name.get(str(r["name"]).strip())
    keys = ([("panel", int(panel))] if panel not in (None, "") else []) + (
        [("area", area.pk)] if area is not None else []
    )
    for key in keys:
        if key in seen:
            err("panel_id" if key[0] == "panel" else "name", f"the same area as line {seen[key]}")
            break
        seen[key] = line
    return area


def _without_orphan_splits(
    fname: str, plans: list[_AreaPlan], known: _Known, errors: list[RowError]
) -> list[_AreaPlan]:
    """Drop (as errors) areas split from an area that is neither registered nor imported by this file."""
    planned = {int(p.row["panel_id"]) for p in plans if str(p.row.get("panel_id") or "").isdecimal()}
    kept = []
    for plan in plans:
        if plan.parent is not None and plan.parent not in known.by_panel and plan.parent not in planned:
            errors.append(
                RowError(
                    fname,
                    plan.line,
                    "split_from",
                    f"area {plan.parent} is rejected in this file",
                    dict(plan.row),
                )
            )
        else:
            kept.append(plan)
    return kept


def _write_areas(fname: str, plans: list[_AreaPlan], rnd: AssessmentRound) -> tuple[int, int]:
    """Write the areas and their classifications of round ``rnd``; return (rows changed, new areas)."""
    added = 0
    next_id = (Area.objects.aggregate(m=Max("panel_id"))["m"] or 0) + 1
    created = 0
    splits: list[tuple[Area, int]] = []
    municipalities = MunicipalityIndex() if any(p.geom is not None for p in plans) else None
    for plan in plans:
        r, geom = plan.row, plan.geom
        values: dict = {}
        if geom is not None:
            values.update(
                geometry=shapely.to_wkb(geom),
                geojson=sweref_to_geojson(geom),
                area_km2=round(geom.area / 1e6, 4),
                municipality_id=municipalities.code_of(geom) if municipalities else None,
            )
        for f in ("town", "area_code"):
            if r.get(f):
                values[f] = str(r[f])
        if r.get("name"):
            values["name"] = str(r["name"]).strip()
        if plan.area is None:
            panel = int(r["panel_id"]) if str(r.get("panel_id") or "").isdecimal() else next_id
            next_id = max(next_id, panel) + 1
            values["org_unit"] = plan.unit or _new_lpo(r)
            values["source"] = Path(fname).name
            area, was = upsert(Area, {"panel_id": panel}, values)
            created += 1
        else:
            area, was = upsert(Area, {"pk": plan.area.pk}, values)
        added += was
        if plan.parent is not None:
            splits.append((area, plan.parent))
        _, was = upsert(
            Classification,
            {"area": area, "round": rnd},
            {"category": plan.category, "direction": plan.direction, "assessed": plan.assessed},
        )
        added += was
    # After every area exists, so that an area may name one later in the file.
    for area, parent in splits:
        parent_area = Area.objects.filter(panel_id=parent).first()
        if parent_area is None:
            raise ImportFailed([RowError(fname, None, "split_from", f"unknown area {parent}")])
        if area.parent_id != parent_area.pk:
            area.parent = parent_area
            area.save(update_fields=["parent"])
            added += 1
    return added, created


def _new_lpo(r: dict) -> OrgUnit:
    """The lokalpolisområde a row names by its codes, created with its region and police area if new."""
    region, _ = ensure_org_unit(
        OrgUnit.Kind.REGION, str(r["region_code"]), str(r.get("region") or r["region_code"]), nation()
    )
    police_area, _ = ensure_org_unit(
        OrgUnit.Kind.POLICE_AREA,
        str(r["police_area_code"]),
        str(r.get("police_area") or r["police_area_code"]),
        region,
    )
    unit, _ = ensure_org_unit(
        OrgUnit.Kind.LOCAL_POLICE_AREA,
        lpo_code(str(r["police_area_code"]), str(r["local_police_area"])),
        str(r["local_police_area"]),
        police_area,
    )
    return unit


@register_changes()
def import_population(
    path: str | Path,
    *,
    boundaries: str | Path | None = None,
    year: int | None = None,
    source: str = "",
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
) -> ImportResult:
    """Import residents per area and year.

    Without ``boundaries``: a CSV with ``area`` (panel id or exact name), ``year`` and
    ``residents``. With ``boundaries`` (a DeSO boundary file with a ``deso`` property):
    ``path`` is SCB-style DeSO counts (``deso``, ``year``, ``residents``) and each area gets
    the area-weighted share of every DeSO it overlaps.
    """
    p = check_file(path, (".csv",))
    fname = str(p)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:
        raise ImportFailed([RowError(fname, None, "file", f"cannot read CSV: {exc}")]) from None
    key = "deso" if boundaries else "area"
    needed = [key, "residents"] + ([] if year else ["year"])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ImportFailed([RowError(fname, 1, c, "required column is missing") for c in missing])
    extra = [c for c in frame.columns if c not in (key, "residents", "year", "source")]
    if extra:
        raise ImportFailed([RowError(fname, 1, c, "unknown column") for c in extra])
    errors: list[RowError] = []
    good: list[tuple[str, int, int, str, int]] = []
    for i, r in enumerate(frame.to_dict("records"), start=2):
        # Thousands may be grouped with a (no-break) space, as Swedish statistics often are.
        residents = str(r["residents"]).strip().replace(" ", "").replace("\u00a0", "")
        y = str(r.get("year") or year or "").strip()
        if not (residents.isascii() and residents.isdecimal()):
            errors.append(RowError(fname, i, "residents", f"not a whole number: {r['residents']!r}", r))
        elif int(residents) > _MAX_RESIDENTS:
            errors.append(RowError(fname, i, "residents", f"more residents than Sweden has: {residents}", r))
        elif not (y.isdecimal() and 1900 <= int(y) <= 2100):
            errors.append(RowError(fname, i, "year", f"not a year: {y!r}", r))
        elif not str(r[key]).strip():
            errors.append(RowError(fname, i, key, "empty", r))
        else:
            good.append((str(r[key]).strip(), int(y), int(residents), str(r.get("source") or source), i))

    areas_by_key = {str(a.panel_id): a for a in Area.objects.all()}
    areas_by_key.update({a.name: a for a in areas_by_key.values()})
    targets: list[tuple[Area, int, int, str]] = []
    if boundaries is None:
        ok = []
        first_line: dict[tuple[int, int], int] = {}
        for k, y, n, s, line in good:
            area = areas_by_key.get(k)
            if area is None:
                errors.append(
                    RowError(fname, line, "area", f"unknown area {k!r} (give a panel id or exact name)")
                )
            elif (area.pk, y) in first_line:
                errors.append(
                    RowError(
                        fname, line, "area", f"{area.name} {y} is already on line {first_line[area.pk, y]}"
                    )
                )
            else:
                first_line[area.pk, y] = line
                ok.append((area, y, n, s))
        targets = ok
    else:
        targets = _deso_overlay(fname, boundaries, good, errors, source)

    with recorded_import(
        "population", p, user=user, options={"boundaries": str(boundaries or ""), "year": year}
    ) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(targets))
        added = 0
        for area, y, n, s in targets:
            _, was = upsert(
                Population,
                {"area": area, "year": y},
                {"residents": n, "source": s or Path(fname).name, "synthetic": False},
            )
            added += was
        result.added = added
    return result


def _deso_overlay(fname, boundaries, good, errors, source) -> list:
    table = read_features(boundaries)
    codes = [
        str(props.get("deso") or props.get("deso_code") or props.get("desokod") or "")
        for props in table.properties
    ]
    if not any(codes):
        raise ImportFailed(
            [RowError(str(boundaries), None, "deso", "no 'deso' property in the boundary file")]
        )
    geom_by_code: dict[str, shapely.Geometry] = {}
    repeated, listed = [], set()
    for feature, (code, geom) in enumerate(zip(codes, table.geometries, strict=True), start=1):
        if code and code in listed:
            repeated.append(RowError(str(boundaries), feature, "deso", f"DeSO {code!r} appears twice"))
        listed.add(code)
        if code and geom is not None:
            geom_by_code.setdefault(code, geom)
    if repeated:
        raise ImportFailed(repeated)
    first_line: dict[tuple[str, int], int] = {}
    counted = []
    for row in good:
        k, y, line = row[0], row[1], row[4]
        if k not in geom_by_code:
            errors.append(RowError(fname, line, "deso", f"DeSO {k!r} is not in {boundaries}"))
        elif (k, y) in first_line:
            errors.append(
                RowError(fname, line, "deso", f"DeSO {k!r} {y} is already on line {first_line[k, y]}")
            )
        else:
            first_line[k, y] = line
            counted.append(row)
    good = counted
    areas = list(Area.objects.current().exclude(geometry=None))
    out = []
    for y in sorted({g[1] for g in good}):
        rows = [(g[0], g[2]) for g in good if g[1] == y]
        if not rows:
            continue
        totals = area_weighted_overlay(
            [geom_by_code[k] for k, _ in rows],
            np.array([n for _, n in rows], dtype=float),
            [a.shape for a in areas],
        )
        for area, total in zip(areas, totals, strict=True):
            if total > 0:
                out.append(
                    (area, y, round(total), source or f"DeSO-överlagring ({Path(str(boundaries)).name})")
                )
    return out
