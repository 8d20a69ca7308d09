"""Stage *counts*: incidents per area and per municipality, indicator and period.

Only exact matches (incidents inside a boundary) count in an area; the municipality
totals, for the areas' shares and the "rest of the municipality", count every placed
incident around the areas. Local time is converted once for all periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from problembild.analysis import indicators, periods
from problembild.analysis.vocabulary import INDICATOR_CODES
from problembild.areas.models import Area
from problembild.areas.municipalities import MunicipalityIndex

from .load import IncidentArrays, incident_frame

#: Periods stored as indicator values (and counted per area).
PERIODS_STORED = ("week", "month", "quarter", "year")
#: Periods counted per municipality.
MUNICIPALITY_PERIODS = ("month", "quarter", "year")


@dataclass
class InArea:
    """The incidents inside an area: area id, indicator code and local time of each."""

    area: np.ndarray
    indicator: np.ndarray
    local: pd.DatetimeIndex


@dataclass
class Counts:
    """Count tables (``count_table`` frames) keyed by period."""

    area: dict[str, pd.DataFrame]
    municipality: dict[str, pd.DataFrame]
    inside: InArea | None  # dropped once the hours of the week are counted

    @property
    def monthly(self) -> pd.DataFrame:
        return self.area["month"]


def count_incidents(data: IncidentArrays, areas: list[Area], as_of: pd.Timestamp) -> Counts:
    """Counts of every area (all of ``areas``, zeros included) and of their municipalities."""
    local = periods.to_local(data.times())
    inside = np.flatnonzero(data.area >= 0)
    # Only the columns the counts need, not a copy of every array.
    in_area = InArea(data.area[inside], data.indicator[inside], local[inside])
    frame = incident_frame(in_area.area, in_area.indicator, in_area.local)
    first = in_area.local.min() if len(in_area.local) else (as_of - pd.DateOffset(years=1)).tz_localize(None)
    last = (as_of - pd.Timedelta(seconds=1)).tz_localize(None)
    keys = pd.Index([a.pk for a in areas], name="area_id")
    area_counts = {
        period: indicators.count_table(
            frame, period=period, by=("area_id",), first=first, last=last, keys=keys
        )
        for period in PERIODS_STORED
    }
    del frame
    muni = MunicipalityIndex({a.municipality_id for a in areas if a.municipality_id}).codes_at(data.x, data.y)
    near = muni != ""
    mframe = pd.DataFrame(
        {
            "municipality": muni[near],
            "indicator": pd.Categorical.from_codes(data.indicator[near], categories=list(INDICATOR_CODES)),
            "occurred_at": local[near],
        }
    )
    muni_counts = {
        p: indicators.count_table(mframe, period=p, by=("municipality",), first=first, last=last)
        for p in MUNICIPALITY_PERIODS
    }
    return Counts(area=area_counts, municipality=muni_counts, inside=in_area)
