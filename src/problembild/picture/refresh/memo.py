"""Stages not redone when their inputs are what they were in the last run.

A daily refresh (yesterday's incidents, the end of the data a day later) leaves most of
what the tables are built from as it was: the counts cover complete periods only, and
the day's incidents fall in the period in progress. The IndicatorValue table and the unit
pictures are then exactly what is stored, yet rebuilding and comparing them was a quarter
of the daily run. :class:`StageMemo` keeps a digest of a stage's inputs (and of the code
that turns them into its output) beside the kept incident columns; the next run with the
same digest, and the stage's table as it was left, skips the stage.

The memo is dropped before a stage writes and recorded after its transaction committed,
so a run that fails between the two leaves no memo that would vouch for a table it did
not finish.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd


def digest(*parts: Any, code: tuple[ModuleType, ...] = ()) -> str:
    """A hash of frames, series, arrays and plain values (``repr``), and of the modules' source.

    Frames and series are hashed with their index, column names and dtypes, so tables that
    print alike but differ in type do not collide.
    """
    h = hashlib.sha256()
    for module in code:
        h.update(inspect.getsource(module).encode())
    for part in parts:
        if isinstance(part, pd.DataFrame | pd.Series):
            if isinstance(part, pd.DataFrame):
                h.update(repr(("frame", part.shape, list(part.columns), list(part.dtypes))).encode())
            else:
                h.update(repr(("series", part.shape, part.name, part.dtype)).encode())
            h.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
        elif isinstance(part, np.ndarray):
            h.update(repr((part.dtype, part.shape)).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()


class StageMemo:
    """The last run's digest of one stage's inputs, kept as ``<folder>/stage-<name>.json``.

    ``folder`` None (nothing kept) or ``reuse`` False (``refresh --full``): never unchanged.
    """

    def __init__(self, folder: Path | None, name: str, *, reuse: bool = True) -> None:
        self.path = None if folder is None else folder / f"stage-{name}.json"
        self.reuse = reuse

    def facts(self, key: str) -> dict | None:
        """What was recorded with ``key`` when the last run's inputs had it; else None."""
        if self.path is None or not self.reuse:
            return None
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        facts = stored.get("facts")
        return facts if isinstance(facts, dict) else None

    def forget(self) -> None:
        """Drop the record (before the stage writes)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def remember(self, key: str, **facts: Any) -> None:
        """Record ``key`` with ``facts`` (after the stage's writes committed)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        staged.write_text(json.dumps({"key": key, "facts": facts}), encoding="utf-8")
        os.replace(staged, self.path)
