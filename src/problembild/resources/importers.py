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

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from problembild.areas.models import Area
from problembild.core.csvrows import (
    MAX_OFFICERS,
    FieldError,
    Row,
    parse_count,
    parse_day,
    parse_hour,
    parse_hours,
    parse_month,
    read_rows,
)
from problembild.core.db import upsert
from problembild.core.imports import (
    ImportResult,
    RowError,
    finish_validation,
    recorded_import,
)
from problembild.core.models import OrgUnit

from .models import BLOCKS, Capacity, Staffing

STAFFING_COLUMNS = ("area", "month", "officers", "fte", "hours_outside", "source")
PRESENCE_COLUMNS = ("area", "month", "day", "hour", "planned", "actual")
CAPACITY_COLUMNS = ("unit", "month", "officers", "hours", "increase", "source")


def unit_lookup() -> dict[str, OrgUnit]:
    units = list(OrgUnit.objects.all())
    found = {u.code: u for u in units}
    found.update({u.name: u for u in units if u.name not in found})
    return found


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


def _presence_row(r: Row, plan: _StaffingPlan) -> None:
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
    areas = Area.objects.select_related("org_unit").keyed()
    errors: list[RowError] = []
    plans: dict[tuple[int, date], _StaffingPlan] = {}
    seen_blocks: dict[tuple[int, date, int], int] = {}
    bad_lines: set[int] = set()
    for line, row in rows:
        r = Row(fname, line, row, errors)
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
        r = Row(fname, line, row, errors)
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
