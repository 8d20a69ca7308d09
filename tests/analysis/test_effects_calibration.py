"""Calibration of the effect estimators at a reduced number of simulations (the full run is
`benchmarks/bench_effects.py`, 1,000 panels per scenario): with no effect planted, the
difference-in-differences test flags at most a few per cent, and its 95 % interval covers 0."""

from __future__ import annotations

import numpy as np

from problembild.analysis.effects import difference_in_differences, synthetic_control

RUNS = 80


def panel(rng: np.random.Generator, effect: float = 0.0) -> np.ndarray:
    """60 areas × 60 months of Poisson counts with area levels, a common trend and season."""
    levels = rng.uniform(2, 30, size=60)
    months = np.arange(60)
    common = np.exp(0.004 * months + 0.15 * np.sin(2 * np.pi * months / 12))
    mean = levels[:, None] * common[None, :]
    mean[0, 48:] *= 1 + effect
    return rng.poisson(mean).astype(float)


def test_did_false_alarms_and_coverage_without_an_effect():
    rng = np.random.default_rng(2024)
    flagged = covered = 0
    for _ in range(RUNS):
        fit = difference_in_differences(panel(rng), 0, 48)
        flagged += fit.p_value < 0.05
        covered += fit.interval[0] <= 0 <= fit.interval[1]
    # Nominal 5 % false alarms and 95 % coverage; with 80 runs allow the binomial's spread.
    assert flagged / RUNS <= 0.125
    assert covered / RUNS >= 0.875


def test_did_finds_a_large_drop_in_a_busy_area():
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(20):
        data = panel(rng, effect=-0.4)
        fit = difference_in_differences(data, 0, 48)
        found += fit.p_value < 0.05 and fit.relative_interval[1] < 0
    assert found >= 10


def test_synthetic_control_false_alarms_and_coverage_without_an_effect():
    rng = np.random.default_rng(11)
    flagged = covered = 0
    for _ in range(RUNS):
        fit = synthetic_control(panel(rng), 0, 48)
        flagged += fit.p_value < 0.05
        covered += fit.interval[0] <= 0 <= fit.interval[1]
    assert flagged / RUNS <= 0.125
    assert covered / RUNS >= 0.875
