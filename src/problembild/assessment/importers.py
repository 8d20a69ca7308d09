"""Importing socioeconomic figures per area and year from CSV (all or nothing, idempotent).

Columns: ``area`` (panel id or exact name), ``year``, ``measure`` (a code such as
``employment_rate``, ``low_education_share`` or ``income_index``: letters, digits, ``_``
and ``-``), ``value`` (a number; decimal comma or point) and optionally ``source``. One
value per area, year and measure; importing again replaces the stored value. Any error
stops the import with nothing written, naming file, line and field.
"""

from __future__ import annotations

import re
from pathlib import Path

from problembild.areas.models import Area
from problembild.core.csvrows import FieldError, Row, parse_count, parse_number, read_rows
from problembild.core.db import upsert
from problembild.core.imports import ImportResult, RowError, finish_validation, recorded_import

from .models import SocioValue

COLUMNS = ("area", "year", "measure", "value", "source")
_MEASURE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def parse_measure(text: str) -> str:
    value = text.strip().lower()
    if not _MEASURE.match(value):
        raise FieldError(f"not a measure code (letters, digits, _ and -): {text!r}")
    return value


def parse_year(text: str) -> int:
    year = parse_count(text, maximum=2100)
    if year < 1990:
        raise FieldError(f"not a year between 1990 and 2100: {text!r}")
    return year


def import_socio(
    path: str | Path, *, source: str = "", skip_invalid: bool = False, rejects=None, user=None
) -> ImportResult:
    """Import socioeconomic figures per area and year (see the module docstring)."""
    fname, rows = read_rows(path, COLUMNS, ("area", "year", "measure", "value"))
    areas = Area.objects.keyed()
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    good = []
    for line, row in rows:
        r = Row(fname, line, row, errors)
        key = row.get("area", "")
        area = areas.get(key) if key else None
        if not key:
            r.fail("area", "empty")
        elif area is None:
            r.fail("area", f"unknown area {key!r} (give a panel id or the exact name)")
        year = r.get("year", parse_year)
        measure = r.get("measure", parse_measure)
        value = r.get("value", parse_number)
        if not r.ok:
            continue
        lookup = (area.pk, year, measure)
        if lookup in seen:
            r.fail("measure", f"{area.name} {year} {measure} is already on line {seen[lookup]}")
            continue
        seen[lookup] = line
        values = {
            "value": value,
            "source": row.get("source") or source or Path(fname).name,
            "synthetic": False,
        }
        good.append(({"area": area, "year": year, "measure": measure}, values))
    with recorded_import("socioeconomic", fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        result.added = sum(int(upsert(SocioValue, lookup, values)[1]) for lookup, values in good)
    return result


def run_socio_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for socioeconomic files."""
    return import_socio(path, source=options.get("source") or "", **common)
