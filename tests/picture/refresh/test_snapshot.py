"""The incident columns kept between refreshes: reused only while the store grew by inserts alone."""

from __future__ import annotations

import csv
import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test import override_settings

from problembild.incidents.importers import import_incidents
from problembild.incidents.models import Incident
from problembild.picture.models import AreaPicture, IndicatorValue, StoreVersion, UnitPicture
from problembild.picture.refresh import snapshot
from problembild.picture.refresh.load import IncidentArrays, load_incidents, source_names
from problembild.picture.refresh.run import RefreshOptions, refresh

pytestmark = pytest.mark.django_db


def same(a: IncidentArrays, b: IncidentArrays) -> bool:
    """Equal columns, row for row (NaN equal to NaN); the columns that differ are printed."""
    differ = [
        k
        for k in IncidentArrays.__dataclass_fields__
        if not np.array_equal(getattr(a, k), getattr(b, k), equal_nan=getattr(a, k).dtype.kind == "f")
    ]
    print("columns that differ:", differ, [(getattr(a, k).dtype, getattr(b, k).dtype) for k in differ])
    return not differ


def add(tmp_path, source: str, rows: list[tuple], tag: str = "new") -> None:
    path = tmp_path / f"{tag}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "occurred_at", "type", "x", "y"])
        writer.writerows(rows)
    import_incidents(path, source=source)


def near(area, n: int, day: str = "2024-12-30") -> list[tuple]:
    point = area.shape.representative_point()
    return [
        (f"{day}-{i}", f"{day}T10:{i:02d}:00", "Misshandel", f"{point.x + i:.1f}", f"{point.y:.1f}")
        for i in range(n)
    ]


def test_the_next_load_reads_only_the_new_rows_and_equals_a_whole_read(rosengard_data, tmp_path):
    area, _, n = rosengard_data
    where = tmp_path / "kept"
    first, info = snapshot.load(source_names(), where=where)
    assert info.how == "read" and info.reason == "no kept columns" and len(first) == n
    assert same(first, load_incidents(source_names()))

    add(tmp_path, "test", near(area, 7))
    again, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.kept_rows, info.new_rows) == ("reused", n, 7)
    assert same(again, load_incidents(source_names()))
    # Nothing new: the kept columns alone, and nothing written.
    kept = sorted(p.name for p in where.glob("snap-*"))
    assert len(kept) == 2  # the first read and the new rows
    third, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.new_rows) == ("reused", 0) and same(third, again)
    assert sorted(p.name for p in where.glob("snap-*")) == kept


def test_segments_are_written_as_one_again_past_the_limit(rosengard_data, tmp_path, monkeypatch):
    area, _, _ = rosengard_data
    monkeypatch.setattr(snapshot, "MAX_SEGMENTS", 2)
    where = tmp_path / "kept"
    snapshot.load(source_names(), where=where)
    for day in ("2024-12-28", "2024-12-29", "2024-12-30"):
        add(tmp_path, "test", near(area, 2, day), tag=day)
        data, info = snapshot.load(source_names(), where=where)
        assert info.how == "reused" and same(data, load_incidents(source_names()))
    assert len(list(where.glob("snap-*"))) == 2  # written as one on the second day, one more on the third


def test_a_new_source_recodes_the_kept_sources(rosengard_data, tmp_path):
    area, _, _ = rosengard_data
    where = tmp_path / "kept"
    snapshot.load(source_names(), where=where)
    add(tmp_path, "aaa-first-by-name", near(area, 3))  # sorts before "test": every kept code moves
    names = source_names()
    assert names[0] == "aaa-first-by-name"
    data, info = snapshot.load(names, where=where)
    assert info.how == "reused" and same(data, load_incidents(names))


@pytest.mark.parametrize(
    "change",
    [
        lambda: Incident.objects.filter(pk=Incident.objects.order_by("pk").first().pk).update(
            indicator="rån"
        ),
        lambda: Incident.objects.filter(pk=Incident.objects.order_by("pk").first().pk).update(x=None),
        lambda: Incident.objects.filter(pk=Incident.objects.order_by("-pk").first().pk).delete(),
    ],
    ids=["indicator", "coordinates", "delete"],
)
def test_an_update_or_delete_anywhere_makes_the_next_load_read_the_whole_store(
    rosengard_data, tmp_path, change
):
    where = tmp_path / "kept"
    snapshot.load(source_names(), where=where)
    version = StoreVersion.objects.get().version
    change()
    assert StoreVersion.objects.get().version > version  # the database's trigger, not the ORM
    data, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.reason) == ("read", "stored incidents changed")
    assert same(data, load_incidents(source_names()))
    # The columns read are kept again: the run after reuses them.
    assert snapshot.load(source_names(), where=where)[1].how == "reused"


def test_a_row_committed_late_below_the_kept_id_makes_the_next_load_read_the_whole_store(
    rosengard_data, tmp_path
):
    """PostgreSQL hands out ids when rows are inserted, not when they commit: a transaction
    that took an id below the kept one and committed after the read adds a row the kept
    columns lack. (SQLite has one writer at a time: its ids are committed in order.)"""
    if connection.vendor != "postgresql":
        pytest.skip("ids committed out of order: PostgreSQL only")
    area, _, n = rosengard_data
    where = tmp_path / "kept"
    with connection.cursor() as cursor:  # a writer takes an id and has not committed yet
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Incident._meta.db_table])
        (late_id,) = cursor.fetchone()
    add(tmp_path, "test", near(area, 3))  # others commit above it
    first, info = snapshot.load(source_names(), where=where)
    assert info.how == "read" and len(first) == n + 3
    late = Incident.objects.order_by("-pk").first()
    late.pk, late.external_id = late_id, "committed-late"
    late.save(force_insert=True)  # the writer commits
    data, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.reason) == ("read", "rows committed late below the kept id")
    assert len(data) == n + 4 and late_id in data.id
    assert same(data, load_incidents(source_names()))
    # Read again and kept: the next run reuses the columns, and new rows extend the count.
    add(tmp_path, "test", near(area, 2, day="2024-12-31"), tag="later")
    again, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.new_rows) == ("reused", 2)
    assert same(again, load_incidents(source_names()))
    assert snapshot.load(source_names(), where=where)[1].how == "reused"


def test_full_a_new_store_or_unreadable_columns_read_everything(rosengard_data, tmp_path):
    where = tmp_path / "kept"
    snapshot.load(source_names(), where=where)
    assert snapshot.load(source_names(), where=where, reuse=False)[1].reason == "full"
    StoreVersion.objects.all().delete()  # a database emptied and filled again: a new token
    assert snapshot.load(source_names(), where=where)[1].reason == "stored incidents changed"
    for kept in where.glob("snap-*/x.npy"):
        kept.write_bytes(b"not an array")
    data, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.reason) == ("read", "kept columns unreadable")
    assert same(data, load_incidents(source_names()))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda path: path.write_bytes(path.read_bytes()[:-8]),  # cut short: the header promises more
        lambda path: np.save(path, np.load(path).astype(np.float32)),  # another type
        lambda path: np.save(path, np.load(path)[:-1]),  # one row fewer than the segment
    ],
    ids=["truncated", "dtype", "length"],
)
def test_a_spoilt_kept_column_reads_everything(rosengard_data, tmp_path, spoil):
    where = tmp_path / "kept"
    snapshot.load(source_names(), where=where)
    (kept,) = where.glob("snap-*/x.npy")
    spoil(kept)
    data, info = snapshot.load(source_names(), where=where)
    assert (info.how, info.reason) == ("read", "kept columns unreadable")
    assert same(data, load_incidents(source_names()))


def test_a_refresh_on_kept_columns_stores_what_a_whole_read_does(rosengard_data, tmp_path):
    area, _, _ = rosengard_data
    options = RefreshOptions(forecast_origins=2, contest_days=0)  # a reused contest would differ
    with override_settings(INCIDENT_SNAPSHOTS=tmp_path / "kept"):
        assert refresh(options=options).loaded["how"] == "read"
        add(tmp_path, "test", near(area, 5))
        summary = refresh(options=options)
    # The series the new incidents left as they were: their parts (and the dispersion) are the last run's.
    assert summary.series_parts["reused"] > 0
    assert summary.loaded == {
        "kept_rows": summary.incidents - 5,
        "new_rows": 5,
        "how": "reused",
        "reason": "",
    }
    kept_values = list(
        IndicatorValue.objects.order_by("area_id", "indicator", "period", "period_start").values()
    )
    kept_pictures = {p.area_id: p.data for p in AreaPicture.objects.all()}
    whole = refresh(options=options, full=True)  # INCIDENT_SNAPSHOTS is None in the tests: a whole read
    assert whole.loaded["how"] == "read"
    values = list(IndicatorValue.objects.order_by("area_id", "indicator", "period", "period_start").values())
    assert [{k: v for k, v in r.items() if k != "id"} for r in values] == [
        {k: v for k, v in r.items() if k != "id"} for r in kept_values
    ]
    assert {p.area_id: p.data for p in AreaPicture.objects.all()} == kept_pictures


def test_derived_columns_are_kept_and_computed_for_the_new_rows_only(rosengard_data, tmp_path):
    """Local times and municipalities are kept beside the segments: a daily run computes
    them for the day's rows; another key (other time zone rules, other boundaries)
    computes them again and drops the old files."""
    area, _, n = rosengard_data
    where = tmp_path / "kept"
    calls: list[int] = []

    def double(rows: IncidentArrays) -> np.ndarray:
        calls.append(len(rows))
        return rows.t * 2

    data, info = snapshot.load(source_names(), where=where)
    np.testing.assert_array_equal(snapshot.column(data, info, "double", "k1", double), data.t * 2)
    assert calls == [n]
    add(tmp_path, "test", near(area, 4))
    data, info = snapshot.load(source_names(), where=where)
    np.testing.assert_array_equal(snapshot.column(data, info, "double", "k1", double), data.t * 2)
    assert calls == [n, 4]
    np.testing.assert_array_equal(snapshot.column(data, info, "double", "k1", double), data.t * 2)
    assert calls == [n, 4]  # all kept
    np.testing.assert_array_equal(snapshot.column(data, info, "double", "k2", double), data.t * 2)
    assert calls == [n, 4, n, 4]
    assert len(list(where.glob("snap-*/double-*.npz"))) == 2  # one per segment, of the key in use
    # Nothing kept (INCIDENT_SNAPSHOTS None): computed on the spot, for all rows.
    snapshot.column(data, snapshot.Loaded(), "double", "k1", double)
    assert calls[-1] == n + 4


def test_tables_whose_inputs_did_not_change_are_not_written_again(rosengard_data, tmp_path):
    """Incidents after the last complete period change no count: the IndicatorValue table
    and the unit pictures stand (their rows untouched); a lost row, --full, or an incident in
    a complete period writes them again, as a whole run writes them."""
    area, _, _ = rosengard_data
    options = RefreshOptions(forecast_origins=2, as_of=dt.date(2024, 12, 1))

    def stored_values():
        return list(
            IndicatorValue.objects.order_by("area_id", "indicator", "period", "period_start").values()
        )

    with override_settings(INCIDENT_SNAPSHOTS=tmp_path / "kept"):
        assert refresh(options=options).stages_reused == []
        before = stored_values()
        units_before = dict(UnitPicture.objects.values_list("unit_id", "computed_at"))
        add(tmp_path, "test", near(area, 5))  # 30 December: after the end of the data
        summary = refresh(options=options)
        assert summary.stages_reused == ["indicator_values", "units"]
        assert summary.indicator_values == len(before) and summary.units == len(units_before)
        assert stored_values() == before  # ids included: not written again
        units_after = dict(UnitPicture.objects.values_list("unit_id", "computed_at"))
        assert units_after.keys() == units_before.keys()
        assert all(units_after[u] > units_before[u] for u in units_after)  # computed now, all the same

        assert refresh(options=options).stages_reused == ["indicator_values", "units"]  # and again
        IndicatorValue.objects.filter(pk=before[0]["id"]).delete()
        assert refresh(options=options).stages_reused == ["units"]
        assert IndicatorValue.objects.count() == len(before)
        # As many rows, other content (a table put back from an older backup): written again.
        rows = list(IndicatorValue.objects.all())
        IndicatorValue.objects.all().delete()
        for row in rows:
            row.pk, row.count = None, row.count + 1
        IndicatorValue.objects.bulk_create(rows)
        UnitPicture.objects.update(computed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        assert refresh(options=options).stages_reused == []
        assert [{k: v for k, v in r.items() if k != "id"} for r in stored_values()] == [
            {k: v for k, v in r.items() if k != "id"} for r in before
        ]
        assert refresh(options=options, full=True).stages_reused == []

        add(tmp_path, "test", near(area, 3, day="2024-10-10"), tag="october")
        assert refresh(options=options).stages_reused == []
        kept = stored_values()
    refresh(options=options, full=True)  # nothing kept: a whole run
    assert [{k: v for k, v in r.items() if k != "id"} for r in stored_values()] == [
        {k: v for k, v in r.items() if k != "id"} for r in kept
    ]


@pytest.mark.parametrize("sizes", [[300], [240, 30, 0, 30], [2, 298], [0, 300]])
def test_the_surroundings_from_kept_segments_are_those_of_all_rows(tmp_path, sizes):
    """The rows near each area (ascending) and the digests of the ids inside and around it,
    kept per segment and joined, equal one search over all rows; so do the fingerprints."""
    from problembild.areas.models import Area
    from problembild.picture.refresh.fingerprints import _digest, fingerprints, surroundings
    from problembild.picture.refresh.space import nearby

    register = list(Area.objects.order_by("pk"))
    areas = register[:5]  # the incidents lie around these
    rng = np.random.default_rng(len(sizes))
    n = sum(sizes)
    centres = np.array([[a.shape.centroid.x, a.shape.centroid.y] for a in areas])
    which = rng.integers(0, len(areas), n)
    xy = centres[which] + rng.normal(0, 2_000, (n, 2))
    xy[rng.random(n) < 0.1] = np.nan
    data = IncidentArrays(
        id=np.arange(1, n + 1) * 3,
        area=np.where(rng.random(n) < 0.7, np.array([a.pk for a in areas])[which], -1),
        indicator=np.zeros(n, dtype=np.int8),
        t=np.zeros(n, dtype=np.int64),
        x=xy[:, 0],
        y=xy[:, 1],
        synthetic=np.zeros(n, dtype=bool),
        source=np.zeros(n, dtype=np.int16),
    )
    segments = []
    for i, rows in enumerate(sizes):
        (tmp_path / f"s{i}").mkdir()
        segments.append((tmp_path / f"s{i}", rows))
    loaded = snapshot.Loaded(segments=segments)
    boundaries = [(a.pk, a.shape) for a in register] + [(10**6, None)]
    space = RefreshOptions().space_settings()
    whole = surroundings(boundaries, data, space)
    expected_near = nearby(boundaries, data.x, data.y, space)
    assert whole.near.keys() == expected_near.keys() == {a.pk for a in register if a.shape is not None}
    for pk, rows in expected_near.items():
        np.testing.assert_array_equal(whole.near[pk], rows)
        assert whole.around[pk] == _digest(data.id[rows])
        assert whole.own.get(pk, (0, 0, 0)) == _digest(data.id[data.area == pk])
    for _ in range(2):  # computed and kept, then read back
        kept = surroundings(
            boundaries, data, space, parts=functools.partial(snapshot.per_segment, data, loaded)
        )
        assert kept.near.keys() == whole.near.keys()
        assert all(np.array_equal(kept.near[pk], whole.near[pk]) for pk in whole.near)
        assert (kept.own, kept.around) == (whole.own, whole.around)
    as_of = pd.Timestamp("2025-01-01", tz="Europe/Stockholm")
    assert fingerprints({}, data, as_of, space, around=kept) == fingerprints({}, data, as_of, space)
