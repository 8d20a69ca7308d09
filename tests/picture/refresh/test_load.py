"""Loading the store into arrays: the column-wise SQLite reader equals the cursor path."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection

from problembild.incidents.models import AreaMatch, Incident
from problembild.picture.refresh import load as loading

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the column-wise reader is for SQLite files")


def _copy_to_file(path) -> None:
    """The test's incident table (uncommitted, in memory) as a file another connection can open."""
    table = Incident._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        create = cursor.fetchone()[0]
        cursor.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    target = sqlite3.connect(path)
    try:
        target.execute(create)
        marks = ", ".join("?" * len(columns))
        target.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        target.commit()
    finally:
        target.close()


def add_edge_incidents(area) -> None:
    """A feed event without coordinates but with an exact area, one with coordinates and no
    area, and one approximate match: the three kinds the loader's query must keep apart."""
    base = Incident.objects.filter(area=area).first()
    for i, (x, y, match, area_id) in enumerate(
        (
            (None, None, AreaMatch.EXACT, area.pk),
            (500_000.0, 6_500_000.0, AreaMatch.NONE, None),
            (None, None, AreaMatch.APPROXIMATE, area.pk),
        )
    ):
        Incident.objects.create(
            source="it's a test",  # a quote: source names go into the SQL as literals
            external_id=f"extra-{i}",
            occurred_at=base.occurred_at,
            raw_type="Skottlossning",
            indicator="shootings",
            x=x,
            y=y,
            area_match=match,
            area_id=area_id,
            content_hash=i,
        )


def test_sqlite_reader_equals_cursor_reader(rosengard_data, sqlite_only, tmp_path, monkeypatch):
    area, _hot, _n = rosengard_data
    add_edge_incidents(area)
    names = loading.source_names()
    assert loading._sqlite_file() is None  # inside the test's transaction: the cursor path
    by_cursor = loading.load_incidents(names)

    path = tmp_path / "copy.sqlite3"
    _copy_to_file(path)
    monkeypatch.setattr(loading, "_sqlite_file", lambda: path)
    released = []
    monkeypatch.setattr(loading, "release_connections", lambda p: released.append(p) or 0)
    by_arrow = loading.load_incidents(names)
    assert released == [path]  # Django's connections to the file closed before the driver's SQLite opens it

    assert (
        len(by_arrow) == len(by_cursor) == Incident.objects.exclude(area_match=AreaMatch.APPROXIMATE).count()
    )
    for field in by_cursor.__dataclass_fields__:
        a, b = getattr(by_arrow, field), getattr(by_cursor, field)
        assert a.dtype == b.dtype, field
        np.testing.assert_array_equal(a, b, err_msg=field)
    assert np.isnan(by_arrow.x).sum() == 1  # the feed event placed by its area only
    assert (by_arrow.source == names.index("it's a test")).sum() == 2


def test_sqlite_reader_on_an_empty_store(sqlite_only, tmp_path, monkeypatch):
    path = tmp_path / "empty.sqlite3"
    _copy_to_file(path)
    monkeypatch.setattr(loading, "_sqlite_file", lambda: path)
    data = loading.load_incidents([])
    assert len(data) == 0 and data.x.dtype == np.float64


def test_release_connections_closes_django_connections_to_that_file_only(tmp_path, monkeypatch):
    """Two copies of SQLite in one process must not hold the same file (sqlite.org/howtocorrupt.html)."""

    class Conn:
        vendor = "sqlite"
        in_atomic_block = False

        def __init__(self, name):
            self.settings_dict = {"NAME": name}
            self.connection = object()

        def close(self):
            self.connection = None

    path = tmp_path / "db.sqlite3"
    path.touch()
    same, other, memory = Conn(str(path)), Conn(str(tmp_path / "other.sqlite3")), Conn(":memory:")
    monkeypatch.setattr(
        loading, "connections", SimpleNamespace(all=lambda initialized_only: [same, other, memory])
    )
    assert loading.release_connections(path) == 1
    assert same.connection is None and other.connection is not None and memory.connection is not None
    assert loading.release_connections(path) == 0  # closed already
    same.connection, same.in_atomic_block = object(), True
    with pytest.raises(RuntimeError, match="transaction"):
        loading.release_connections(path)


def test_source_names_are_the_distinct_sources_sorted():
    assert loading.source_names() == []
    when = "2024-03-01T12:00:00Z"
    # Names that sort differently by case, accent and a common prefix; empty; a quote.
    for i, source in enumerate(["polisen", "Polisen", "pol", "", "å-källa", "it's", "polisen", "z" * 40]):
        Incident.objects.create(
            source=source, external_id=f"e{i}", occurred_at=when, raw_type="Rån", content_hash=i
        )
    expected = sorted(set(Incident.objects.values_list("source", flat=True)))
    assert loading.source_names() == expected
    assert loading.source_names() == sorted(["polisen", "Polisen", "pol", "", "å-källa", "it's", "z" * 40])
