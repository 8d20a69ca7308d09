"""Trend fits kept between refreshes, keyed by the series they were fitted to.

The trends of areas and units are fitted to complete months, and a daily import adds
incidents to the month in progress: on most days every series is what it was, yet the
areas it touched are recomputed (their fingerprints changed) and every unit's trends are
fitted again — hundreds of GLM fits, seconds of a daily refresh. :class:`FitMemo` answers
a fit whose series, period starts and options it has seen in the last runs with the stored
result. The key also hashes the source of :mod:`problembild.analysis.trend` and the
statsmodels version, so a change of the model fits again.

The same memo answers the other parts of an area's picture that are computed from its
complete periods' series alone (:meth:`FitMemo.part`: the trends section, the unusual
weeks), and the dispersion of every area's months: on a day that closes no period they
are what they were, also for every area the day's incidents touched.

The fits are kept beside the incident columns (``INCIDENT_SNAPSHOTS``), as a pickle the
app itself wrote (like Django's file cache); unreadable or absent, everything is fitted.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import statsmodels

from problembild.analysis import trend
from problembild.analysis.trend import TrendResult, fit_trend

#: The code the results depend on: a change of either fits again.
_CODE = hashlib.sha256((inspect.getsource(trend) + statsmodels.__version__).encode()).digest()
T = TypeVar("T")


class FitMemo:
    """``fit_trend`` with the results of the last run at hand (see the module docstring).

    ``path`` None: nothing kept, every call fits. ``reuse`` False (``refresh --full``):
    every call fits, and the results are kept for the next run.
    """

    def __init__(self, path: Path | None, *, reuse: bool = True) -> None:
        self.path = path
        #: The last runs' results: key -> (result, number of the run that last used it).
        self.old: dict[bytes, tuple[TrendResult, int]] = {}
        self.new: dict[bytes, TrendResult] = {}
        self.hits = 0  # calls answered without fitting
        self.fitted = 0
        self.old_parts: dict[bytes, tuple[Any, int]] = {}
        self.new_parts: dict[bytes, Any] = {}
        self.run = 0
        self.parts = {"computed": 0, "reused": 0}
        self._code: dict[tuple[ModuleType, ...], bytes] = {}
        if path is not None and reuse:
            try:
                with open(path, "rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, dict) and loaded.get("code") == _CODE and loaded.get("format") == 2:
                    self.old, self.old_parts = loaded["fits"], loaded["parts"]
                    self.run = int(loaded["run"]) + 1
            except (
                OSError,
                pickle.UnpicklingError,
                EOFError,
                AttributeError,
                ImportError,
                KeyError,
                TypeError,
            ):
                self.old, self.old_parts, self.run = {}, {}, 0

    def part(
        self,
        name: str,
        frame: pd.DataFrame,
        compute: Callable[[pd.DataFrame], T],
        *,
        code: tuple[ModuleType, ...],
    ) -> T:
        """``compute(frame)``, from the last run when it had the same ``name``, frame and code.

        ``frame``'s values, columns and dtypes are hashed, not its index (an area's rows keep
        their content but not their position in the table when other rows come before them).
        ``code``: the modules the result depends on, hashed with their source.
        """
        if code not in self._code:
            self._code[code] = hashlib.sha256(
                _CODE + "".join(inspect.getsource(m) for m in code).encode()
            ).digest()
        digest = hashlib.sha256(self._code[code])
        digest.update(repr((name, list(frame.columns), [str(t) for t in frame.dtypes])).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        key = digest.digest()
        if key in self.new_parts or key in self.old_parts:
            found = self.new_parts[key] if key in self.new_parts else self.old_parts[key][0]
            self.parts["reused"] += 1
        else:
            found = compute(frame)
            self.parts["computed"] += 1
        self.new_parts[key] = found
        return found

    def fit(self, series_counts: Any, period_starts: Any, **options: Any) -> TrendResult:
        """:func:`~problembild.analysis.trend.fit_trend` of these arguments, from the last run when it had them."""
        counts = np.ascontiguousarray(series_counts, dtype=np.float64)
        starts = pd.DatetimeIndex(period_starts).as_unit("s").asi8
        digest = hashlib.sha256(_CODE)
        digest.update(counts.tobytes())
        digest.update(starts.tobytes())
        digest.update(repr(sorted(options.items())).encode())
        key = digest.digest()
        found = self.new[key] if key in self.new else self.old[key][0] if key in self.old else None
        if found is None:
            found = fit_trend(counts, pd.DatetimeIndex(period_starts), **options)
            self.fitted += 1
        else:
            self.hits += 1
        self.new[key] = found
        return found

    def save(self) -> None:
        """Keep the results for the next runs: this run's, and those the last :data:`KEEP_RUNS`
        runs used (a run that recomputes no area must not drop the areas' parts; the file does
        not grow past what a week of runs used)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_name(f".{self.path.name}.{os.getpid()}")

        def kept(old: dict[bytes, tuple[Any, int]], new: dict[bytes, Any]) -> dict[bytes, tuple[Any, int]]:
            out = {k: (v, r) for k, (v, r) in old.items() if r > self.run - KEEP_RUNS}
            out.update((k, (v, self.run)) for k, v in new.items())
            return out

        stored = {
            "code": _CODE,
            "format": 2,
            "run": self.run,
            "fits": kept(self.old, self.new),
            "parts": kept(self.old_parts, self.new_parts),
        }
        with open(staged, "wb") as fh:
            pickle.dump(stored, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(staged, self.path)


#: Runs a kept result outlives its last use: a week of daily runs.
KEEP_RUNS = 7
