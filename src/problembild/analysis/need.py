"""Need index for resource steering: harm-weighted incidents per 1,000 residents.

``need_index = sum_i(weight_i * count_i) / residents * 1000`` per area, where
``count_i`` is the number of incident reports of indicator ``i`` in the chosen
window (e.g. the last 12 months) and ``weight_i`` a harm weight. The weights are
editable defaults (:data:`DEFAULT_HARM_WEIGHTS`, also shipped as
``harm_weights.toml`` with the reasoning for each), not police figures; an agency
should set its own with :func:`load_weights`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import pandas as pd

from ._validation import positive
from .indicators import check_indicator_codes, population_series, require_columns
from .vocabulary import ALL, INDICATOR_CODES

__all__ = [
    "DEFAULT_HARM_WEIGHTS",
    "DEFAULT_WEIGHTS_PATH",
    "HarmWeights",
    "load_weights",
    "need_index",
]

#: Harm weight per incident report, by indicator. Editable defaults chosen for this
#: tool (ordering in the spirit of crime harm indices), *not* police figures; the
#: reasoning for each is in ``harm_weights.toml``, which holds the same values.
DEFAULT_HARM_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "shootings": 10.0,
        "explosions": 8.0,
        "threats_intimidation": 5.0,
        "weapons": 4.0,
        "violence_public": 3.0,
        "drugs": 2.0,
        "vehicle_arson_vandalism": 1.0,
        "other": 0.2,
    }
)
#: The shipped, commented weights file.
DEFAULT_WEIGHTS_PATH: Final = Path(__file__).with_name("harm_weights.toml")

#: Reasons in :func:`need_index`'s ``reason`` column.
NO_POPULATION: Final = "no population figure"
ZERO_POPULATION: Final = "population is 0"


@dataclass(frozen=True, slots=True)
class HarmWeights:
    """Weights read by :func:`load_weights`.

    Attributes
    ----------
    weights : Mapping[str, float]
        Weight per incident report for every indicator code (0 for those the file
        leaves out).
    source : str
        The file read.
    warnings : tuple of str
        One message per indicator missing from the file (given weight 0).
    """

    weights: Mapping[str, float]
    source: str
    warnings: tuple[str, ...] = field(default=())


def _weight_value(value: Any, where: str) -> float:
    # bool is an int subclass, but `true` as a weight is a typo, not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"{where} must be a finite number >= 0, got {value!r}")
    return out


def _checked_weights(weights: Mapping[str, Any], where: str) -> tuple[dict[str, float], list[str]]:
    """Validate a code -> weight mapping; unknown codes and bad values raise, missing codes get 0."""
    unknown = sorted(str(k) for k in weights if k not in INDICATOR_CODES)
    if unknown:
        raise ValueError(
            f"{where}: unknown indicator(s) {unknown}; known: {list(INDICATOR_CODES)}"
            + (" ('all' is not a weight: it would count incidents twice)" if ALL in unknown else "")
        )
    checked = {code: _weight_value(weights[code], f"{where}: weight {code!r}") for code in weights}
    missing = [code for code in INDICATOR_CODES if code not in checked]
    notes = [f"{where}: no weight for {code!r}; using 0" for code in missing]
    return {code: checked.get(code, 0.0) for code in INDICATOR_CODES}, notes


def load_weights(path: str | Path) -> HarmWeights:
    """Read harm weights from a TOML file with a ``[weights]`` table.

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file, e.g. a copy of :data:`DEFAULT_WEIGHTS_PATH`::

            [weights]
            shootings = 10
            drugs = 2

    Returns
    -------
    HarmWeights
        Weights for every indicator; those missing from the file get 0 and a message
        in ``warnings`` (so a deliberate 0 should be written out).

    Raises
    ------
    ValueError
        If the file cannot be read or parsed, has no ``[weights]`` table, names an
        unknown indicator (including ``"all"``), or has a weight that is not a finite
        number >= 0. The message names the file and the key.
    """
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"{source}: cannot read weights file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    table = data.get("weights")
    if not isinstance(table, dict):
        raise ValueError(f"{source}: expected a [weights] table mapping indicator codes to numbers")
    weights, notes = _checked_weights(table, f"{source} [weights]")
    return HarmWeights(weights=MappingProxyType(weights), source=source, warnings=tuple(notes))


def need_index(
    counts: pd.DataFrame,
    population: pd.Series | pd.DataFrame,
    weights: Mapping[str, float] | HarmWeights = DEFAULT_HARM_WEIGHTS,
    *,
    per: float = 1000,
    on: str = "area_id",
) -> pd.DataFrame:
    """Harm-weighted incidents per ``per`` residents for each area, with components and rank.

    Parameters
    ----------
    counts : pandas.DataFrame
        Long table with ``on``, ``indicator`` and ``count`` columns, e.g. from
        :func:`problembild.analysis.indicators.count_table` filtered to the window
        to assess; counts are summed over any other columns (periods). Rows for
        ``"all"`` and rows with a missing ``on`` key (incidents in no area) are
        ignored.
    population : pandas.Series or pandas.DataFrame
        Residents per area (as in :func:`problembild.analysis.indicators.rates`).
        Areas here without counts get 0 counts.
    weights : mapping or HarmWeights
        Weight per incident report by indicator code; codes not given weigh 0,
        unknown codes or negative/non-numeric weights raise ``ValueError``.
        Default :data:`DEFAULT_HARM_WEIGHTS`.
    per : float
        Residents per rate unit (default 1,000).
    on : str
        Area key column.

    Returns
    -------
    pandas.DataFrame
        One row per area (sorted by ``on``): ``on``; ``residents`` (float, NaN if
        unknown); ``weighted_total`` (sum of weight x count, harm-weighted incidents);
        ``need_index`` (``weighted_total`` per ``per`` residents); one
        ``component_<indicator>`` column per vocabulary code (weight x count per ``per``
        residents; they sum to ``need_index``); ``rank`` (Int64, dense, 1 = highest
        need, among areas with an index); ``available`` (bool); ``reason`` (``""``,
        ``"no population figure"`` or ``"population is 0"``). Unavailable areas have
        NaN index and components and no rank.
    """
    require_columns(counts, [on, "indicator", "count"], "counts")
    per = positive(per, "per")
    raw = weights.weights if isinstance(weights, HarmWeights) else weights
    if not isinstance(raw, Mapping):
        raise ValueError(f"weights must be a mapping or HarmWeights, got {type(weights).__name__}")
    weight, _ = _checked_weights(raw, "weights")
    check_indicator_codes(counts["indicator"], "counts['indicator']", allow_all=True)
    try:
        values = pd.to_numeric(counts["count"], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"counts['count'] must be numeric: {exc}") from None
    if values.isna().any() or (values < 0).any():
        raise ValueError("counts['count'] must be non-missing and >= 0")
    residents = population_series(population, on)

    used = pd.DataFrame({on: counts[on], "indicator": counts["indicator"].astype(str), "count": values})
    used = used[(used["indicator"] != ALL) & used[on].notna()]
    wide = used.pivot_table(index=on, columns="indicator", values="count", aggfunc="sum", fill_value=0.0)
    areas = wide.index.union(residents.index)
    wide = wide.reindex(index=areas, columns=list(INDICATOR_CODES), fill_value=0.0).astype(np.float64)
    res = residents.reindex(areas).to_numpy(dtype=np.float64)

    w = np.array([weight[code] for code in INDICATOR_CODES])
    contrib = wide.to_numpy() * w
    available = res > 0
    scale = np.where(available, per / np.where(available, res, 1.0), np.nan)
    out = pd.DataFrame({on: areas.to_numpy()})
    out["residents"] = res
    out["weighted_total"] = contrib.sum(axis=1)
    out["need_index"] = out["weighted_total"].to_numpy() * scale
    for j, code in enumerate(INDICATOR_CODES):
        out[f"component_{code}"] = contrib[:, j] * scale
    out["rank"] = out["need_index"].rank(method="dense", ascending=False).astype("Int64")
    out["available"] = available
    out["reason"] = np.where(available, "", np.where(np.isnan(res), NO_POPULATION, ZERO_POPULATION))
    return out
