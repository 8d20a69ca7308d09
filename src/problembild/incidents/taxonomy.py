"""The taxonomy: which raw incident type counts in which indicator group.

The mapping is data in a TOML file (``settings.TAXONOMY_FILE``), validated on load with
errors that name the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from problembild.analysis.vocabulary import INDICATOR_CODES


class TaxonomyError(ValueError):
    """The taxonomy file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Taxonomy:
    """Raw type -> indicator code. ``excluded`` types and types that start with one of
    ``excluded_prefixes`` (case-insensitively: "Sammanfattning helg" as well as a summary
    type the feed adds next year) are notices, counted in no indicator."""

    path: str
    default: str
    mapping: dict[str, str]
    excluded: frozenset[str]
    excluded_prefixes: tuple[str, ...] = ()

    def is_excluded(self, raw_type: str) -> bool:
        """True for a notice (an excluded type, or one an excluded prefix catches)."""
        t = raw_type.strip()
        return t in self.excluded or t.casefold().startswith(
            tuple(p.casefold() for p in self.excluded_prefixes)
        )

    def names(self, raw_type: str) -> bool:
        """True when the taxonomy says what ``raw_type`` is (mapped or excluded), rather
        than letting it fall into the default group."""
        return raw_type.strip() in self.mapping or self.is_excluded(raw_type)

    def indicator_of(self, raw_type: str) -> str:
        """Indicator code of ``raw_type``; ``""`` for excluded notices."""
        t = raw_type.strip()
        if t in self.mapping:
            return self.mapping[t]
        if self.is_excluded(t):
            return ""
        return self.default

    def map_array(self, raw_types) -> np.ndarray:
        """Vectorised :meth:`indicator_of` for many types (object array of codes)."""
        codes, uniques = pd.factorize(pd.Series(raw_types).astype(str), use_na_sentinel=False)
        table = np.array([self.indicator_of(t) for t in uniques], dtype=object)
        return table[codes]


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file (the configured one: ``services.configured_taxonomy``)."""
    path = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: not valid TOML: {exc}") from None
    default = data.get("default", "other")
    if default not in INDICATOR_CODES:
        raise TaxonomyError(
            f"{path}: key 'default': unknown indicator {default!r}; known: {', '.join(INDICATOR_CODES)}"
        )
    groups = data.get("indicators")
    if not isinstance(groups, dict):
        raise TaxonomyError(f"{path}: table [indicators] is missing")
    mapping: dict[str, str] = {}
    for code, types in groups.items():
        if code not in INDICATOR_CODES:
            raise TaxonomyError(
                f"{path}: key 'indicators.{code}': unknown indicator; known: {', '.join(INDICATOR_CODES)}"
            )
        if not isinstance(types, list) or not all(isinstance(t, str) and t.strip() for t in types):
            raise TaxonomyError(f"{path}: key 'indicators.{code}': must be a list of non-empty strings")
        for t in types:
            t = t.strip()
            if t in mapping and mapping[t] != code:
                raise TaxonomyError(
                    f"{path}: key 'indicators.{code}': type {t!r} is already mapped to {mapping[t]!r}"
                )
            mapping[t] = code
    exclude = data.get("exclude", {})
    if not isinstance(exclude, dict):
        raise TaxonomyError(f"{path}: key 'exclude': must be a table")
    excluded_raw = exclude.get("types", [])
    if not isinstance(excluded_raw, list) or not all(isinstance(t, str) for t in excluded_raw):
        raise TaxonomyError(f"{path}: key 'exclude.types': must be a list of strings")
    excluded = frozenset(t.strip() for t in excluded_raw)
    both = excluded & set(mapping)
    if both:
        raise TaxonomyError(
            f"{path}: key 'exclude.types': {sorted(both)[0]!r} is also mapped to an indicator"
        )
    prefixes_raw = exclude.get("prefixes", [])
    if not isinstance(prefixes_raw, list) or not all(isinstance(t, str) and t.strip() for t in prefixes_raw):
        raise TaxonomyError(f"{path}: key 'exclude.prefixes': must be a list of non-empty strings")
    prefixes = tuple(t.strip() for t in prefixes_raw)
    for t in sorted(mapping):
        caught = [p for p in prefixes if t.casefold().startswith(p.casefold())]
        if caught:
            raise TaxonomyError(
                f"{path}: key 'exclude.prefixes': {caught[0]!r} also excludes {t!r}, "
                f"which is mapped to {mapping[t]!r}"
            )
    return Taxonomy(
        path=path, default=default, mapping=mapping, excluded=excluded, excluded_prefixes=prefixes
    )
