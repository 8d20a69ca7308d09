"""Import errors that name file, line and field. Free of Django, so that worker
processes which parse files can raise and return them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Errors an import keeps in full (shown, raised, exported). Every further error is only
#: counted, so a file with millions of bad rows needs no more memory than one with 500.
MAX_ERRORS = 500


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
    """The import stopped and wrote nothing. ``errors`` lists the first :data:`MAX_ERRORS`
    problems found, ``total`` counts all of them."""

    def __init__(self, errors: Sequence[RowError], *, total: int | None = None):
        self.errors = list(errors[:MAX_ERRORS])
        self.total = total if total is not None else len(errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:20])
        more = f"\n  … and {self.total - 20} more" if self.total > 20 else ""
        super().__init__(f"Import stopped, nothing was written ({self.total} error(s)):\n{shown}{more}")

    def __reduce__(self):
        # Picklable with its errors (a worker process may raise it).
        return (type(self), (self.errors,), {"total": self.total})


class ErrorCollector:
    """The errors an import finds: the first ``limit`` kept in full, every one counted.

    ``total`` counts errors, ``rejected`` rows (a row with two bad fields is one rejected
    row with two errors). The caller says whether an error starts a new rejected row, so
    no set of every bad line is needed. ``limit=None`` keeps every error (an importer that
    holds its whole file in memory anyway and writes the rejects file from the errors);
    :attr:`errors` is still only the first :data:`MAX_ERRORS`. An importer that writes its
    rejects file itself, streaming, sets :attr:`write_rejects` (called with the path).
    """

    def __init__(self, limit: int | None = MAX_ERRORS):
        self.limit = limit
        self.kept: list[RowError] = []
        self.total = 0
        self.rejected = 0
        self.write_rejects: Callable[[str | Path], None] | None = None

    @classmethod
    def of(cls, errors: Sequence[RowError]) -> ErrorCollector:
        """Every one of ``errors``; rows counted by (file, line)."""
        found = cls(limit=None)
        found.kept = list(errors)
        found.total = len(errors)
        found.rejected = len({(e.file, e.line) for e in errors})
        return found

    @property
    def full(self) -> bool:
        return self.limit is not None and len(self.kept) >= self.limit

    def add(self, error: RowError, *, new_row: bool = True) -> bool:
        """Count ``error``; keep it while there is room. True when it was kept."""
        self.total += 1
        self.rejected += bool(new_row)
        if self.full:
            return False
        self.kept.append(error)
        return True

    def add_counted(self, first: Iterable[RowError], *, total: int, rejected: int) -> None:
        """Errors counted elsewhere (a chunk's): ``first`` are the first of them, in order."""
        self.total += total
        self.rejected += rejected
        for error in first:
            if self.full:
                break
            self.kept.append(error)

    def sort(self) -> None:
        """Order the kept errors by line and field."""
        self.kept.sort(key=lambda e: (e.line or 0, e.field))

    @property
    def errors(self) -> list[RowError]:
        """The first :data:`MAX_ERRORS` errors."""
        return self.kept[:MAX_ERRORS]
