"""Reading CSV files row by row with errors that name file, line and field.

The small importers (staffing, capacity, activities, surveys) share this: :func:`read_rows`
checks the header (required and unknown columns are errors on line 1), :class:`Row` reads
each field with a parser and records a :class:`~.errors.RowError` for a bad one, and the
parsers read what Swedish spreadsheets write: a decimal comma, spaces between thousands,
weekday names in Swedish or English.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from .errors import ImportFailed, RowError
from .imports import check_file

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


def parse_date(text: str) -> date:
    """An ISO date, ``YYYY-MM-DD``, between 1900 and 2100."""
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not 1900 <= value.year <= 2100:
        raise FieldError(f"not a date between 1900 and 2100: {text!r}")
    return value


def parse_number(text: str) -> float:
    """Any finite number (decimal comma or point)."""
    try:
        value = float(_plain_number(text))
    except ValueError:
        raise FieldError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(f"not a finite number: {text!r}")
    return value


class Row:
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
