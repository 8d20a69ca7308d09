"""Importing activities and safety-survey results from CSV (all or nothing, idempotent).

``activities``
    ``area`` (panel id or exact name), ``date`` (YYYY-MM-DD), ``method`` (code or Swedish or
    English name), ``hours``; optional ``officers`` (default 1), ``partners``, ``priority``
    (the rank of a priority in the area's document of that year), ``promise`` (the exact text
    of one of its promises), ``note``, ``source``. The same row twice is one activity: each
    row's content is its key, so importing a file again adds nothing.
``survey``
    ``area``, ``year``, ``measure`` (e.g. ``safety_index``), ``value``; optional ``source``.
    One value per area, year and measure; a new file replaces the stored value.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from problembild.areas.models import Area
from problembild.core.csvrows import (
    FieldError,
    Row,
    parse_count,
    parse_date,
    parse_hours,
    parse_number,
    read_rows,
)
from problembild.core.db import upsert
from problembild.core.imports import ImportResult, RowError, finish_validation, recorded_import

from .models import Activity, Method, Priority, Promise, SurveyResult

ACTIVITY_COLUMNS = (
    "area",
    "date",
    "method",
    "hours",
    "officers",
    "partners",
    "priority",
    "promise",
    "note",
    "source",
)
SURVEY_COLUMNS = ("area", "year", "measure", "value", "source")


def run_activity_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for activity files."""
    return import_activities(path, source=options.get("source") or "", **common)


def run_survey_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for survey files."""
    return import_survey(path, source=options.get("source") or "", **common)


def activity_key(values: dict) -> str:
    """The content key of an imported activity: the same row is the same activity."""
    parts = [
        str(values.get(k) or "")
        for k in ("area", "method", "date", "hours", "officers", "partners", "priority", "promise", "note")
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _year(text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and 1900 <= int(value) <= 2100):
        raise FieldError(f"not a year: {text!r}")
    return int(value)


def import_activities(
    path: str | Path,
    *,
    source: str = "",
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
) -> ImportResult:
    """Import activities per area (see the module docstring)."""
    fname, rows = read_rows(path, ACTIVITY_COLUMNS, ("area", "date", "method", "hours"))
    areas = Area.objects.keyed()
    methods: dict[str, Method] = {}
    for m in Method.objects.all():
        methods.update({m.code: m, m.name_sv.casefold(): m, (m.name_en or m.name_sv).casefold(): m})
    priorities = {
        (p.document.area_id, p.document.year, p.rank): p for p in Priority.objects.select_related("document")
    }
    promises = {
        (p.document.area_id, p.document.year, p.commitment.strip().casefold()): p
        for p in Promise.objects.select_related("document")
    }
    errors: list[RowError] = []
    good: dict[str, Activity] = {}
    for line, row in rows:
        r = Row(fname, line, row, errors)
        area = areas.get(row.get("area", ""))
        if not row.get("area"):
            r.fail("area", "empty")
        elif area is None:
            r.fail("area", f"unknown area {row['area']!r} (give a panel id or the exact name)")
        day = r.get("date", parse_date)
        method = methods.get(row.get("method", "").strip()) or methods.get(
            row.get("method", "").strip().casefold()
        )
        if row.get("method") and method is None:
            r.fail(
                "method",
                f"unknown method {row['method']!r}; known codes: {', '.join(sorted(m.code for m in set(methods.values())))}",
            )
        elif not row.get("method"):
            r.fail("method", "empty")
        hours = r.get("hours", parse_hours, maximum=24 * 31)
        if hours is not None and hours <= 0:
            r.fail("hours", "must be more than 0")
        officers = r.get("officers", parse_count, required=False)
        rank = r.get("priority", parse_count, required=False)
        if not r.ok or area is None or day is None:
            continue
        priority = promise = None
        if rank is not None:
            priority = priorities.get((area.pk, day.year, rank))
            if priority is None:
                r.fail("priority", f"{area.name} has no priority {rank} in its {day.year} problem picture")
        if row.get("promise"):
            promise = promises.get((area.pk, day.year, row["promise"].strip().casefold()))
            if promise is None:
                r.fail(
                    "promise",
                    f"{area.name} has no promise {row['promise']!r} in its {day.year} problem picture",
                )
        if not r.ok:
            continue
        key = activity_key({**row, "area": area.pk, "method": method.code, "date": day.isoformat()})
        good.setdefault(
            key,
            Activity(
                area=area,
                method=method,
                date=day,
                hours=hours,
                officers=officers if officers is not None else 1,
                partners=row.get("partners", "")[:300],
                priority=priority,
                promise=promise,
                note=row.get("note", "")[:500],
                key=key,
                source=(row.get("source") or source or Path(fname).name)[:300],
                created_by=user if getattr(user, "is_authenticated", False) else None,
            ),
        )
    with recorded_import("activities", fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        known = set(Activity.objects.filter(key__in=list(good)).values_list("key", flat=True))
        new = [a for k, a in good.items() if k not in known]
        for activity in new:
            activity.save()  # one by one, so the history records each
        result.added = len(new)
    return result


def import_survey(
    path: str | Path,
    *,
    source: str = "",
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
) -> ImportResult:
    """Import safety-survey results per area, year and measure (see the module docstring)."""
    fname, rows = read_rows(path, SURVEY_COLUMNS, ("area", "year", "measure", "value"))
    areas = Area.objects.keyed()
    errors: list[RowError] = []
    good: dict[tuple, tuple[Area, int, str, float, str, int]] = {}
    for line, row in rows:
        r = Row(fname, line, row, errors)
        area = areas.get(row.get("area", ""))
        if area is None:
            r.fail("area", f"unknown area {row.get('area', '')!r} (give a panel id or the exact name)")
        year = r.get("year", _year)
        measure = row.get("measure", "").strip()
        if not measure or not measure.replace("_", "").isalnum() or not measure.isascii():
            r.fail("measure", f"not a measure code (letters, digits, _): {measure!r}")
        value = r.get("value", parse_number)
        if not r.ok or area is None:
            continue
        key = (area.pk, year, measure)
        if key in good:
            r.fail("area", f"{area.name} {year} {measure} is already on line {good[key][5]}")
            continue
        good[key] = (area, year, measure, value, row.get("source") or source or Path(fname).name, line)
    with recorded_import("survey", fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        added = 0
        for area, year, measure, value, src, _line in good.values():
            _, changed = upsert(
                SurveyResult,
                {"area": area, "year": year, "measure": measure},
                {"value": value, "source": src, "example": False},
            )
            added += changed
        result.added = added
    return result
