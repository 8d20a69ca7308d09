"""Target status by hand-computed cases, and quarters."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from problembild.analysis.targets import (
    decimal_year,
    parse_quarter,
    quarter_bounds,
    quarter_of,
    target_status,
)


def test_decrease_on_the_line_is_on_track():
    # From 10 (2024.0) to 8 (2026.0): expected 9 at 2025.0.
    s = target_status(10, 8, 9.0, start=2024, end=2026, at=2025)
    assert (s.status, s.expected, s.progress, s.direction) == ("on_track", 9.0, 0.5, "decrease")


def test_at_risk_within_a_tenth_of_the_planned_change():
    # Planned change 2, allowance 0.2; expected 9; 9.2 is 0.2 behind -> at risk, 9.21 off track.
    assert target_status(10, 8, 9.2, start=2024, end=2026, at=2025).status == "at_risk"
    off = target_status(10, 8, 9.21, start=2024, end=2026, at=2025)
    assert (
        off.status == "off_track"
        and off.behind == pytest.approx(0.21)
        and off.allowance == pytest.approx(0.2)
    )


def test_increase_targets():
    s = target_status(0.5, 1.0, 0.8, start=2024, end=2026, at=2025)
    assert s.direction == "increase" and s.expected == 0.75 and s.status == "on_track"
    assert target_status(0.5, 1.0, 0.7, start=2024, end=2026, at=2025).status == "at_risk"
    assert target_status(0.5, 1.0, 0.6, start=2024, end=2026, at=2025).status == "off_track"


def test_before_start_and_after_end():
    assert target_status(10, 8, 10, start=2024, end=2026, at=2023).status == "on_track"
    late = target_status(10, 8, 8.5, start=2024, end=2026, at=2030)
    assert late.expected == 8 and late.progress == 1.0 and late.status == "off_track"


def test_keep_level_target_uses_the_baseline_for_its_allowance():
    s = target_status(4.0, 4.0, 4.3, start=2024, end=2026, at=2025, direction="decrease")
    assert s.allowance == pytest.approx(0.4) and s.status == "at_risk"


def test_unknown_without_actual_or_baseline():
    assert target_status(10, 8, None, start=2024, end=2026, at=2025).status == "unknown"
    assert target_status(None, 8, 5, start=2024, end=2026, at=2025).status == "unknown"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="end must be after start"):
        target_status(1, 2, 1, start=2026, end=2026, at=2025)
    with pytest.raises(ValueError, match="tolerance"):
        target_status(1, 2, 1, start=2024, end=2026, at=2025, tolerance=2)
    with pytest.raises(ValueError, match="direction"):
        target_status(1, 2, 1, start=2024, end=2026, at=2025, direction="up")  # type: ignore[arg-type]


def test_quarters():
    assert parse_quarter("2025Q4") == (2025, 4) and parse_quarter("2025q1") == (2025, 1)
    assert quarter_bounds(2025, 4) == (date(2025, 10, 1), date(2026, 1, 1))
    assert quarter_bounds(2025, 1) == (date(2025, 1, 1), date(2025, 4, 1))
    assert quarter_of(date(2025, 12, 31)) == "2025Q4"
    assert decimal_year(date(2025, 1, 1)) == 2025.0
    for bad in ("2025Q5", "25Q1", "2025-Q1", ""):
        with pytest.raises(ValueError, match="quarter"):
            parse_quarter(bad)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_day_lies_in_its_quarter(day):
    start, end = quarter_bounds(*parse_quarter(quarter_of(day)))
    assert start <= day < end


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.floats(2020, 2030), st.floats(0, 0.5))
def test_status_is_monotone_in_the_actual_value(baseline, target, actual, at, tolerance):
    order = {"on_track": 0, "at_risk": 1, "off_track": 2}
    s1 = target_status(baseline, target, actual, start=2024, end=2028, at=at, tolerance=tolerance)
    worse = actual + 1 if s1.direction == "decrease" else actual - 1
    s2 = target_status(baseline, target, worse, start=2024, end=2028, at=at, tolerance=tolerance)
    assert order[s2.status] >= order[s1.status]
