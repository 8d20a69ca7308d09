"""Import errors that name file, line and field. Free of Django, so that worker
processes which parse files can raise and return them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One rejected row or feature: where it is and what is wrong with which field."""

    file: str
    line: int | None
    field: str
    message: str
    row: dict | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: field '{self.field}': {self.message}"


class ImportFailed(Exception):
    """The import stopped and wrote nothing. ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[RowError], *, total: int | None = None):
        self.errors = list(errors)
        self.total = total if total is not None else len(self.errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:20])
        more = f"\n  … and {self.total - 20} more" if self.total > 20 else ""
        super().__init__(f"Import stopped, nothing was written ({self.total} error(s)):\n{shown}{more}")

    def __reduce__(self):
        # Picklable with its errors (a worker process may raise it).
        return (type(self), (self.errors,), {"total": self.total})
