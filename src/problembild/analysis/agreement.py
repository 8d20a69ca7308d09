"""Agreement between two raters on categories: the share equal and Cohen's kappa.

Used for how often the national decision agrees with the local proposal (per region and
nationally). Kappa corrects the share equal for the agreement two raters would reach by
chance with their own category frequencies (Cohen 1960):

.. math:: \\kappa = (p_o - p_e) / (1 - p_e)

``p_o`` the observed share equal, ``p_e = sum_k p_{a,k} p_{b,k}``. When both raters always
give one and the same category, ``p_e = 1`` and kappa is undefined (NaN): the share equal
says everything there is.

This module never imports Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Agreement", "agreement"]


@dataclass(frozen=True)
class Agreement:
    n: int
    equal: int
    share_equal: float
    kappa: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "equal": self.equal,
            "share_equal": None if self.n == 0 else self.share_equal,
            "kappa": None if np.isnan(self.kappa) else self.kappa,
        }


def agreement(a: Sequence[str], b: Sequence[str], labels: Sequence[str] | None = None) -> Agreement:
    """Share equal and Cohen's kappa of two equally long sequences of category labels.

    ``labels`` fixes the categories (default: those that occur). Empty input gives NaN.
    """
    if len(a) != len(b):
        raise ValueError(f"a and b differ in length: {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return Agreement(0, 0, float("nan"), float("nan"))
    cats = list(labels) if labels is not None else sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(cats)}
    unknown = (set(a) | set(b)) - set(index)
    if unknown:
        raise ValueError(f"labels missing from `labels`: {sorted(unknown)}")
    ia = np.array([index[x] for x in a])
    ib = np.array([index[x] for x in b])
    equal = int((ia == ib).sum())
    p_o = equal / n
    pa = np.bincount(ia, minlength=len(cats)) / n
    pb = np.bincount(ib, minlength=len(cats)) / n
    p_e = float(pa @ pb)
    kappa = float("nan") if np.isclose(p_e, 1.0) else (p_o - p_e) / (1 - p_e)
    return Agreement(n, equal, p_o, kappa)
