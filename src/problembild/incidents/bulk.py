"""Writing many incidents: the one place that knows which database engine the store is on.

The callers (:mod:`~problembild.incidents.importers`, :mod:`~problembild.incidents.store`)
ask here instead of testing the engine themselves:

* :func:`insert` writes rows made by :func:`~problembild.incidents.rows.incident_values`
  in the caller's transaction: PostgreSQL through psycopg 3's ``COPY … FROM STDIN`` (one
  round of the COPY protocol per call, no statement per row), SQLite through a prepared
  ``executemany`` with the constant columns as literals (:func:`problembild.core.db.bulk_insert`).
  Both store the same values an ORM ``bulk_create`` of the rows would (the table's ``id``
  comes from its identity/autoincrement default, the only column the rows leave out).
* :func:`defers_indexes`: whether a very large load may drop and rebuild the secondary
  indexes. SQLite only: on PostgreSQL ``DROP INDEX`` locks readers out for the whole import.
* :func:`refresh_statistics`: after a load of :data:`ANALYZE_FROM` rows or more, the
  planner's statistics of the incident table are refreshed once the import has committed
  (``ANALYZE`` on PostgreSQL; on SQLite an ``ANALYZE`` that samples, which takes
  milliseconds even for millions of rows). A failed import analyses nothing.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction

from problembild.core.db import bulk_insert

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


def insert(values: IncidentRows) -> int:
    """Write the rows of ``values`` (already checked to be new) in the caller's transaction.

    PostgreSQL gets ``COPY``, SQLite ``executemany``; returns the number of rows written.
    """
    if not len(values):
        return 0
    return bulk_insert(Incident._meta.db_table, values.columns, values.rows, constants=values.constants)


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
