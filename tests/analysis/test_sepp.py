"""The grid SEPP: recovery of planted parameters on a simulated grid ETAS, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from problembild.analysis.sepp import fit_sepp, sepp_intensity

NCELL, CELL = 20, 100.0
BOUNDS = (0.0, 0.0, NCELL * CELL, NCELL * CELL)
NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def simulate(seed, *, days=1500.0, mu_total=2.0, theta=0.5, omega=0.2, q=0.6):
    """A grid ETAS: background rate ``mu_total`` per day over the cells (weights rising
    to the centre), each event triggering Poisson(theta) children after Exp(omega) days in
    its own cell (share q) or a random neighbour; children off the grid or after ``days``
    are lost. Events are placed uniformly inside their cells."""
    rng = np.random.default_rng(seed)
    rr, cc = np.meshgrid(np.arange(NCELL), np.arange(NCELL), indexing="ij")
    weight = 1.0 + 3.0 * np.exp(-((rr - 10) ** 2 + (cc - 10) ** 2) / 30.0)
    weight = (weight / weight.sum()).ravel()
    n = rng.poisson(mu_total * days)
    cells = rng.choice(NCELL * NCELL, size=n, p=weight)
    rows, cols, times = [cells // NCELL], [cells % NCELL], [rng.uniform(0, days, n)]
    gen_r, gen_c, gen_t = rows[0], cols[0], times[0]
    while gen_t.size:
        k = rng.poisson(theta, gen_t.size)
        pr, pc, pt = np.repeat(gen_r, k), np.repeat(gen_c, k), np.repeat(gen_t, k)
        ct = pt + rng.exponential(1 / omega, pt.size)
        here = rng.random(pt.size) < q
        off = np.array(NEIGHBOURS)[rng.integers(0, 8, pt.size)]
        cr = np.where(here, pr, pr + off[:, 0])
        ccol = np.where(here, pc, pc + off[:, 1])
        ok = (ct < days) & (cr >= 0) & (cr < NCELL) & (ccol >= 0) & (ccol < NCELL)
        gen_r, gen_c, gen_t = cr[ok], ccol[ok], ct[ok]
        rows.append(gen_r)
        cols.append(gen_c)
        times.append(gen_t)
    r, c, t = np.concatenate(rows), np.concatenate(cols), np.concatenate(times)
    x = (c + rng.random(c.size)) * CELL
    y = (r + rng.random(r.size)) * CELL
    return x, y, t


def test_sepp_recovers_planted_parameters():
    days = 1500.0
    x, y, t = simulate(0, days=days)
    fit = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, start=0.0, end=days)
    assert fit.theta == pytest.approx(0.5, rel=0.2)
    assert fit.omega == pytest.approx(0.2, rel=0.2)
    assert fit.q == pytest.approx(0.6, rel=0.2)
    assert fit.background_total == pytest.approx(2.0, rel=0.2)
    assert fit.n_events == t.size


def test_sepp_ignores_events_at_or_after_end_and_predicts_more_near_recent_events():
    x, y, t = simulate(1, days=400.0)
    fit = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, end=300.0)
    again = fit_sepp(
        np.r_[x, [50.0] * 30],
        np.r_[y, [50.0] * 30],
        np.r_[t, [300.0] * 30],
        bounds=BOUNDS,
        cell_size=CELL,
        end=300.0,
    )
    assert (fit.theta, fit.omega, fit.q) == (again.theta, again.omega, again.q)
    np.testing.assert_array_equal(fit.mu, again.mu)
    base = sepp_intensity(fit, 300.0, 7.0)
    assert base.shape == (NCELL, NCELL) and (base > 0).all()
    burst = fit_sepp(
        np.r_[x[t < 300], [1850.0] * 10],
        np.r_[y[t < 300], [1850.0] * 10],
        np.r_[t[t < 300], [299.0] * 10],
        bounds=BOUNDS,
        cell_size=CELL,
        end=300.0,
    )
    pred = sepp_intensity(burst, 300.0, 7.0)
    assert np.unravel_index(pred.argmax(), pred.shape) == (18, 18)


def test_sepp_without_events():
    fit = fit_sepp([], [], [], bounds=BOUNDS, cell_size=CELL, end=10.0)
    assert fit.n_events == 0
    assert not sepp_intensity(fit, 10.0, 7.0).any()


def test_sepp_event_cap_fits_the_latest_events_and_pair_budget_keeps_estimates():
    x, y, t = simulate(2, days=1500.0)
    capped = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, end=1500.0, max_events=1000)
    latest = np.sort(t)[-1000:]
    assert capped.n_events == 1000 and capped.start == latest[0]
    window = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, start=latest[0], end=1500.0)
    assert (capped.theta, capped.omega, capped.q) == (window.theta, window.omega, window.q)
    np.testing.assert_array_equal(capped.mu, window.mu)
    # The default pair budget leaves data of this density untouched; a tight one keeps fewer
    # parents per cell, which biases the triggering down but still finds it.
    full = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, start=0.0, end=1500.0)
    unlimited = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, start=0.0, end=1500.0, max_pairs=10**9)
    assert (full.theta, full.omega, full.q) == (unlimited.theta, unlimited.omega, unlimited.q)
    tight = fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, start=0.0, end=1500.0, max_pairs=3 * t.size)
    assert 0.2 < tight.theta < full.theta
    with pytest.raises(ValueError, match="max_events"):
        fit_sepp(x, y, t, bounds=BOUNDS, cell_size=CELL, end=1500.0, max_events=0)
