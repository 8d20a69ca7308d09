"""Importing staffing, presence and capacity from CSV (all or nothing, idempotent).

Three files, each UTF-8 CSV with a header (Excel's BOM is fine; numbers may use a
decimal comma and spaces between thousands, as Swedish spreadsheets write them):

``staffing``
    ``area`` (panel id or exact name), ``month`` (``YYYY-MM``), ``officers`` (area
    officers assigned, whole number) and optionally ``fte`` and ``hours_outside`` (the
    hours they spent outside their area in the month). Optional presence columns
    ``day``, ``hour``, ``planned``, ``actual`` turn the file into one row per hour-of-week
    block instead (see below); the staffing figures must then agree on every row of an
    area and month.
``presence``
    ``area``, ``month``, ``day`` (1–7 or ``mån``…``sön`` / ``mon``…``sun``, Monday first),
    ``hour`` (0–23), ``planned`` and/or ``actual`` hours in that block over the month.
    Blocks not listed are 0. The area's staffing for the month must exist (in the
    database or in the same import).
``capacity``
    ``unit`` (org unit code or exact name), ``month``, ``officers`` (area officers the unit
    can place) and optionally ``hours`` and ``increase`` (expected resurstillskott, may be
    negative).

Each import validates the whole file first; any error stops it with nothing written, the
error naming file, line and field (``--skip-invalid`` imports the valid rows and writes the
rejected ones to a file). Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from problembild.areas.models import Area
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

from .models import BLOCKS, Capacity, Staffing

STAFFING_COLUMNS = ("area", "month", "officers", "fte", "hours_outside", "source")
PRESENCE_COLUMNS = ("area", "month", "day", "hour", "planned", "actual")
CAPACITY_COLUMNS = ("unit", "month", "officers", "hours", "increase", "source")

#: Hours in a month at most (31 days × 24 hours × many officers is still far below this):
#: a larger figure is a typing error, not a month's presence.
MAX_HOURS = 1_000_000
MAX_OFFICERS = 10_000

_DAYS = {
    **{str(i): i - 1 for i in range(1, 8)},
    **{name: i for i, name in enumerate(("mån", "tis", "ons", "tor", "fre", "lör", "sön"))},
    **{
        name: i
        for i, name in enumerate(("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"))
    },
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


class FieldError(ValueError):
    """A value that cannot be read; the message says why (the caller adds file, line and field)."""


def parse_month(text: str) -> date:
    """``YYYY-MM`` (or the month's first day, ``YYYY-MM-01``) as the month's first day."""
    match = _MONTH.match(text.strip())
    if not match:
        raise FieldError(f"not a month (YYYY-MM): {text!r}")
    year, month = int(match[1]), int(match[2])
    if not (1900 <= year <= 2100 and 1 <= month <= 12):
        raise FieldError(f"not a month (YYYY-MM): {text!r}")
    return date(year, month, 1)


def _plain_number(text: str) -> str:
    # Swedish spreadsheets group thousands with (no-break) spaces and use a decimal comma.
    return text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")


def parse_count(text: str, *, allow_negative: bool = False, maximum: int = MAX_OFFICERS) -> int:
    """A whole number (``-`` allowed when ``allow_negative``), at most ``maximum`` in size."""
    value = _plain_number(text)
    body = value[1:] if allow_negative and value.startswith("-") else value
    if not (body.isascii() and body.isdecimal()):
        raise FieldError(f"not a whole number: {text!r}")
    number = int(value)
    if abs(number) > maximum:
        raise FieldError(f"larger than {maximum:,}: {text!r}")
    return number


def parse_hours(text: str, *, maximum: float = MAX_HOURS) -> float:
    """A number of hours ≥ 0 (decimal comma or point)."""
    value = _plain_number(text)
    try:
        number = float(value)
    except ValueError:
        raise FieldError(f"not a number: {text!r}") from None
    if not (number == number and 0 <= number <= maximum):  # NaN fails the first test
        raise FieldError(f"must be between 0 and {maximum:,.0f}: {text!r}")
    return number


def parse_day(text: str) -> int:
    """A weekday, Monday = 0: ``1``–``7``, or its Swedish or English name or abbreviation."""
    key = text.strip().casefold()
    if key not in _DAYS:
        raise FieldError(f"not a weekday (1–7, mån–sön, mon–sun): {text!r}")
    return _DAYS[key]


def parse_hour(text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdecimal() and 0 <= int(value) <= 23):
        raise FieldError(f"not an hour (0–23): {text!r}")
    return int(value)


def read_rows(
    path: str | Path, known: tuple[str, ...], required: tuple[str, ...]
) -> tuple[str, list[tuple[int, dict]]]:
    """The CSV's rows with their line numbers; ImportFailed names a missing or unknown column."""
    p = check_file(path, (".csv",))
    fname = str(p)
    try:
        with open(p, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(handle, dialect=dialect)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = [(i, r) for i, r in enumerate(reader, start=2)]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise ImportFailed([RowError(fname, None, "file", f"cannot read CSV: {exc}")]) from None
    errors = [RowError(fname, 1, c, "required column is missing") for c in required if c not in header]
    errors += [
        RowError(fname, 1, c or "(empty)", f"unknown column; known: {', '.join(known)}")
        for c in header
        if c not in known
    ]
    if errors:
        raise ImportFailed(errors)
    for line, row in rows:
        if None in row:  # more cells than the header names
            raise ImportFailed([RowError(fname, line, "row", "more values than columns in the header")])
    return fname, [(line, {k: (v or "").strip() for k, v in row.items()}) for line, row in rows]


def area_lookup() -> dict[str, Area]:
    """Areas by panel id and by exact name."""
    areas = list(Area.objects.select_related("org_unit"))
    found = {str(a.panel_id): a for a in areas}
    found.update({a.name: a for a in areas})
    return found


def unit_lookup() -> dict[str, OrgUnit]:
    units = list(OrgUnit.objects.all())
    found = {u.code: u for u in units}
    found.update({u.name: u for u in units if u.name not in found})
    return found


class _Row:
    """Reads one CSV row's fields, collecting errors that name file, line and field."""

    def __init__(self, fname: str, line: int, row: dict, errors: list[RowError]):
        self.fname, self.line, self.row, self.errors = fname, line, row, errors
        self.ok = True

    def get(self, name: str, parse, *, required: bool = True, **kwargs):
        text = self.row.get(name, "")
        if not text:
            if required:
                self.fail(name, "empty")
            return None
        try:
            return parse(text, **kwargs)
        except FieldError as exc:
            self.fail(name, str(exc))
            return None

    def fail(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.fname, self.line, name, message, self.row))
        self.ok = False


@dataclass
class _StaffingPlan:
    area: Area
    period: date
    officers: int | None
    fte: float | None
    hours_outside: float | None
    source: str
    line: int
    planned: list[float] | None = None
    actual: list[float] | None = None


def run_staffing_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for staffing files."""
    return import_staffing(path, source=options.get("source") or "", **common)


def run_presence_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for presence files."""
    return import_staffing(path, source=options.get("source") or "", presence_only=True, **common)


def run_capacity_import(path, options: dict, **common) -> ImportResult:
    """The import page's runner for capacity files."""
    return import_capacity(path, source=options.get("source") or "", **common)


def _presence_row(r: _Row, plan: _StaffingPlan) -> None:
    day = r.get("day", parse_day)
    hour = r.get("hour", parse_hour)
    planned = r.get("planned", parse_hours, required=False)
    actual = r.get("actual", parse_hours, required=False)
    if planned is None and actual is None and r.ok:
        r.fail("actual", "give planned or actual hours (or both)")
    if not r.ok or day is None or hour is None:
        return
    block = day * 24 + hour
    for name, value in (("planned", planned), ("actual", actual)):
        if value is None:
            continue
        profile = getattr(plan, name)
        if profile is None:
            profile = [0.0] * BLOCKS
            setattr(plan, name, profile)
        profile[block] = value


def import_staffing(
    path: str | Path,
    *,
    source: str = "",
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
    presence_only: bool = False,
) -> ImportResult:
    """Import area officers per area and month, with presence by hour of week when given.

    See the module docstring for the columns. A month's presence replaces the stored
    profile of that area and month entirely (blocks not listed are 0), so re-importing a
    corrected file corrects it and importing the same file twice changes nothing.
    """
    kind = "presence" if presence_only else "staffing"
    known = (*PRESENCE_COLUMNS, "source") if presence_only else STAFFING_COLUMNS + PRESENCE_COLUMNS[2:]
    required = ("area", "month", "day", "hour") if presence_only else ("area", "month", "officers")
    fname, rows = read_rows(path, known, required)
    with_blocks = "day" in rows[0][1] if rows else False
    areas = area_lookup()
    errors: list[RowError] = []
    plans: dict[tuple[int, date], _StaffingPlan] = {}
    seen_blocks: dict[tuple[int, date, int], int] = {}
    bad_lines: set[int] = set()
    for line, row in rows:
        r = _Row(fname, line, row, errors)
        key = row.get("area", "")
        area = areas.get(key) if key else None
        if not key:
            r.fail("area", "empty")
        elif area is None:
            r.fail("area", f"unknown area {key!r} (give a panel id or the exact name)")
        period = r.get("month", parse_month)
        officers = None if presence_only else r.get("officers", parse_count)
        fte = None if presence_only else r.get("fte", parse_hours, required=False, maximum=MAX_OFFICERS)
        outside = None if presence_only else r.get("hours_outside", parse_hours, required=False)
        if not r.ok or area is None or period is None:
            bad_lines.add(line)
            continue
        plan = plans.get((area.pk, period))
        if plan is None:
            plan = plans[area.pk, period] = _StaffingPlan(
                area, period, officers, fte, outside, row.get("source") or source, line
            )
        elif not with_blocks:
            r.fail("area", f"{area.name} {period:%Y-%m} is already on line {plan.line}")
        elif not presence_only and (plan.officers, plan.fte, plan.hours_outside) != (officers, fte, outside):
            r.fail(
                "officers",
                f"officers, fte and hours_outside differ from line {plan.line} of the same area and month",
            )
        if with_blocks and r.ok:
            day, hour = row.get("day", ""), row.get("hour", "")
            try:
                block = parse_day(day) * 24 + parse_hour(hour)
            except FieldError:
                block = None
            if block is not None and (area.pk, period, block) in seen_blocks:
                r.fail("hour", f"this day and hour is already on line {seen_blocks[area.pk, period, block]}")
            elif block is not None:
                seen_blocks[area.pk, period, block] = line
            if r.ok:
                _presence_row(r, plan)
        if not r.ok:
            bad_lines.add(line)
    if presence_only:
        existing = {
            (s.area_id, s.period): s
            for s in Staffing.objects.filter(
                area_id__in={k[0] for k in plans}, period__in={k[1] for k in plans}
            )
        }
        for key, plan in plans.items():
            if key not in existing:
                errors.append(
                    RowError(
                        fname,
                        plan.line,
                        "month",
                        f"no staffing for {plan.area.name} {plan.period:%Y-%m}: import its staffing first",
                    )
                )
                bad_lines.add(plan.line)
    # A rejected row spoils its area and month: half a presence profile is never written.
    spoiled = {k for k, p in plans.items() if p.line in bad_lines}
    for line, row in rows:
        if line in bad_lines:
            key = areas.get(row.get("area", ""))
            try:
                month = parse_month(row.get("month", ""))
            except FieldError:
                continue
            if key is not None:
                spoiled.add((key.pk, month))
    good = [p for k, p in plans.items() if k not in spoiled]
    with recorded_import(kind, fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        added = 0
        for plan in good:
            values: dict = {"source": plan.source or Path(fname).name}
            if not presence_only:
                values.update(
                    officers=plan.officers, fte=plan.fte, hours_outside=plan.hours_outside, example=False
                )
            if with_blocks:
                values.update(planned=plan.planned or [], actual=plan.actual or [])
            _, changed = upsert(Staffing, {"area": plan.area, "period": plan.period}, values)
            added += changed
        result.added = added
        result.details = {"months": len({p.period for p in good}), "areas": len({p.area.pk for p in good})}
    return result


def import_capacity(
    path: str | Path,
    *,
    source: str = "",
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    user=None,
) -> ImportResult:
    """Import what each unit can place per month (officers, hours, expected increase)."""
    fname, rows = read_rows(path, CAPACITY_COLUMNS, ("unit", "month", "officers"))
    units = unit_lookup()
    errors: list[RowError] = []
    good: dict[tuple[int, date], tuple[OrgUnit, date, dict, int]] = {}
    for line, row in rows:
        r = _Row(fname, line, row, errors)
        key = row.get("unit", "")
        unit = units.get(key) if key else None
        if not key:
            r.fail("unit", "empty")
        elif unit is None:
            r.fail("unit", f"unknown unit {key!r} (give its code or exact name)")
        period = r.get("month", parse_month)
        officers = r.get("officers", parse_count, maximum=100_000)
        hours = r.get("hours", parse_hours, required=False)
        increase = r.get("increase", parse_count, required=False, allow_negative=True)
        if not r.ok or unit is None or period is None:
            continue
        if (unit.pk, period) in good:
            r.fail("unit", f"{unit.name} {period:%Y-%m} is already on line {good[unit.pk, period][3]}")
            continue
        values = {
            "officers": officers,
            "hours": hours,
            "increase": increase or 0,
            "source": row.get("source") or source or Path(fname).name,
            "example": False,
        }
        good[unit.pk, period] = (unit, period, values, line)
    with recorded_import("capacity", fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        added = 0
        for unit, period, values, _line in good.values():
            _, changed = upsert(Capacity, {"org_unit": unit, "period": period}, values)
            added += changed
        result.added = added
    return result
