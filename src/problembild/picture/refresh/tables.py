"""Stage *tables*: what every area is compared with, recomputed for all areas on every run.

* the :class:`~problembild.picture.models.IndicatorValue` table (one row per area,
  indicator and period, with rate, changes, exact test p-values and the share of the
  municipality);
* the twelve-month window: the need index, the ranks overall and within the category,
  and the category means — they depend on every area, so they are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction

from problembild.analysis import indicators, need
from problembild.analysis.change import change_table
from problembild.analysis.vocabulary import ALL
from problembild.core.db import bulk_insert

from ..models import IndicatorValue
from .counts import Counts

_INT_COLUMNS = ("area_id", "count", "previous", "last_year")
_FLOAT_COLUMNS = ("rate", "p_previous", "p_last_year", "share_of_municipality")


def value_rows(counts: Counts, population: pd.Series, municipality_of: dict[int, str]) -> pd.DataFrame:
    """The IndicatorValue table as a frame (columns as the model's fields)."""
    frames = []
    for period, table in counts.area.items():
        ch = change_table(table, period, keys=("area_id", "indicator"))
        ch["area_id"] = ch["area_id"].astype("int64")
        rated = indicators.rates(ch, population)
        rated["municipality"] = rated["area_id"].map(municipality_of).fillna("")
        rated["indicator"] = rated["indicator"].astype(str)
        mc = counts.municipality.get(period)
        if mc is not None and len(mc):
            m = mc[["municipality", "indicator", "period_start", "count"]].rename(
                columns={"count": "muni_count"}
            )
            m = m.assign(indicator=m["indicator"].astype(str))
            rated = rated.merge(m, on=["municipality", "indicator", "period_start"], how="left")
        else:
            rated["muni_count"] = np.nan
        muni_n = rated["muni_count"].astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "area_id": rated["area_id"],
                    "indicator": rated["indicator"],
                    "period": period,
                    "period_start": pd.DatetimeIndex(rated["period_start"]).date,
                    "count": rated["count"].astype("int64"),
                    "rate": rated["rate"].where(rated["rate_available"]),
                    "previous": rated["previous_count"],
                    "last_year": rated["last_year_count"],
                    "p_previous": rated["previous_p_value"],
                    "p_last_year": rated["last_year_p_value"],
                    "mark": rated["last_year_mark"].fillna(""),
                    "share_of_municipality": (rated["count"] / muni_n).where(muni_n > 0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_values(values: pd.DataFrame) -> int:
    """Replace the IndicatorValue table in one transaction (fast path: COPY / executemany)."""
    with transaction.atomic():
        IndicatorValue.objects.all().delete()
        if values.empty:
            return 0
        cols = list(values.columns)

        def column(name: str) -> list:
            cast = int if name in _INT_COLUMNS else float if name in _FLOAT_COLUMNS else None
            if cast is None:
                return values[name].tolist()
            return [None if pd.isna(v) else cast(v) for v in values[name].tolist()]

        converted = [column(c) for c in cols]
        return bulk_insert(IndicatorValue._meta.db_table, cols, zip(*converted, strict=True))


@dataclass
class WindowStats:
    """The last twelve complete months: need, ranks and category means of every area."""

    window: list  # month starts (numpy datetime64), oldest first
    need: pd.DataFrame  # need_index's table indexed by area id
    ranks: dict[str, pd.DataFrame]  # indicator -> rank table indexed by area id
    category_mean: pd.Series  # (category, indicator) -> the category's rate per 1,000 (population-weighted)
    category_of: dict[int, str | None]


def window_stats(
    monthly: pd.DataFrame, population: pd.Series, category_of: dict[int, str | None]
) -> WindowStats:
    """Need index, ranks and category means over the last twelve months of ``monthly``."""
    month_starts = sorted(monthly["period_start"].unique())
    window = month_starts[-12:]
    win = monthly[monthly["period_start"].isin(window)]
    win_sum = win.groupby(["area_id", "indicator"], observed=True)["count"].sum().reset_index()
    weights = need.load_weights(settings.HARM_WEIGHTS_FILE)
    need_table = need.need_index(win_sum[win_sum["indicator"] != ALL], population, weights)
    need_table = need_table.set_index("area_id") if "area_id" in need_table.columns else need_table
    rates_win = indicators.rates(win_sum, population)
    ranks = {}
    for code, rows in rates_win.groupby("indicator", observed=True):
        by_area = rows.set_index("area_id")
        s = by_area["rate"].where(by_area["rate_available"])
        ranks[str(code)] = indicators.rank(
            s, groups=pd.Series({k: category_of.get(k) or "" for k in s.index})
        )
    # The category's rate: its areas' incidents per 1,000 of their residents together (a mean of
    # the areas' rates would weigh an area of 2,000 residents like one of 30,000).
    known = rates_win[rates_win["rate_available"]].assign(category=lambda f: f["area_id"].map(category_of))
    summed = known.groupby(["category", "indicator"], observed=True)[["count", "residents"]].sum()
    category_mean = summed["count"] / summed["residents"] * 1000
    return WindowStats(window, need_table, ranks, category_mean, category_of)
