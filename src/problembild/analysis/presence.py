"""Police presence against demand by hour of the week, protected time, and a hot-spot visit plan.

Hours of the week follow :func:`problembild.analysis.timepattern.hour_of_week`: 168
blocks, ``block = day * 24 + hour`` with Monday 00:00-01:00 as block 0 and Sunday
23:00-24:00 as block 167; a 7 x 24 matrix (Monday first, as the area picture stores it)
is accepted wherever a 168 vector is. The week is circular: Sunday 23 is next to
Monday 00.

* :func:`demand_profile` turns the hour-of-week counts per indicator into one
  harm-weighted demand profile (shares of the week's demand);
  :func:`demand_is_empty` says whether there was any demand at all.
* :func:`presence_vs_demand` compares where presence falls in the week with where the
  demand is.
* :func:`protected_time` is the share of officers' hours actually spent in the area.
* :func:`presence_plan` spends part of the presence on short, repeated stops at the
  forecast hot cells in the peak hours (the "Koper curve").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import as_1d_float, nonnegative_series
from .need import DEFAULT_HARM_WEIGHTS, HarmWeights, _checked_weights
from .vocabulary import ALL, INDICATOR_CODES

__all__ = [
    "BLOCKS",
    "KOPER_MAX_MINUTES",
    "KOPER_MIN_MINUTES",
    "PresenceDemand",
    "PresencePlan",
    "demand_is_empty",
    "demand_profile",
    "presence_plan",
    "presence_vs_demand",
    "protected_time",
]

#: Hours in a week (blocks of the hour-of-week profile).
BLOCKS: Final = 7 * 24
_MINUTES_PER_WEEK: Final = BLOCKS * 60
#: Shortest and longest stop :func:`presence_plan` accepts, minutes (Koper 1995).
KOPER_MIN_MINUTES: Final = 10
KOPER_MAX_MINUTES: Final = 16

#: Messages of :class:`PresenceDemand` and :class:`PresencePlan`.
NO_PRESENCE: Final = "no presence recorded: presence shares are undefined"
NO_DEMAND: Final = "no demand: compared with a uniform profile"
NO_CELLS: Final = "no forecast cells"
NO_PEAK_DEMAND: Final = "no demand: the peak hours are undefined"
FLAT_DEMAND: Final = "demand is the same in every hour of the week: there are no peak hours"
NO_PEAK_PRESENCE: Final = "no presence in the peak hours"
NO_ROOM: Final = "the peak hours have too few minutes for one stop"

# Slack when minutes are compared with a budget computed in floating point (officers * 60 * share).
_EPS: Final = 1e-9


# --------------------------------------------------------------------------- inputs


def _as_168(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """``value`` (168 or 7 x 24, finite, >= 0) as a fresh 168 float64 vector, or ``ValueError``."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.shape not in ((BLOCKS,), (7, 24)):
        raise ValueError(f"{name} must have 168 values or shape (7, 24), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr.ravel()


def _share(value: Any, name: str) -> float:
    """``value`` as a float in (0, 1], or ``ValueError`` naming ``name``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}") from None
    if not (0 < out <= 1):
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return out


def _whole(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (integral floats allowed), or ``ValueError``."""
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    if not math.isfinite(float(value)) or float(value) != int(value):
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    out = int(value)
    if out < low or (high is not None and out > high):
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    return out


def _n_top(share: float) -> int:
    """Blocks in the top ``share`` of the week: ``round(share * 168)``, halves up, at least 1."""
    return max(1, min(BLOCKS, math.floor(share * BLOCKS + 0.5 + 1e-9)))


def _top_blocks(values: NDArray[np.float64], n: int) -> NDArray[np.intp]:
    """The ``n`` blocks with the highest ``values`` (ties: lower block first), ascending."""
    order = np.lexsort((np.arange(values.size), -values))
    return np.sort(order[:n]).astype(np.intp)


# --------------------------------------------------------------------------- demand


def _weighted_demand(
    hour_of_week: Mapping[str, ArrayLike], weights: Mapping[str, float] | HarmWeights | None
) -> NDArray[np.float64]:
    if not isinstance(hour_of_week, Mapping):
        raise ValueError(
            f"hour_of_week must be a mapping of indicator code -> 7x24 counts, got {type(hour_of_week).__name__}"
        )
    if weights is None:
        weights = DEFAULT_HARM_WEIGHTS
    raw = weights.weights if isinstance(weights, HarmWeights) else weights
    if not isinstance(raw, Mapping):
        raise ValueError(f"weights must be a mapping or HarmWeights, got {type(weights).__name__}")
    weight, _ = _checked_weights(raw, "weights")
    unknown = sorted(str(k) for k in hour_of_week if k != ALL and k not in INDICATOR_CODES)
    if unknown:
        raise ValueError(
            f"hour_of_week has unknown indicator code(s) {unknown}; known: {[*INDICATOR_CODES, ALL]}"
        )
    total = np.zeros(BLOCKS)
    for code, counts in hour_of_week.items():
        if code == ALL:
            continue  # the sum of the others: weighting it would count incidents twice
        values = _as_168(counts, f"hour_of_week[{code!r}]")
        total += weight[code] * values
    return total


def _smoothed(values: NDArray[np.float64], smooth: int) -> NDArray[np.float64]:
    """Circular moving average over ``2 * smooth + 1`` hours (keeps the sum)."""
    if smooth == 0:
        return values
    window = 2 * smooth + 1
    padded = np.concatenate([values[-smooth:], values, values[:smooth]])
    return np.convolve(padded, np.full(window, 1.0 / window), mode="valid")


def demand_profile(
    hour_of_week: Mapping[str, ArrayLike],
    weights: Mapping[str, float] | HarmWeights | None = None,
    *,
    smooth: int = 0,
) -> NDArray[np.float64]:
    """Harm-weighted demand by hour of the week, as shares of the week's demand.

    Parameters
    ----------
    hour_of_week : mapping of str to array-like
        Indicator code -> incident counts by hour of the week, shape (7, 24) (Monday
        first, as in the area picture) or 168 values (``day * 24 + hour``); finite and
        >= 0. The ``"all"`` pseudo-indicator is ignored (it is the sum of the others).
    weights : mapping or HarmWeights, optional
        Harm weight per incident report by indicator code (default
        :data:`problembild.analysis.need.DEFAULT_HARM_WEIGHTS`). Codes without a weight
        weigh 0, so their incidents add no demand.
    smooth : int
        Half-width ``k`` in hours of a circular moving average over ``2k + 1``
        neighbouring hours (Sunday 23 is next to Monday 00), applied to the weighted
        counts; 0 (default) leaves them as they are; at most 83. See Notes.

    Returns
    -------
    numpy.ndarray of float64, shape (168,)
        Share of the week's harm-weighted demand in each block; sums to 1. With no
        demand at all (no counts, or only counts of indicators weighing 0) every block
        gets ``1 / 168``: check :func:`demand_is_empty` before reading peaks into it.

    Raises
    ------
    ValueError
        If ``hour_of_week`` is not a mapping, names an unknown indicator, or holds counts
        of the wrong shape or with negative, NaN or infinite values (the message names
        the indicator); if ``weights`` names an unknown indicator or has a weight that is
        not a finite number >= 0; if ``smooth`` is not a whole number in [0, 83].

    Notes
    -----
    One area's year of counts is sparse: a few hundred incidents spread over 168 blocks
    leave many blocks with 0 or 1 incident, so which hours look "highest" is partly
    chance. Neighbouring hours share the same daily rhythm (evenings, nights after
    weekends), so averaging over ``smooth = 1`` or ``2`` hours either side borrows
    strength from them and makes the ranking of blocks more stable, at the price of
    flattening short, sharp peaks. Smoothing moves demand between hours but keeps the
    total: the profile still sums to 1.
    """
    k = _whole(smooth, "smooth", low=0, high=(BLOCKS - 1) // 2)
    total = _weighted_demand(hour_of_week, weights)
    if not total.sum() > 0:
        return np.full(BLOCKS, 1.0 / BLOCKS)
    smoothed = _smoothed(total, k)
    return np.asarray(smoothed / smoothed.sum(), dtype=np.float64)


def demand_is_empty(
    hour_of_week: Mapping[str, ArrayLike], weights: Mapping[str, float] | HarmWeights | None = None
) -> bool:
    """True when there is no harm-weighted demand, so :func:`demand_profile` is uniform.

    Parameters
    ----------
    hour_of_week, weights
        As for :func:`demand_profile` (same validation).

    Returns
    -------
    bool
        True if every weighted count is 0 (no incidents, or only incidents of indicators
        weighing 0).
    """
    return not bool(_weighted_demand(hour_of_week, weights).sum() > 0)


# --------------------------------------------------------------------------- presence vs demand


@dataclass(frozen=True, slots=True, eq=False)
class PresenceDemand:
    """Where presence falls in the week compared with where the demand is.

    Attributes
    ----------
    presence_in_top : float
        Share of the presence (e.g. officer-hours) that falls in the top-demand blocks
        (NaN without presence).
    demand_in_top : float
        Share of the demand in the top-demand blocks: the share presence would have if it
        followed demand exactly.
    ratio_top : float
        ``presence_in_top / demand_in_top``: 1 when presence is in the peak hours as much
        as demand is, below 1 when it is less (NaN without presence).
    alignment : float
        ``1 - TV``, where ``TV = 0.5 * sum(|presence_share - demand_share|)`` is the total
        variation distance between the two distributions over the 168 blocks. Equal to
        ``sum(min(presence_share, demand_share))``: the share of presence that could stay
        where it is if presence were laid out exactly like demand. 1 = same distribution,
        0 = presence only in hours without demand (also 0 without presence).
    total_presence : float
        Sum of the presence over the week, in the unit given.
    top_blocks : numpy.ndarray of int
        The top-demand blocks, ascending: the ``top_share`` of the week's blocks with the
        highest demand, leaving out blocks without demand (so fewer when demand is sparse).
    lowest_blocks : pandas.DataFrame
        Up to ``lowest`` blocks with demand > 0 where presence is lowest relative to
        demand: ``block``, ``day`` (0 = Monday), ``hour``, ``presence``,
        ``demand_share``, ``presence_share``, ``ratio`` (``presence_share /
        demand_share``), ordered by ratio, then by higher demand, then by block. Without
        presence, ratios are NaN and the blocks are those of highest demand.
    demand_share, presence_share : numpy.ndarray of float64, shape (168,)
        The two distributions compared (``presence_share`` is NaN without presence).
    messages : tuple of str
        Why a figure is missing or what was assumed.
    """

    presence_in_top: float
    demand_in_top: float
    ratio_top: float
    alignment: float
    total_presence: float
    top_blocks: NDArray[np.intp]
    lowest_blocks: pd.DataFrame
    demand_share: NDArray[np.float64]
    presence_share: NDArray[np.float64]
    messages: tuple[str, ...]


def presence_vs_demand(
    presence_168: ArrayLike, demand_168: ArrayLike, *, top_share: float = 0.25, lowest: int = 5
) -> PresenceDemand:
    """Compare how presence and demand are spread over the hours of the week.

    Parameters
    ----------
    presence_168 : array-like, shape (168,) or (7, 24)
        Police presence in the area per hour of the week (e.g. officer-hours over the
        period, or officers present in a typical week), >= 0. Only its distribution over
        the week matters.
    demand_168 : array-like, shape (168,) or (7, 24)
        Demand per hour of the week, >= 0 (e.g. :func:`demand_profile`); normalised
        here. All zeros are compared as a uniform profile, with a message.
    top_share : float
        Share of the 168 blocks that make up the top-demand blocks, in (0, 1]: the
        ``round(top_share * 168)`` blocks of highest demand (at least 1; 0.25 -> 42),
        ties broken by lower block index.
    lowest : int
        Number of blocks in ``lowest_blocks`` (>= 1).

    Returns
    -------
    PresenceDemand
        Without presence, ``presence_in_top``, ``ratio_top`` and the presence shares are
        NaN, ``alignment`` is 0 and ``messages`` says so.

    Raises
    ------
    ValueError
        If an input has the wrong shape or negative, NaN or infinite values, or
        ``top_share`` / ``lowest`` are out of range; the message names the argument.
    """
    presence = _as_168(presence_168, "presence_168")
    demand = _as_168(demand_168, "demand_168")
    share = _share(top_share, "top_share")
    n_low = _whole(lowest, "lowest", low=1)
    messages: list[str] = []

    demand_total = float(demand.sum())
    if demand_total > 0:
        demand_share = demand / demand_total
    else:
        demand_share = np.full(BLOCKS, 1.0 / BLOCKS)
        messages.append(NO_DEMAND)
    total_presence = float(presence.sum())
    has_presence = total_presence > 0
    if has_presence:
        presence_share = presence / total_presence
    else:
        presence_share = np.full(BLOCKS, np.nan)
        messages.append(NO_PRESENCE)

    top = _top_blocks(demand_share, _n_top(share))
    # Hours without demand are never "top-demand" hours, even when fewer hours have demand
    # than the share asks for: padding with them would credit presence at quiet hours.
    top = top[demand_share[top] > 0]
    demand_in_top = float(demand_share[top].sum())
    if has_presence:
        presence_in_top = float(presence_share[top].sum())
        ratio_top = presence_in_top / demand_in_top
        alignment = float(np.minimum(presence_share, demand_share).sum())
        alignment = min(1.0, max(0.0, alignment))
    else:
        presence_in_top = ratio_top = math.nan
        alignment = 0.0

    positive = np.flatnonzero(demand_share > 0)
    ratio = presence_share[positive] / demand_share[positive]
    key = np.where(np.isnan(ratio), 0.0, ratio)  # without presence: order by demand alone
    order = positive[np.lexsort((positive, -demand_share[positive], key))][:n_low]
    blocks = order.astype(np.int64)
    lowest_blocks = pd.DataFrame(
        {
            "block": blocks,
            "day": blocks // 24,
            "hour": blocks % 24,
            "presence": presence[order],
            "demand_share": demand_share[order],
            "presence_share": presence_share[order],
            "ratio": presence_share[order] / demand_share[order],
        }
    )
    return PresenceDemand(
        presence_in_top=presence_in_top,
        demand_in_top=demand_in_top,
        ratio_top=ratio_top,
        alignment=alignment,
        total_presence=total_presence,
        top_blocks=top,
        lowest_blocks=lowest_blocks,
        demand_share=demand_share,
        presence_share=presence_share,
        messages=tuple(messages),
    )


# --------------------------------------------------------------------------- protected time


def protected_time(hours_in_area: Any, hours_total: Any, *, threshold: float = 0.8) -> pd.DataFrame:
    """Share of officers' working hours actually spent in the area ("protected time").

    Officers assigned to a vulnerable area are often drawn into other tasks (calls
    elsewhere, custody, court); the share of their hours spent in the area shows how
    well that time is protected.

    Parameters
    ----------
    hours_in_area : pandas.Series or array-like
        Hours spent in the area per row (officer, team or area; NaN where unknown).
    hours_total : pandas.Series or array-like
        Hours worked (or scheduled) per row, the same unit; NaN where unknown. Two
        Series are aligned on their index (union of keys); otherwise the lengths must
        match and a Series' index (or a range) is used.
    threshold : float
        Share below which a row is flagged, in (0, 1] (default 0.8).

    Returns
    -------
    pandas.DataFrame
        Indexed by row: ``hours_in_area``, ``hours_total``, ``share`` (in-area / total;
        NaN where either is missing or the total is 0), ``flag`` (bool, True where
        ``share < threshold``; False where the share is unknown) and ``status``
        (``"ok"``, ``"below"`` or ``"unknown"``).

    Raises
    ------
    ValueError
        If the hours are not numeric, negative or infinite, have duplicate index values
        or different lengths, if ``threshold`` is outside (0, 1], or if a row has more
        hours in the area than in total (the message names the rows' index labels; a
        rounding excess of up to 1e-9 relative is accepted and the share capped at 1).
    """
    limit = _share(threshold, "threshold")
    inside = nonnegative_series(hours_in_area, "hours_in_area")
    total = nonnegative_series(hours_total, "hours_total")
    if isinstance(hours_in_area, pd.Series) and isinstance(hours_total, pd.Series):
        index = inside.index.union(total.index, sort=False)
        inside, total = inside.reindex(index), total.reindex(index)
    else:
        if len(inside) != len(total):
            raise ValueError(
                f"hours_in_area and hours_total must have the same length: {len(inside)} != {len(total)}"
            )
        index = total.index if isinstance(hours_total, pd.Series) else inside.index
        inside = pd.Series(inside.to_numpy(), index=index)
        total = pd.Series(total.to_numpy(), index=index)

    i, t = inside.to_numpy(), total.to_numpy()
    known = ~np.isnan(i) & ~np.isnan(t)
    with np.errstate(invalid="ignore"):
        excess = known & (i > t + _EPS * np.maximum(1.0, t))
    if excess.any():
        labels = [index[j] for j in np.flatnonzero(excess)[:10]]
        raise ValueError(f"hours_in_area exceeds hours_total at row(s) {labels}")
    usable = known & (t > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(usable, np.minimum(i / np.where(usable, t, 1.0), 1.0), np.nan)
    below = usable & (share < limit)
    out = pd.DataFrame({"hours_in_area": i, "hours_total": t}, index=index)
    out["share"] = share
    out["flag"] = below
    out["status"] = np.where(usable, np.where(below, "below", "ok"), "unknown")
    return out


# --------------------------------------------------------------------------- presence plan


@dataclass(frozen=True, slots=True, eq=False)
class PresencePlan:
    """Short, repeated stops at the forecast hot cells in the peak hours (see :func:`presence_plan`).

    Attributes
    ----------
    visits : pandas.DataFrame
        One row per stop: ``cell`` (the id given, or the position in ``cell_scores``),
        ``cell_rank`` (1 = highest score), ``score``, ``block``, ``day`` (0 = Monday),
        ``hour``, ``minute`` (start minute within the hour) and ``minutes`` (length).
        Sorted by block, minute and cell rank. A stop may run into the next hour (then
        that peak hour is charged the rest of its minutes).
    minutes_by_block : numpy.ndarray of float64, shape (168,)
        Visit minutes in each block (0 outside the peak hours).
    minutes_available : numpy.ndarray of float64, shape (168,)
        The budget: ``presence * 60 * max_share`` in the peak blocks, 0 elsewhere;
        ``minutes_by_block <= minutes_available`` everywhere.
    minutes_total : float
        Visit minutes in the week.
    share_of_presence : float
        ``minutes_total`` / presence minutes of the whole week (NaN without presence).
    cells_covered : int
        Cells with at least one stop.
    score_covered : float
        Share of the total forecast score (all cells given) in the covered cells (NaN
        when the total is 0).
    peak_blocks : numpy.ndarray of int
        The peak blocks (ascending).
    messages : tuple of str
        Why the plan is empty or short (e.g. ``"no forecast cells"``, ``"no presence in
        the peak hours"``).
    """

    visits: pd.DataFrame
    minutes_by_block: NDArray[np.float64]
    minutes_available: NDArray[np.float64]
    minutes_total: float
    share_of_presence: float
    cells_covered: int
    score_covered: float
    peak_blocks: NDArray[np.intp]
    messages: tuple[str, ...]


def _runs(peaks: NDArray[np.intp]) -> list[list[int]]:
    """Maximal runs of consecutive peak blocks on the circular week (whole week: Monday 00 first)."""
    is_peak = np.zeros(BLOCKS, dtype=bool)
    is_peak[peaks] = True
    if is_peak.all():
        return [list(range(BLOCKS))]
    runs = []
    for start in peaks:
        if is_peak[(start - 1) % BLOCKS]:
            continue  # not the first block of its run
        run, b = [], int(start)
        while is_peak[b]:  # ends: some block is not a peak
            run.append(b)
            b = (b + 1) % BLOCKS
        runs.append(run)
    return runs


def _plan_run(
    run: list[int], budget: NDArray[np.float64], n_cells: int, visit: int, interval: int
) -> list[tuple[int, int]]:
    """Greedy stops in one run: ``(cell position in score order, start minute into the run)``.

    Cells are taken in score order. Each cell's stops follow the cadence ``phase + k *
    interval`` through the run, every stop inside it; the phase is the one whose stops
    overlap least with the stops already planned (then the earliest) among those that
    keep every block within its budget. All cells have the same pattern, so the first
    cell that fits nowhere ends the run.
    """
    n_blocks = len(run)
    length = n_blocks * 60
    last = length - visit  # latest start that ends inside the run
    phases = np.arange(min(interval, last + 1), dtype=np.int64)
    starts = phases[:, None] + interval * np.arange(last // interval + 1, dtype=np.int64)[None, :]
    real = starts <= last
    starts = np.where(real, starts, 0)
    # Minutes each phase's stops take in each block of the run (a stop may spill into the next).
    in_first = np.where(real, np.minimum(visit, 60 - starts % 60), 0)
    spill = np.where(real, visit, 0) - in_first
    first = starts // 60
    rows = np.broadcast_to(np.arange(phases.size)[:, None], starts.shape)
    used = np.zeros((phases.size, n_blocks))
    np.add.at(used, (rows, first), in_first)
    np.add.at(used, (rows, np.minimum(first + 1, n_blocks - 1)), spill)  # spill > 0 only inside

    cap = budget[run] + _EPS
    load = np.zeros(n_blocks)
    busy = np.zeros(length, dtype=np.int64)  # stops under way at each minute of the run
    stops: list[tuple[int, int]] = []
    for cell in range(n_cells):
        feasible = np.all(load + used <= cap, axis=1)
        if not feasible.any():
            break
        under_way = np.concatenate([[0], np.cumsum(busy)])
        overlap = ((under_way[starts + visit] - under_way[starts]) * real).sum(axis=1)
        best = int(np.argmin(np.where(feasible, overlap, np.iinfo(np.int64).max)))  # first = earliest
        load += used[best]
        for s in starts[best][real[best]]:
            busy[s : s + visit] += 1
            stops.append((cell, int(s)))
    return stops


def presence_plan(
    cell_scores: ArrayLike,
    demand_168: ArrayLike,
    presence_168: ArrayLike,
    *,
    cells: ArrayLike | None = None,
    visit_minutes: int = 15,
    interval_minutes: int = 120,
    peak_share: float = 0.25,
    max_share: float = 0.5,
    n_cells: int | None = None,
) -> PresencePlan:
    """Plan short stops at the forecast hot cells, repeated through the peak hours.

    The plan follows Koper (1995): stops of about 10-16 minutes at the hot spots,
    repeated about every two hours in the hours of peak demand. Koper derived the
    "Koper curve" from observers' records of patrol stops in the hot spots of the
    Minneapolis Hot Spots Patrol Experiment (Sherman & Weisburd 1995), relating how long
    disorder stayed away after police left to how long they had stayed; longer stops
    helped up to roughly 10-15 minutes, after which the gain levelled off. The
    two-hourly rotation follows later implementations of that finding (e.g. Telep,
    Mitchell & Weisburd 2014, Sacramento). This function sizes and times the work; it
    makes no claim about the effect.

    Parameters
    ----------
    cell_scores : array-like, shape (n,)
        Forecast score per cell for the coming period (e.g.
        :func:`problembild.analysis.forecast.forecast_grid` ``.ravel()``), finite and
        >= 0. Cells scoring 0 are not hot and get no stops.
    demand_168 : array-like, shape (168,) or (7, 24)
        Demand by hour of the week, >= 0 (e.g. :func:`demand_profile`).
    presence_168 : array-like, shape (168,) or (7, 24)
        Officers present in the area in each hour of a typical week, >= 0 (may be
        fractional averages). If officers patrol in pairs, pass patrol units: a stop
        uses one unit's minutes.
    cells : array-like, shape (n,), optional
        Id or label of each cell, parallel to ``cell_scores`` (default: the position).
    visit_minutes : int
        Length of a stop, whole minutes in [10, 16] (Koper's range; default 15).
    interval_minutes : int
        Minutes from the start of one stop at a cell to the start of the next at the
        same cell, whole and >= ``visit_minutes`` (default 120).
    peak_share : float
        The peak blocks are the ``round(peak_share * 168)`` blocks of highest demand
        (ties: lower block first; 0.25 -> 42), keeping those with demand > 0 and
        presence > 0. In (0, 1].
    max_share : float
        Share of the presence minutes in a peak block that stops may take; the rest is
        left for other tasks. In (0, 1] (default 0.5).
    n_cells : int, optional
        Consider only the ``n_cells`` highest-scoring cells (default: all with score > 0).

    Returns
    -------
    PresencePlan
        Stops and minute budgets; an empty plan with a message when there are no cells
        with a score, no demand, flat demand (e.g. the uniform profile
        :func:`demand_profile` returns without incidents), no presence in the peak hours
        or too few minutes for one stop.

    Raises
    ------
    ValueError
        On inputs of the wrong shape or with negative, NaN or infinite values, ``cells``
        of another length than ``cell_scores``, ``visit_minutes`` outside [10, 16] (stops
        shorter than about 10 minutes leave little residual deterrence, and beyond about
        15 the extra minutes add little, per Koper's curve), ``interval_minutes <
        visit_minutes``, shares outside (0, 1] or ``n_cells < 1``. Messages name the
        argument.

    Notes
    -----
    Budget: in each peak block, ``presence * 60 * max_share`` minutes. Peak blocks
    next to each other form a run (across midnight and from Sunday into Monday; when
    all 168 blocks are peaks the run starts on Monday 00:00). Within a run a chosen cell
    is visited at ``phase + k * interval_minutes`` minutes from the run's start, every
    stop inside the run: the cell is on a cadence, visited again ``interval_minutes``
    after each stop while the peak hours last. Cells are taken by score (ties: earlier
    position) and placed at the phase that overlaps least with stops already planned
    (then the earliest phase), as long as no block goes over its budget; the first cell
    that fits at no phase ends the run, since every later cell needs the same minutes.
    The block with the smallest budget in a run thus limits how many cells the run
    keeps on the cadence; minutes left over stay with other tasks. The plan is a budget
    and a rhythm, not a route: Koper advised unpredictable order between hot spots, so
    the order of the cells within a round may well be varied in practice.
    """
    scores = as_1d_float(cell_scores, "cell_scores")
    if np.any(scores < 0):
        raise ValueError("cell_scores must be >= 0")
    demand = _as_168(demand_168, "demand_168")
    presence = _as_168(presence_168, "presence_168")
    if cells is None:
        ids = np.arange(scores.size)
    else:
        ids = np.asarray(cells)
        if ids.ndim != 1 or ids.size != scores.size:
            raise ValueError(
                f"cells must be one-dimensional and parallel to cell_scores: "
                f"got shape {ids.shape} for {scores.size} score(s)"
            )
    visit = _whole(visit_minutes, "visit_minutes", low=KOPER_MIN_MINUTES, high=KOPER_MAX_MINUTES)
    interval = _whole(interval_minutes, "interval_minutes", low=visit)
    peak = _share(peak_share, "peak_share")
    most = _share(max_share, "max_share")
    limit = None if n_cells is None else _whole(n_cells, "n_cells", low=1)

    ranked = np.lexsort((np.arange(scores.size), -scores))
    ranked = ranked[scores[ranked] > 0]
    if limit is not None:
        ranked = ranked[:limit]

    messages: list[str] = []
    peaks = np.zeros(0, dtype=np.intp)
    if ranked.size == 0:
        messages.append(NO_CELLS)
    if not demand.sum() > 0:
        messages.append(NO_PEAK_DEMAND)
    elif np.all(demand == demand[0]):
        messages.append(FLAT_DEMAND)
    else:
        top = _top_blocks(demand, _n_top(peak))
        top = top[demand[top] > 0]
        peaks = top[presence[top] > 0]
        if peaks.size == 0:
            messages.append(NO_PEAK_PRESENCE)

    budget = np.zeros(BLOCKS)
    budget[peaks] = presence[peaks] * 60.0 * most
    minutes = np.zeros(BLOCKS)
    rows: list[tuple[int, int, int]] = []  # (rank position, block, minute)
    if ranked.size and peaks.size:
        for run in _runs(peaks):
            for pos, start in _plan_run(run, budget, ranked.size, visit, interval):
                block = run[start // 60]
                rows.append((pos, block, start % 60))
                first = min(visit, 60 - start % 60)
                minutes[block] += first
                if visit > first:
                    minutes[run[start // 60 + 1]] += visit - first
        if not rows:
            messages.append(NO_ROOM)

    rows.sort(key=lambda r: (r[1], r[2], r[0]))
    position = np.array([r[0] for r in rows], dtype=np.int64)
    blocks = np.array([r[1] for r in rows], dtype=np.int64)
    chosen = ranked[position]
    visits = pd.DataFrame(
        {
            "cell": ids[chosen],
            "cell_rank": position + 1,
            "score": scores[chosen],
            "block": blocks,
            "day": blocks // 24,
            "hour": blocks % 24,
            "minute": np.array([r[2] for r in rows], dtype=np.int64),
            "minutes": np.full(len(rows), visit, dtype=np.int64),
        }
    )
    covered = np.unique(chosen)
    score_total = float(scores.sum())
    presence_minutes = float(presence.sum()) * 60.0
    minutes_total = float(minutes.sum())
    return PresencePlan(
        visits=visits,
        minutes_by_block=minutes,
        minutes_available=budget,
        minutes_total=minutes_total,
        share_of_presence=minutes_total / presence_minutes if presence_minutes > 0 else math.nan,
        cells_covered=int(covered.size),
        score_covered=float(scores[covered].sum()) / score_total if score_total > 0 else math.nan,
        peak_blocks=peaks.astype(np.intp),
        messages=tuple(messages),
    )
