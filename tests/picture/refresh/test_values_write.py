"""``write_values`` leaves the IndicatorValue table equal to its frame, writing only the rows that changed."""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from problembild.areas.models import Area
from problembild.incidents.importers import import_incidents
from problembild.picture.models import IndicatorValue
from problembild.picture.refresh.run import RefreshOptions, refresh
from problembild.picture.refresh.tables import write_values

pytestmark = pytest.mark.django_db

#: The table's columns as ``value_rows`` names them (the model's fields but the id).
COLUMNS = [f.attname for f in IndicatorValue._meta.concrete_fields if f.attname != "id"]
KEY = ["area_id", "indicator", "period", "period_start"]


def _values(n_months: int = 24) -> pd.DataFrame:
    """A frame in ``value_rows``' form: two areas' months, with floats that only an exact
    round trip keeps (thirds, tiny and huge values) and NULLs in every nullable column."""
    areas = list(Area.objects.order_by("pk").values_list("pk", flat=True)[:2])
    rng = np.random.default_rng(7)
    rows = []
    for area_id in areas:
        for i in range(n_months):
            start = date(2023 + i // 12, 1 + i % 12, 1)
            first = i == 0
            rows.append(
                {
                    "area_id": area_id,
                    "indicator": "all",
                    "period": "month",
                    "period_start": start,
                    "count": int(rng.integers(0, 50)),
                    "rate": np.nan if i % 5 == 0 else float(rng.random() / 3),
                    "previous": pd.NA if first else int(rng.integers(0, 50)),
                    "last_year": pd.NA if i < 12 else int(rng.integers(0, 50)),
                    "p_previous": np.nan if first else float(rng.random()),
                    "p_last_year": np.nan if i < 12 else [1e-300, 1 / 3, 0.1 + 0.2][i % 3],
                    "mark": "↑" if i % 7 == 0 else "",
                    "share_of_municipality": np.nan if i % 4 == 0 else 1e300 * rng.random(),
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"previous": "Int64", "last_year": "Int64", "indicator": "str", "period": "str"})


def _none(value):
    return (
        None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value
    )


def _table() -> list[tuple]:
    """The stored rows (without ids), ordered by their key."""
    return [tuple(row) for row in IndicatorValue.objects.order_by(*KEY).values_list(*COLUMNS)]


def _expected(values: pd.DataFrame) -> list[tuple]:
    """``values`` as the table should hold them: NULL for NaN and NA, ordered by the key."""
    rows = [tuple(_none(v) for v in row) for row in values[COLUMNS].itertuples(index=False)]
    return sorted(rows, key=lambda row: row[:4])


def _ids() -> dict[tuple, int]:
    return {tuple(row[1:]): row[0] for row in IndicatorValue.objects.values_list("id", *KEY)}


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))
    ]


def test_an_empty_table_gets_every_row():
    values = _values()
    assert write_values(values) == len(values)
    assert _table() == _expected(values)


def test_an_empty_frame_empties_the_table():
    write_values(_values())
    assert write_values(_values().iloc[:0]) == 0
    assert not IndicatorValue.objects.exists()


def test_the_same_values_again_write_nothing():
    values = _values()
    write_values(values)
    ids = _ids()
    with CaptureQueriesContext(connection) as queries:
        assert write_values(values.sample(frac=1, random_state=1)) == len(values)  # any row order
    assert _writes(queries) == []
    assert _ids() == ids
    assert _table() == _expected(values)


def test_changed_removed_and_added_rows_are_written_and_no_others():
    values = _values()
    write_values(values)
    ids = _ids()
    changed = values.copy()
    float_row = changed.index[changed["rate"].notna()][0]
    changed.loc[float_row, "rate"] = np.nextafter(changed.loc[float_row, "rate"], 1.0)  # one ulp
    null_row = changed.index[changed["previous"].isna()][0]
    changed.loc[null_row, "previous"] = 0  # NULL -> a value (0: equal to NULL if compared carelessly)
    removed = changed.index[-1]
    changed = changed.drop(index=removed)
    added = changed.iloc[[0]].assign(period_start=date(2030, 1, 1))
    changed = pd.concat([changed, added], ignore_index=True)

    with CaptureQueriesContext(connection) as queries:
        assert write_values(changed) == len(values)
    assert _table() == _expected(changed)
    assert any(q.upper().startswith("DELETE") for q in map(str.lstrip, _writes(queries)))
    after = _ids()
    key = lambda row: (values.loc[row, "area_id"], "all", "month", values.loc[row, "period_start"])  # noqa: E731
    rewritten = {key(float_row), key(null_row)}
    assert key(removed) not in after
    assert all(after[k] != ids[k] for k in rewritten)
    kept = {k: v for k, v in ids.items() if k in after and k not in rewritten}
    assert len(kept) == len(values) - 3
    assert all(after[k] == v for k, v in kept.items())


def test_mostly_changed_values_replace_the_table():
    values = _values()
    write_values(values)
    shifted = values.assign(period_start=[d + timedelta(days=1) for d in values["period_start"]])
    with CaptureQueriesContext(connection) as queries:
        assert write_values(shifted) == len(values)
    assert _table() == _expected(shifted)
    deletes = [q for q in _writes(queries) if q.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 1 and "WHERE" not in deletes[0].upper()  # all at once, not by id


def test_incremental_refreshes_give_the_table_of_a_full_refresh_from_scratch(rosengard_data, tmp_path):
    _, hot, _ = rosengard_data
    options = RefreshOptions(as_of=date(2025, 1, 1), forecast_origins=2)
    refresh(options=options)
    ids = _ids()
    path = tmp_path / "one.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "occurred_at", "type", "x", "y"])
        writer.writerow(["one-more", "2024-12-10T12:00:00", "Skottlossning", f"{hot.x:.1f}", f"{hot.y:.1f}"])
    assert import_incidents(path, source="test").added == 1
    refresh(options=options)
    incremental = _table()
    after = _ids()
    kept = sum(after.get(k) == v for k, v in ids.items())
    assert 0 < len(ids) - kept < len(ids) // 2  # some rows were rewritten, most kept

    IndicatorValue.objects.all().delete()
    refresh(options=options, full=True)
    assert _table() == incremental
