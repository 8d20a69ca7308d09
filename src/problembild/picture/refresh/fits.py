"""Trend fits kept between refreshes, keyed by the series they were fitted to.

The trends of areas and units are fitted to complete months, and a daily import adds
incidents to the month in progress: on most days every series is what it was, yet the
areas it touched are recomputed (their fingerprints changed) and every unit's trends are
fitted again — hundreds of GLM fits, seconds of a daily refresh. :class:`FitMemo` answers
a fit whose series, period starts and options it has seen in the last run with the stored
result. The key also hashes the source of :mod:`problembild.analysis.trend` and the
statsmodels version, so a change of the model fits again.

The fits are kept beside the incident columns (``INCIDENT_SNAPSHOTS``), as a pickle the
app itself wrote (like Django's file cache); unreadable or absent, everything is fitted.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels

from problembild.analysis import trend
from problembild.analysis.trend import TrendResult, fit_trend

#: The code the results depend on: a change of either fits again.
_CODE = hashlib.sha256((inspect.getsource(trend) + statsmodels.__version__).encode()).digest()


class FitMemo:
    """``fit_trend`` with the results of the last run at hand (see the module docstring).

    ``path`` None: nothing kept, every call fits. ``reuse`` False (``refresh --full``):
    every call fits, and the results are kept for the next run.
    """

    def __init__(self, path: Path | None, *, reuse: bool = True) -> None:
        self.path = path
        self.old: dict[bytes, TrendResult] = {}
        self.new: dict[bytes, TrendResult] = {}
        self.hits = 0  # calls answered without fitting
        self.fitted = 0
        if path is not None and reuse:
            try:
                with open(path, "rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, dict) and loaded.get("code") == _CODE:
                    self.old = loaded["fits"]
            except (
                OSError,
                pickle.UnpicklingError,
                EOFError,
                AttributeError,
                ImportError,
                KeyError,
                TypeError,
            ):
                self.old = {}

    def fit(self, series_counts: Any, period_starts: Any, **options: Any) -> TrendResult:
        """:func:`~problembild.analysis.trend.fit_trend` of these arguments, from the last run when it had them."""
        counts = np.ascontiguousarray(series_counts, dtype=np.float64)
        starts = pd.DatetimeIndex(period_starts).as_unit("s").asi8
        digest = hashlib.sha256(_CODE)
        digest.update(counts.tobytes())
        digest.update(starts.tobytes())
        digest.update(repr(sorted(options.items())).encode())
        key = digest.digest()
        found = self.new.get(key, self.old.get(key))
        if found is None:
            found = fit_trend(counts, pd.DatetimeIndex(period_starts), **options)
            self.fitted += 1
        else:
            self.hits += 1
        self.new[key] = found
        return found

    def save(self) -> None:
        """Keep this run's fits (only those: the file does not grow) for the next run."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with open(staged, "wb") as fh:
            pickle.dump({"code": _CODE, "fits": self.new}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(staged, self.path)
