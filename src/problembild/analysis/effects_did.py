"""Effect of a measure on counts: difference-in-differences and the minimum detectable effect.

:func:`difference_in_differences` compares an area's counts after a measure started
with comparison areas that did not get it, as counts: a Poisson GLM with area and
period fixed effects (or OLS on ``log(1 + y)``), and for several areas that started at
different times (staggered adoption) Callaway & Sant'Anna's group-time effects
against not-yet- and never-treated areas [1]_. It warns when the treated area was
already diverging before the start (a placebo difference-in-differences in the
pre-period), as shootings in Malmö fell before "Sluta skjut" began.

:func:`minimum_detectable_effect` answers, before a measure starts, how large a drop
would have to be for the follow-up to tell it from chance.

References
----------
.. [1] Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
   multiple time periods. Journal of Econometrics, 225(2), 200-230.
.. [2] Wooldridge, J. M. (2023). Simple approaches to nonlinear
   difference-in-differences with panel data. The Econometrics Journal, 26(3), C31-C66.
.. [3] McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed.,
   section 4.5 (quasi-likelihood, the Pearson estimate of the dispersion).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.regression.linear_model import OLS

from .ratetest import dispersion_estimate, rate_test_many

__all__ = [
    "DID_MODELS",
    "MIN_CONTROLS",
    "MIN_PRE_EVENTS",
    "MIN_PRE_PERIODS",
    "DidResult",
    "MdeResult",
    "difference_in_differences",
    "minimum_detectable_effect",
]

#: ``model`` choices of :func:`difference_in_differences`.
DID_MODELS: Final[tuple[str, ...]] = ("poisson", "log_rate")
#: Fewer pre-periods than this give a warning.
MIN_PRE_PERIODS: Final = 12
#: A treated pre-period mean below this (events per period) gives a warning.
MIN_PRE_EVENTS: Final = 5.0
#: Fewer comparison units than this give a warning.
MIN_CONTROLS: Final = 5

PRE_TREND_WARNING: Final = (
    "The treated area was already diverging from the comparison areas before the measure "
    "(placebo test in the pre-period, p = {p:.3f}): the estimate may reflect a change that "
    "had begun anyway."
)


@dataclass(frozen=True)
class DidResult:
    """Result of :func:`difference_in_differences`.

    Attributes
    ----------
    effect : float
        Average effect per post-period (counts per period; negative = fewer events):
        mean over post-periods of observed minus counterfactual counts of the treated
        unit (with staggered adoption: the aggregated ATT, see Notes there).
    interval : tuple of float
        ``1 - alpha`` confidence interval of ``effect`` (counts per period).
    relative_effect : float
        Effect as a fraction of the counterfactual (``-0.2``: 20 % fewer events).
    relative_interval : tuple of float
        Confidence interval of ``relative_effect``.
    p_value : float
        Two-sided p-value of no effect.
    weights : pandas.Series
        Weight of each comparison unit, indexed by its row position (equal for DiD).
    pre_fit : float
        Root mean squared error (counts per period) of the fitted treated path against
        the observed one over the pre-period.
    warnings : tuple of str
        Plain-English caveats (pre-trend, short pre-period, few events, few controls).
    method : str
        ``"did_poisson"`` or ``"did_log_rate"``.
    counterfactual : numpy.ndarray
        Counts per period the treated unit(s) would have had without the measure (the
        fitted path in the pre-period; mean over treated units when several).
    treated_path : numpy.ndarray
        Observed counts per period of the treated unit (mean over treated units).
    per_period : pandas.DataFrame
        Columns ``period``, ``effect`` (observed minus counterfactual), ``low``,
        ``high`` (a ``1 - alpha`` band of one period's count noise around the
        counterfactual: gaps inside it are within chance for a single period).
    comparison : tuple of int
        Row positions of the comparison units used.
    """

    effect: float
    interval: tuple[float, float]
    relative_effect: float
    relative_interval: tuple[float, float]
    p_value: float
    weights: pd.Series
    pre_fit: float
    warnings: tuple[str, ...]
    method: str
    counterfactual: NDArray[np.float64]
    treated_path: NDArray[np.float64]
    per_period: pd.DataFrame
    comparison: tuple[int, ...]


@dataclass(frozen=True)
class MdeResult:
    """Result of :func:`minimum_detectable_effect`.

    Attributes
    ----------
    relative : float
        Smallest relative drop (0.35 = -35 %) detected with the requested power over
        ``horizon`` post-periods; NaN when not even a drop to zero would be.
    absolute : float
        The same drop in counts per period (``relative * baseline_rate``; NaN with it).
    baseline_rate : float
        Treated pre-period mean count per period.
    message : str
        Plain-English summary.
    dispersion : float
        Dispersion ``phi`` used (``Var = phi * mean``, at least 1).
    simulated_power : float or None
        Power at ``relative`` in ``n_sim`` simulations (None without ``n_sim``).
    """

    relative: float
    absolute: float
    baseline_rate: float
    message: str
    dispersion: float = 1.0
    simulated_power: float | None = None


# --------------------------------------------------------------------------- validation


def _panel(outcomes: Any) -> tuple[NDArray[np.float64], list[Any]]:
    if isinstance(outcomes, pd.DataFrame):
        labels = list(outcomes.columns)
        values = outcomes.to_numpy()
    else:
        values = outcomes
        labels = []
    try:
        y = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outcomes must be numeric: {exc}") from None
    if y.ndim != 2:
        raise ValueError(f"outcomes must be two-dimensional (units x periods), got shape {y.shape}")
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise ValueError("outcomes must hold finite counts >= 0")
    if y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError(f"outcomes needs at least 2 units and 2 periods, got shape {y.shape}")
    return y, labels or list(range(y.shape[1]))


def _row(value: Any, n: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must hold integer row positions, got {value!r}")
    if not 0 <= int(value) < n:
        raise ValueError(f"{name} holds row {value}, outside 0..{n - 1}")
    return int(value)


def _rows(value: Any, n: int, name: str) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return [_row(value, n, name)]
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of row positions, got {value!r}") from None
    out = [_row(v, n, name) for v in items]
    if len(set(out)) != len(out):
        raise ValueError(f"{name} holds duplicate rows")
    return out


def _start(value: Any, n_periods: int, name: str = "start", *, allow_end: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer period position, got {value!r}")
    high = n_periods if allow_end else n_periods - 1
    if not 1 <= int(value) <= high:
        raise ValueError(f"{name} must be between 1 and {high} (a pre-period is needed), got {value}")
    return int(value)


def _alpha(alpha: Any, name: str = "alpha") -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {alpha!r}") from None
    if not 0 < a < 1:
        raise ValueError(f"{name} must be in (0, 1), got {alpha!r}")
    return a


# --------------------------------------------------------------------------- controls


def _choose_controls(
    y: NDArray[np.float64],
    treated: Sequence[int],
    pre_end: int,
    pool: list[int],
    categories: Sequence[Any] | None,
    n_controls: int,
) -> list[int]:
    """The ``n_controls`` units of ``pool`` whose pre-period ``log(1 + y)`` paths are closest."""
    logs = np.log1p(y[:, :pre_end])
    target = logs[list(treated)].mean(axis=0)
    rmse = np.sqrt(np.mean((logs[pool] - target) ** 2, axis=1))
    order = [pool[i] for i in np.argsort(rmse, kind="stable")]
    if categories is not None:
        wanted = {categories[i] for i in treated}
        same = [i for i in order if categories[i] in wanted]
        other = [i for i in order if categories[i] not in wanted]
        order = same + other
    return order[:n_controls]


# --------------------------------------------------------------------------- two-way fits


@dataclass(frozen=True)
class _Fit:
    beta: float
    se: float
    df: float
    linear: NDArray[np.float64]  # fitted linear predictor of the treated unit, per period
    dispersion: float


def _two_way_fit(y: NDArray[np.float64], treated_row: int, start: int, model: str) -> _Fit:
    """Unit and period fixed effects plus a treated x post indicator, on a units x periods panel."""
    n_units, n_periods = y.shape
    keep_p = np.ones(n_periods, dtype=bool)
    keep_u = np.ones(n_units, dtype=bool)
    if model == "poisson":
        # All-zero periods or units have fixed effects of -inf: they carry no information.
        keep_p = y.sum(axis=0) > 0
        keep_u = y.sum(axis=1) > 0
        keep_u[treated_row] = True
    units = np.flatnonzero(keep_u)
    periods = np.flatnonzero(keep_p)
    sub = y[np.ix_(units, periods)]
    nu, nt = sub.shape
    ui = np.repeat(np.arange(nu), nt)
    ti = np.tile(np.arange(nt), nu)
    tr = int(np.flatnonzero(units == treated_row)[0])
    post = (ui == tr) & (periods[ti] >= start)
    cols = [np.ones(nu * nt)]
    unit_d = (ui[:, None] == np.arange(1, nu)[None, :]).astype(np.float64)
    period_d = (ti[:, None] == np.arange(1, nt)[None, :]).astype(np.float64)
    x = np.column_stack([cols[0], unit_d, period_d, post.astype(np.float64)])
    yy = sub.ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "poisson":
            res = GLM(yy, x, family=families.Poisson()).fit(scale="X2", maxiter=100)
            dispersion = float(res.scale)
        else:
            res = OLS(np.log1p(yy), x).fit()
            dispersion = float(res.scale)
    beta = float(res.params[-1])
    se = float(res.bse[-1])
    # Linear predictor of the treated unit over all periods (NaN-free: dropped periods get
    # the treated unit's level only, where every unit had 0 events).
    params = np.asarray(res.params)
    level = params[0] + (params[tr] if tr > 0 else 0.0)
    period_eff = np.concatenate([[0.0], params[nu : nu + nt - 1]])
    linear = np.full(n_periods, -np.inf if model == "poisson" else level)
    linear[periods] = level + period_eff
    linear[np.arange(n_periods) >= start] += beta
    df = float(res.df_resid)
    return _Fit(beta, se if np.isfinite(se) else math.inf, df, linear, dispersion)


def _expm1(x: float) -> float:
    """``exp(x) - 1`` without overflow (degenerate fits have huge interval ends)."""
    return float(np.expm1(np.clip(x, -700.0, 700.0)))


def _inverse(linear: NDArray[np.float64], model: str) -> NDArray[np.float64]:
    if model == "poisson":
        return np.exp(linear)
    return np.expm1(linear)


def _reference(fit: _Fit, model: str) -> Any:
    # Quasi-Poisson: the scale is estimated from many residual df; normal reference as
    # statsmodels' GLM. OLS: Student's t with the residual df.
    if model == "poisson":
        return stats.norm
    return stats.t(max(fit.df, 1.0))


# --------------------------------------------------------------------------- public: DiD


def difference_in_differences(
    outcomes: Any,
    treated: int | Sequence[int],
    start: int | Sequence[int],
    controls: Sequence[int] | None = None,
    *,
    categories: Sequence[Any] | None = None,
    n_controls: int = 10,
    model: str = "poisson",
    alpha: float = 0.05,
    exclude: Sequence[int] | None = None,
) -> DidResult:
    """Estimate the effect of a measure on counts by difference-in-differences.

    Parameters
    ----------
    outcomes : array_like or pandas.DataFrame, shape (units, periods)
        Counts per unit (row) and period (column), in time order, zeros included.
    treated : int or sequence of int
        Row position of the treated unit; or several rows (staggered adoption, with
        ``start`` a matching sequence).
    start : int or sequence of int
        Position of the first treated period (the measure's first period), >= 1.
    controls : sequence of int, optional
        Row positions of the comparison units. Default: the ``n_controls`` units whose
        pre-period ``log(1 + counts)`` paths are closest (RMSE) to the treated unit's,
        those with the treated unit's category first when ``categories`` is given; with
        staggered adoption, every unit that is not treated or excluded.
    categories : sequence, optional
        A category per row (e.g. "särskilt utsatt område"), to prefer like areas.
    n_controls : int, default 10
        Comparison units chosen when ``controls`` is not given (single treated unit).
    model : {"poisson", "log_rate"}
        ``"poisson"``: Poisson GLM of the counts; ``"log_rate"``: OLS of ``log(1 + y)``.
    alpha : float, default 0.05
        ``1 - alpha`` intervals.
    exclude : sequence of int, optional
        Rows never used as comparison (neighbours that may gain displaced crime, areas
        with their own measures).

    Returns
    -------
    DidResult

    Raises
    ------
    ValueError
        Naming the argument that is malformed.

    Notes
    -----
    **One treated unit.** The counts ``y_it`` of the treated unit and the comparison
    units are fitted with ``log E[y_it] = a_i + g_t + beta * D_it`` (Poisson GLM,
    ``model="poisson"``) or ``log(1 + y_it) = a_i + g_t + beta * D_it + e_it`` (OLS,
    ``model="log_rate"``), ``D_it = 1`` for the treated unit from ``start`` on [2]_.
    ``relative_effect = exp(beta) - 1``. The counterfactual of period ``t`` is the
    fitted value without ``beta``; ``effect`` is the mean over post-periods of observed
    minus counterfactual counts (for Poisson, ``mean(cf) * (exp(beta) - 1)``), and its
    interval the same with ``beta`` at its interval's ends.

    Standard errors are **quasi-Poisson**: the model-based covariance scaled by the
    Pearson chi²/df dispersion [3]_ (normal reference), OLS ones for ``log_rate``
    (Student's t). Cluster-robust errors by unit are *not* used: with one treated unit
    the treated cluster's score for ``beta`` is zero by construction and the
    sandwich grossly understates the uncertainty. The quasi-Poisson errors assume
    periods independent given the fixed effects (no serial correlation).

    **Pre-trend check.** The same model on the pre-period alone with a placebo start at
    its middle; a placebo effect with p < 0.05 gives the warning that the treated area
    was already diverging.

    **Staggered adoption** (``treated`` a sequence). For each cohort ``g`` (units with
    first treated period ``g``) and period ``t >= g`` the group-time effect [1]_ is,
    with ``C`` the comparison units not yet treated at ``t`` (never treated, or
    starting after ``t``), ``P = {s < g}`` the cohort's pre-period and bars means over
    units and periods:

    * ``poisson``: ``ATT(g, t) = Ybar_g,t - Ybar_g,P * Ybar_C,t / Ybar_C,P`` (the ratio
      the Poisson fixed-effects fit gives on a 2 x 2 panel of the group means);
    * ``log_rate``: the same on ``log(1 + y)``, ``Lbar_g,t - Lbar_g,P - (Lbar_C,t -
      Lbar_C,P)``, back-transformed per cell.

    The base is the mean over the whole pre-period rather than Callaway & Sant'Anna's
    period ``g - 1`` (sparse counts make one period a noisy base; with one pre-period
    they coincide). The average post-treatment effect is the simple average over the
    cells ``t >= g`` weighted by cohort size, ``sum n_g ATT(g, t) / sum n_g``;
    ``relative_effect`` is that sum over the same sum of counterfactuals. Its standard
    error is the delta method with quasi-Poisson variances ``phi * mu_it``
    (``mu_it`` from a two-way multiplicative fit, ``phi`` its Pearson dispersion), and
    the p-value and interval are normal. The pre-trend check runs per cohort (its units
    pooled, against the comparison units and the later cohorts, over ``[0, g)``), with a
    Bonferroni correction over cohorts; ``pre_fit`` is then the RMSE of the cohorts' mean
    paths in those fits.
    """
    y, labels = _panel(outcomes)
    n_units, n_periods = y.shape
    if model not in DID_MODELS:
        raise ValueError(f"model must be one of {DID_MODELS}, got {model!r}")
    a = _alpha(alpha)
    excluded = set(_rows(exclude, n_units, "exclude"))
    if categories is not None and len(categories) != n_units:
        raise ValueError(
            f"categories must have one entry per row of outcomes: {len(categories)} != {n_units}"
        )
    cats = None if categories is None else list(categories)
    if isinstance(n_controls, bool) or not isinstance(n_controls, int | np.integer) or n_controls < 1:
        raise ValueError(f"n_controls must be a positive integer, got {n_controls!r}")
    staggered = not isinstance(treated, int | np.integer)
    if staggered:
        rows = _rows(treated, n_units, "treated")
        if isinstance(start, (int | np.integer, str)):
            raise ValueError("start must be a sequence matching treated when treated is a sequence")
        starts_list = list(cast(Sequence[int], start))
        if len(starts_list) != len(rows) or not rows:
            raise ValueError(f"start must have one entry per treated row: {len(starts_list)} != {len(rows)}")
        starts = [_start(s, n_periods) for s in starts_list]
    else:
        rows = [_row(treated, n_units, "treated")]
        if not isinstance(start, int | np.integer) or isinstance(start, bool):
            raise ValueError(
                f"start must be an integer period position when treated is one row, got {start!r}"
            )
        starts = [_start(start, n_periods)]
    if set(rows) & excluded:
        raise ValueError("exclude must not hold a treated row")
    if controls is not None:
        comp = _rows(controls, n_units, "controls")
        if set(comp) & set(rows):
            raise ValueError("controls must not hold a treated row")
        comp = [c for c in comp if c not in excluded]
    else:
        pool = [i for i in range(n_units) if i not in excluded and i not in rows]
        chosen = None if staggered else _choose_controls(y, rows, starts[0], pool, cats, int(n_controls))
        comp = pool if chosen is None else chosen
    if not comp:
        raise ValueError("controls: no comparison units are left (all excluded or treated)")
    if staggered:
        return _staggered(y, labels, rows, starts, comp, model, a)
    return _single(y, labels, rows[0], starts[0], comp, model, a)


def _common_warnings(pre_periods: int, pre_mean: float, n_comp: int) -> list[str]:
    out = []
    if pre_periods < MIN_PRE_PERIODS:
        out.append(
            f"Only {pre_periods} periods before the measure (fewer than {MIN_PRE_PERIODS}): "
            "the comparison's baseline is short and the season may not be captured."
        )
    if pre_mean < MIN_PRE_EVENTS:
        out.append(
            f"Few events: the treated area averaged {pre_mean:.2g} per period before the measure "
            f"(fewer than {MIN_PRE_EVENTS:g}); only large effects can be told from chance."
        )
    if n_comp < MIN_CONTROLS:
        out.append(
            f"Only {n_comp} comparison areas (fewer than {MIN_CONTROLS}): the estimate leans on "
            "few areas' own ups and downs."
        )
    return out


def _per_period(
    labels: list[Any], observed: NDArray[np.float64], cf: NDArray[np.float64], z: float, scale: float
) -> pd.DataFrame:
    band = z * np.sqrt(np.maximum(scale, 1.0) * np.maximum(cf, 0.0))
    return pd.DataFrame(
        {"period": labels, "effect": observed - cf, "low": -band, "high": band},
    )


def _single(
    y: NDArray[np.float64],
    labels: list[Any],
    row: int,
    start: int,
    comp: list[int],
    model: str,
    a: float,
) -> DidResult:
    panel = y[[row, *comp]]
    if model == "poisson" and panel[0].sum() == 0:
        raise ValueError("outcomes: the treated unit has no events at all; no effect can be estimated")
    fit = _two_way_fit(panel, 0, start, model)
    ref = _reference(fit, model)
    z = float(ref.ppf(1 - a / 2))
    lo_b, hi_b = fit.beta - z * fit.se, fit.beta + z * fit.se
    stat = fit.beta / fit.se if fit.se > 0 else math.inf
    p = float(2 * ref.sf(abs(stat))) if np.isfinite(stat) else (0.0 if fit.beta != 0 else 1.0)
    observed = y[row]
    post = np.arange(y.shape[1]) >= start
    fitted = _inverse(fit.linear, model)

    def cf_at(b: float) -> NDArray[np.float64]:
        return np.where(post, _inverse(np.clip(fit.linear - b, -700.0, 700.0), model), fitted)

    def effect_at(b: float) -> float:
        return float(np.mean(observed[post] - cf_at(b)[post]))

    cf = cf_at(fit.beta)
    effect = effect_at(fit.beta)
    interval = (effect_at(lo_b), effect_at(hi_b))
    rel = _expm1(fit.beta)
    rel_int = (_expm1(lo_b), _expm1(hi_b))
    pre_fit = float(np.sqrt(np.mean((observed[~post] - fitted[~post]) ** 2)))
    pre_mean = float(observed[~post].mean())
    notes = _common_warnings(start, pre_mean, len(comp))
    if observed[post].sum() == 0:
        notes.append(
            "No events at all in the treated area after the start: the estimate sits at the "
            "boundary (-100 %) and its interval says little."
        )
    if start >= 4:
        try:
            placebo = _two_way_fit(panel[:, :start], 0, start // 2, model)
            pref = _reference(placebo, model)
            pp = float(2 * pref.sf(abs(placebo.beta / placebo.se))) if placebo.se > 0 else 1.0
            if np.isfinite(pp) and pp < 0.05:
                notes.insert(0, PRE_TREND_WARNING.format(p=pp))
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - degenerate pre-period
            pass
    scale = fit.dispersion if model == "poisson" else 1.0
    return DidResult(
        effect=effect,
        interval=interval,
        relative_effect=rel,
        relative_interval=rel_int,
        p_value=min(1.0, p),
        weights=pd.Series(np.full(len(comp), 1.0 / len(comp)), index=pd.Index(comp), name="weight"),
        pre_fit=pre_fit,
        warnings=tuple(notes),
        method=f"did_{model}",
        counterfactual=cf,
        treated_path=observed.copy(),
        per_period=_per_period(labels, observed, cf, z, scale),
        comparison=tuple(comp),
    )


def _cells(
    starts: list[int], rows: list[int], comp: list[int], n_periods: int
) -> list[tuple[int, int, list[int], list[int]]]:
    """(g, t, cohort rows, comparison rows) of every post cell with a comparison."""
    start_of = dict(zip(rows, starts, strict=True))
    out = []
    for g in sorted(set(starts)):
        cohort = [r for r in rows if start_of[r] == g]
        for t in range(g, n_periods):
            # not yet treated at t: never-treated comparison units, or treated units starting after t
            c = [*comp, *(r for r in rows if start_of[r] > t)]
            if c:
                out.append((g, t, cohort, c))
    return out


def _staggered(
    y: NDArray[np.float64],
    labels: list[Any],
    rows: list[int],
    starts: list[int],
    comp: list[int],
    model: str,
    a: float,
) -> DidResult:
    n_periods = y.shape[1]
    cells = _cells(starts, rows, comp, n_periods)
    if not cells:
        raise ValueError("controls: no not-yet-treated comparison units for any treated period")
    data = y if model == "poisson" else np.log1p(y)
    grad = np.zeros_like(y)  # d(sum of weighted effects in counts' scale of the model) / d data
    total_w = 0.0
    effect_sum = 0.0
    cf_sum = 0.0
    obs_sum = 0.0
    cf_path = np.zeros(n_periods)
    cf_weight = np.zeros(n_periods)
    for g, t, cohort, c in cells:
        n_g = float(len(cohort))
        pre = np.arange(g)
        A = data[cohort, t].mean()
        B = data[np.ix_(cohort, pre)].mean()
        C = data[c, t].mean()
        D = data[np.ix_(c, pre)].mean()
        if model == "poisson":
            if D <= 0:
                continue
            cf = B * C / D
            att = A - cf
            dA, dB, dC, dD = 1.0, -C / D, -B / D, B * C / D**2
        else:
            cf = B + C - D  # log scale
            att = A - cf
            dA, dB, dC, dD = 1.0, -1.0, -1.0, 1.0
        grad[cohort, t] += n_g * dA / len(cohort)
        grad[np.ix_(cohort, pre)] += n_g * dB / (len(cohort) * len(pre))
        grad[c, t] += n_g * dC / len(c)
        grad[np.ix_(c, pre)] += n_g * dD / (len(c) * len(pre))
        total_w += n_g
        effect_sum += n_g * att
        cf_sum += n_g * cf
        obs_sum += n_g * A
        cf_path[t] += n_g * cf
        cf_weight[t] += n_g
    if total_w == 0:
        raise ValueError("outcomes: the comparison units have no events in the cohorts' pre-periods")
    used = sorted({u for _, _, _, c in cells for u in c} | set(rows))
    sub = data[used]
    # Variance of each cell of the data: quasi-Poisson phi * mu from a two-way fit (Poisson),
    # or the residual variance of an additive two-way fit on log(1 + y).
    untreated = np.ones_like(sub, dtype=bool)
    for r, s in zip(rows, starts, strict=True):
        untreated[used.index(r), s:] = False
    if model == "poisson":
        mu = np.outer(sub.sum(axis=1), sub.sum(axis=0)) / max(sub.sum(), 1e-12)
        ok = untreated & (mu > 0)
        dfree = max(ok.sum() - (sub.shape[0] + sub.shape[1] - 1), 1)
        phi = max(1.0, float(np.sum((sub[ok] - mu[ok]) ** 2 / mu[ok]) / dfree))
        var = phi * mu
    else:
        fitted = sub.mean(axis=1, keepdims=True) + sub.mean(axis=0, keepdims=True) - sub.mean()
        dfree = max(untreated.sum() - (sub.shape[0] + sub.shape[1] - 1), 1)
        s2 = float(np.sum((sub - fitted)[untreated] ** 2) / dfree)
        var = np.full_like(sub, s2)
        phi = 1.0
    se = float(np.sqrt(np.sum(grad[used] ** 2 * var))) / total_w
    est = effect_sum / total_w
    z = float(stats.norm.ppf(1 - a / 2))
    p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else (0.0 if est != 0 else 1.0)
    lo, hi = est - z * se, est + z * se
    treated_path = y[rows].mean(axis=0)
    if model == "poisson":
        mean_cf = cf_sum / total_w
        effect, interval = est, (lo, hi)
        rel = est / mean_cf
        rel_int = (lo / mean_cf, hi / mean_cf)
    else:
        # est is a log(1 + y) difference: back-transform via the mean observed count.
        mean_obs = obs_sum / total_w  # mean of log(1 + y) over treated cells
        rel = _expm1(est)
        rel_int = (_expm1(lo), _expm1(hi))
        base = _expm1(mean_obs)

        def to_counts(d: float) -> float:
            return base - _expm1(mean_obs - d)

        effect, interval = to_counts(est), (to_counts(lo), to_counts(hi))
    counterfactual = treated_path.copy()
    has = cf_weight > 0
    cf_mean = cf_path[has] / cf_weight[has]
    counterfactual[has] = cf_mean if model == "poisson" else np.expm1(cf_mean)
    first = min(starts)
    pre_mean = float(np.mean([y[r, :s].mean() for r, s in zip(rows, starts, strict=True)]))
    notes = _common_warnings(first, pre_mean, len(comp))
    placebo_p, pre_fit = _staggered_pre_trend(y, rows, starts, comp, model)
    if placebo_p:
        worst = min(1.0, min(placebo_p) * len(placebo_p))  # Bonferroni over cohorts
        if worst < 0.05:
            notes.insert(0, PRE_TREND_WARNING.format(p=worst))
    return DidResult(
        effect=float(effect),
        interval=(float(interval[0]), float(interval[1])),
        relative_effect=float(rel),
        relative_interval=(float(rel_int[0]), float(rel_int[1])),
        p_value=min(1.0, p),
        weights=pd.Series(np.full(len(comp), 1.0 / len(comp)), index=pd.Index(comp), name="weight"),
        pre_fit=pre_fit,
        warnings=tuple(notes),
        method=f"did_{model}",
        counterfactual=counterfactual,
        treated_path=treated_path,
        per_period=_per_period(labels, treated_path, counterfactual, z, phi if model == "poisson" else 1.0),
        comparison=tuple(comp),
    )


def _staggered_pre_trend(
    y: NDArray[np.float64], rows: list[int], starts: list[int], comp: list[int], model: str
) -> tuple[list[float], float]:
    """Placebo p-value per cohort (pre-period, fake start at its middle) and the pre-fit RMSE.

    Each cohort's units are pooled into one row (their sum for ``poisson``, their mean for
    ``log_rate``) and compared over ``[0, g)`` with the comparison units and the units that
    start after ``g``. The RMSE is that of the cohorts' mean paths, over their pre-periods
    weighted by cohort size.
    """
    p_values: list[float] = []
    total = 0.0
    cells = 0
    for g in sorted(set(starts)):
        cohort = [r for r, s in zip(rows, starts, strict=True) if s == g]
        others = [*comp, *(r for r, s in zip(rows, starts, strict=True) if s > g)]
        pooled = y[cohort, :g].sum(axis=0) if model == "poisson" else y[cohort, :g].mean(axis=0)
        if g < 4 or (model == "poisson" and pooled.sum() == 0):
            continue
        block = np.vstack([pooled, y[others, :g]])
        try:
            fit = _two_way_fit(block, 0, g // 2, model)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - degenerate pre-period
            continue
        if fit.se > 0 and np.isfinite(fit.se):
            p_values.append(float(2 * _reference(fit, model).sf(abs(fit.beta / fit.se))))
        fitted = _inverse(fit.linear, model)
        per_unit = (pooled - fitted) / (len(cohort) if model == "poisson" else 1)
        total += float(np.sum(per_unit**2)) * len(cohort)
        cells += g * len(cohort)
    pre_fit = math.sqrt(total / cells) if cells else math.nan
    return p_values, pre_fit


# --------------------------------------------------------------------------- public: MDE


def _power(d: float, lam0: float, t0: float, h: float, phi: float, z_a: float) -> float:
    """Approximate power of the conditional rate comparison at a relative drop ``d``."""
    lam1 = lam0 * (1.0 - d)
    n = lam0 * t0 + lam1 * h
    if n <= 0:
        return 0.0
    p0 = h / (t0 + h)
    p1 = lam1 * h / n
    sd0 = math.sqrt(phi * p0 * (1 - p0))
    sd1 = math.sqrt(phi * p1 * (1 - p1))
    gap = (p0 - p1) * math.sqrt(n) - z_a * sd0
    if sd1 == 0:
        return 1.0 if gap > 0 else 0.0
    return float(stats.norm.cdf(gap / sd1))


def minimum_detectable_effect(
    outcomes: ArrayLike,
    treated: int,
    start: int,
    horizon: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    controls: Sequence[int] | None = None,
    n_sim: int | None = None,
    seed: int = 0,
    label: str = "Events",
    period_name: str = "month",
) -> MdeResult:
    """Smallest drop in the treated unit's counts that a follow-up would detect.

    Parameters
    ----------
    outcomes : array_like, shape (units, periods) or (periods,)
        Counts per period (a panel, or the treated unit's own series).
    treated : int
        Row of the treated unit (ignored for a single series; pass 0).
    start : int
        Position of the measure's first period; may equal the number of periods
        observed (planning before the start: no post data needed). The pre-period is
        ``[0, start)``.
    horizon : int
        Post-periods the follow-up will cover.
    alpha : float, default 0.05
        Two-sided level of the test.
    power : float, default 0.8
        Required probability of detecting the drop.
    controls : sequence of int, optional
        Comparison rows; their pre-period counts add the comparison's noise (DiD).
    n_sim : int, optional
        Simulations to check the power at the returned effect (``simulated_power``).
    seed : int, default 0
        Seed of the simulations.
    label, period_name : str
        Words of the message ("Shootings", "month").

    Returns
    -------
    MdeResult

    Notes
    -----
    The follow-up is the quasi-Poisson rate comparison of the ``horizon`` post-periods
    against the ``T0 = start`` pre-periods given their total ``n``
    (:func:`problembild.analysis.ratetest.rate_test`): under no change the post share
    is ``p0 = h / (T0 + h)`` with variance ``phi p0 (1 - p0) / n``. At a drop ``d`` the
    expected share is ``p1 = lam1 h / n``, ``lam1 = lam0 (1 - d)``, ``n = lam0 T0 +
    lam1 h``, and the normal approximation of the power is::

        power(d) = Phi(((p0 - p1) sqrt(n) - z_{1-alpha/2} sqrt(phi p0 (1 - p0)))
                       / sqrt(phi p1 (1 - p1)))

    ``relative`` solves ``power(d) = power`` (Brent); ``lam0`` is the treated
    pre-period mean and ``phi`` its dispersion
    (:func:`~problembild.analysis.ratetest.dispersion_estimate`, at least 1). With
    ``controls`` the comparison's own noise is added by inflating ``phi`` by ``1 +
    V_c / V_t``, the ratio of the comparison's to the treated unit's variance of the log
    rate ratio (``1 / (lam T0) + 1 / (lam h)`` each). When even ``d = 1`` (no events
    at all after the start) falls short, ``relative`` is NaN.

    The simulation check draws pre and post counts (Poisson, or negative binomial with
    ``Var = phi mean``) at the returned drop and counts how often
    :func:`~problembild.analysis.ratetest.rate_test_many` (with the true ``phi``) finds
    ``p < alpha`` in the direction of a drop.
    """
    try:
        arr = np.asarray(outcomes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outcomes must be numeric: {exc}") from None
    if arr.ndim == 1:
        arr = arr[None, :]
        treated = 0
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"outcomes must be a series or a units x periods panel, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("outcomes must hold finite counts >= 0")
    row = _row(treated, arr.shape[0], "treated")
    t0 = _start(start, arr.shape[1], allow_end=True)
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    a = _alpha(alpha)
    pw = _alpha(power, "power")
    if pw <= a / 2:
        raise ValueError(f"power must exceed alpha / 2, got {power!r}")
    if n_sim is not None and (
        isinstance(n_sim, bool) or not isinstance(n_sim, int | np.integer) or n_sim < 1
    ):
        raise ValueError(f"n_sim must be a positive integer, got {n_sim!r}")
    pre = arr[row, :t0]
    lam0 = float(pre.mean())
    phi = max(1.0, dispersion_estimate(pre).dispersion) if t0 >= 2 else 1.0
    h = float(horizon)
    if controls is not None:
        comp = _rows(controls, arr.shape[0], "controls")
        if row in comp:
            raise ValueError("controls must not hold the treated row")
        if comp:
            lam_c = float(arr[comp, :t0].sum(axis=0).mean())
            if lam_c > 0 and lam0 > 0:
                phi_c = (
                    max(1.0, dispersion_estimate(arr[comp, :t0].sum(axis=0)).dispersion) if t0 >= 2 else 1.0
                )
                v_t = 1 / (lam0 * t0) + 1 / (lam0 * h)
                v_c = phi_c * (1 / (lam_c * t0) + 1 / (lam_c * h))
                phi *= 1 + v_c / (phi * v_t)
    z_a = float(stats.norm.ppf(1 - a / 2))
    word = period_name
    if lam0 <= 0 or _power(1.0, lam0, t0, h, phi, z_a) < pw:
        msg = (
            f"{label} here average {lam0:.2g} a {word}: within {horizon} {word}s not even a drop to "
            "zero could be told from chance."
        )
        return MdeResult(math.nan, math.nan, lam0, msg, phi, None)
    if _power(1e-9, lam0, t0, h, phi, z_a) >= pw:  # pragma: no cover - cannot happen for pw > alpha/2
        d = 0.0
    else:
        d = float(optimize.brentq(lambda x: _power(x, lam0, t0, h, phi, z_a) - pw, 1e-9, 1.0, xtol=1e-6))
    sim_power = None
    if n_sim is not None:
        rng = np.random.default_rng(seed)

        def draw(mean: float, size: int) -> NDArray[np.float64]:
            if phi <= 1.0 + 1e-9:
                return rng.poisson(mean, size).astype(np.float64)
            shape = mean / (phi - 1.0)  # NB with Var = phi * mean
            return rng.poisson(rng.gamma(shape, (phi - 1.0), size)).astype(np.float64)

        pre_sum = draw(lam0 * t0, int(n_sim))
        post_sum = draw(lam0 * (1 - d) * h, int(n_sim))
        table = rate_test_many(post_sum, h, pre_sum, float(t0), dispersion=phi)
        p_values = np.asarray(table["p_value"], dtype=np.float64)
        lower = post_sum / h < pre_sum / t0
        sim_power = float(np.mean((p_values < a) & lower))
    msg = (
        f"{label} here average {lam0:.2g} a {word}: within {horizon} {word}s only a drop of "
        f"{100 * d:.0f} % or more could be told from chance."
    )
    return MdeResult(d, d * lam0, lam0, msg, phi, sim_power)
