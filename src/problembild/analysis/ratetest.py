"""Exact conditional test that two Poisson rates are equal.

Given ``n = a + b`` events, ``a ~ Binomial(n, e_a / (e_a + e_b))`` under the null
(Przyborowski & Wilenski 1940). :func:`poisson_rate_test` tests one pair with
:func:`scipy.stats.binomtest`; :func:`poisson_rate_test_many` runs the same algorithm
on whole tables at once. p-values are per comparison and *not* adjusted for
multiplicity.

References
----------
.. [1] Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing
   samples from Poisson series. Biometrika, 31(3/4), 313-323.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._validation import as_1d_float

__all__ = ["ALTERNATIVES", "RateTestResult", "poisson_rate_test", "poisson_rate_test_many"]

#: Alternatives of the rate tests (``"greater"``: rate a > rate b).
ALTERNATIVES: Final[tuple[str, ...]] = ("two-sided", "greater", "less")

_RERR: Final = 1 + 1e-7  # scipy.stats.binomtest's relative tolerance for "as likely as observed"


@dataclass(frozen=True, slots=True)
class RateTestResult:
    """Result of :func:`poisson_rate_test`.

    Attributes
    ----------
    count_a, count_b : int
        Event counts.
    exposure_a, exposure_b : float
        Exposures (e.g. days, or person-years) the counts were observed over.
    ratio : float
        Rate ratio ``(count_a / exposure_a) / (count_b / exposure_b)``; ``inf`` when
        only ``count_b`` is 0, NaN when both counts are 0.
    p_value : float
        Exact conditional p-value; 1.0 when both counts are 0 (no events carry no
        evidence of a difference).
    alternative : str
        ``"two-sided"``, ``"greater"`` (rate a > rate b) or ``"less"``.
    """

    count_a: int
    exposure_a: float
    count_b: int
    exposure_b: float
    ratio: float
    p_value: float
    alternative: str

    @property
    def rate_a(self) -> float:
        """Events per unit of exposure in a."""
        return self.count_a / self.exposure_a

    @property
    def rate_b(self) -> float:
        """Events per unit of exposure in b."""
        return self.count_b / self.exposure_b


def _check_alternative(alternative: Any) -> str:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    return str(alternative)


def _finite(value: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    return as_1d_float(arr.ravel() if arr.ndim > 1 and arr.size == 1 else arr, name)


def _counts(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(value, name)
    if np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be non-negative whole numbers")
    return arr


def _exposures(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(value, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be positive")
    return arr


def _search(
    fun: Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]],
    target: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Lane-wise copy of scipy's ``_binary_search_for_binom_tst``.

    Returns, per lane, the ``i`` in ``[lo, hi]`` with ``fun(i) <= target < fun(i + 1)``
    (``fun`` ascending). Finished lanes are frozen, exactly as the scalar search stops.
    """
    lo, hi = lo.copy(), hi.copy()
    active = np.flatnonzero(lo < hi)
    while active.size:
        mid = lo[active] + (hi[active] - lo[active]) // 2
        value = fun(mid, active)
        goal = target[active]
        below, above, equal = value < goal, value > goal, value == goal
        lo[active[below]] = mid[below] + 1
        hi[active[above]] = mid[above] - 1
        lo[active[equal]] = mid[equal]
        hi[active[equal]] = mid[equal]
        active = active[lo[active] < hi[active]]
    every = np.arange(lo.size)
    return np.where(fun(lo, every) <= target, lo, lo - 1)


def _binom_p_values(
    k: NDArray[np.float64], n: NDArray[np.float64], p: NDArray[np.float64], alternative: str
) -> NDArray[np.float64]:
    """scipy.stats.binomtest p-values for arrays (n >= 1), same algorithm as scipy."""
    binom = stats.binom
    if alternative == "less":
        return np.asarray(binom.cdf(k, n, p), dtype=np.float64)
    if alternative == "greater":
        return np.asarray(binom.sf(k - 1, n, p), dtype=np.float64)
    # Two-sided "minlike" p-value: the probability of every outcome no more likely
    # than the observed one, found on the other side of the mode by bisection.
    d = np.asarray(binom.pmf(k, n, p), dtype=np.float64)
    out = np.empty_like(d)
    low = k < p * n
    if low.any():
        kk, nn, pp, dd = k[low], n[low], p[low], d[low]

        def neg_pmf(x: NDArray[np.float64], lanes: NDArray[np.intp]) -> NDArray[np.float64]:
            return -np.asarray(binom.pmf(x, nn[lanes], pp[lanes]), dtype=np.float64)

        ix = _search(neg_pmf, -dd * _RERR, np.ceil(pp * nn), nn)
        y = nn - ix + (dd * _RERR == binom.pmf(ix, nn, pp))
        out[low] = binom.cdf(kk, nn, pp) + binom.sf(nn - y, nn, pp)
    high = ~low
    if high.any():
        kk, nn, pp, dd = k[high], n[high], p[high], d[high]

        def pmf(x: NDArray[np.float64], lanes: NDArray[np.intp]) -> NDArray[np.float64]:
            return np.asarray(binom.pmf(x, nn[lanes], pp[lanes]), dtype=np.float64)

        ix = _search(pmf, dd * _RERR, np.zeros_like(nn), np.floor(pp * nn))
        y = ix + 1
        out[high] = binom.cdf(y - 1, nn, pp) + binom.sf(kk - 1, nn, pp)
    return np.minimum(1.0, out)


def _rate_ratio(
    a: NDArray[np.float64], ea: NDArray[np.float64], b: NDArray[np.float64], eb: NDArray[np.float64]
) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / ea) / (b / eb)
    return np.where(a + b == 0, np.nan, ratio)


def poisson_rate_test(
    count_a: int,
    exposure_a: float,
    count_b: int,
    exposure_b: float,
    alternative: str = "two-sided",
) -> RateTestResult:
    """Exact conditional test that two Poisson rates are equal.

    Under ``H0: rate_a == rate_b`` and given ``n = count_a + count_b``,
    ``count_a ~ Binomial(n, exposure_a / (exposure_a + exposure_b))``; the p-value is
    :func:`scipy.stats.binomtest`'s (two-sided: sum of the probabilities of outcomes
    no more likely than the observed one). This differs from
    :func:`scipy.stats.poisson_means_test`, which is the unconditional E-test.

    Parameters
    ----------
    count_a, count_b : int
        Event counts (whole numbers >= 0).
    exposure_a, exposure_b : float
        Positive exposures in the same unit (days, residents x years, ...).
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: rate a > rate b.

    Returns
    -------
    RateTestResult
        ``n == 0`` gives ``p_value = 1`` and ``ratio = NaN``: with no events there is
        no evidence either way, and the ratio 0/0 is undefined.
    """
    alt = _check_alternative(alternative)
    a = _counts(count_a, "count_a")
    b = _counts(count_b, "count_b")
    ea = _exposures(exposure_a, "exposure_a")
    eb = _exposures(exposure_b, "exposure_b")
    if not a.size == b.size == ea.size == eb.size == 1:
        raise ValueError("poisson_rate_test takes scalars; use poisson_rate_test_many for arrays")
    n = int(a[0] + b[0])
    if n == 0:
        p_value = 1.0
    else:
        p_value = float(stats.binomtest(int(a[0]), n, float(ea[0] / (ea[0] + eb[0])), alternative=alt).pvalue)
    return RateTestResult(
        count_a=int(a[0]),
        exposure_a=float(ea[0]),
        count_b=int(b[0]),
        exposure_b=float(eb[0]),
        ratio=float(_rate_ratio(a, ea, b, eb)[0]),
        p_value=p_value,
        alternative=alt,
    )


def poisson_rate_test_many(
    count_a: ArrayLike,
    exposure_a: ArrayLike,
    count_b: ArrayLike,
    exposure_b: ArrayLike,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Vectorised :func:`poisson_rate_test` for whole tables.

    Arguments broadcast against each other (e.g. a scalar exposure). The p-values
    follow :func:`scipy.stats.binomtest`'s algorithm step by step, with
    ``scipy.stats.binom`` evaluated on arrays, and agree with it to rounding.

    Returns
    -------
    pandas.DataFrame
        Columns ``count_a``, ``exposure_a``, ``count_b``, ``exposure_b`` (floats),
        ``ratio`` (rate ratio a/b; NaN when both counts are 0, ``inf`` when only b is
        0) and ``p_value`` (1.0 when both counts are 0).
    """
    alt = _check_alternative(alternative)
    try:
        arrays = np.broadcast_arrays(
            _counts(count_a, "count_a"),
            _exposures(exposure_a, "exposure_a"),
            _counts(count_b, "count_b"),
            _exposures(exposure_b, "exposure_b"),
        )
    except ValueError as exc:
        raise ValueError(f"count and exposure arrays do not broadcast: {exc}") from None
    a, ea, b, eb = (np.array(x, dtype=np.float64) for x in arrays)
    n = a + b
    p_values = np.ones_like(a)
    some = n > 0
    if some.any():
        p_values[some] = _binom_p_values(a[some], n[some], ea[some] / (ea[some] + eb[some]), alt)
    return pd.DataFrame(
        {
            "count_a": a,
            "exposure_a": ea,
            "count_b": b,
            "exposure_b": eb,
            "ratio": _rate_ratio(a, ea, b, eb),
            "p_value": p_values,
        }
    )
