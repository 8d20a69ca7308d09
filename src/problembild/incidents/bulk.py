"""Writing many incidents: the one place that knows which database engine the store is on.

The callers (:mod:`~problembild.incidents.importers`, :mod:`~problembild.incidents.store`)
ask here instead of testing the engine themselves:

* :func:`insert` writes rows made by :func:`~problembild.incidents.rows.incident_values`
  (column-wise, in Arrow) in the caller's transaction: PostgreSQL through
  ``COPY … FROM STDIN (FORMAT csv)`` of CSV text that pyarrow writes (no Python work per
  row; :func:`problembild.core.db.copy_csv`), SQLite through ``executemany`` of
  ``INSERT`` statements of a hundred rows each with the constant columns as literals
  (:func:`problembild.core.db.insert_columns`). Both store the same values an ORM
  ``bulk_create`` of the rows would (the table's ``id`` comes from its
  identity/autoincrement default, in row order, the only column the rows leave out).
* :func:`defers_indexes`: whether a very large load may drop and rebuild the secondary
  indexes. SQLite only: on PostgreSQL ``DROP INDEX`` locks readers out for the whole import.
* :func:`refresh_statistics`: after a load of :data:`ANALYZE_FROM` rows or more, the
  planner's statistics of the incident table are refreshed once the import has committed
  (``ANALYZE`` on PostgreSQL; on SQLite an ``ANALYZE`` that samples, which takes
  milliseconds even for millions of rows). A failed import analyses nothing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection, transaction

from problembild.core.db import copy_csv, insert_columns

from .models import Incident
from .rows import IncidentRows

__all__ = ["ANALYZE_FROM", "analyze", "defers_indexes", "insert", "refresh_statistics", "storage_form"]

log = logging.getLogger(__name__)

#: From this many new rows in one load, the incident table's statistics are refreshed.
ANALYZE_FROM = 100_000
#: Rows per index SQLite's sampling ``ANALYZE`` reads (``PRAGMA analysis_limit``).
SQLITE_ANALYSIS_LIMIT = 1000


def storage_form() -> str:
    """The storage form :func:`~problembild.incidents.rows.incident_values` makes rows in."""
    return connection.vendor


def defers_indexes() -> bool:
    """Whether a large load may rebuild the secondary indexes instead of maintaining them."""
    return connection.vendor == "sqlite"


#: Arrow types of the columns that may be constant and are not text.
_CONSTANT_TYPES = {"synthetic": pa.bool_(), "area_id": pa.int64(), "import_record_id": pa.int64()}
#: Rows per piece of CSV text handed to ``COPY`` (bounds the text held at once).
COPY_ROWS = 100_000


def insert(values: IncidentRows) -> int:
    """Write the rows of ``values`` (already checked to be new) in the caller's transaction.

    PostgreSQL gets ``COPY`` of CSV text, SQLite ``executemany``; returns the number of
    rows written.
    """
    n = len(values)
    if not n:
        return 0
    table = Incident._meta.db_table
    if connection.vendor == "postgresql":
        data = values.table
        for name, value in values.constants.items():
            kind = _CONSTANT_TYPES.get(name, pa.string())
            data = data.append_column(name, pa.repeat(pa.scalar(value, type=kind), n))
        copy_csv(table, data.column_names, _csv_text(data))
        return n
    return insert_columns(table, values.columns, values.python_columns(), constants=values.constants)


def _csv_text(data: pa.Table) -> Iterator[bytes]:
    """``data`` as CSV text for PostgreSQL's ``COPY``, in pieces of :data:`COPY_ROWS` rows.

    pyarrow quotes every text (so ``""`` is the empty text) and leaves a null an unquoted
    empty field (NULL); numbers are written in their shortest exact form.
    """
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in data.to_batches(max_chunksize=COPY_ROWS):
        sink = io.BytesIO()
        pacsv.write_csv(batch, sink, options)
        yield sink.getvalue()


def analyze() -> None:
    """Refresh the planner's statistics of the incident table now."""
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            try:
                cursor.execute(f"ANALYZE {table}")
            finally:
                cursor.execute("PRAGMA analysis_limit = 0")
        else:
            cursor.execute(f"ANALYZE {table}")


def refresh_statistics(added: int) -> bool:
    """After a load that added ``added`` rows: :func:`analyze` once the transaction commits,
    when the load was large. Returns whether it was scheduled. A failed ``ANALYZE`` is
    logged, never raised: the rows are committed by then."""
    if added < ANALYZE_FROM:
        return False

    def run() -> None:
        try:
            analyze()
        except Exception:
            log.exception("ANALYZE of the incident table after a load of %d rows failed", added)

    transaction.on_commit(run)
    return True
