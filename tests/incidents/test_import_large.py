"""The large-file path of `import incidents`: chunks, a worker process, deferred indexes.

The sizes are tiny (chunks of a few rows) so that every path a 10-million-row import takes
is exercised in a second; benchmarks/bench_import.py measures the real sizes.
"""

import numpy as np
import pytest
from django.db import connection

from problembild.core.imports import ImportFailed
from problembild.incidents import importers, store
from problembild.incidents.importers import import_incidents
from problembild.incidents.models import Incident

from .test_import_incidents import inside, write_csv

pytestmark = pytest.mark.django_db


def rows(n, start=0, x=None, y=None):
    return [
        (f"r{i}", f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:00", "Misshandel", x or "", y or "")
        for i in range(start, start + n)
    ]


def secondary_indexes():
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Incident._meta.db_table)
    return {name for name, c in found.items() if c["index"] and not c["unique"] and not c["primary_key"]}


def test_chunked_import_matches_a_single_chunk(tmp_path):
    x, y = inside("Rosengård")
    path = write_csv(tmp_path / "a.csv", rows(7, x=x, y=y) + rows(6, start=7))
    result = import_incidents(path, source="chunks", chunk_rows=3)
    assert (result.added, result.details["assigned"]) == (13, 7)
    assert Incident.objects.filter(source="chunks", area__name="Rosengård").count() == 7
    again = import_incidents(path, source="chunks", chunk_rows=5)
    assert again.added == 0


def test_errors_in_later_chunks_name_their_line(tmp_path):
    data = rows(8)
    data[5] = ("r5", "2024-02-30T10:00", "Misshandel", "", "")  # line 7: no such date
    data[7] = ("r1", "2024-01-09T09:00", "Rån", "", "")  # line 9: id of line 3, other content
    path = write_csv(tmp_path / "b.csv", data)
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="chunks", chunk_rows=2)
    assert [(e.line, e.field) for e in info.value.errors] == [(7, "occurred_at"), (9, "id")]
    assert "duplicate id 'r1'" in info.value.errors[1].message
    assert info.value.errors[1].row["type"] == "Rån"
    assert not Incident.objects.filter(source="chunks").exists()


def test_identical_repeat_in_a_later_chunk_is_skipped(tmp_path):
    data = [*rows(4), rows(1, start=1)[0]]
    path = write_csv(tmp_path / "c.csv", data)
    result = import_incidents(path, source="chunks", chunk_rows=2)
    assert (result.added, result.accepted) == (4, 5)


def test_a_record_with_too_many_fields_names_its_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,occurred_at,type\nq1,2024-01-01,Rån\nq2,2024-01-02,Rån,extra\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="fields")
    error = info.value.errors[0]
    assert (error.line, error.field) == (3, "file")
    assert "expected 3 fields, found 4" in error.message


def test_large_load_rebuilds_the_indexes_and_keeps_them_on_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "DEFER_INDEXES_FROM", 1)
    before = secondary_indexes()
    assert {"incident_area_ind_time", "incident_muni_time"} <= before
    bad = rows(6)
    bad[5] = ("r5", "not a time", "Misshandel", "", "")
    with pytest.raises(ImportFailed):
        import_incidents(write_csv(tmp_path / "bad.csv", bad), source="big", chunk_rows=2)
    assert secondary_indexes() == before
    assert not Incident.objects.filter(source="big").exists()

    result = import_incidents(write_csv(tmp_path / "good.csv", rows(6)), source="big", chunk_rows=2)
    assert result.details["indexes_rebuilt"] is (connection.vendor == "sqlite")
    assert secondary_indexes() == before
    assert Incident.objects.filter(source="big").count() == 6


def test_worker_process_gives_the_same_rows(tmp_path):
    x, y = inside("Alby")
    data = rows(5, x=x, y=y) + rows(5, start=5)
    data[8] = ("r8", "", "Rån", "", "")  # line 10: empty time
    path = write_csv(tmp_path / "w.csv", data)
    with pytest.raises(ImportFailed) as info:
        import_incidents(path, source="worker", chunk_rows=3, parallel=True)
    assert [(e.line, e.field) for e in info.value.errors] == [(10, "occurred_at")]
    del data[8]
    path = write_csv(tmp_path / "w.csv", data)
    result = import_incidents(path, source="worker", chunk_rows=3, parallel=True)
    assert (result.added, result.details["assigned"], result.details["parallel"]) == (9, 5, True)
    assert import_incidents(path, source="serial", chunk_rows=3, parallel=False).added == 9
    fields = ("external_id", "occurred_at", "indicator", "x", "y", "area_id", "content_hash")
    worker = Incident.objects.filter(source="worker").order_by("external_id").values_list(*fields)
    serial = Incident.objects.filter(source="serial").order_by("external_id").values_list(*fields)
    assert list(worker) == list(serial)


def test_colliding_id_keys_never_reject_a_row(tmp_path, monkeypatch):
    """Ids are compared by 64-bit keys in memory; a collision is settled by the stored text."""
    monkeypatch.setattr(store, "id_keys", lambda ids: np.zeros(len(ids), dtype=np.int64))
    monkeypatch.setattr(importers.ChunkPreparer, "__call__", _with_colliding_keys)
    path = write_csv(tmp_path / "k.csv", rows(6))
    result = import_incidents(path, source="keys", chunk_rows=2, parallel=False)
    assert result.added == 6
    assert import_incidents(path, source="keys", chunk_rows=4, parallel=False).added == 0


_prepare = importers.ChunkPreparer.__call__


def _with_colliding_keys(self, chunk, lines):
    prepared = _prepare(self, chunk, lines)
    prepared.keys = np.zeros(len(prepared.keys), dtype=np.int64)
    return prepared


def test_constant_columns_are_written_as_exact_literals(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            (f"t{i}", "2024-05-01T10:00", "Rån", "O'Hara 100% ; DROP", "https://x/?a=1&b='2'")
            for i in range(3)
        ],
        header=("id", "occurred_at", "type", "title", "url"),
    )
    import_incidents(path, source="literals")
    assert set(Incident.objects.filter(source="literals").values_list("title", "url")) == {
        ("O'Hara 100% ; DROP", "https://x/?a=1&b='2'")
    }
