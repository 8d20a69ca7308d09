"""Importing staff, assessed levels, courses and completed courses from CSV.

Every file is UTF-8 CSV with a header (comma, semicolon or tab; Excel's BOM is fine). Each
import validates the whole file first: any error stops it with nothing written, the error
naming file, line and field (``--skip-invalid`` imports the valid rows and writes the
rejected ones to a file). Importing the same file again changes nothing.

``staff``
    ``id`` (pseudonymous; a personal identity number or an e-mail address is refused),
    ``role`` (``intelligence_coordinator``, ``area_officer``, ``municipal_liaison``,
    ``local_chief``, or the Swedish title), ``unit`` (org unit code or exact name) and
    optionally ``area`` (panel id or exact name; it must lie in the unit), ``login`` (the
    user name that may read the record) and ``active`` (``1``/``0``, ``ja``/``nej``; default
    active).
``competence-assessments``
    ``staff`` (id), ``competence`` (code or exact name), ``level`` (0–4), ``date``
    (``YYYY-MM-DD``) and optionally ``assessor`` and ``note``. One level per person,
    competence and date; a later file may correct it.
``courses``
    One row per course and competence it teaches: ``code``, ``name``, ``competence``,
    ``level`` (1–4 reached), ``days``, ``seats`` (per round), ``cost`` (SEK per place) and
    optionally ``name_en``, ``valid_months`` (certificate validity) and ``dates`` (the
    rounds' start dates, separated by ``;`` or spaces). The course's own fields must agree
    on every row of the course; the file's competences and rounds replace the stored ones.
``course-completions``
    ``staff``, ``course`` (code), ``date`` (completed) and optionally ``expires`` (default:
    ``date`` plus the course's validity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from problembild.areas.models import Area
from problembild.core.csvrows import FieldError, Row, parse_count, parse_date, parse_hours, read_rows
from problembild.core.db import upsert
from problembild.core.imports import ImportResult, RowError, finish_validation, recorded_import
from problembild.core.models import OrgUnit

from .models import (
    MAX_LEVEL,
    Assessment,
    Competence,
    Completion,
    Course,
    CourseOutcome,
    CourseRound,
    Staff,
    StaffRole,
    add_months,
)

STAFF_COLUMNS = ("id", "role", "unit", "area", "login", "active", "source")
ASSESSMENT_COLUMNS = ("staff", "competence", "level", "date", "assessor", "note")
COURSE_COLUMNS = (
    "code", "name", "name_en", "competence", "level", "days", "seats", "cost", "valid_months", "dates", "source",
)  # fmt: skip
COMPLETION_COLUMNS = ("staff", "course", "date", "expires")

_PERSONAL_NUMBER = re.compile(r"^(19|20)?\d{6}[-+]?\d{4}$")
_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_ROLES = {
    **{r.value: r.value for r in StaffRole},
    **{str(r.label).casefold(): r.value for r in StaffRole},
    "underrättelsesamordnare": StaffRole.INTELLIGENCE_COORDINATOR.value,
    "områdespolis": StaffRole.AREA_OFFICER.value,
    "kommunpolis": StaffRole.MUNICIPAL_LIAISON.value,
    "lokalpolisområdeschef": StaffRole.LOCAL_CHIEF.value,
}
_TRUE = {"1", "ja", "yes", "true", "j", "y"}
_FALSE = {"0", "nej", "no", "false", "n"}


def parse_pseudonym(text: str) -> str:
    """A pseudonymous id: letters, digits, ``.``, ``_``, ``-``; never a personal identity number."""
    value = text.strip()
    if _PERSONAL_NUMBER.match(value.replace(" ", "")):
        raise FieldError("looks like a personal identity number: use a pseudonymous id")
    if "@" in value:
        raise FieldError("looks like an e-mail address: use a pseudonymous id")
    if not _PSEUDONYM.match(value):
        raise FieldError(f"not a pseudonymous id (letters, digits, . _ -; at most 40): {text!r}")
    return value


def parse_role(text: str) -> str:
    key = text.strip().casefold()
    if key not in _ROLES:
        raise FieldError(f"unknown role {text!r}; known: {', '.join(r.value for r in StaffRole)}")
    return _ROLES[key]


def parse_level(text: str, *, minimum: int = 0) -> int:
    value = parse_count(text, maximum=MAX_LEVEL)
    if value < minimum:
        raise FieldError(f"a level from {minimum} to {MAX_LEVEL}: {text!r}")
    return value


def parse_flag(text: str) -> bool:
    key = text.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise FieldError(f"not yes or no (1/0, ja/nej): {text!r}")


def parse_dates(text: str) -> list[date]:
    """Dates separated by ``;``, ``,`` or spaces (sorted, without repeats)."""
    return sorted({parse_date(part) for part in re.split(r"[;,\s]+", text.strip()) if part})


def _lookup(model, *names: str) -> dict[str, object]:
    rows = list(model.objects.all())
    found: dict[str, object] = {}
    for attr in names:
        for obj in rows:
            found.setdefault(str(getattr(obj, attr)), obj)
    return found


def _unit_lookup() -> dict[str, OrgUnit]:
    return _lookup(OrgUnit, "code", "name")  # type: ignore[return-value]


def _competences() -> dict[str, Competence]:
    return _lookup(Competence, "code", "name_sv", "name_en")  # type: ignore[return-value]


def _known(r: Row, name: str, table: dict, what: str):
    key = r.row.get(name, "")
    if not key:
        r.fail(name, "empty")
        return None
    if key not in table:
        r.fail(name, f"unknown {what} {key!r}")
        return None
    return table[key]


def _finish(
    kind: str, fname: str, errors, good: list, write, *, skip_invalid, rejects, user, source=""
) -> ImportResult:
    with recorded_import(kind, fname, user=user, options={"source": source}) as result:
        finish_validation(result, errors, skip_invalid=skip_invalid, rejects=rejects, accepted=len(good))
        result.added = sum(write(item) for item in good)
    return result


def import_staff(
    path: str | Path, *, source: str = "", skip_invalid: bool = False, rejects=None, user=None
) -> ImportResult:
    """Import staff records (see the module docstring); a known id is updated."""
    fname, rows = read_rows(path, STAFF_COLUMNS, ("id", "role", "unit"))
    units = _unit_lookup()
    areas = Area.objects.select_related("org_unit").keyed()
    logins = dict(Staff.objects.exclude(login="").values_list("login", "pseudonym"))
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    seen_logins: dict[str, int] = {}
    good = []
    for line, row in rows:
        r = Row(fname, line, row, errors)
        pseudonym = r.get("id", parse_pseudonym)
        role = r.get("role", parse_role)
        unit = _known(r, "unit", units, "unit (give its code or exact name)")
        area = None
        if row.get("area"):
            area = _known(r, "area", areas, "area (give a panel id or the exact name)")
            if area is not None and unit is not None and not unit.contains(area.org_unit):
                r.fail("area", f"{area.name} lies in {area.org_unit.name}, not in {unit.name}")
        active = r.get("active", parse_flag, required=False)
        login = row.get("login", "")
        if pseudonym and pseudonym in seen:
            r.fail("id", f"{pseudonym} is already on line {seen[pseudonym]}")
        if login:
            if login in seen_logins:
                r.fail("login", f"{login} is already on line {seen_logins[login]}")
            elif logins.get(login, pseudonym) != pseudonym:
                r.fail("login", f"{login} already belongs to {logins[login]}")
        if not r.ok:
            continue
        seen[pseudonym] = line
        if login:
            seen_logins[login] = line
        values = {
            "role": role,
            "org_unit": unit,
            "area": area,
            "login": login,
            "active": True if active is None else active,
            "example": False,
            "source": row.get("source") or source or Path(fname).name,
        }
        good.append(({"pseudonym": pseudonym}, values))
    return _finish(
        "staff",
        fname,
        errors,
        good,
        _upserting(Staff),
        skip_invalid=skip_invalid,
        rejects=rejects,
        user=user,
        source=source,
    )


def import_assessments(
    path: str | Path, *, source: str = "", skip_invalid: bool = False, rejects=None, user=None
) -> ImportResult:
    """Import assessed levels (see the module docstring)."""
    fname, rows = read_rows(path, ASSESSMENT_COLUMNS, ("staff", "competence", "level", "date"))
    staff = {s.pseudonym: s for s in Staff.objects.all()}
    competences = _competences()
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    good = []
    for line, row in rows:
        r = Row(fname, line, row, errors)
        person = _known(r, "staff", staff, "staff id (import the staff first)")
        comp = _known(r, "competence", competences, "competence (give its code or exact name)")
        level = r.get("level", parse_level)
        when = r.get("date", parse_date)
        if when is not None and when > date.today():
            r.fail("date", f"in the future: {when}")
        if not r.ok:
            continue
        key = (person.pk, comp.pk, when)
        if key in seen:
            r.fail("date", f"{person.pseudonym} {comp.code} {when} is already on line {seen[key]}")
            continue
        seen[key] = line
        values = {
            "level": level,
            "assessor": row.get("assessor", "")[:150],
            "note": row.get("note", "")[:500],
            "example": False,
        }
        good.append(({"staff": person, "competence": comp, "assessed": when}, values))
    return _finish(
        "competence-assessments",
        fname,
        errors,
        good,
        _upserting(Assessment),
        skip_invalid=skip_invalid,
        rejects=rejects,
        user=user,
    )


@dataclass
class _CoursePlan:
    line: int
    values: dict
    dates: list[date]
    gives: dict[int, int] = field(default_factory=dict)


def import_courses(
    path: str | Path, *, source: str = "", skip_invalid: bool = False, rejects=None, user=None
) -> ImportResult:
    """Import courses with what they teach and their rounds (see the module docstring)."""
    required = ("code", "name", "competence", "level", "days", "seats", "cost")
    fname, rows = read_rows(path, COURSE_COLUMNS, required)
    competences = _competences()
    errors: list[RowError] = []
    plans: dict[str, _CoursePlan] = {}
    bad: set[str] = set()
    for line, row in rows:
        r = Row(fname, line, row, errors)
        code = row.get("code", "")
        if not code:
            r.fail("code", "empty")
        elif not re.match(r"^[-a-zA-Z0-9_]{1,40}$", code):
            r.fail("code", f"letters, digits, - and _ only (at most 40): {code!r}")
        comp = _known(r, "competence", competences, "competence (give its code or exact name)")
        level = r.get("level", parse_level, minimum=1)
        values = {
            "name_sv": row.get("name", "")[:200],
            "name_en": row.get("name_en", "")[:200],
            "days": r.get("days", parse_hours, maximum=365),
            "seats": r.get("seats", parse_count, maximum=10_000),
            "cost": r.get("cost", parse_hours, maximum=10_000_000),
            "valid_months": r.get("valid_months", parse_count, required=False, maximum=600) or None,
            "source": row.get("source") or source or Path(fname).name,
            "example": False,
        }
        if not values["name_sv"]:
            r.fail("name", "empty")
        dates = r.get("dates", parse_dates, required=False) or []
        if not r.ok:
            bad.add(code)
            continue
        plan = plans.get(code)
        if plan is None:
            plan = plans[code] = _CoursePlan(line, values, dates)
        elif (plan.values, plan.dates) != (values, dates):
            r.fail("code", f"the course's fields differ from line {plan.line} of the same course")
        if comp.pk in plan.gives and r.ok:
            r.fail("competence", f"{comp.code} is already given for {code}")
        if r.ok:
            plan.gives[comp.pk] = level
        else:
            bad.add(code)
    good = [(code, plan) for code, plan in plans.items() if code not in bad]

    def write(item) -> int:
        code, plan = item
        course, changed = upsert(Course, {"code": code}, plan.values)
        stored = dict(course.outcomes.values_list("competence_id", "level"))
        if stored != plan.gives:
            course.outcomes.all().delete()
            CourseOutcome.objects.bulk_create(
                CourseOutcome(course=course, competence_id=c, level=lvl) for c, lvl in plan.gives.items()
            )
            changed = True
        rounds = sorted(course.rounds.values_list("starts", flat=True))
        if rounds != plan.dates:
            course.rounds.all().delete()
            CourseRound.objects.bulk_create(CourseRound(course=course, starts=d) for d in plan.dates)
            changed = True
        return int(changed)

    return _finish(
        "courses",
        fname,
        errors,
        good,
        write,
        skip_invalid=skip_invalid,
        rejects=rejects,
        user=user,
        source=source,
    )


def import_completions(
    path: str | Path, *, source: str = "", skip_invalid: bool = False, rejects=None, user=None
) -> ImportResult:
    """Import completed courses with their certificates' expiry (see the module docstring)."""
    fname, rows = read_rows(path, COMPLETION_COLUMNS, ("staff", "course", "date"))
    staff = {s.pseudonym: s for s in Staff.objects.all()}
    courses = {c.code: c for c in Course.objects.all()}
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    good = []
    for line, row in rows:
        r = Row(fname, line, row, errors)
        person = _known(r, "staff", staff, "staff id (import the staff first)")
        course = _known(r, "course", courses, "course code (import the courses first)")
        done = r.get("date", parse_date)
        expires = r.get("expires", parse_date, required=False)
        if not r.ok:
            continue
        if expires is None and course.valid_months:
            expires = add_months(done, course.valid_months)
        if expires is not None and expires <= done:
            r.fail("expires", f"not after the completion date {done}")
            continue
        key = (person.pk, course.pk, done)
        if key in seen:
            r.fail("date", f"{person.pseudonym} {course.code} {done} is already on line {seen[key]}")
            continue
        seen[key] = line
        good.append(
            ({"staff": person, "course": course, "completed": done}, {"expires": expires, "example": False})
        )
    return _finish(
        "course-completions",
        fname,
        errors,
        good,
        _upserting(Completion),
        skip_invalid=skip_invalid,
        rejects=rejects,
        user=user,
    )


def _upserting(model):
    """A writer of ``(lookup, values)`` rows into ``model`` that counts the rows it changed."""

    def write(item: tuple[dict, dict]) -> int:
        return int(upsert(model, *item)[1])

    return write


def _runner(importer):
    def run(path, options: dict, **common) -> ImportResult:
        return importer(path, source=options.get("source") or "", **common)

    run.__doc__ = f"The import page's runner for {importer.__name__}."
    return run


run_staff_import = _runner(import_staff)
run_assessment_import = _runner(import_assessments)
run_course_import = _runner(import_courses)
run_completion_import = _runner(import_completions)
