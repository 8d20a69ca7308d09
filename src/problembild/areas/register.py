"""Loading the police's published register shipped with the package (see data/SOURCE.md).

``load_register`` builds the org units (nation → region → polisområde → lokalpolisområde),
Sweden's 290 municipalities, the 59 areas of the 2023 list and the 10 areas listed only in
earlier years, and the 2015–2023 classification history. Running it again changes nothing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from django.db import transaction
from django.utils.text import slugify

from problembild.core.cache import register_changes
from problembild.core.db import upsert
from problembild.core.models import OrgUnit

from .choices import STANDARD_CATEGORIES
from .geometry import sweref_to_geojson, wgs84_to_sweref
from .models import Area, AssessmentRound, Classification, Municipality
from .municipalities import MunicipalityIndex

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCE_NOTE = "Polismyndigheten, via UO-Project/UO_panel (see areas/data/SOURCE.md)"
MUNICIPALITY_SOURCE = "Lantmäteriet (gränser), SCB (folkmängd 2024), via dnouri/crimecity3k"
NATION_CODE = "SE"


@dataclass
class RegisterSummary:
    org_units: int
    municipalities: int
    areas: int
    rounds: int
    classifications: int
    changed: int


def lpo_code(police_area_code: str, name: str) -> str:
    """Code of a lokalpolisområde: the police area's code and the slugified name."""
    return f"{police_area_code}-{slugify(name)}"


def nation() -> OrgUnit:
    unit, _ = upsert(
        OrgUnit, {"code": NATION_CODE}, {"name": "Polismyndigheten", "kind": OrgUnit.Kind.NATION}
    )
    return unit


def ensure_org_unit(kind: str, code: str, name: str, parent: OrgUnit) -> tuple[OrgUnit, bool]:
    """Get or create one org unit below ``parent``; rename it when the register renames it."""
    return upsert(OrgUnit, {"code": code}, {"name": name, "kind": kind, "parent": parent})


def load_municipalities(path: Path = DATA_DIR / "municipalities.geojson") -> tuple[int, int]:
    """Load the municipalities file (WGS84, with population). Returns (count, changed)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    changed = 0
    for feature in data["features"]:
        props = feature["properties"]
        wgs = shapely.geometry.shape(feature["geometry"])
        values = {
            "name": props["name"],
            "county_code": props["county_code"],
            "population": props.get("population"),
            "population_year": 2024 if props.get("population") is not None else None,
            "geometry": shapely.to_wkb(wgs84_to_sweref(wgs)),
            "geojson": json.dumps(feature["geometry"], separators=(",", ":")),
        }
        _, was_changed = upsert(Municipality, {"code": props["code"]}, values)
        changed += was_changed
    return len(data["features"]), changed


@register_changes()  # one bump of the cached pages' register version, after the commit
@transaction.atomic
def load_register(data_dir: Path = DATA_DIR) -> RegisterSummary:
    """Load (or re-check) the shipped register; idempotent."""
    changed = 0
    root = nation()
    n_muni, muni_changed = load_municipalities(data_dir / "municipalities.geojson")
    changed += muni_changed
    municipalities = MunicipalityIndex()

    wgs_features = json.loads((data_dir / "areas_2023.geojson").read_text(encoding="utf-8"))["features"]
    sweref_by_id = {
        f["properties"]["panel_id"]: shapely.geometry.shape(f["geometry"])
        for f in json.loads((data_dir / "areas_2023_sweref99tm.geojson").read_text(encoding="utf-8"))[
            "features"
        ]
    }
    assessed_2023: dict[int, date] = {}
    for feature in wgs_features:
        p = feature["properties"]
        region, c1 = ensure_org_unit(OrgUnit.Kind.REGION, p["region_code"], p["region"], root)
        police_area, c2 = ensure_org_unit(
            OrgUnit.Kind.POLICE_AREA, p["police_area_code"], p["police_area"], region
        )
        lpo, c3 = ensure_org_unit(
            OrgUnit.Kind.LOCAL_POLICE_AREA,
            lpo_code(p["police_area_code"], p["local_police_area"]),
            p["local_police_area"],
            police_area,
        )
        changed += c1 + c2 + c3
        geom = sweref_by_id[p["panel_id"]]
        _, was_changed = upsert(
            Area,
            {"panel_id": p["panel_id"]},
            {
                "name": p["name"],
                "town": p.get("town") or "",
                "area_code": p.get("area_code") or "",
                "org_unit": lpo,
                "municipality_id": municipalities.code_of(geom),
                "geometry": shapely.to_wkb(geom),
                "geojson": json.dumps(feature["geometry"], separators=(",", ":")),
                "area_km2": round(geom.area / 1e6, 4),
                "source": SOURCE_NOTE,
            },
        )
        changed += was_changed
        if p.get("assessed"):
            assessed_2023[p["panel_id"]] = date.fromisoformat(p["assessed"][:10])
    units = OrgUnit.objects.count()

    changed += _load_historical(data_dir / "areas_historical.geojson", municipalities, root)
    rounds, n_class, class_changed = _load_classifications(
        data_dir / "area_classifications_2015_2023.csv", assessed_2023
    )
    changed += class_changed
    return RegisterSummary(
        org_units=units,
        municipalities=n_muni,
        areas=Area.objects.count(),
        rounds=rounds,
        classifications=n_class,
        changed=changed,
    )


def _load_historical(path: Path, municipalities: MunicipalityIndex, root: OrgUnit) -> int:
    """Areas listed only before 2023. The file names no lokalpolisområde, so each is placed in
    the unit of the nearest 2023 area in the same municipality (else the nearest area's
    polisområde): the unit that in practice answers for the place today."""
    current = list(Area.objects.exclude(geometry=None).select_related("org_unit__parent"))
    centroids = np.array([[a.shape.centroid.x, a.shape.centroid.y] for a in current])
    changed = 0
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        p = feature["properties"]
        if any(a.panel_id == p["panel_id"] for a in current):
            continue
        geom = wgs84_to_sweref(shapely.geometry.shape(feature["geometry"]))
        muni = municipalities.code_of(geom)
        c = geom.centroid
        dist = np.hypot(centroids[:, 0] - c.x, centroids[:, 1] - c.y)
        same_muni = np.array([a.municipality_id == muni for a in current])
        if same_muni.any():
            unit = current[int(np.argmin(np.where(same_muni, dist, np.inf)))].org_unit
        else:
            unit = current[int(np.argmin(dist))].org_unit.parent or root
        _, was_changed = upsert(
            Area,
            {"panel_id": p["panel_id"]},
            {
                "name": p["name"],
                "org_unit": unit,
                "municipality_id": muni,
                "geometry": shapely.to_wkb(geom),
                "geojson": sweref_to_geojson(geom),
                "area_km2": round(geom.area / 1e6, 4),
                "source": f"{SOURCE_NOTE}; {p.get('source', '')}".strip("; "),
            },
        )
        changed += was_changed
    return changed


def _load_classifications(path: Path, assessed_2023: dict[int, date]) -> tuple[int, int, int]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    years = sorted({int(r["year"]) for r in rows})
    rounds = {}
    changed = 0
    for year in years:
        rounds[year], c = upsert(
            AssessmentRound,
            {"year": year},
            {"categories": list(STANDARD_CATEGORIES), "source": f"Polismyndighetens lista {year}"},
        )
        changed += c
    areas = {a.panel_id: a for a in Area.objects.all()}
    for r in rows:
        panel_id, year = int(r["panel_id"]), int(r["year"])
        _, c = upsert(
            Classification,
            {"area": areas[panel_id], "round": rounds[year]},
            {"category": r["category"], "assessed": assessed_2023.get(panel_id) if year == 2023 else None},
        )
        changed += c
    return len(years), len(rows), changed
