"""Targets and their status: on track, at risk or off track, with the rule that decided it.

A target moves a measure from ``baseline`` (in ``start``) to ``target`` (in ``end``). The
expected value at a moment is the straight line between them; the actual value is judged
against it:

* **on track** — the actual value is at or beyond the expected value (below it for a
  measure to decrease, above it for one to increase);
* **at risk** — behind the line, but by no more than ``tolerance`` of the whole planned
  change (default 10 %);
* **off track** — further behind;
* **unknown** — no actual value (or no baseline).

A straight line is the simplest honest yardstick: it asks for steady progress and states
the figure it expects, so a reader can check the verdict by hand. Times are decimal years
(2025.0 is 1 January 2025; :func:`decimal_year`). Quarters are ``YYYYQn`` strings
(:func:`parse_quarter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "TargetStatus",
    "decimal_year",
    "parse_quarter",
    "quarter_bounds",
    "quarter_of",
    "target_status",
]

Status = Literal["on_track", "at_risk", "off_track", "unknown"]
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def parse_quarter(text: str) -> tuple[int, int]:
    """``"2025Q4"`` as ``(2025, 4)``; ValueError names the text otherwise."""
    match = _QUARTER.match(str(text).strip())
    if not match or not 1900 <= int(match[1]) <= 2100:
        raise ValueError(f"quarter must look like 2025Q4, got {text!r}")
    return int(match[1]), int(match[2])


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First day of the quarter and first day of the next one (end exclusive)."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1-4, got {quarter}")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def quarter_of(day: date) -> str:
    """The quarter ``day`` lies in, as ``YYYYQn``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def decimal_year(day: date) -> float:
    """``day`` as a decimal year: 2025-01-01 is 2025.0, 2025-07-02 about 2025.5."""
    start = date(day.year, 1, 1)
    length = (date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / length


@dataclass(frozen=True)
class TargetStatus:
    """A target's status at ``at`` (decimal year) and the figures that decided it."""

    status: Status
    baseline: float | None
    target: float
    actual: float | None
    expected: float | None  # on the straight line from baseline to target at ``at``
    progress: float  # share of the target period passed at ``at`` (0-1)
    behind: (
        float | None
    )  # how far the actual value is behind the line, in the measure's units (<= 0: not behind)
    allowance: float | None  # how far behind still counts as at risk
    direction: Literal["decrease", "increase"]


def target_status(
    baseline: float | None,
    target: float,
    actual: float | None,
    *,
    start: float,
    end: float,
    at: float,
    direction: Literal["decrease", "increase"] | None = None,
    tolerance: float = 0.1,
) -> TargetStatus:
    """The status of a target at decimal year ``at``.

    Parameters
    ----------
    baseline, target : float
        The measure's value at ``start`` and the value aimed for at ``end``.
    actual : float or None
        The measure's value at ``at`` (None: unknown).
    start, end, at : float
        Decimal years; ``start < end``. Before ``start`` the expected value is the
        baseline, after ``end`` the target.
    direction : "decrease", "increase" or None
        Which way is better. Default: the way from baseline to target (a target equal to
        its baseline then counts as "keep it from increasing").
    tolerance : float
        Share of the planned change (``|target - baseline|``) the actual value may lag the
        line and still be "at risk" rather than "off track" (default 0.1). When baseline and
        target are equal, ``tolerance × |baseline|`` is the allowance.
    """
    if not end > start:
        raise ValueError(f"end must be after start, got start={start}, end={end}")
    if not 0 <= tolerance <= 1:
        raise ValueError(f"tolerance must be between 0 and 1, got {tolerance}")
    if direction not in (None, "decrease", "increase"):
        raise ValueError(f"direction must be 'decrease' or 'increase', got {direction!r}")
    progress = min(1.0, max(0.0, (at - start) / (end - start)))
    if direction is None:
        direction = "increase" if baseline is not None and target > baseline else "decrease"
    if baseline is None or actual is None:
        expected = None if baseline is None else baseline + (target - baseline) * progress
        return TargetStatus("unknown", baseline, target, actual, expected, progress, None, None, direction)
    expected = baseline + (target - baseline) * progress
    sign = -1.0 if direction == "decrease" else 1.0
    behind = (expected - actual) * sign  # > 0: worse than the line
    planned = abs(target - baseline) or abs(baseline)
    allowance = tolerance * planned
    # Rounding noise must not turn "exactly on the line" into "behind".
    eps = 1e-12 * max(1.0, abs(expected))
    if behind <= eps:
        status: Status = "on_track"
    elif behind <= allowance + eps:
        status = "at_risk"
    else:
        status = "off_track"
    return TargetStatus(status, baseline, target, actual, expected, progress, behind, allowance, direction)
