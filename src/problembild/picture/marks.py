"""The ↑/↓ marks a page shows, with the false discovery rate controlled over the page.

Refresh stores every comparison's own p-value and a mark when that single test is below
0.05. A page shows many such tests at once (the overview one per area, an area's key
figures four per indicator), so some would be marked by chance alone. Each page therefore
turns the p-values it shows into Benjamini–Hochberg q-values and shows a mark only where
q < 0.05: of the marks on a page, at most 5 % are expected to be false alarms. The q-value
depends on the page's family of tests (a filter that shows fewer areas changes it); the
p-value does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from problembild.analysis.hotspots import bh_adjust

#: The false discovery rate every page holds its marks to.
FDR = 0.05


@dataclass(frozen=True)
class Mark:
    """One comparison on a page: the direction refresh stored, its p-value and the page's q-value."""

    direction: str = ""  # "↑", "↓" or "" as stored (significant as a single test)
    p_value: float | None = None
    q_value: float | None = None

    @property
    def shown(self) -> str:
        """The direction when the comparison survives the page's FDR control, else ""."""
        if self.direction and self.q_value is not None and self.q_value < FDR:
            return self.direction
        return ""

    def __str__(self) -> str:
        return self.shown


def q_values(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg q-values of ``p_values``; a missing p-value (no test) stays None
    and does not count among the tests."""
    p = np.array([np.nan if v is None else float(v) for v in p_values], dtype=float)
    if p.size == 0:
        return []
    q = bh_adjust(p)
    return [None if np.isnan(v) else float(v) for v in q]


def page_marks(tests: Iterable[tuple[str, float | None]]) -> list[Mark]:
    """The marks of one page: ``tests`` are (stored direction, p-value) pairs, in page order."""
    tests = list(tests)
    qs = q_values([p for _, p in tests])
    return [Mark(direction or "", p, q) for (direction, p), q in zip(tests, qs, strict=True)]
