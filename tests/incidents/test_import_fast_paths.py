"""The fast paths of `import incidents` (issue 18) against the slower forms they replaced.

A chunk is handed from the worker to the writer column-wise in Arrow; content hashes are
computed without building a frame (each id hashed once); Parquet text stays in Arrow;
SQLite gets INSERTs of a hundred rows, PostgreSQL a COPY of CSV text; the stored ids are
read as JSON arrays. Each is checked here against the straightforward form it replaced
(pandas' frame hash, NumPy's time formatting, pandas' Parquet conversion, one INSERT per
row, sorting everything again), and the stored rows of an edge-case file against the
values the previous release stored (content hashes must never change: a re-import of an
already stored file compares them).

Runs on both engines (PostgreSQL when DATABASE_URL names one).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problembild.core.db import SQLITE_ROWS_PER_INSERT, bulk_insert, insert_columns
from problembild.incidents import importers
from problembild.incidents.importers import import_incidents
from problembild.incidents.models import Incident
from problembild.incidents.rows import (
    _db_datetimes,
    _parquet_frame,
    as_text,
    check_rows,
    content_hash,
    id_keys,
    validate_chunk,
)
from problembild.incidents.store import (
    DeferredIndexes,
    DuplicateChecker,
    first_of_each,
    merge_pairs,
    stored_ids,
)

pytestmark = pytest.mark.django_db

HEADER = ["id", "occurred_at", "type", "x", "y", "municipality", "title", "url"]
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(path: Path, rows, header=HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- content hashes and id keys ----------------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
raw_rows = st.lists(
    st.tuples(
        texts | st.sampled_from(["a", " a ", "ÅÄÖ", "𝄞", "x" * 101]),
        st.sampled_from(
            [
                "2024-03-31T02:30",  # spring's missing hour
                "2023-10-29T02:30:00",  # autumn's repeated hour
                "2024-06-01T12:00:00.250000+02:00",
                "2020-02-29T23:59:59Z",
                "1969-07-20T20:17:40.5Z",
                "2024-02-30T10:00:00",  # no such day
                "",
                "not a time",
            ]
        ),
        texts | st.sampled_from(["Rån", "Misshandel", "  Brand  "]),
        st.sampled_from(["", "674000", "674032,5", "-0.0", "nan", "inf", "abc", "10"]),
        st.sampled_from(["", "6580000", "6579910,25", "0"]),
        st.sampled_from(["", "0180", "Malmö", "upplands-bro", "Atlantis"]),
        texts | st.just("t" * 350),
    ),
    min_size=1,
    max_size=30,
)


@SETTINGS
@given(generated=raw_rows, with_optional=st.booleans())
def test_content_hashes_are_pandas_hash_of_the_rows_frame(generated, with_optional):
    columns = HEADER[:7] if with_optional else HEADER[:3]
    frame = pd.DataFrame([r[: len(columns)] for r in generated], columns=columns, dtype=str)
    lookup = {"0180": "0180", "malmö": "1280", "upplands bro": "0139"} if with_optional else None
    out, _bad = validate_chunk(frame, "s", lookup)
    # The oracle: pandas' hash of the row frame, as the store's hashes have always been made.
    assert (out["content_hash"].to_numpy() == content_hash(out)).all()
    rows, _bad = check_rows(frame, "s", lookup)
    expected_keys = pd.util.hash_array(np.asarray(out["external_id"], dtype=object)).view(np.int64)
    assert (rows.keys == expected_keys).all()


# --- stored values of an edge-case file, as the previous release stored them ---------------

#: Rows with the awkward cases: DST gaps and repeats, fractions, offsets, a point on an area's
#: boundary (a vertex of Rosengård) and inside it, decimal commas, unknown and excluded types,
#: municipality names, long titles and URLs, a padded id, a repeated identical row.
EDGE_ROWS = [
    ("e1", "2024-03-31T02:30", "Rån", "", "", "", "", ""),
    (
        "e2",
        "2023-10-29T02:30:00",
        "Misshandel",
        "376708.3",
        "6161411.3",
        "0180",
        "O'Hara ; 100%",
        "https://polisen.se/a",
    ),
    (
        "e3",
        "2024-06-01T12:00:00.250000+02:00",
        "Skottlossning",
        "674032,5",
        "6579910,25",
        "Malmö",
        "rad 1\nrad 2",
        "",
    ),
    (
        "e4",
        "2020-02-29T23:59:59Z",
        "Okänd typ",
        "375930.7148000002",
        "6162197.8412999995",
        "upplands-bro",
        "x" * 350,
        "y" * 450,
    ),
    (" e5 ", "2025-01-01 00:00", "Sammanfattning helg", "", "", "", "Ä Ö Å 𝄞 ☃", ""),
    ("ÅÄÖ-6", "2024-01-01", "  Brand  ", "674000", "6580000", "", "\\N", "NULL"),
    ("e7", "1969-07-20T20:17:40.5Z", "Narkotikabrott", "", "", "1280", "", ""),
    ("e8", "2024-03-31T03:00:00", "Narkotikabrott", "376709.3", "6161412.3", "", "", ""),
    ("z" * 100, "2023-10-29T03:00:00", "Stöld", "", "", "", "", ""),
    ("e1", "2024-03-31T02:30", "Rån", "", "", "", "", ""),
]

#: (external id, content hash, occurred_at, indicator, area, municipality) as stored by the
#: release before the fast paths (commit 07237eb), in id order.
EDGE_STORED = [
    ("e1", -1750353702164315696, "2024-03-31T01:00:00+00:00", "violence_public", None, ""),
    ("e2", -5802317620418964603, "2023-10-29T00:30:00+00:00", "violence_public", "Rosengård", "0180"),
    ("e3", 3434250755053601370, "2024-06-01T10:00:00.250000+00:00", "shootings", None, "1280"),
    ("e4", 192678348507043924, "2020-02-29T23:59:59+00:00", "other", "Rosengård", "0139"),
    ("e5", -611495491170073148, "2024-12-31T23:00:00+00:00", "", None, ""),
    ("ÅÄÖ-6", -6348376390252427400, "2023-12-31T23:00:00+00:00", "vehicle_arson_vandalism", None, ""),
    ("e7", -1964117058624310408, "1969-07-20T20:17:40.500000+00:00", "drugs", None, "1280"),
    ("e8", -1221374560265831495, "2024-03-31T01:00:00+00:00", "drugs", "Rosengård", ""),
    ("z" * 100, -6156762588452174760, "2023-10-29T02:00:00+00:00", "other", None, ""),
]


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "worker"])
def test_edge_rows_are_stored_as_the_previous_release_stored_them(tmp_path, parallel):
    path = _write(tmp_path / "edge.csv", EDGE_ROWS)
    result = import_incidents(path, source="edge", chunk_rows=4, parallel=parallel)
    assert (result.added, result.accepted, result.details["assigned"]) == (9, 10, 3)
    stored = Incident.objects.filter(source="edge").order_by("id")
    found = [
        (
            i.external_id,
            i.content_hash,
            i.occurred_at.isoformat(),
            i.indicator,
            i.area and i.area.name,
            i.municipality_code,
        )
        for i in stored.select_related("area")
    ]
    assert [f[0] for f in found] == [e[0] for e in EDGE_STORED]
    assert found == EDGE_STORED
    assert import_incidents(path, source="edge", chunk_rows=3, parallel=parallel).added == 0


# --- times as the database stores them -------------------------------------------------------


def _numpy_db_datetimes(utc: np.ndarray, vendor: str) -> list[str]:
    """The NumPy formatting the Arrow cast replaced."""
    text = np.datetime_as_string(utc, unit="s")
    fraction = utc.astype(np.int64) % 1_000_000
    text = np.where(fraction != 0, np.datetime_as_string(utc, unit="us"), text)
    if vendor == "sqlite":
        return np.strings.replace(text, "T", " ").tolist()
    return np.strings.add(text, "+00:00").tolist()


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_database_times_are_written_as_before(vendor):
    rng = np.random.default_rng(3)
    seconds = rng.integers(-2_208_988_800, 4_102_444_800, 20_000)  # 1900 to 2100
    micros = seconds * 1_000_000 + rng.choice([0, 0, 0, 1, 250_000, 999_999], len(seconds))
    utc = micros.astype("datetime64[us]")
    got = _db_datetimes(utc, vendor).to_pylist()
    want = _numpy_db_datetimes(utc, vendor)
    if vendor == "postgresql":  # the same instants; the separator is a space now
        want = [w.replace("T", " ") for w in want]
    assert got == want
    aware = pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC")).dt.tz_convert("Europe/Stockholm")
    assert _db_datetimes(aware, vendor).to_pylist() == got


# --- Parquet read as text ----------------------------------------------------------------------


def test_parquet_columns_read_as_text_as_before():
    batch = pa.record_batch(
        {
            "s": pa.array(["a", None, "Ä 𝄞", ""]),
            "ls": pa.array(["x", "y", None, "z"], type=pa.large_string()),
            "i": pa.array([1, None, 3, -4], type=pa.int64()),
            "f": pa.array([674000.5, float("nan"), None, 1e22]),
            "g": pa.array([-0.0, float("inf"), 674000.0, 1e-7]),
            "t": pa.array(
                [
                    dt.datetime(2024, 3, 31, 2, 30),
                    None,
                    dt.datetime(2020, 1, 1),
                    dt.datetime(1969, 7, 20, 20, 17, 40, 500000),
                ]
            ),
            "b": pa.array([True, False, None, True]),
            "d": pa.array(["Rån", "Rån", None, "Brand"]).dictionary_encode(),
            "n": pa.nulls(4),
        }
    )
    before = batch.to_pandas()
    before = before.astype({c: "string" for c in before.columns}).fillna("").astype(object)
    after = as_text(_parquet_frame(batch))
    assert list(after.columns) == list(before.columns)
    for name in before.columns:
        assert after[name].astype(object).tolist() == before[name].tolist(), name


def test_parquet_columns_keep_the_types_pandas_wrote(tmp_path):
    """A nullable integer column written by pandas reads "7" (its metadata), not "7.0"."""
    frame = pd.DataFrame(
        {"id": pd.array([1, None, 7], dtype="Int64"), "type": ["a", None, "c"]}, index=[5, 6, 7]
    )
    frame.to_parquet(tmp_path / "typed.parquet")
    batch = next(pq.ParquetFile(tmp_path / "typed.parquet").iter_batches())
    before = batch.to_pandas()
    before = before.astype({c: "string" for c in before.columns}).fillna("").astype(object)
    after = as_text(_parquet_frame(batch))
    for name in before.columns:
        assert after[name].astype(object).tolist() == before[name].tolist(), name


def test_parquet_number_coordinates_read_as_their_text(tmp_path):
    """Coordinates a Parquet file holds as numbers give the rows, errors and rejects their
    text gives (the text pandas made of them before)."""
    n = 8
    x = [674000.5, float("nan"), 674000.0, float("inf"), -0.0, 674001.25, float("nan"), 1e22]
    y = [6580000.0, float("nan"), 6580000.5, 6580000.0, 6580000.0, float("nan"), 6580000.0, 6580000.0]
    frame = pd.DataFrame(
        {"id": [f"n{i}" for i in range(n)], "occurred_at": "2024-05-01T10:00:00", "type": "Rån"}
    )
    numbers = frame.assign(x=x, y=y)
    texts = frame.assign(x=[as_text(pd.DataFrame({"v": x}))["v"][i] for i in range(n)])
    texts = texts.assign(y=[as_text(pd.DataFrame({"v": y}))["v"][i] for i in range(n)])
    numbers.to_parquet(tmp_path / "numbers.parquet", index=False)
    texts.to_parquet(tmp_path / "texts.parquet", index=False)
    outcomes = []
    for name in ("numbers", "texts"):
        rejects = tmp_path / f"{name}-rejects.csv"
        result = import_incidents(
            tmp_path / f"{name}.parquet", source=name, skip_invalid=True, rejects=rejects
        )
        stored = (
            Incident.objects.filter(source=name)
            .order_by("id")
            .values_list("external_id", "x", "y", "content_hash")
        )
        errors = [(e.line, e.field, e.message, e.row) for e in result.errors]
        outcomes.append(
            (result.added, result.rejected, list(stored), errors, rejects.read_text(encoding="utf-8"))
        )
    assert outcomes[0] == outcomes[1]
    # Not numbers (inf, a lone x, a lone y) or outside Sweden (-0.0, 1e22).
    assert outcomes[0][:2] == (3, 5)


def test_csv_and_parquet_of_the_same_text_store_the_same_rows(tmp_path):
    rows = [*EDGE_ROWS] + [
        (f"p{i}", f"2024-10-27T0{i % 4}:30:00", "Rån", "", "", "", "", "") for i in range(20)
    ]
    csv_path = _write(tmp_path / "same.csv", rows)
    pd.DataFrame(rows, columns=HEADER).to_parquet(tmp_path / "same.parquet", index=False)
    import_incidents(csv_path, source="as-csv", chunk_rows=7)
    import_incidents(tmp_path / "same.parquet", source="as-parquet", chunk_rows=7)
    fields = [
        f.attname
        for f in Incident._meta.concrete_fields
        if f.attname not in ("id", "source", "import_record_id")
    ]
    by_csv = list(Incident.objects.filter(source="as-csv").order_by("id").values_list(*fields))
    by_parquet = list(Incident.objects.filter(source="as-parquet").order_by("id").values_list(*fields))
    assert by_csv == by_parquet and len(by_csv) == len(rows) - 1


# --- writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n", [1, SQLITE_ROWS_PER_INSERT - 1, SQLITE_ROWS_PER_INSERT, 3 * SQLITE_ROWS_PER_INSERT + 7]
)
def test_insert_columns_stores_what_one_insert_per_row_stores(n):
    table = Incident._meta.db_table
    columns = ("external_id", "occurred_at", "raw_type", "x", "content_hash", "area_id")
    when = "2024-01-01 10:00:00" if connection.vendor == "sqlite" else "2024-01-01 10:00:00+00:00"
    constants = {
        "indicator": "other",
        "area_match": "",
        "municipality_code": "",
        "county_code": "",
        "title": "it's 100%",
    }
    constants |= {"summary": "", "url": "", "synthetic": False, "y": None}
    values = [
        np.array([f"c{i}" for i in range(n)], dtype=object),
        np.array([when] * n, dtype=object),
        np.array(["Rån", "Stöld"] * n, dtype=object)[:n],
        np.where(np.arange(n) % 3 == 0, None, np.arange(n) * 0.5).astype(object),
        np.arange(n, dtype=np.int64) - 2**62,
        np.array([None] * n, dtype=object),
    ]
    assert insert_columns(table, columns, values, constants={"source": "columns"} | constants) == n
    rows = [[v.tolist()[i] if isinstance(v, np.ndarray) else v[i] for v in values] for i in range(n)]
    bulk_insert(table, columns, rows, constants={"source": "rows"} | constants)
    fields = [f.attname for f in Incident._meta.concrete_fields if f.attname not in ("id", "source")]
    by_columns = Incident.objects.filter(source="columns").order_by("id")
    by_rows = Incident.objects.filter(source="rows").order_by("id")
    assert list(by_columns.values_list(*fields)) == list(by_rows.values_list(*fields))
    # In row order: the ids rise with the rows, as one INSERT per row gives them.
    assert list(by_columns.values_list("external_id", flat=True)) == [f"c{i}" for i in range(n)]


# --- duplicate checks ---------------------------------------------------------------------------


def test_stored_ids_are_read_in_batches_exactly(tmp_path):
    ids = ["a", 'b"q', "c\\d", "Ä 𝄞", "rad\n2", "x" * 100, "1", "10", "9", " e"]
    path = _write(tmp_path / "ids.csv", [(i, "2024-01-01T10:00:00", "Rån", "", "", "", "", "") for i in ids])
    import_incidents(path, source="ids")
    expected = dict(Incident.objects.filter(source="ids").values_list("external_id", "content_hash"))
    for batch in (1, 3, 100):
        found: dict[str, int] = {}
        for part_ids, hashes in stored_ids("ids", batch=batch):
            assert len(part_ids) <= batch
            found.update(zip(part_ids, hashes.tolist(), strict=True))
        assert found == expected
    assert list(stored_ids("nothing stored")) == []


def test_merged_keys_are_the_stable_sort_of_all_of_them():
    rng = np.random.default_rng(5)
    known = (np.empty(0, np.int64), np.empty(0, np.int64))
    all_keys, all_hashes = [], []
    for size in (0, 5, 40, 1, 300):
        keys = rng.integers(-20, 20, size)  # many equal keys (collisions)
        hashes = rng.integers(-(2**63), 2**63 - 1, size)
        known = merge_pairs(known, keys, hashes)
        all_keys.append(keys)
        all_hashes.append(hashes)
    keys, hashes = np.concatenate(all_keys), np.concatenate(all_hashes)
    order = np.argsort(keys, kind="stable")
    assert (known[0] == keys[order]).all() and (known[1] == hashes[order]).all()


@pytest.mark.parametrize("colliding", [False, True])
def test_first_row_of_each_id_by_text_whatever_the_keys(colliding):
    ids = pd.Series(["a", "b", "a", "c", "b", "d"], dtype=str)
    keys = (
        np.zeros(len(ids), np.int64)
        if colliding
        else pd.util.hash_array(ids.to_numpy(dtype=object)).view(np.int64)
    )
    assert first_of_each(ids, keys).tolist() == [True, True, False, True, False, True]
    assert first_of_each(ids.iloc[[0, 1, 3, 5]], keys[[0, 1, 3, 5]]).all()


@pytest.mark.parametrize("lookup", ["read", "direct", "direct_then_read"])
def test_duplicate_checker_across_many_chunks_matches_a_dictionary(lookup, monkeypatch):
    """Rows written are kept in sorted runs that merge as they grow; repeats and reused
    ids across any number of chunks are found as a dictionary of every id finds them,
    whether the stored ids are read first, looked up in the database chunk by chunk (a
    small import), or looked up until more rows than expected came and then read."""
    from problembild.incidents import store

    if lookup == "direct_then_read":
        monkeypatch.setattr(store, "DIRECT_LOOKUP_ROWS", 200)
    rng = np.random.default_rng(11)
    checker = DuplicateChecker("runs", expected_rows=None if lookup == "read" else 10)
    assert checker.direct == (lookup != "read")
    seen: dict[str, int] = {}
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for size in (5, 1, 40, 7, 300, 2, 90, 90, 90, 33):
        ids = pd.Series([f"r{v}" for v in rng.integers(0, 400, size)], dtype=str)
        hashes = rng.integers(0, 2, size).astype(np.int64)  # a repeated id has the same content half the time
        repeat, in_file, stored = checker.check(ids, hashes)
        # A later row of an id in the chunk is compared with the chunk's first row of it,
        # the first one with the rows written before.
        expected_repeat, expected_in_file, chunk_first = [], [], {}
        for i, h in zip(ids, hashes.tolist(), strict=True):
            earlier = chunk_first.get(i, seen.get(i))
            chunk_first.setdefault(i, h)
            expected_repeat.append(earlier == h)
            expected_in_file.append(earlier is not None and earlier != h)
        assert repeat.tolist() == expected_repeat
        assert in_file.tolist() == expected_in_file
        assert not stored.any()
        new = ~(repeat | in_file | stored)
        # Written as an import writes them: an id whose content differs is confirmed by text.
        Incident.objects.bulk_create(
            Incident(source="runs", external_id=i, occurred_at=when, raw_type="Rån", content_hash=h)
            for i, h in zip(ids[new], hashes[new].tolist(), strict=True)
        )
        checker.written(id_keys(ids)[new], hashes[new])
        seen.update(zip(ids[new], hashes[new].tolist(), strict=True))
    assert checker.direct == (lookup == "direct")


@pytest.mark.parametrize("expected_rows", [None, 5])
def test_a_small_import_looks_its_ids_up_and_finds_what_reading_them_finds(expected_rows):
    """Against stored rows: the same repeats and reused ids whether the stored ids are
    read or the chunk's ids looked up (exactly by text, so a near-miss id is new)."""
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    Incident.objects.bulk_create(
        Incident(source="s", external_id=f"e{i}", occurred_at=when, raw_type="Rån", content_hash=i % 3)
        for i in range(50)
    )
    Incident.objects.create(
        source="other", external_id="e7", occurred_at=when, raw_type="Rån", content_hash=9
    )
    checker = DuplicateChecker("s", expected_rows=expected_rows)
    assert checker.direct == (expected_rows is not None)
    ids = pd.Series(["e1", "e2", "E3", "e4 ", "e60", "e7", "e8", "e8"], dtype=str)
    hashes = np.array([1, 0, 0, 1, 5, 9, 2, 2], dtype=np.int64)
    repeat, in_file, stored = checker.check(ids, hashes)
    assert repeat.tolist() == [True, False, False, False, False, False, True, True]
    assert stored.tolist() == [False, True, False, False, False, True, False, False]
    assert not in_file.any()


def test_a_large_load_rebuilds_only_the_indexes_its_rows_enter(tmp_path, monkeypatch):
    """A file's rows never enter the index of approximate matches, and a file without
    municipalities none of the municipality index: those are kept, not read again."""
    assert [i.name for i in DeferredIndexes(municipalities=False).indexes] == ["incident_area_ind_time"]
    assert [i.name for i in DeferredIndexes().indexes] == ["incident_area_ind_time", "incident_muni_time"]
    monkeypatch.setattr(importers, "DEFER_INDEXES_FROM", 1)
    dropped: list[str] = []
    original = DeferredIndexes.drop

    def drop(self):
        dropped.extend(i.name for i in self.indexes)
        original(self)

    monkeypatch.setattr(DeferredIndexes, "drop", drop)
    rows = [
        (f"m{i}", "2024-05-01T10:00:00", "Rån", "", "", "Malmö" if i % 2 else "", "", "") for i in range(6)
    ]
    result = import_incidents(_write(tmp_path / "m.csv", rows), source="muni", chunk_rows=2)
    assert result.details["indexes_rebuilt"] is (connection.vendor == "sqlite")
    assert dropped == (
        ["incident_area_ind_time", "incident_muni_time"] if connection.vendor == "sqlite" else []
    )
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Incident._meta.db_table)
    assert {i.name for i in Incident._meta.indexes} <= set(found)
