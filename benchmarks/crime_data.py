"""Real point-level crime data for the hot-spot forecasting benchmark.

Two public data sets, trimmed and stored as ``benchmarks/data/<name>.csv.gz`` with columns
``x,y,t,type`` (x, y in projected metres, t local date-time as ISO text). Sources, licences,
CRSs and cleaning are in ``benchmarks/data/README.md``; ``benchmarks/data/prepare.py`` records how
the files were made. Chicago is deliberately not included (kept as an external check).

    >>> from crime_data import NAMES, load, bounds      # run from benchmarks/
    >>> x, y, t = load("philadelphia")

Run ``.venv/bin/python benchmarks/crime_data.py`` for a short usability summary of each set.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"

NAMES: tuple[str, ...] = ("philadelphia", "vancouver")

#: EPSG code of the projected CRS of x, y in each set.
CRS: dict[str, str] = {
    "philadelphia": "EPSG:32618",  # WGS 84 / UTM zone 18N (converted from lon/lat with pyproj)
    "vancouver": "EPSG:26910",  # NAD83 / UTM zone 10N (the publisher's own coordinates)
}


@cache
def _frame(name: str) -> pd.DataFrame:
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; choose one of {NAMES}")
    df = pd.read_csv(
        DATA_DIR / f"{name}.csv.gz",
        dtype={"x": "float64", "y": "float64", "t": "string", "type": "string"},
    )
    df["t"] = pd.to_datetime(df["t"], format="%Y-%m-%dT%H:%M:%S")
    return df.sort_values("t", kind="stable").reset_index(drop=True)


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(x, y, t)`` of every event in data set ``name``, sorted by time.

    x, y: float64 arrays, projected metres in ``CRS[name]``.
    t: ``numpy.datetime64[s]`` array, local (naive) time of the event as published
    (Philadelphia: police dispatch time; Vancouver: reported occurrence time).
    Fresh copies are returned on each call.
    """
    df = _frame(name)
    return (
        df["x"].to_numpy(dtype=np.float64, copy=True),
        df["y"].to_numpy(dtype=np.float64, copy=True),
        df["t"].to_numpy(dtype="datetime64[s]", copy=True),
    )


def types(name: str) -> np.ndarray:
    """The crime type string of each event, in the same (time) order as :func:`load`."""
    return _frame(name)["type"].to_numpy(dtype=object, copy=True)


def bounds(name: str) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of the events of data set ``name``, in metres."""
    df = _frame(name)
    return (float(df["x"].min()), float(df["y"].min()), float(df["x"].max()), float(df["y"].max()))


def _summary() -> None:
    for name in NAMES:
        x, _y, t = load(name)
        xmin, ymin, xmax, ymax = bounds(name)
        weeks = pd.Series(1, index=pd.DatetimeIndex(t)).resample("W-MON", label="left", closed="left").sum()
        weeks = weeks.iloc[1:-1]  # drop the two possibly partial end weeks
        print(
            f"{name}: {len(x)} events {str(t[0])[:10]} .. {str(t[-1])[:10]}; "
            f"events/week median {weeks.median():.0f} (min {weeks.min()}, max {weeks.max()}, "
            f"{len(weeks)} full weeks); extent {(xmax - xmin) / 1000:.1f} km x {(ymax - ymin) / 1000:.1f} km; "
            f"types {sorted(set(types(name)))}"
        )


if __name__ == "__main__":
    _summary()
