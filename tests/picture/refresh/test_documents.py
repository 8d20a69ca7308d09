"""Stage *documents*: the per-area source summary, summed over kept segments."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from problembild.picture.refresh import documents, snapshot
from problembild.picture.refresh.load import IncidentArrays

pytestmark = pytest.mark.django_db

NAMES = ["daily", "polisen-events", "synthetic"]


def incidents(n: int, seed: int = 3) -> IncidentArrays:
    rng = np.random.default_rng(seed)
    area = rng.choice([-1, 11, 12, 13], size=n).astype(np.int64)
    area[:50] = -1  # a first segment with no row inside an area
    return IncidentArrays(
        id=np.arange(1, n + 1, dtype=np.int64),
        area=area,
        indicator=np.zeros(n, dtype=np.int16),
        t=np.sort(rng.integers(1_672_531_200, 1_735_689_600, n)).astype(np.int64),
        x=np.zeros(n),
        y=np.zeros(n),
        synthetic=rng.random(n) < 0.3,
        source=rng.integers(0, len(NAMES), n).astype(np.int16),
    )


def by_hand(data: IncidentArrays) -> dict[int, list[tuple[str, bool, int, str]]]:
    """The oracle: a loop over the rows."""
    seen: dict[tuple[int, str, bool], list[int]] = defaultdict(list)
    for area, source, synthetic, t in zip(data.area, data.source, data.synthetic, data.t, strict=True):
        if area >= 0:
            seen[(int(area), NAMES[source], bool(synthetic))].append(int(t))
    out: dict[int, list] = defaultdict(list)
    for (area, source, synthetic), times in sorted(seen.items()):
        last = pd.Timestamp(max(times), unit="s", tz="UTC").isoformat()
        out[area].append((source, synthetic, len(times), last))
    return out


def summary(found) -> dict[int, list[tuple[str, bool, int, str]]]:
    return {
        area: sorted((s.source, s.synthetic, s.count, s.last) for s in sources.by_source)
        for area, sources in found.items()
    }


def test_sources_count_and_date_each_areas_rows_by_source():
    data = incidents(600)
    assert summary(documents.sources(data, NAMES)) == by_hand(data)
    assert documents.sources(data.take(slice(0, 50)), NAMES) == {}  # no row inside an area


def test_sources_from_kept_segments_equal_those_of_all_rows(tmp_path):
    """A daily run sums the kept segments' parts and computes the part of its own rows only."""
    data = incidents(600)
    loaded = snapshot.Loaded(how="reused")
    for k, (a, b) in enumerate(itertools.pairwise([0, 50, 590, 600])):
        folder = tmp_path / f"snap-{k}"
        folder.mkdir()
        loaded.segments.append((folder, b - a))
    computed: list[int] = []

    def parts(name, key, compute):
        return snapshot.per_segment(
            data, loaded, name, key, lambda rows: computed.append(len(rows)) or compute(rows)
        )

    for _ in range(2):  # computed and kept, then read back
        assert summary(documents.sources(data, NAMES, parts=parts)) == by_hand(data)
    assert computed == [50, 540, 10]
    # Other source names recode the rows: the kept parts are not theirs.
    documents.sources(data, ["other", *NAMES[1:]], parts=parts)
    assert computed == [50, 540, 10, 50, 540, 10]
