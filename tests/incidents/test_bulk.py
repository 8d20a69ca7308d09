"""The bulk write path of the incident store (COPY on PostgreSQL, executemany on SQLite)
stores what the ORM stores, adds nothing on a re-import and leaves nothing after a
failure; and the refresh's PostgreSQL ADBC reader returns what Django's cursor returns.

Runs on both engines (PostgreSQL when DATABASE_URL names one)."""

from __future__ import annotations

import csv
import itertools
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problembild.core.imports import ImportFailed
from problembild.incidents import bulk
from problembild.incidents.importers import import_incidents, municipality_lookup
from problembild.incidents.models import AreaMatch, Incident
from problembild.incidents.rows import NUL_MESSAGE, exact_match_labels, validate_chunk
from problembild.incidents.services import configured_taxonomy
from problembild.incidents.store import area_index
from problembild.picture.refresh import load as loading
from tests.picture.refresh.test_load import add_edge_incidents

pytestmark = pytest.mark.django_db

HEADER = ["id", "occurred_at", "type", "x", "y", "municipality", "title", "url"]
#: Every stored column but the table's own id and the source (which tells the two paths apart).
COMPARED = [f.attname for f in Incident._meta.concrete_fields if f.attname not in ("id", "source")]
_sources = itertools.count()

# Text a COPY stream must escape (tab, newline, backslash, quotes, \N), unicode beyond the BMP,
# and titles longer than the column (cut to 300 characters by the importer).
awkward = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00\r"),
    max_size=20,
) | st.sampled_from(["\\N", "\\", '"', "a\tb", "rad 1\nrad 2", "Ä Ö Å 𝄞 ☃", "x" * 350, ",", "NULL"])
times = st.sampled_from(
    [
        "2024-03-31T02:30",  # spring's missing local hour
        "2023-10-29T02:30:00",  # autumn's repeated one
        "2024-06-01T12:00:00.250000+02:00",  # fractional seconds
        "2020-02-29T23:59:59Z",
        "1969-07-20T20:17:40.5Z",
        "2025-01-01 00:00",
    ]
)
points = st.sampled_from([("", ""), ("674000", "6580000"), ("674032,5", "6579910,25"), ("319000", "6168000")])
rows = st.lists(
    st.tuples(
        times,
        st.sampled_from(["Rån", "Misshandel", "Skottlossning", "Stöld", "Trafikolycka"]),
        points,
        st.sampled_from(["", "0180", "Malmö", "upplands-bro"]),
        awkward,
        awkward,
    ),
    min_size=1,
    max_size=12,
)
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _write(path: Path, records: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(records)
    return path


def _records(generated) -> list[list[str]]:
    return [
        [f"id-{i}", t, kind, x, y, muni, title, url]
        for i, (t, kind, (x, y), muni, title, url) in enumerate(generated)
    ]


def _orm_create(path: Path, source: str) -> None:
    """The reference: the importer's validated rows written by the ORM's ``bulk_create``."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame, bad = validate_chunk(raw, source, municipality_lookup())
    assert not bad
    index = area_index()
    area = index.assign(frame["x"].to_numpy(), frame["y"].to_numpy())
    frame = frame.assign(
        indicator=configured_taxonomy().map_array(frame["raw_type"]),
        area_id=area,
        area_match=exact_match_labels(area),
        county_code="",
    )
    Incident.objects.bulk_create(
        Incident(
            source=source,
            external_id=r.external_id,
            occurred_at=r.occurred_at.to_pydatetime(),
            raw_type=r.raw_type,
            indicator=r.indicator,
            x=None if np.isnan(r.x) else float(r.x),
            y=None if np.isnan(r.y) else float(r.y),
            area_id=None if r.area_id < 0 else int(r.area_id),
            area_match=r.area_match,
            municipality_code=r.municipality_code,
            county_code=r.county_code,
            title=r.title,
            summary=r.summary,
            url=r.url,
            synthetic=bool(r.synthetic),
            content_hash=int(r.content_hash),
        )
        for r in frame.itertuples()
    )


def _stored(source: str) -> list[tuple]:
    return list(Incident.objects.filter(source=source).order_by("external_id").values_list(*COMPARED))


@SETTINGS
@given(generated=rows)
def test_bulk_path_stores_what_the_orm_stores(tmp_path, generated):
    n = next(_sources)
    path = _write(tmp_path / f"bulk-{n}.csv", _records(generated))
    result = import_incidents(path, source=f"bulk-{n}")
    assert result.added == len(generated)
    _orm_create(path, f"orm-{n}")
    by_bulk, by_orm = _stored(f"bulk-{n}"), _stored(f"orm-{n}")
    assert len(by_bulk) == len(generated)
    for a, b in zip(by_bulk, by_orm, strict=True):
        assert dict(zip(COMPARED, a, strict=True)) == dict(zip(COMPARED, b, strict=True))
    # Values the ORM reads back exactly as the file gave them.
    stored = {r[0]: r for r in by_bulk}
    for i, (_t, _kind, (x, _y), _muni, title, url) in enumerate(generated):
        row = dict(zip(COMPARED, stored[f"id-{i}"], strict=True))
        assert row["title"] == title[:300] and row["url"] == url[:400]
        assert (row["x"] is None) == (x == "")


@SETTINGS
@given(generated=rows)
def test_reimport_adds_nothing(tmp_path, generated):
    n = next(_sources)
    path = _write(tmp_path / f"again-{n}.csv", _records(generated))
    first = import_incidents(path, source=f"again-{n}")
    before = _stored(f"again-{n}")
    second = import_incidents(path, source=f"again-{n}")
    assert (first.added, second.added) == (len(generated), 0)
    assert _stored(f"again-{n}") == before


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (["id-50", "not a time", "Rån", "", "", "", "", ""], "occurred_at"),
        (["id-50", "2024-01-01T10:00", "Rån", "", "", "", "a\x00b", ""], "title"),
        (["id-3", "2024-01-01T11:00", "Rån", "", "", "", "other content", ""], "id"),
    ],
    ids=["bad-time", "nul-character", "reused-id"],
)
def test_a_failing_row_in_the_middle_leaves_nothing(tmp_path, bad, field):
    """Small chunks: the chunks before the bad row are written (COPY) before it is found."""
    good = [
        [f"id-{i}", f"2024-01-01T{i % 24:02d}:00", "Rån", "674000", "6580000", "", f"t{i}", ""]
        for i in range(100)
    ]
    path = _write(tmp_path / "middle.csv", [*good[:60], bad, *good[60:]])
    with pytest.raises(ImportFailed) as failed:
        import_incidents(path, source="middle", chunk_rows=10, parallel=False)
    assert [(e.line, e.field) for e in failed.value.errors] == [(62, field)]
    if field == "title":
        assert failed.value.errors[0].message == NUL_MESSAGE
    assert not Incident.objects.filter(source="middle").exists()


def test_statistics_are_refreshed_after_a_large_load_once_committed(
    tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    path = _write(
        tmp_path / "big.csv", [[f"b{i}", "2024-05-01T10:00", "Rån", "", "", "", "", ""] for i in range(5)]
    )
    monkeypatch.setattr(bulk, "ANALYZE_FROM", 5)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        import_incidents(path, source="big")
    assert len(callbacks) == 1
    assert any(q["sql"].startswith("ANALYZE") for q in queries.captured_queries)
    # A re-import adds nothing and analyses nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert import_incidents(path, source="big").added == 0
    assert callbacks == []


def test_analyze_runs_on_either_engine():
    bulk.analyze()  # no error, and SQLite's sampling limit is reset afterwards
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit")
            assert cursor.fetchone()[0] == 0


# --- the refresh's reader ----------------------------------------------------------------


@pytest.fixture
def postgres_copy():
    """Copies the test's incidents (uncommitted) by another connection into a schema of
    their own, and returns a URI whose search path finds them there first."""
    if connection.vendor != "postgresql":
        pytest.skip("the ADBC reader is PostgreSQL's")
    pytest.importorskip("adbc_driver_postgresql")
    import psycopg

    schema = f"pbtest_{uuid.uuid4().hex[:12]}"
    table = Incident._meta.db_table
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)

    def publish() -> str:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            data = cursor.fetchall()
        other.execute(f"CREATE SCHEMA {schema}")
        other.execute(f"CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING DEFAULTS)")
        with (
            other.cursor() as cur,
            cur.copy(f"COPY {schema}.{table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in data:
                copy.write_row(row)
        return loading.libpq_uri(connection.settings_dict, options=f"-csearch_path={schema}")

    try:
        yield publish
    finally:
        other.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        other.close()


def test_postgres_adbc_reader_equals_cursor_reader(rosengard_data, postgres_copy, monkeypatch):
    area, _hot, _n = rosengard_data
    add_edge_incidents(area)
    names = loading.source_names()
    assert loading._postgres_uri() is None  # inside the test's transaction: the cursor path
    by_cursor = loading.load_incidents(names)

    uri = postgres_copy()
    monkeypatch.setattr(loading, "_postgres_uri", lambda: uri)
    calls = []
    read = loading._read_postgres
    monkeypatch.setattr(loading, "_read_postgres", lambda *a: calls.append(a) or read(*a))
    by_arrow = loading.load_incidents(names)

    assert len(calls) == 1
    assert (
        len(by_arrow) == len(by_cursor) == Incident.objects.exclude(area_match=AreaMatch.APPROXIMATE).count()
    )
    for field in by_cursor.__dataclass_fields__:
        a, b = getattr(by_arrow, field), getattr(by_cursor, field)
        assert a.dtype == b.dtype, field
        np.testing.assert_array_equal(a, b, err_msg=field)
    assert np.isnan(by_arrow.x).sum() == 1
    assert (by_arrow.source == names.index("it's a test")).sum() == 2


def test_postgres_reader_falls_back_when_it_cannot_connect(postgres_copy, monkeypatch):
    uri = loading.libpq_uri({**connection.settings_dict, "PORT": "1"}, connect_timeout="2")
    monkeypatch.setattr(loading, "_postgres_uri", lambda: uri)
    data = loading.load_incidents([])
    assert len(data) == Incident.objects.counted().exclude(area_match=AreaMatch.APPROXIMATE).count()


def test_libpq_uri_quotes_and_passes_ssl_options():
    uri = loading.libpq_uri(
        {
            "NAME": "pb db",
            "USER": "an@lyst",
            "PASSWORD": "p:w/?",
            "HOST": "db.example",
            "PORT": "5433",
            "OPTIONS": {"sslmode": "require", "pool": True},
        }
    )
    assert uri == "postgresql://an%40lyst:p%3Aw%2F%3F@db.example:5433/pb%20db?sslmode=require"
    socket = loading.libpq_uri(
        {"NAME": "pb", "USER": "", "PASSWORD": "", "HOST": "/run/postgresql", "PORT": ""}
    )
    assert socket == "postgresql:///pb?host=%2Frun%2Fpostgresql"
