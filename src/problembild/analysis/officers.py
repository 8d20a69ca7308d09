"""The staffing rule of one police officer per 5,000 residents.

The rule is read as "no more than ``residents_per_officer`` residents per officer",
so an area needs ``ceil(residents / 5000)`` officers: 5,000 residents need 1,
5,001 need 2. *Which* areas the rule applies to (e.g. only some area categories,
or officer counts in FTE or heads) is a policy choice made by the caller: this
module applies it to every row it is given.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from ._validation import nonnegative_series, positive

__all__ = ["RESIDENTS_PER_OFFICER", "officer_requirement"]

#: Residents per officer in the rule.
RESIDENTS_PER_OFFICER: Final = 5000

NO_RESIDENTS: Final = "no population figure"
NO_OFFICERS: Final = "no officer count"


def officer_requirement(
    residents: Any, officers: Any, *, residents_per_officer: float = RESIDENTS_PER_OFFICER
) -> pd.DataFrame:
    """Officers required by the 1-per-5,000-residents rule and the gap to the actual number.

    Parameters
    ----------
    residents : pandas.Series or array-like
        Residents per area (NaN/None where unknown).
    officers : pandas.Series or array-like
        Officers assigned per area (heads or FTE, may be fractional; NaN where
        unknown). Two Series are aligned on their index (union of keys); otherwise
        the lengths must match and a Series' index (or a range) is used.
    residents_per_officer : float
        Residents one officer may cover (default 5,000).

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``residents``, ``officers`` (float); ``required`` (Int64,
        ``ceil(residents / residents_per_officer)``; NA without residents);
        ``gap`` (float, ``required - officers``: > 0 is the shortfall in officers,
        <= 0 means the rule is met); ``residents_per_officer`` (float, actual
        residents per officer; NaN when officers is 0 or unknown); ``meets_rule``
        (nullable boolean, NA when unavailable); ``available`` (bool: both figures
        known); ``reason`` (``""``, ``"no population figure"`` or
        ``"no officer count"``). 0 residents require 0 officers.
    """
    rpo = positive(residents_per_officer, "residents_per_officer")
    res = nonnegative_series(residents, "residents")
    off = nonnegative_series(officers, "officers")
    if isinstance(residents, pd.Series) and isinstance(officers, pd.Series):
        index = res.index.union(off.index, sort=False)
        res, off = res.reindex(index), off.reindex(index)
    else:
        if len(res) != len(off):
            raise ValueError(f"residents and officers must have the same length: {len(res)} != {len(off)}")
        index = off.index if isinstance(officers, pd.Series) else res.index
        res = pd.Series(res.to_numpy(), index=index)
        off = pd.Series(off.to_numpy(), index=index)

    r, o = res.to_numpy(), off.to_numpy()
    has_r, has_o = ~np.isnan(r), ~np.isnan(o)
    required = np.ceil(np.where(has_r, r, 0.0) / rpo)
    out = pd.DataFrame({"residents": r, "officers": o}, index=index)
    out["required"] = pd.array(np.where(has_r, required, np.nan), dtype="Int64")
    both = has_r & has_o
    out["gap"] = np.where(both, required - np.where(has_o, o, 0.0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        actual = r / o
    out["residents_per_officer"] = np.where(both & (o > 0), actual, np.nan)
    meets = pd.array(o >= required, dtype="boolean")
    meets[~both] = pd.NA
    out["meets_rule"] = meets
    out["available"] = both
    out["reason"] = np.where(has_r, np.where(has_o, "", NO_OFFICERS), NO_RESIDENTS)
    return out
