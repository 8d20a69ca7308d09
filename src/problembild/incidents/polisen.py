"""``problembild import polisen-events FILE``: the police's public events feed.

The feed (polisen.se "händelser") gives each event's type, time, a title and summary, and
a location that is a municipality or a county (län) with that place's centroid: never
the incident's address. So events are never assigned to areas by coordinates. Instead:

* the municipality comes from the location name, or — when the location is a county —
  from the end of the title when it names a municipality in that county;
* an event whose title or summary names a registered area of that municipality (e.g.
  "Rinkeby", "Rosengård") is linked to the area as an *approximate* match.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.areas.counties import COUNTY_BY_NAME
from problembild.areas.models import Area
from problembild.core import imports
from problembild.core.imports import (
    ErrorCollector,
    ImportFailed,
    ImportResult,
    ProgressCallback,
    RowError,
    check_file,
    finish_validation,
    recorded_import,
)

from .importers import _write_with_progress, duplicate_errors, municipality_names, normalise_name
from .models import POLISEN_SOURCE, AreaMatch
from .services import configured_taxonomy
from .store import content_hash

SUFFIXES = (".json", ".json.gz")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{1,2}):(\d{2}):(\d{2}) ([+-]\d{2}:\d{2})$")


def parse_feed_datetime(value: str) -> pd.Timestamp | None:
    """Parse the feed's ``2024-01-15 7:27:23 +01:00`` (hour not always zero-padded)."""
    m = _DATETIME.match(value.strip()) if isinstance(value, str) else None
    if not m:
        return None
    day, hour, minute, second, offset = m.groups()
    try:
        return pd.Timestamp(f"{day}T{int(hour):02d}:{minute}:{second}{offset}").tz_convert("UTC")
    except ValueError:
        return None


def read_feed(path: Path) -> list:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed([RowError(str(path), None, "file", f"cannot read JSON: {exc}")]) from None
    if not isinstance(data, list):
        raise ImportFailed([RowError(str(path), None, "file", "expected a JSON list of events")])
    return data


class PlaceResolver:
    """Resolves the feed's location names and titles to municipalities and areas."""

    def __init__(self) -> None:
        self.municipalities = municipality_names()
        self.area_patterns: dict[str, list[tuple[int, re.Pattern]]] = {}
        for area in Area.objects.exclude(municipality=None):
            for alias in area.name_aliases:
                # Case-sensitive whole words: "Söder" the area, not "söder om" the direction.
                pattern = re.compile(rf"(?<![\wÅÄÖåäö]){re.escape(alias)}(?![\wÅÄÖåäö])")
                self.area_patterns.setdefault(area.municipality_id, []).append((area.pk, pattern))

    def place(self, location: str, title: str) -> tuple[str, str]:
        """(municipality code, county code) for an event; empty strings when unknown."""
        key = normalise_name(location)
        if key in self.municipalities:
            return self.municipalities[key]
        county = COUNTY_BY_NAME.get(location.strip().casefold())
        if county is None:
            return "", ""
        tail = normalise_name(title.rsplit(",", 1)[-1]) if "," in title else ""
        found = self.municipalities.get(tail)
        if found and found[1] == county:
            return found
        return "", county

    def area(self, municipality: str, text: str) -> int | None:
        """The registered area of ``municipality`` named in ``text``, if exactly one is."""
        hits = {pk for pk, pattern in self.area_patterns.get(municipality, []) if pattern.search(text)}
        return hits.pop() if len(hits) == 1 else None


def run_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner (:class:`~problembild.core.imports.ImportKind`) for the events feed."""
    common.setdefault("progress", imports.job_progress())
    return import_polisen_events(path, **common)


def import_polisen_events(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Validate and import a file of the public events feed (``.json`` or ``.json.gz``).

    The first :data:`~problembild.core.errors.MAX_ERRORS` errors are kept, all are
    counted; with a rejects file every one is kept (the feed is in memory anyway).
    """
    p = check_file(path, SUFFIXES)
    fname = str(p)
    events = read_feed(p)
    resolver = PlaceResolver()
    errors = ErrorCollector(limit=None if rejects is not None and skip_invalid else imports.MAX_ERRORS)
    records = []
    for i, event in enumerate(events, start=1):
        if not isinstance(event, dict):
            errors.add(RowError(fname, i, "event", "not a JSON object"))
            continue
        problem = None
        ext = event.get("id")
        when = parse_feed_datetime(event.get("datetime"))
        location = event.get("location") if isinstance(event.get("location"), dict) else None
        if not isinstance(ext, (int, str)) or isinstance(ext, bool) or str(ext).strip() == "":
            problem = ("id", "missing or not an integer/string")
        elif when is None:
            problem = ("datetime", f"not a date like '2024-01-15 7:27:23 +01:00': {event.get('datetime')!r}")
        elif not isinstance(event.get("type"), str) or not event["type"].strip():
            problem = ("type", "missing or empty")
        elif location is None or not isinstance(location.get("name"), str):
            problem = ("location", "missing location.name")
        elif not isinstance(event.get("name", ""), str) or not isinstance(event.get("summary", ""), str):
            problem = ("name", "name and summary must be strings")
        if problem:
            # Only kept errors carry their event (building millions of rows would cost the memory).
            errors.add(RowError(fname, i, problem[0], problem[1], None if errors.full else _flat(event)))
            continue
        title = event.get("name") or ""
        summary = event.get("summary") or ""
        muni, county = resolver.place(location["name"], title)
        area = resolver.area(muni, f"{title} {summary}") if muni else None
        records.append(
            {
                "source": POLISEN_SOURCE,
                "external_id": str(ext).strip(),
                "occurred_at": when,
                "raw_type": event["type"].strip(),
                "x": np.nan,
                "y": np.nan,
                "municipality_code": muni,
                "county_code": county,
                "title": title[:300],
                "summary": summary,
                "url": str(event.get("url") or "")[:400],
                "synthetic": False,
                "area_id": area if area is not None else -1,
                "area_match": AreaMatch.APPROXIMATE.value if area is not None else AreaMatch.NONE.value,
                "_line": i,
            }
        )
    frame = pd.DataFrame.from_records(records) if records else _empty_frame()
    if len(frame):
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        frame["content_hash"] = content_hash(frame)
    for error in duplicate_errors(fname, frame, POLISEN_SOURCE) if len(frame) else []:
        errors.add(error)
    errors.sort()
    good = frame[~frame["_reject"]] if len(frame) else frame
    new = good[~good["_existing"]] if len(good) else good
    with recorded_import("polisen-events", p, user=user, options={"skip_invalid": skip_invalid}) as result:
        # Counted before the write, so that a preview (which stops at finish_validation) has them.
        result.added = len(new)
        result.details = {
            "approximate": int((new["area_match"] == AreaMatch.APPROXIMATE.value).sum()) if len(new) else 0,
            "county_only": int(((new["municipality_code"] == "") & (new["county_code"] != "")).sum())
            if len(new)
            else 0,
        }
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        if len(new):
            new = new.assign(indicator=configured_taxonomy().map_array(new["raw_type"]))
        result.added = _write_with_progress(new, progress) if len(new) else 0
    return result


def _flat(event: dict) -> dict:
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in event.items()
    }


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "source",
            "external_id",
            "occurred_at",
            "raw_type",
            "x",
            "y",
            "municipality_code",
            "county_code",
            "title",
            "summary",
            "url",
            "synthetic",
            "area_id",
            "area_match",
            "_line",
            "content_hash",
        ]
    )
